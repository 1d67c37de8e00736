/** The rollback plans: which revision or ReplicaSet a workload returns to, and how. */
import type { ServiceDeploymentBrief, ServiceRevision } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { planEcsRollback, planEksRollback } from '../../../shared/holds/rollback';

const SERVICE = {
  clusterArn: 'arn:aws:ecs:us-east-1:1:cluster/prod',
  serviceArn: 'arn:aws:ecs:us-east-1:1:service/prod/api',
  serviceName: 'api',
  taskDefinition: 'arn:aws:ecs:us-east-1:1:task-definition/api:3',
};
const IMG = '1.dkr.ecr.us-east-1.amazonaws.com/api:latest';
const d = (c: string) => `sha256:${c.repeat(64)}`;
const deployment = (n: number, status: ServiceDeploymentBrief['status']): ServiceDeploymentBrief => ({
  serviceDeploymentArn: `arn:aws:ecs:us-east-1:1:service-deployment/prod/api/${n}`,
  targetServiceRevisionArn: `rev-${n}`,
  status,
});
const revisions = (
  digests: Record<number, string>,
  td = (n: number) => `arn:aws:ecs:us-east-1:1:task-definition/api:${n}`,
) =>
  new Map<string, ServiceRevision>(
    Object.entries(digests).map(([n, digest]) => [
      `rev-${n}`,
      {
        serviceRevisionArn: `rev-${n}`,
        taskDefinition: td(Number(n)),
        containerImages: [{ containerName: 'app', image: IMG, imageDigest: digest }],
      },
    ]),
  );

describe('planEcsRollback', () => {
  it('in progress: StopServiceDeployment with ROLLBACK, to the last completed revision', () => {
    const plan = planEcsRollback(
      'ecs/prod/api',
      SERVICE,
      [deployment(3, 'IN_PROGRESS'), deployment(2, 'SUCCESSFUL')],
      revisions({ 3: d('c'), 2: d('b') }),
    );
    expect(plan).toMatchObject({
      kind: 'stop-deployment',
      serviceDeploymentArn: 'arn:aws:ecs:us-east-1:1:service-deployment/prod/api/3',
    });
    expect(plan.moves).toEqual([{ container: 'app', from: `${IMG}@${d('c')}`, to: `${IMG}@${d('b')}` }]);
  });

  it('completed: the newest earlier successful revision with other digests, pinned in a new revision', () => {
    // 2 only scaled (same digest as 3); 1 rolled back is skipped; 0 ran other images.
    const plan = planEcsRollback(
      'ecs/prod/api',
      SERVICE,
      [
        deployment(3, 'SUCCESSFUL'),
        deployment(2, 'SUCCESSFUL'),
        deployment(1, 'ROLLBACK_SUCCESSFUL'),
        deployment(0, 'SUCCESSFUL'),
      ],
      revisions({ 3: d('c'), 2: d('c'), 1: d('x'), 0: d('a') }),
    );
    expect(plan.kind).toBe('ecs-revision');
    if (plan.kind !== 'ecs-revision') return;
    expect(plan.action).toMatchObject({
      type: 'register-task-definition',
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:1:task-definition/api:0',
      changes: [{ containerName: 'app', toImage: `${IMG}@${d('a')}`, toDigest: d('a') }],
    });
  });

  it('nothing earlier to return to is an error naming the workload', () => {
    expect(() =>
      planEcsRollback('ecs/prod/api', SERVICE, [deployment(1, 'SUCCESSFUL')], revisions({ 1: d('a') })),
    ).toThrow('cannot roll back ecs/prod/api: no earlier successful deployment ran other images');
  });
});

describe('planEksRollback', () => {
  const rs = (revision: number, image: string) => ({
    metadata: {
      name: `api-${revision}`,
      annotations: { 'deployment.kubernetes.io/revision': String(revision) },
      ownerReferences: [{ kind: 'Deployment', name: 'api' }],
    },
    spec: {
      template: {
        spec: {
          containers: [
            { name: 'app', image },
            { name: 'sidecar', image: 'envoy:1' },
          ],
        },
      },
    },
  });
  const deploymentNow = { metadata: { name: 'api' }, spec: rs(3, 'api@sha256:c').spec };

  it('patches back the images of the previous ReplicaSet with other images, as kubectl rollout undo', () => {
    const plan = planEksRollback(
      'eks/c/shop/deployment/api',
      deploymentNow,
      [rs(1, 'api@sha256:a'), rs(3, 'api@sha256:c'), rs(2, 'api@sha256:b')],
      '/p',
    );
    expect(plan).toEqual({
      kind: 'eks-patch',
      workload: 'eks/c/shop/deployment/api',
      path: '/p',
      patch: { spec: { template: { spec: { containers: [{ name: 'app', image: 'api@sha256:b' }] } } } },
      moves: [{ container: 'app', from: 'api@sha256:c', to: 'api@sha256:b' }],
    });
  });

  it('refuses to put back the same tag without its digest: new pods would pull the newest image', () => {
    const now = { metadata: { name: 'api' }, spec: rs(3, 'api:latest@sha256:c').spec };
    expect(() =>
      planEksRollback(
        'eks/c/shop/deployment/api',
        now,
        [rs(2, 'api:latest'), rs(3, 'api:latest@sha256:c')],
        '/p',
      ),
    ).toThrow(/earlier ReplicaSet ran api:latest \(container app\), a tag with no digest/);
  });

  it('another tag without a digest is put back as it was', () => {
    const now = { metadata: { name: 'api' }, spec: rs(3, 'api:1.3').spec };
    const plan = planEksRollback(
      'eks/c/shop/deployment/api',
      now,
      [rs(2, 'api:1.2'), rs(3, 'api:1.3')],
      '/p',
    );
    expect(plan.moves).toEqual([{ container: 'app', from: 'api:1.3', to: 'api:1.2' }]);
  });

  it('ReplicaSets of another Deployment do not count', () => {
    const other = {
      ...rs(2, 'api@sha256:b'),
      metadata: { ...rs(2, '').metadata, ownerReferences: [{ kind: 'Deployment', name: 'web' }] },
    };
    expect(() =>
      planEksRollback('eks/c/shop/deployment/api', deploymentNow, [rs(3, 'api@sha256:c'), other], '/p'),
    ).toThrow('no earlier ReplicaSet ran other images');
  });
});
