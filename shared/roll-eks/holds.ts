/** rollEks's side of the holds: its plan's candidates and holds in the holds' terms, and a held push planned again. */
import type { ECRClient } from '@aws-sdk/client-ecr';
import { pushesNow } from '../aws/ecr-images';
import type { KubeClient } from '../aws/kube';
import type { ImagePush } from '../events/image-push';
import type { HoldsConfig } from '../holds/gates';
import { fromHeldPush, type HoldCandidate, type PlannedHold, planGates } from '../holds/plan-holds';
import type { Replanned } from '../holds/release';
import type { HeldItem, HoldsStore } from '../holds/store';
import { ecrRepositoryOf, repositoryKey } from '../image-ref';
import type { ScanConfig } from '../scan/gate';
import type { TargetScope } from '../targets';
import { eksWorkloadId } from '../workload';
import { gatherWorkloads } from './gather';
import { type RollPlan, type Workload, type WorkloadAction, workloadKey } from './model';

/** A cluster, in another target when `scope` says so. */
export interface ClusterRef {
  cluster: string;
  scope?: TargetScope | undefined;
}

import { planRoll } from './plan';

export function eksCandidates(plan: RollPlan, workloads: readonly Workload[]): HoldCandidate[] {
  const byKey = new Map(workloads.map((w) => [workloadKey(w), w]));
  return plan.actions.map((a) => ({
    workload: eksWorkloadId(a),
    settings: byKey.get(workloadKey(a))?.holdSettings ?? {},
    changes: a.changes,
  }));
}

export function eksPlannedHolds(plan: RollPlan): PlannedHold[] {
  return plan.holds.map((h) => ({
    workload: eksWorkloadId(h),
    hold: h.hold,
    action: h.action,
    changes: h.action.changes,
  }));
}

/** Plans the workloads with the holds' gates: a draft names the workloads that would move, whose holds are read. */
export async function planRollWithHolds(
  store: HoldsStore,
  config: { defaultPolicy: string; holds: HoldsConfig; scan?: ScanConfig },
  workloads: readonly Workload[],
  pushes: readonly ImagePush[],
  now: Date,
) {
  const draft = planRoll(workloads, pushes, config.defaultPolicy);
  const scan = config.scan ? { config: config.scan, pushes } : undefined;
  const gated = await planGates(store, config.holds, eksCandidates(draft, workloads), now, scan);
  return { plan: planRoll(workloads, pushes, config.defaultPolicy, gated.gates), gated };
}

/** A held push planned again against the workload as it is now (read from its cluster and namespace). */
export async function replanEksHold(
  deps: { ecr: ECRClient; store: HoldsStore; connect: (ref: ClusterRef) => Promise<KubeClient> },
  config: { defaultPolicy: string; holds: HoldsConfig; scan?: ScanConfig },
  item: HeldItem,
  now: Date,
): Promise<Replanned<WorkloadAction>> {
  const held = item.action as Partial<WorkloadAction>;
  if (!held.cluster || !held.namespace || !held.kind || !held.name)
    return { drop: 'held item without a workload' };
  // Each push as ECR has it now: superseded, or with its scan as it is now (the scan gate judges it afresh).
  const current = await pushesNow(deps.ecr, item.pushes.map(fromHeldPush));
  if ('superseded' in current)
    return { drop: `a newer push moved ${current.superseded.tag} on to ${current.superseded.digest}` };
  const { pushes } = current;
  const keys = new Set(pushes.map((p) => repositoryKey(p.repository)));
  const kube = await deps.connect({ cluster: held.cluster, scope: held.scope });
  const workloads = await gatherWorkloads(kube, {
    namespaces: [held.namespace],
    scope: held.scope,
    isRelevantImage: (image) => {
      const repo = ecrRepositoryOf(image);
      return repo !== undefined && keys.has(repositoryKey(repo));
    },
  });
  const workload = workloads.find((w) => w.kind === held.kind && w.name === held.name);
  if (!workload) return { drop: 'the workload no longer exists or no longer uses the repository' };
  const { plan, gated } = await planRollWithHolds(deps.store, config, [workload], pushes, now);
  const action = plan.actions[0];
  if (action) return { action, gated };
  const hold = plan.holds[0];
  if (hold) return { hold: hold.hold, gated };
  return {
    drop: plan.skips[0]?.reason ?? plan.errors[0]?.error ?? 'the plan no longer moves the workload',
    gated,
  };
}
