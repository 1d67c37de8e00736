/**
 * The judgement of rollEks, pure: which workloads move to which image, and why the others do not. Policy
 * decisions are the ECS ones (shared/choose-push.ts); only the way a workload is changed differs.
 */

import { choosePush } from '../choose-push';
import { errorMessage } from '../errors';
import type { ImagePush } from '../events/image-push';
import { firstHold, type Gate } from '../gates';
import { formatImageRef } from '../image-ref';
import { parsePolicy, type UpdatePolicy } from '../policy';
import { eksWorkloadId } from '../workload';
import {
  type ImageChange,
  POLICY_ANNOTATION,
  ROLLED_ANNOTATION,
  type RollPlan,
  type Workload,
  type WorkloadContainer,
} from './model';

export function planRoll(
  workloads: readonly Workload[],
  pushes: readonly ImagePush[],
  defaultPolicy: string,
  /** Asked about every workload that would move; the first that holds it makes it a hold. */
  gates: readonly Gate[] = [],
): RollPlan {
  const plan: RollPlan = { actions: [], skips: [], holds: [], errors: [] };
  for (const w of workloads) {
    const ref = {
      cluster: w.cluster,
      ...(w.scope ? { scope: w.scope } : {}),
      kind: w.kind,
      namespace: w.namespace,
      name: w.name,
    };
    let policy: UpdatePolicy;
    try {
      policy = parsePolicy(w.policyAnnotation ?? defaultPolicy);
    } catch (err) {
      plan.errors.push({
        ...ref,
        error: `annotation ${POLICY_ANNOTATION}: ${errorMessage(err, { name: false })}`,
      });
      continue;
    }
    const changes: ImageChange[] = [];
    const reasons: string[] = [];
    for (const c of w.containers) {
      const d = decideContainer(w, c, pushes, policy);
      if (d === undefined) continue;
      if ('skip' in d) reasons.push(`${c.name}: ${d.skip}`);
      else changes.push(d.change);
    }
    if (changes.length > 0) {
      const action = {
        ...ref,
        changes,
        patch: buildPatch(changes),
        ...(w.notify !== undefined ? { notify: w.notify } : {}),
      };
      const hold = firstHold(gates, { workload: eksWorkloadId(ref), changes });
      if (hold) plan.holds.push({ ...ref, hold, action });
      else plan.actions.push(action);
    } else if (reasons.length > 0) plan.skips.push({ ...ref, reason: reasons.join('; ') });
  }
  return plan;
}

/**
 * Strategic merge patch: containers merge by name, so only the named ones change. The image carries the digest
 * (`repo:tag@sha256:…`) so no node can keep an old image cached under the tag (imagePullPolicy: IfNotPresent).
 * The `harborpilot.io/rolled` annotation marks the workload so later runs report how its rollout ended.
 */
export function buildPatch(changes: readonly ImageChange[]): Record<string, unknown> {
  const pick = (init: boolean) =>
    changes.filter((c) => c.init === init).map((c) => ({ name: c.containerName, image: c.toImage }));
  const containers = pick(false);
  const initContainers = pick(true);
  return {
    metadata: {
      annotations: {
        // No time in it: the same change must make the same patch (idempotency compares whole actions).
        [ROLLED_ANNOTATION]: changes.map((c) => c.toImage).join(' '),
      },
    },
    spec: {
      template: {
        spec: {
          ...(containers.length > 0 ? { containers } : {}),
          ...(initContainers.length > 0 ? { initContainers } : {}),
        },
      },
    },
  };
}

type ContainerDecision = { skip: string } | { change: ImageChange };

function decideContainer(
  w: Workload,
  c: WorkloadContainer,
  pushes: readonly ImagePush[],
  policy: UpdatePolicy,
): ContainerDecision | undefined {
  const choice = choosePush(c.image, pushes, policy);
  if (!choice || 'skip' in choice) return choice;
  const { ref, chosen, reason } = choice;
  // The spec's digest decides when there is one (a rollout under way already targets it); else the pods'.
  const running = w.runningDigests[c.name] ?? [];
  if (ref.digest === chosen.digest) return { skip: `already set to ${chosen.digest}` };
  if (!ref.digest && running.length > 0 && running.every((d) => d === chosen.digest)) {
    return { skip: `already runs ${chosen.digest}` };
  }
  const toImage = formatImageRef({
    ...(ref.registry ? { registry: ref.registry } : {}),
    repository: ref.repository,
    tag: chosen.tag,
    digest: chosen.digest,
  });
  const fromDigest =
    ref.digest ?? (running.length > 0 && running.every((d) => d === running[0]) ? running[0] : undefined);
  return {
    change: {
      containerName: c.name,
      init: c.init,
      fromImage: c.image,
      toImage,
      toDigest: chosen.digest,
      reason,
      ...(fromDigest ? { fromDigest } : {}),
    },
  };
}
