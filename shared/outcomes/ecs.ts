/**
 * What ECS says now of the deployments harborpilot started, per service: each record's service deployment (found
 * once by ListServiceDeployments, by its creation time and task definition, then described directly), its target
 * revision's images and digests, and where ECS has no service deployment for it, the deployment DescribeServices
 * lists. Calls in batches: DescribeServiceDeployments and DescribeServiceRevisions take 20 ARNs each.
 */
import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  type ECSClient,
  ListServiceDeploymentsCommand,
  type ServiceDeploymentBrief,
  type ServiceRevision,
} from '@aws-sdk/client-ecs';
import { errorMessage } from '../errors';
import type { DeploymentRecord } from './model';
import type { EcsObservation } from './settle';

/** How far apart an ECS deployment's createdAt and its service deployment's may be and still be the same. */
const MATCH_MS = 120_000;
const BATCH = 20;

export interface EcsObserved {
  observations: Map<string, EcsObservation>;
  /** Service deployments found for records that did not know theirs: remembered for the next run. */
  found: Map<string, string>;
  failures: { item: string; error: string }[];
}

const chunks = <T>(xs: readonly T[]) => {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += BATCH) out.push(xs.slice(i, i + BATCH));
  return out;
};

export async function observeEcs(ecs: ECSClient, records: readonly DeploymentRecord[]): Promise<EcsObserved> {
  const observed: EcsObserved = { observations: new Map(), found: new Map(), failures: [] };
  const byService = new Map<string, DeploymentRecord[]>();
  for (const r of records) {
    if (r.platform !== 'ecs' || !r.serviceArn || !r.clusterArn) continue;
    byService.set(r.serviceArn, [...(byService.get(r.serviceArn) ?? []), r]);
  }
  const arnOf = new Map<string, string>();
  const revisions = new Map<string, ServiceRevision>();
  for (const [serviceArn, rs] of byService) {
    try {
      const unknown = rs.filter((r) => !r.serviceDeploymentArn);
      for (const r of rs) if (r.serviceDeploymentArn) arnOf.set(r.recordId, r.serviceDeploymentArn);
      if (unknown.length > 0) {
        for (const [id, arn] of await matchServiceDeployments(ecs, serviceArn, unknown, revisions)) {
          arnOf.set(id, arn);
          observed.found.set(id, arn);
        }
      }
      const missing = rs.filter((r) => !arnOf.has(r.recordId));
      if (missing.length > 0) {
        const first = missing[0] as DeploymentRecord;
        const { services = [] } = await ecs.send(
          new DescribeServicesCommand({ cluster: first.clusterArn, services: [serviceArn] }),
        );
        const deployments = services[0]?.deployments ?? [];
        for (const r of missing) {
          const d = deployments.find((x) => x.id === r.ref);
          observed.observations.set(r.recordId, {
            deployment: d
              ? {
                  ...(d.rolloutState ? { rolloutState: d.rolloutState } : {}),
                  ...(d.rolloutStateReason ? { rolloutStateReason: d.rolloutStateReason } : {}),
                  ...(d.updatedAt ? { updatedAt: d.updatedAt } : {}),
                }
              : 'gone',
          });
        }
      }
    } catch (err) {
      for (const r of rs) observed.failures.push({ item: r.recordId, error: errorMessage(err) });
    }
  }

  // Every service deployment known, described in batches; then the target revisions not read yet.
  const wanted = [...new Set(arnOf.values())];
  const described = new Map<string, EcsObservation['serviceDeployment'] & { target?: string }>();
  for (const arns of chunks(wanted)) {
    try {
      const out = await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: arns }));
      for (const sd of out.serviceDeployments ?? []) {
        if (!sd.serviceDeploymentArn) continue;
        described.set(sd.serviceDeploymentArn, {
          arn: sd.serviceDeploymentArn,
          ...(sd.status ? { status: sd.status } : {}),
          ...(sd.statusReason ? { statusReason: sd.statusReason } : {}),
          ...(sd.finishedAt ? { finishedAt: sd.finishedAt } : {}),
          ...(sd.stoppedAt ? { stoppedAt: sd.stoppedAt } : {}),
          ...(sd.updatedAt ? { updatedAt: sd.updatedAt } : {}),
          ...(sd.rollback
            ? {
                rollback: {
                  ...(sd.rollback.reason ? { reason: sd.rollback.reason } : {}),
                  ...(sd.rollback.startedAt ? { startedAt: sd.rollback.startedAt } : {}),
                },
              }
            : {}),
          ...(sd.targetServiceRevision?.arn ? { target: sd.targetServiceRevision.arn } : {}),
        });
      }
    } catch (err) {
      for (const [id, arn] of arnOf)
        if (arns.includes(arn)) observed.failures.push({ item: id, error: errorMessage(err) });
    }
  }
  const targets = [...described.values()].flatMap((d) =>
    d?.target && !revisions.has(d.target) ? [d.target] : [],
  );
  await describeRevisions(ecs, targets, revisions);

  for (const [id, arn] of arnOf) {
    const sd = described.get(arn);
    if (!sd) {
      // Known but not described (ECS keeps service deployments 90 days; a failed batch is in failures).
      if (!observed.failures.some((f) => f.item === id))
        observed.observations.set(id, { deployment: 'gone' });
      continue;
    }
    const { target, ...serviceDeployment } = sd;
    const revision = target ? revisions.get(target) : undefined;
    const digests: Record<string, string> = {};
    for (const c of revision?.containerImages ?? [])
      if (c.containerName && c.imageDigest) digests[c.containerName] = c.imageDigest;
    observed.observations.set(id, { serviceDeployment, digests });
  }
  return observed;
}

async function describeRevisions(
  ecs: ECSClient,
  arns: readonly string[],
  into: Map<string, ServiceRevision>,
): Promise<void> {
  for (const batch of chunks([...new Set(arns)])) {
    const out = await ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: batch }));
    for (const r of out.serviceRevisions ?? []) if (r.serviceRevisionArn) into.set(r.serviceRevisionArn, r);
  }
}

/**
 * An ECS deployment id is not a service deployment ARN: each record takes the service deployment created
 * closest to its deployment's creation whose target revision runs its task definition (one each, nearest first).
 */
async function matchServiceDeployments(
  ecs: ECSClient,
  serviceArn: string,
  records: readonly DeploymentRecord[],
  revisions: Map<string, ServiceRevision>,
): Promise<Map<string, string>> {
  const created = (r: DeploymentRecord) => Date.parse(r.createdAt ?? r.startedAt);
  const after = new Date(Math.min(...records.map(created)) - MATCH_MS);
  const first = records[0] as DeploymentRecord;
  const briefs: ServiceDeploymentBrief[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(
      new ListServiceDeploymentsCommand({
        cluster: first.clusterArn,
        service: serviceArn,
        createdAt: { after },
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    briefs.push(...(page.serviceDeployments ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  await describeRevisions(
    ecs,
    briefs.flatMap((b) => (b.targetServiceRevisionArn ? [b.targetServiceRevisionArn] : [])),
    revisions,
  );
  const pairs = records.flatMap((r) =>
    briefs.flatMap((b) => {
      const gap = Math.abs((b.createdAt?.getTime() ?? Number.NaN) - created(r));
      const revision = revisions.get(b.targetServiceRevisionArn ?? '');
      return b.serviceDeploymentArn && gap <= MATCH_MS && revision?.taskDefinition === r.taskDefinitionArn
        ? [{ id: r.recordId, arn: b.serviceDeploymentArn, gap }]
        : [];
    }),
  );
  pairs.sort((a, b) => a.gap - b.gap);
  const matched = new Map<string, string>();
  const taken = new Set<string>();
  for (const p of pairs) {
    if (matched.has(p.id) || taken.has(p.arn)) continue;
    matched.set(p.id, p.arn);
    taken.add(p.arn);
  }
  return matched;
}
