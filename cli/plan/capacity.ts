/**
 * `harborpilot plan capacity`: the capacity report checkCapacity would compute now (findings, headroom per
 * service, node and node group), from its own gather and pure plan. Read-only: no email, no state written,
 * no metrics.
 */
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { EKSClient } from '@aws-sdk/client-eks';
import { makeEksConnector } from '../../shared/aws/eks-connect';
import type { KubeConnector } from '../../shared/aws/kube';
import type { TargetClient } from '../../shared/aws/target-clients';
import { gatherCapacity } from '../../shared/check-capacity/handler';
import type { CapacityReport, Finding } from '../../shared/check-capacity/model';
import { planCapacity, sortFindings } from '../../shared/check-capacity/plan';
import { keyPrefix, qualifyFindings, unreadableFinding } from '../../shared/check-capacity/targets';
import type { Config } from '../../shared/config';
import { errorMessage } from '../../shared/errors';
import { targetLabel } from '../../shared/targets';
import { table } from './table';

export interface PlanCapacityDeps {
  ecs: ECSClient;
  eks: EKSClient;
  kube: KubeConnector;
  config: Config;
  now?: Date;
  progress?: (line: string) => void;
  /**
   * Every target's clients (docs/organisation.md): one report across them, another target's clusters and findings
   * named with its account and region; a target that cannot be read is a finding of its own. None: the caller's.
   */
  targets?: { ecs: TargetClient<ECSClient>[]; eks: TargetClient<EKSClient>[] };
}

export async function planCapacityNow(deps: PlanCapacityDeps): Promise<CapacityReport> {
  const nowMs = (deps.now ?? new Date()).getTime();
  const what = deps.config.capacity.watch.join(' and ').toUpperCase();
  // One account and region: anything unreadable fails the plan (a report with a cluster missing reads as all clear).
  if (!deps.targets || deps.targets.ecs.every((t) => t.target.home)) {
    deps.progress?.(`reading ${what} capacity...`);
    return planCapacity(await gatherCapacity(deps, nowMs), deps.config.capacity);
  }
  const eksOf = new Map(deps.targets.eks.map((t) => [t.target, t.client]));
  const reports: CapacityReport[] = [];
  const findings: Finding[] = [];
  for (const { target, client } of deps.targets.ecs) {
    deps.progress?.(`reading ${what} capacity of ${targetLabel(target)}...`);
    const eks = eksOf.get(target) ?? deps.eks;
    const kube = target.home ? deps.kube : makeEksConnector({ eks });
    try {
      const report = planCapacity(
        await gatherCapacity({ config: deps.config, ecs: client, eks, kube }, nowMs),
        deps.config.capacity,
      );
      const prefix = keyPrefix(target);
      reports.push({
        ...report,
        ecs: report.ecs.map((c) => ({ ...c, cluster: `${prefix}${c.cluster}` })),
        eks: report.eks.map((c) => ({ ...c, cluster: `${prefix}${c.cluster}` })),
      });
      findings.push(...qualifyFindings(target, report.findings));
    } catch (err) {
      findings.push(unreadableFinding(target, errorMessage(err, { name: false })));
    }
  }
  return {
    at: new Date(nowMs).toISOString(),
    ecs: reports.flatMap((r) => r.ecs),
    eks: reports.flatMap((r) => r.eks),
    ...(reports[0]?.fargate ? { fargate: reports[0].fargate } : {}),
    findings: sortFindings(findings),
  };
}

const cpu = (units: number) => `${(units / 1024).toFixed(2)} vCPU`;
const mib = (m: number) => `${Math.round(m)} MiB`;
const millis = (m: number) => `${(m / 1000).toFixed(2)}`;
const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)}Gi`;

export function formatCapacityReport(report: CapacityReport): string {
  const count = (s: string) => report.findings.filter((f) => f.severity === s).length;
  const out = [
    `capacity at ${report.at}: ${count('critical')} critical, ${count('warning')} warning, ${count('info')} info`,
  ];
  if (report.findings.length > 0) {
    out.push(
      '',
      table(
        ['SEVERITY', 'WHERE', 'SUBJECT', 'FINDING'],
        report.findings.map((f) => [
          f.severity,
          f.target ? `${f.cluster} in ${f.target}` : f.cluster,
          f.subject,
          `${f.title}: ${f.detail}`,
        ]),
      ),
    );
  }
  for (const c of report.ecs) {
    // Capacity kinds the cluster has (an EC2-only cluster shows no EXTERNAL 0/0).
    const kinds = (['EC2', 'EXTERNAL'] as const)
      .map((kind) => ({ kind, h: kind === 'EC2' ? c.ec2 : c.external }))
      .filter(({ h }) => h.instances > 0)
      .map(
        ({ kind, h }) =>
          `${kind} ${h.usable}/${h.instances} usable, ${cpu(h.remainingCpu)} and ${mib(h.remainingMemory)} free`,
      );
    out.push(
      '',
      `ECS ${c.cluster}: ${kinds.length > 0 ? kinds.join('; ') : 'no container instances (Fargate only)'}`,
    );
    if (c.services.length > 0)
      out.push(
        table(
          ['SERVICE', 'ON', 'RUNNING/DESIRED', 'TASK', 'STILL FIT', 'DEPLOY NEEDS'],
          c.services.map((s) => [
            s.serviceName,
            s.capacity,
            `${s.runningCount}/${s.desiredCount}`,
            `${cpu(s.taskCpu)}, ${mib(s.taskMemory)}`,
            s.tasksThatStillFit === null ? 'n/a' : String(s.tasksThatStillFit),
            `+${s.deploymentExtraTasks}`,
          ]),
        ),
      );
  }
  for (const c of report.eks) {
    out.push(
      '',
      `EKS ${c.cluster}: ${c.nodes.length} node(s), ${c.pendingPods} pod(s) pending, ${c.unschedulablePods} unschedulable`,
    );
    if (c.nodegroups.length > 0)
      out.push(
        table(
          ['NODE GROUP', 'STATUS', 'MIN/DESIRED/MAX'],
          c.nodegroups.map((g) => [g.nodegroupName, g.status, `${g.minSize}/${g.desiredSize}/${g.maxSize}`]),
        ),
      );
    if (c.nodes.length > 0)
      out.push(
        table(
          ['NODE', 'READY', 'CPU REQUESTED/ALLOCATABLE', 'MEMORY', 'PODS'],
          c.nodes.map((n) => [
            n.node,
            n.ready ? 'yes' : 'no',
            `${millis(n.requestedCpuMillis)}/${millis(n.allocatableCpuMillis)}`,
            `${gib(n.requestedMemoryBytes)}/${gib(n.allocatableMemoryBytes)}`,
            String(n.pods),
          ]),
        ),
      );
  }
  if (report.fargate)
    out.push(
      '',
      `Fargate On-Demand vCPU: ${report.fargate.onDemandVcpu} of ${report.fargate.quotaVcpu} (quota)`,
    );
  return out.join('\n');
}
