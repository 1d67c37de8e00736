/** Building a deployment's record (pure): the push it deploys, its key, and the notice level a setting gives. */
import { describe, expect, it } from 'vitest';
import type { Digest } from '../../../shared/image-ref';
import { ecsDeploymentRecord, eksDeploymentRecord, noticeLevelOf } from '../../../shared/outcomes/record';
import type { ServiceAction } from '../../../shared/redeploy-ecs/model';
import type { WorkloadAction } from '../../../shared/roll-eks/model';

const REPO = { accountId: '123456789012', region: 'eu-west-1', repositoryName: 'shop/api' };
const NEW = `sha256:${'2'.repeat(64)}` as Digest;
const OTHER = `sha256:${'3'.repeat(64)}` as Digest;
const change = {
  containerName: 'app',
  fromImage: 'r/api:latest',
  toImage: 'r/api:latest',
  fromDigest: `sha256:${'1'.repeat(64)}` as Digest,
  toDigest: NEW,
  reason: 'latest pushed again',
};
const pushes = [
  { repository: REPO, tag: 'latest', digest: NEW, pushedAt: new Date('2026-01-14T11:00:00Z') },
  { repository: REPO, tag: 'v2', digest: OTHER },
];
const context = {
  cause: { kind: 'reconcile' as const, eventId: 'sched-1' },
  pushes,
  notify: 'failures' as const,
  startedAt: new Date('2026-01-14T11:00:05Z'),
};

describe('deployment records', () => {
  const action: ServiceAction = {
    type: 'force-new-deployment',
    clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
    serviceArn: 'arn:aws:ecs:eu-west-1:123456789012:service/prod/api',
    serviceName: 'api',
    taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/api:3',
    changes: [change],
  };
  it('an ECS deployment is keyed by its deployment id and names only the push it deploys', () => {
    const r = ecsDeploymentRecord(
      action,
      { ...action, deploymentId: 'ecs-svc/42', deploymentCreatedAt: '2026-01-14T11:00:04.000Z' },
      context,
    );
    expect(r).toMatchObject({
      recordId: 'deployment#ecs/prod/api#ecs-svc/42',
      workload: 'ecs/prod/api',
      ref: 'ecs-svc/42',
      state: 'in-progress',
      createdAt: '2026-01-14T11:00:04.000Z',
      startedAt: '2026-01-14T11:00:05.000Z',
      changes: [{ container: 'app', toDigest: NEW, fromDigest: change.fromDigest }],
      pushes: [{ tag: 'latest', digest: NEW, pushedAt: '2026-01-14T11:00:00.000Z' }],
    });
    // UpdateService named no PRIMARY deployment: nothing to record against.
    expect(
      ecsDeploymentRecord(action, { serviceArn: action.serviceArn, taskDefinitionArn: 'x' }, context),
    ).toBeUndefined();
  });

  it('a Kubernetes rollout is keyed by its generation, and by the object uid when known', () => {
    const w: WorkloadAction = {
      cluster: 'prod-eks',
      kind: 'Deployment',
      namespace: 'shop',
      name: 'api',
      changes: [{ ...change, init: false }],
      patch: {},
    };
    expect(eksDeploymentRecord(w, 7, undefined, context).recordId).toBe(
      'deployment#eks/prod-eks/shop/deployment/api#generation/7',
    );
    expect(eksDeploymentRecord(w, 7, '1f71c557-aaaa-bbbb', context).ref).toBe('generation/7/1f71c557');
  });

  it.each([
    [undefined, 'failures', { level: 'failures' }],
    ['ALL', 'failures', { level: 'all' }],
    [' off ', 'all', { level: 'off' }],
    ['loud', 'off', { level: 'all', problem: 'notify setting "loud" is not off, failures, all' }],
  ] as const)('notify setting %j over %s: %j', (setting, fallback, expected) => {
    expect(noticeLevelOf(setting, fallback)).toEqual(expected);
  });
});
