/** redeployEcs's side of the holds: its plan's candidates and holds in the holds' terms, and a held push planned again. */
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { pushesNow } from '../aws/ecr-images';
import type { TaskDefinitionCache } from '../aws/task-definitions';
import type { ImagePush } from '../events/image-push';
import type { HoldsConfig } from '../holds/gates';
import { fromHeldPush, type HoldCandidate, type PlannedHold, planGates } from '../holds/plan-holds';
import type { Replanned } from '../holds/release';
import type { HeldItem, HoldsStore } from '../holds/store';
import { ecrRepositoryOf, repositoryKey } from '../image-ref';
import type { ScanConfig } from '../scan/gate';
import { HOME_ONLY, type WorkloadScopes } from '../targets';
import { ecsWorkloadId } from '../workload';
import { describeOneService } from './gather';
import type { EcsService, RedeployPlan, ServiceAction } from './model';
import { planRedeploy } from './plan';

export function ecsCandidates(
  plan: RedeployPlan,
  services: readonly EcsService[],
  scopes: WorkloadScopes = HOME_ONLY,
): HoldCandidate[] {
  const byArn = new Map(services.map((s) => [s.serviceArn, s]));
  return plan.actions.flatMap((a) => {
    const workload = ecsWorkloadId(a.serviceArn, scopes);
    return workload
      ? [{ workload, settings: byArn.get(a.serviceArn)?.holdSettings ?? {}, changes: a.changes }]
      : [];
  });
}

export function ecsPlannedHolds(plan: RedeployPlan, scopes: WorkloadScopes = HOME_ONLY): PlannedHold[] {
  return plan.holds.flatMap((h) => {
    const workload = ecsWorkloadId(h.serviceArn, scopes);
    return workload ? [{ workload, hold: h.hold, action: h.action, changes: h.action.changes }] : [];
  });
}

/** What the gates of an ECS plan are configured with; `scopes` names the services of other targets. */
export interface EcsGatesConfig {
  defaultPolicy: string;
  holds: HoldsConfig;
  scan?: ScanConfig;
  scopes?: WorkloadScopes;
}

/** Plans the services with the holds' gates: a draft names the services that would move, whose holds are read. */
export async function planRedeployWithHolds(
  store: Pick<HoldsStore, 'read'>,
  config: EcsGatesConfig,
  services: readonly EcsService[],
  pushes: readonly ImagePush[],
  now: Date,
) {
  const draft = planRedeploy(services, pushes, config.defaultPolicy, [], config.scopes);
  const scan = config.scan ? { config: config.scan, pushes } : undefined;
  const gated = await planGates(
    store,
    config.holds,
    ecsCandidates(draft, services, config.scopes),
    now,
    scan,
  );
  return { plan: planRedeploy(services, pushes, config.defaultPolicy, gated.gates, config.scopes), gated };
}

/** A held push planned again against the service as it is now. */
export async function replanEcsHold(
  deps: { ecs: ECSClient; ecr: ECRClient; store: HoldsStore; taskDefinitions: TaskDefinitionCache },
  config: EcsGatesConfig,
  item: HeldItem,
  now: Date,
): Promise<Replanned<ServiceAction>> {
  const serviceArn = (item.action as Partial<ServiceAction>).serviceArn;
  if (typeof serviceArn !== 'string') return { drop: 'held item without a service ARN' };
  const held = item.pushes.map(fromHeldPush);
  const images = ecsRepositoryImages(held);
  const service = await describeOneService(deps.ecs, serviceArn, deps.taskDefinitions, images);
  if (!service) return { drop: 'the service no longer exists' };
  // Each push as ECR has it now: superseded, or with its scan as it is now (the scan gate judges it afresh).
  const current = await pushesNow(deps.ecr, held);
  if ('superseded' in current)
    return { drop: `a newer push moved ${current.superseded.tag} on to ${current.superseded.digest}` };
  const { pushes } = current;
  // A deployment started after the push (a rollback, a hand deploy): the held action is older than the service.
  const pushedAt = Date.parse(item.pushedAt);
  if (service.primaryCreatedAt && pushedAt && service.primaryCreatedAt.getTime() > pushedAt)
    return {
      drop: `the service deployed again at ${service.primaryCreatedAt.toISOString()}, after the held push`,
    };
  const { plan, gated } = await planRedeployWithHolds(deps.store, config, [service], pushes, now);
  const action = plan.actions[0];
  if (action) return { action, gated };
  const hold = plan.holds[0];
  if (hold) return { hold: hold.hold, gated };
  return {
    drop: plan.skips[0]?.reason ?? plan.errors[0]?.error ?? 'the plan no longer moves the service',
    gated,
  };
}

/** Which images a held push's release looks at: those of the pushed repositories. */
function ecsRepositoryImages(pushes: readonly ImagePush[]): (image: string) => boolean {
  const keys = new Set(pushes.map((p) => repositoryKey(p.repository)));
  return (image) => {
    const repo = ecrRepositoryOf(image);
    return repo !== undefined && keys.has(repositoryKey(repo));
  };
}
