/**
 * Settling a deployment (pure): ECS's service deployment decides (blue/green bake time included, an event alone
 * never settles), the deployment itself where ECS has no service deployment; Kubernetes rollouts as
 * `kubectl rollout status` judges them, a workload changed since is `stopped`; nothing open forever.
 */
import { describe, expect, it } from 'vitest';
import type { DeploymentRecord } from '../../../shared/outcomes/model';
import { type EcsObservation, settleEcs, settleEks } from '../../../shared/outcomes/settle';

const NOW = new Date('2026-01-14T12:00:00.000Z');
const record = (r: Partial<DeploymentRecord> = {}): DeploymentRecord => ({
  recordId: 'deployment#ecs/prod/api#ecs-svc/1',
  workload: 'ecs/prod/api',
  platform: 'ecs',
  ref: 'ecs-svc/1',
  cause: { kind: 'push', eventId: 'e1' },
  pushes: [],
  changes: [{ container: 'app', fromImage: 'r/api:latest', toImage: 'r/api:latest', toDigest: 'sha256:b' }],
  startedAt: '2026-01-14T11:50:00.000Z',
  notify: 'failures',
  state: 'in-progress',
  ...r,
});
const sd = (status: string, more: Partial<NonNullable<EcsObservation['serviceDeployment']>> = {}) => ({
  serviceDeployment: { arn: 'arn:sd/1', status, ...more },
});
const failedEvent = {
  eventName: 'SERVICE_DEPLOYMENT_FAILED',
  reason: 'ECS deployment circuit breaker: task failed to start.',
  time: '2026-01-14T11:55:00Z',
};

describe('settleEcs', () => {
  const cases: [string, EcsObservation, ReturnType<typeof settleEcs> | string | undefined][] = [
    [
      'SUCCESSFUL: completed, when ECS finished it',
      sd('SUCCESSFUL', { statusReason: 'done', finishedAt: new Date('2026-01-14T11:58:00Z') }),
      {
        state: 'completed',
        reason: 'done',
        settledAt: '2026-01-14T11:58:00.000Z',
        serviceDeploymentArn: 'arn:sd/1',
      },
    ],
    [
      'IN_PROGRESS (a blue/green deployment baking after its COMPLETED event): not settled',
      {
        ...sd('IN_PROGRESS'),
        event: { eventName: 'SERVICE_DEPLOYMENT_COMPLETED', time: '2026-01-14T11:55:00Z' },
      },
      undefined,
    ],
    ['PENDING: not settled', sd('PENDING'), undefined],
    [
      'ROLLBACK_SUCCESSFUL: rolled back, with ECS reasons joined once each',
      {
        ...sd('ROLLBACK_SUCCESSFUL', {
          statusReason: 'ECS deployment circuit breaker: task failed to start.',
          rollback: {
            reason: 'ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/0.',
            startedAt: new Date('2026-01-14T11:56:00Z'),
          },
        }),
        event: failedEvent,
        digests: { app: 'sha256:b2' },
      },
      {
        state: 'rolled-back',
        reason:
          'ECS deployment circuit breaker: task failed to start; ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/0',
        settledAt: '2026-01-14T11:56:00.000Z',
        deployedDigests: { app: 'sha256:b2' },
        serviceDeploymentArn: 'arn:sd/1',
      },
    ],
    [
      'ROLLBACK_IN_PROGRESS (alarms): rolled back',
      sd('ROLLBACK_IN_PROGRESS', { statusReason: 'alarm x' }),
      'rolled-back',
    ],
    ['ROLLBACK_FAILED: failed', sd('ROLLBACK_FAILED', { statusReason: 'no capacity' }), 'failed'],
    [
      'STOPPED after the circuit breaker failed it (no rollback): failed',
      { ...sd('STOPPED'), event: failedEvent },
      'failed',
    ],
    ['STOPPED without a failure: a newer deployment replaced it', sd('STOPPED'), 'stopped'],
    [
      'no service deployment API: the deployment COMPLETED',
      {
        deployment: { rolloutState: 'COMPLETED', rolloutStateReason: 'ECS deployment ecs-svc/1 completed.' },
      },
      'completed',
    ],
    [
      'no service deployment API: the deployment FAILED',
      { deployment: { rolloutState: 'FAILED' } },
      'failed',
    ],
    [
      'no service deployment API: still IN_PROGRESS',
      { deployment: { rolloutState: 'IN_PROGRESS' } },
      undefined,
    ],
    [
      'gone from ECS with a FAILED event naming it: failed',
      { deployment: 'gone', event: failedEvent },
      'failed',
    ],
    ['gone from ECS with nothing else known: unknown', { deployment: 'gone' }, 'unknown'],
    ['nothing read at all: not settled', {}, undefined],
  ];
  it.each(cases)('%s', (_, observation, expected) => {
    const s = settleEcs(record(), observation, NOW);
    if (typeof expected === 'string') expect(s?.state).toBe(expected);
    else expect(s).toEqual(expected);
  });

  it('gives up after a day without an outcome, so the open index does not grow forever', () => {
    const old = record({ startedAt: '2026-01-13T11:59:59.000Z' });
    expect(settleEcs(old, sd('IN_PROGRESS'), NOW)).toBeUndefined(); // a service deployment still says in progress
    expect(settleEcs(old, {}, NOW)).toMatchObject({ state: 'unknown', reason: /within 24 hours/ });
    expect(settleEcs(record(), {}, NOW)).toBeUndefined();
  });
});

describe('settleEks', () => {
  const eks = record({
    platform: 'eks',
    workload: 'eks/c/shop/deployment/api',
    ref: 'generation/7',
    generation: 7,
    changes: [{ container: 'app', fromImage: 'r/api:1', toImage: 'r/api:2@sha256:b', toDigest: 'sha256:b' }],
  });
  const images = { app: 'r/api:2@sha256:b' };
  it('complete: completed; ProgressDeadlineExceeded: failed; progressing: open', () => {
    expect(
      settleEks(eks, { images, rollout: { state: 'complete', message: '3 of 3 updated' } }, NOW),
    ).toEqual({
      state: 'completed',
      reason: '3 of 3 updated',
      settledAt: NOW.toISOString(),
    });
    const failed = settleEks(
      eks,
      {
        images,
        rollout: { state: 'failed', message: 'ProgressDeadlineExceeded: ReplicaSet api-7 has timed out' },
      },
      NOW,
    );
    expect(failed).toMatchObject({ state: 'failed', reason: /ProgressDeadlineExceeded/ });
    expect(
      settleEks(eks, { images, rollout: { state: 'progressing', message: '1 of 3' } }, NOW),
    ).toBeUndefined();
  });
  it('a workload changed since (kubectl rollout undo, another patch) or deleted: stopped, never failed', () => {
    expect(
      settleEks(eks, { images: { app: 'r/api:1' }, rollout: { state: 'complete', message: 'ok' } }, NOW),
    ).toMatchObject({ state: 'stopped', reason: 'changed since: app runs r/api:1 now' });
    expect(settleEks(eks, 'gone', NOW)).toMatchObject({ state: 'stopped' });
  });
});
