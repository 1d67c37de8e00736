/**
 * `harborpilot plan push <image>`: what a push of this image would redeploy on ECS and roll on EKS, and why
 * every other service or workload using the repository stays, computed by redeployEcs's and rollEks's own
 * gather and plan steps. Read-only: no write API is ever called.
 */
import { DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { EKSClient } from '@aws-sdk/client-eks';
import { describePushedImage } from '../../shared/aws/ecr-images';
import { type EksConnector, eksClusterNames } from '../../shared/aws/eks-connect';
import { ReadBudget } from '../../shared/aws/read-budget';
import type { Config } from '../../shared/config';
import { errorMessage } from '../../shared/errors';
import type { ImagePush } from '../../shared/events/image-push';
import { relevantImages } from '../../shared/events/trigger';
import type { HoldsStore } from '../../shared/holds/store';
import { type Digest, isDigest, parseImageRef } from '../../shared/image-ref';
import { gatherServices } from '../../shared/redeploy-ecs/gather';
import { planRedeployWithHolds } from '../../shared/redeploy-ecs/holds';
import type { RedeployPlan } from '../../shared/redeploy-ecs/model';
import { planRedeploy } from '../../shared/redeploy-ecs/plan';
import { gatherWorkloads } from '../../shared/roll-eks/gather';
import { planRollWithHolds } from '../../shared/roll-eks/holds';
import { type RollPlan, type Workload, workloadKey } from '../../shared/roll-eks/model';
import { planRoll } from '../../shared/roll-eks/plan';
import { type ImageScanState, scanStateOf } from '../../shared/scan/severity';
import { table } from './table';

export class PlanUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanUsageError';
  }
}

export interface PlanPushResult {
  image: string;
  digest: Digest;
  /** ECS services using the repository. */
  services: number;
  plan: RedeployPlan;
  eks: {
    clusters: string[];
    /** EKS workloads using the repository. */
    workloads: number;
    plan: RollPlan;
  };
  /** What could not be read (a cluster, a service page): the plan is incomplete there. */
  failures: { item: string; error: string }[];
}

export interface PlanPushDeps {
  ecs: ECSClient;
  ecr: ECRClient;
  eks: EKSClient;
  connect: EksConnector;
  config: Config;
  progress?: (line: string) => void;
  /** The state table's holds (freezes, approvals) and the time to judge them at: `held (<gate>)` rows. */
  holds?: HoldsStore;
  now?: Date;
}

export async function planPush(image: string, deps: PlanPushDeps): Promise<PlanPushResult> {
  let ref: ReturnType<typeof parseImageRef>;
  try {
    ref = parseImageRef(image);
  } catch (err) {
    throw new PlanUsageError(errorMessage(err, { name: false }));
  }
  if (!ref.ecr)
    throw new PlanUsageError(
      `"${image}" is not an ECR image (<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>)`,
    );
  if (!ref.tag) throw new PlanUsageError(`"${image}" has no tag: a push is planned by its tag`);
  const repository = { ...ref.ecr, repositoryName: ref.repository };
  let digest = ref.digest;
  let scan: ImageScanState | undefined;
  if (!digest) {
    const out = await deps.ecr.send(
      new DescribeImagesCommand({
        registryId: repository.accountId,
        repositoryName: repository.repositoryName,
        imageIds: [{ imageTag: ref.tag }],
      }),
    );
    const found = out.imageDetails?.[0]?.imageDigest;
    if (!found || !isDigest(found))
      throw new PlanUsageError(`ECR has no image ${repository.repositoryName}:${ref.tag}`);
    digest = found;
    // The scan gate judges the image's scan as the functions would (read with the digest, as they read it).
    scan = scanStateOf(out.imageDetails?.[0]);
  } else {
    scan = (await describePushedImage(deps.ecr, { repository, digest, tags: [] })).scan;
  }
  const push: ImagePush & { tag: string } = { repository, tag: ref.tag, digest, ...(scan ? { scan } : {}) };
  const inRepo = relevantImages({ kind: 'push', push, eventId: 'plan' }, repository.region);
  const { config } = deps;

  // ECS: redeployEcs's gather and plan
  deps.progress?.(
    `reading ECS services of ${config.ecs.clusters.length ? config.ecs.clusters.join(', ') : 'every cluster'}...`,
  );
  // A full scan, at the account's read budget like the functions' (no deadline: the user waits).
  const budget = new ReadBudget({ readsPerSecond: config.ecs.maxReadsPerSecond });
  const gathered = await budget.during(() =>
    gatherServices(budget.pace(deps.ecs), { clusters: config.ecs.clusters, isRelevantImage: inRepo }),
  );
  const failures = [...gathered.failures];
  const services = gathered.services.filter((s) => s.containers.some((c) => inRepo(c.image)));
  deps.progress?.(
    `${gathered.services.length} services read, ${services.length} use ${repository.repositoryName}`,
  );

  // EKS: rollEks's gather and plan, cluster by cluster
  const clusters = await eksClusterNames(deps.eks, config.eks.clusters);
  const workloads: Workload[] = [];
  for (const [i, cluster] of clusters.entries()) {
    deps.progress?.(`reading EKS cluster ${cluster} (${i + 1}/${clusters.length})...`);
    try {
      const kube = await deps.connect(cluster);
      workloads.push(
        ...(await gatherWorkloads(kube, { namespaces: config.eks.namespaces, isRelevantImage: inRepo })),
      );
    } catch (err) {
      failures.push({ item: `EKS cluster ${cluster}`, error: errorMessage(err) });
    }
  }
  let plan = planRedeploy(services, [push], config.ecs.defaultPolicy);
  let eksPlan = planRoll(workloads, [push], config.eks.defaultPolicy);
  if (deps.holds) {
    // The functions' own gates over the state table; unreadable, the plan says so and shows no holds.
    const now = deps.now ?? new Date();
    const holdsConfig = { holds: config.holds, scan: config.scan };
    try {
      const ecs = await planRedeployWithHolds(
        deps.holds,
        { ...holdsConfig, defaultPolicy: config.ecs.defaultPolicy },
        services,
        [push],
        now,
      );
      const eks = await planRollWithHolds(
        deps.holds,
        { ...holdsConfig, defaultPolicy: config.eks.defaultPolicy },
        workloads,
        [push],
        now,
      );
      [plan, eksPlan] = [ecs.plan, eks.plan];
      failures.push(...ecs.gated.problems, ...eks.gated.problems);
    } catch (err) {
      // No state table: harborpilot is not deployed there, so nothing is held.
      if ((err as { name?: string }).name !== 'ResourceNotFoundException')
        failures.push({ item: `state table ${config.stateTable} (holds)`, error: errorMessage(err) });
    }
  }
  return {
    image,
    digest,
    services: services.length,
    plan,
    eks: {
      clusters,
      workloads: workloads.length,
      plan: eksPlan,
    },
    failures,
  };
}

const name = (arn: string) => arn.slice(arn.indexOf('/') + 1);

/** One row per service or workload: what a human scanning the plan needs. */
export function formatPlanTable(result: PlanPushResult): string {
  const rows: string[][] = [];
  for (const a of result.plan.actions)
    for (const c of a.changes)
      rows.push(['ECS', name(a.serviceArn), a.type, `${c.containerName}: ${c.reason} → ${c.toImage}`]);
  for (const s of result.plan.skips) rows.push(['ECS', name(s.serviceArn), 'skip', s.reason]);
  for (const h of result.plan.holds)
    rows.push(['ECS', name(h.serviceArn), `held (${h.hold.gate})`, h.hold.reason]);
  for (const e of result.plan.errors) rows.push(['ECS', name(e.serviceArn), 'error', e.error]);
  const { plan: eks } = result.eks;
  for (const a of eks.actions)
    for (const c of a.changes)
      rows.push(['EKS', workloadKey(a), 'patch', `${c.containerName}: ${c.reason} → ${c.toImage}`]);
  for (const s of eks.skips) rows.push(['EKS', workloadKey(s), 'skip', s.reason]);
  for (const h of eks.holds) rows.push(['EKS', workloadKey(h), `held (${h.hold.gate})`, h.hold.reason]);
  for (const e of eks.errors) rows.push(['EKS', workloadKey(e), 'error', e.error]);
  for (const f of result.failures) rows.push(['', f.item, 'unreadable', f.error]);
  const header =
    `push of ${result.image} (${result.digest}): ` +
    `${result.plan.actions.length} of ${result.services} ECS service(s) and ` +
    `${eks.actions.length} of ${result.eks.workloads} EKS workload(s) would move`;
  return [
    header,
    '',
    rows.length > 0
      ? table(['', 'WHERE', 'ACTION', 'DETAIL'], rows)
      : 'no ECS service or EKS workload uses this repository',
  ].join('\n');
}
