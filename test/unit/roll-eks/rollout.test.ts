/** Rollout status judged the way `kubectl rollout status` judges it, for each workload kind. */
import { describe, expect, it } from 'vitest';
import type { WorkloadKind } from '../../../shared/roll-eks/model';
import { rolloutStatus } from '../../../shared/roll-eks/rollout';

const obj = (generation: number, spec: object, status: object) => ({
  metadata: { generation },
  spec,
  status,
});

describe('rolloutStatus', () => {
  it.each<[string, WorkloadKind, object, string, string]>([
    [
      'Deployment not yet observed',
      'Deployment',
      obj(2, { replicas: 2 }, { observedGeneration: 1 }),
      'progressing',
      'waiting for the controller to observe the new generation',
    ],
    [
      'Deployment half updated',
      'Deployment',
      obj(2, { replicas: 2 }, { observedGeneration: 2, updatedReplicas: 1, replicas: 3 }),
      'progressing',
      '1 of 2 updated replicas',
    ],
    [
      'Deployment old replicas terminating',
      'Deployment',
      obj(
        2,
        { replicas: 2 },
        { observedGeneration: 2, updatedReplicas: 2, replicas: 3, availableReplicas: 2 },
      ),
      'progressing',
      '1 old replicas pending termination',
    ],
    [
      'Deployment updated, not yet available',
      'Deployment',
      obj(
        2,
        { replicas: 2 },
        { observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 1 },
      ),
      'progressing',
      '1 of 2 updated replicas available',
    ],
    [
      'Deployment done',
      'Deployment',
      obj(
        2,
        { replicas: 2 },
        { observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 2 },
      ),
      'complete',
      '2 of 2 updated and available',
    ],
    [
      'Deployment past its progress deadline',
      'Deployment',
      obj(
        2,
        { replicas: 2 },
        {
          observedGeneration: 2,
          updatedReplicas: 1,
          replicas: 3,
          conditions: [
            {
              type: 'Progressing',
              reason: 'ProgressDeadlineExceeded',
              message: 'ReplicaSet "api-1" has timed out progressing.',
            },
          ],
        },
      ),
      'failed',
      'ProgressDeadlineExceeded: ReplicaSet "api-1" has timed out progressing.',
    ],
    [
      'StatefulSet pods not ready',
      'StatefulSet',
      obj(3, { replicas: 3 }, { observedGeneration: 3, readyReplicas: 2 }),
      'progressing',
      '2 of 3 pods ready',
    ],
    [
      'StatefulSet revision rolling',
      'StatefulSet',
      obj(
        3,
        { replicas: 3 },
        {
          observedGeneration: 3,
          readyReplicas: 3,
          updatedReplicas: 1,
          currentRevision: 'db-1',
          updateRevision: 'db-2',
        },
      ),
      'progressing',
      '1 of 3 pods updated',
    ],
    [
      'StatefulSet done',
      'StatefulSet',
      obj(
        3,
        { replicas: 3 },
        {
          observedGeneration: 3,
          readyReplicas: 3,
          updatedReplicas: 3,
          currentRevision: 'db-2',
          updateRevision: 'db-2',
        },
      ),
      'complete',
      '3 pods at revision db-2',
    ],
    [
      'StatefulSet OnDelete: ready is done',
      'StatefulSet',
      obj(
        3,
        { replicas: 3, updateStrategy: { type: 'OnDelete' } },
        { observedGeneration: 3, readyReplicas: 3, currentRevision: 'db-1', updateRevision: 'db-2' },
      ),
      'complete',
      '3 pods at revision db-2',
    ],
    [
      'DaemonSet rolling',
      'DaemonSet',
      obj(
        5,
        {},
        { observedGeneration: 5, desiredNumberScheduled: 3, updatedNumberScheduled: 1, numberAvailable: 3 },
      ),
      'progressing',
      '1 of 3 updated pods',
    ],
    [
      'DaemonSet updated, not available',
      'DaemonSet',
      obj(
        5,
        {},
        { observedGeneration: 5, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 },
      ),
      'progressing',
      '2 of 3 updated pods available',
    ],
    [
      'DaemonSet done',
      'DaemonSet',
      obj(
        5,
        {},
        { observedGeneration: 5, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 },
      ),
      'complete',
      '3 pods updated and available',
    ],
  ])('%s', (_name, kind, object, state, message) => {
    expect(rolloutStatus(kind, object)).toEqual({ state, message });
  });
});
