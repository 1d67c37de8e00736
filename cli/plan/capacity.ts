/**
 * `harborpilot plan capacity`: the capacity report checkCapacity would compute now (findings, headroom per
 * service, node and node group), from its own gather and pure plan. Read-only: no email, no state written,
 * no metrics.
 */
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { EKSClient } from '@aws-sdk/client-eks';
import type { KubeConnector } from '../../shared/aws/kube';
import { gatherCapacity } from '../../shared/check-capacity/handler';
import type { CapacityReport } from '../../shared/check-capacity/model';
import { planCapacity } from '../../shared/check-capacity/plan';
import type { Config } from '../../shared/config';
import { table } from './table';

export interface PlanCapacityDeps {
  ecs: ECSClient;
  eks: EKSClient;
  kube: KubeConnector;
  config: Config;
  now?: Date;
  progress?: (line: string) => void;
}

export async function planCapacityNow(deps: PlanCapacityDeps): Promise<CapacityReport> {
  deps.progress?.(`reading ${deps.config.capacity.watch.join(' and ').toUpperCase()} capacity...`);
  const state = await gatherCapacity(deps, (deps.now ?? new Date()).getTime());
  return planCapacity(state, deps.config.capacity);
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
        report.findings.map((f) => [f.severity, f.cluster, f.subject, `${f.title}: ${f.detail}`]),
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
