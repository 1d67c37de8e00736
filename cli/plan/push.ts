/**
 * `harborpilot plan push <image>`: what a push of this image would redeploy on ECS and roll on EKS, and why
 * every other service or workload using the repository stays, computed by redeployEcs's and rollEks's own
 * gather and plan steps. Read-only: no write API is ever called.
 */
import { DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { EKSClient } from '@aws-sdk/client-eks';
import { describePushedImage } from '../../shared/aws/ecr-images';
import { serviceArnParts } from '../../shared/aws/ecs';
import { type EksConnector, eksClusterNames, makeEksConnector } from '../../shared/aws/eks-connect';
import { ReadBudget } from '../../shared/aws/read-budget';
import type { TargetClient } from '../../shared/aws/target-clients';
import type { Config } from '../../shared/config';
import { errorMessage } from '../../shared/errors';
import type { ImagePush } from '../../shared/events/image-push';
import { relevantImages } from '../../shared/events/trigger';
import type { HoldsStore } from '../../shared/holds/store';
import { type Digest, isDigest, parseImageRef } from '../../shared/image-ref';
import { gatherServices } from '../../shared/redeploy-ecs/gather';
import { planRedeployWithHolds } from '../../shared/redeploy-ecs/holds';
import type { EcsService, RedeployPlan } from '../../shared/redeploy-ecs/model';
import { planRedeploy } from '../../shared/redeploy-ecs/plan';
import { gatherWorkloads } from '../../shared/roll-eks/gather';
import { planRollWithHolds } from '../../shared/roll-eks/holds';
import { clusterKey, type RollPlan, type Workload, workloadKey } from '../../shared/roll-eks/model';
import { planRoll } from '../../shared/roll-eks/plan';
import { type ImageScanState, scanStateOf } from '../../shared/scan/severity';
import { clustersIn, targetLabel, WorkloadScopes } from '../../shared/targets';
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
  /** The other targets planned in, as `<account>/<region>` (their services and workloads are named so). */
  targets?: string[];
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
  /**
   * Every target's clients (docs/organisation.md), the home target's first: the plan reads each; a target that
   * cannot be read is a failure row, the others are planned. None: `ecs`, `eks` and `connect` alone.
   */
  targets?: { ecs: TargetClient<ECSClient>[]; eks: TargetClient<EKSClient>[] };
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

  const ecsTargets = deps.targets?.ecs ?? [
    { target: { home: true as const, region: repository.region }, client: deps.ecs },
  ];
  const eksTargets = deps.targets?.eks ?? [
    { target: { home: true as const, region: repository.region }, client: deps.eks },
  ];
  const scopes = new WorkloadScopes(ecsTargets.map((t) => t.target));
  const several = ecsTargets.length > 1;

  // ECS: redeployEcs's gather and plan, target by target
  const failures: { item: string; error: string }[] = [];
  const services: EcsService[] = [];
  for (const { target, client } of ecsTargets) {
    const clusters = clustersIn(target, config.ecs.clusters, scopes);
    if (!clusters) continue;
    const where = several ? ` in ${targetLabel(target)}` : '';
    deps.progress?.(
      `reading ECS services of ${clusters.length ? clusters.join(', ') : 'every cluster'}${where}...`,
    );
    // A full scan, at the account's read budget like the functions' (no deadline: the user waits).
    const budget = new ReadBudget({ readsPerSecond: config.ecs.maxReadsPerSecond });
    try {
      const gathered = await budget.during(() =>
        gatherServices(budget.pace(client), { clusters, isRelevantImage: inRepo }),
      );
      failures.push(...gathered.failures);
      const using = gathered.services.filter((s) => s.containers.some((c) => inRepo(c.image)));
      services.push(...using);
      deps.progress?.(
        `${gathered.services.length} services read${where}, ${using.length} use ${repository.repositoryName}`,
      );
    } catch (err) {
      failures.push({ item: `ECS${where}`, error: errorMessage(err, { name: false }) });
    }
  }

  // EKS: rollEks's gather and plan, cluster by cluster in every target
  const clusters: string[] = [];
  const workloads: Workload[] = [];
  for (const { target, client } of eksTargets) {
    const scope = target.home ? undefined : { accountId: target.accountId, region: target.region };
    const connect = target.home ? deps.connect : makeEksConnector({ eks: client });
    let names: string[];
    try {
      names = await eksClusterNames(client, config.eks.clusters);
    } catch (err) {
      failures.push({ item: `EKS in ${targetLabel(target)}`, error: errorMessage(err, { name: false }) });
      continue;
    }
    for (const cluster of names) {
      const key = clusterKey({ cluster, scope });
      clusters.push(key);
      deps.progress?.(`reading EKS cluster ${key} (${clusters.length})...`);
      try {
        const kube = await connect(cluster);
        workloads.push(
          ...(await gatherWorkloads(kube, {
            namespaces: config.eks.namespaces,
            isRelevantImage: inRepo,
            scope,
          })),
        );
      } catch (err) {
        failures.push({ item: `EKS cluster ${key}`, error: errorMessage(err) });
      }
    }
  }
  let plan = planRedeploy(services, [push], config.ecs.defaultPolicy, [], scopes);
  let eksPlan = planRoll(workloads, [push], config.eks.defaultPolicy);
  if (deps.holds) {
    // The functions' own gates over the state table; unreadable, the plan says so and shows no holds.
    const now = deps.now ?? new Date();
    const holdsConfig = { holds: config.holds, scan: config.scan, scopes };
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
    ...(ecsTargets.some((t) => !t.target.home)
      ? { targets: ecsTargets.flatMap(({ target: t }) => (t.home ? [] : [`${t.accountId}/${t.region}`])) }
      : {}),
  };
}

/** A service as the table names it: `cluster/service`, after `<account>/<region>/` in another target. */
const serviceName = (arn: string, targets: readonly string[]) => {
  const parts = serviceArnParts(arn);
  const local = arn.slice(arn.indexOf('/') + 1);
  const scope = parts && `${parts.accountId}/${parts.region}`;
  return scope && targets.includes(scope) ? `${scope}/${local}` : local;
};

/** One row per service or workload: what a human scanning the plan needs. */
export function formatPlanTable(result: PlanPushResult): string {
  const name = (arn: string) => serviceName(arn, result.targets ?? []);
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
