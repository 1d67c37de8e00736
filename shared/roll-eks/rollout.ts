/**
 * Rollout status the way `kubectl rollout status` judges it: done when the controller has seen the latest
 * generation and every replica is updated and available; failed on ProgressDeadlineExceeded.
 */
import * as z from '../zod';
import type { RolloutStatus, WorkloadKind } from './model';

const Obj = z.looseObject({
  metadata: z.prefault(z.looseObject({ generation: z.optional(z.number()) }), {}),
  spec: z.prefault(
    z.looseObject({
      replicas: z.optional(z.number()),
      updateStrategy: z.nullish(z.looseObject({ type: z.optional(z.string()) })),
    }),
    {},
  ),
  status: z.nullish(
    z.looseObject({
      observedGeneration: z.optional(z.number()),
      replicas: z.optional(z.number()),
      updatedReplicas: z.optional(z.number()),
      readyReplicas: z.optional(z.number()),
      availableReplicas: z.optional(z.number()),
      currentRevision: z.optional(z.string()),
      updateRevision: z.optional(z.string()),
      desiredNumberScheduled: z.optional(z.number()),
      updatedNumberScheduled: z.optional(z.number()),
      numberAvailable: z.optional(z.number()),
      conditions: z.nullish(
        z.array(
          z.looseObject({
            type: z.string(),
            reason: z.optional(z.string()),
            message: z.optional(z.string()),
          }),
        ),
      ),
    }),
  ),
});

export function rolloutStatus(kind: WorkloadKind, object: unknown): RolloutStatus {
  const o = Obj.parse(object);
  const s = o.status ?? {};
  const generation = o.metadata.generation ?? 0;
  if ((s.observedGeneration ?? 0) < generation) {
    return { state: 'progressing', message: 'waiting for the controller to observe the new generation' };
  }
  switch (kind) {
    case 'Deployment': {
      const stalled = (s.conditions ?? []).find(
        (c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded',
      );
      if (stalled)
        return { state: 'failed', message: `ProgressDeadlineExceeded: ${stalled.message ?? ''}`.trim() };
      const want = o.spec.replicas ?? 1;
      const updated = s.updatedReplicas ?? 0;
      const total = s.replicas ?? 0;
      const available = s.availableReplicas ?? 0;
      if (updated < want) return { state: 'progressing', message: `${updated} of ${want} updated replicas` };
      if (total > updated)
        return { state: 'progressing', message: `${total - updated} old replicas pending termination` };
      if (available < updated)
        return { state: 'progressing', message: `${available} of ${updated} updated replicas available` };
      return { state: 'complete', message: `${updated} of ${want} updated and available` };
    }
    case 'StatefulSet': {
      const want = o.spec.replicas ?? 1;
      const ready = s.readyReplicas ?? 0;
      const updated = s.updatedReplicas ?? 0;
      if (ready < want) return { state: 'progressing', message: `${ready} of ${want} pods ready` };
      if (o.spec.updateStrategy?.type !== 'OnDelete' && s.updateRevision !== s.currentRevision) {
        return { state: 'progressing', message: `${updated} of ${want} pods updated` };
      }
      return { state: 'complete', message: `${want} pods at revision ${s.updateRevision ?? '?'}` };
    }
    case 'DaemonSet': {
      const want = s.desiredNumberScheduled ?? 0;
      const updated = s.updatedNumberScheduled ?? 0;
      const available = s.numberAvailable ?? 0;
      if (updated < want) return { state: 'progressing', message: `${updated} of ${want} updated pods` };
      if (available < want)
        return { state: 'progressing', message: `${available} of ${want} updated pods available` };
      return { state: 'complete', message: `${want} pods updated and available` };
    }
  }
}
