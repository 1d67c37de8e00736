import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { D, type Json, makeEks, REG } from '../../fixtures/local-eks';

const api = (image: string, over: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'api', namespace: 'shop' },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'api' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    template: {
      metadata: { labels: { app: 'api' } },
      spec: {
        containers: [{ name: 'api', image, resources: { requests: { cpu: '250m', memory: '256Mi' } } }],
      },
    },
    ...over,
  },
});

let t: Awaited<ReturnType<typeof makeEks>>;
beforeAll(async () => {
  t = await makeEks({
    clusters: [
      {
        name: 'shop-eks',
        nodes: [{ name: 'base', count: 1, instanceType: 'm5.large' }],
        nodegroups: [
          { name: 'general', minSize: 1, maxSize: 4, desiredSize: 2, instanceTypes: ['t3.medium'] },
        ],
        fargateProfiles: [{ name: 'batch', selectors: [{ namespace: 'batch' }] }],
        objects: [api(`${REG}/shop/api:latest`)],
      },
      { name: 'other-eks' },
    ],
  });
  t.digests.set(`${REG}/shop/api:latest`, D('1'));
  await t.settle();
});
afterAll(() => t.stop());

describe('local Kubernetes API: authentication', () => {
  it('lets a valid EKS token for this cluster in', async () => {
    expect((await t.raw('shop-eks', 'GET', '/api/v1/namespaces')).status).toBe(200);
  });

  it.each([
    ['no token', ''],
    ['a token for another cluster', 'other'],
    ['a token signed with a wrong secret', 'secret'],
    ['an expired token (16 minutes old)', 'old'],
    ['garbage', 'garbage'],
  ])('answers 401 to %s', async (_name, kind) => {
    const token =
      kind === 'other'
        ? await t.tokenFor('shop-eks', 'other-eks')
        : kind === 'secret'
          ? await t.tokenFor('shop-eks', 'shop-eks', 'not-test')
          : kind === 'old'
            ? await t.tokenFor('shop-eks', 'shop-eks', 'test', new Date(Date.now() - 16 * 60_000))
            : kind === 'garbage'
              ? 'k8s-aws-v1.bm90IGEgdXJs'
              : '';
    const res = await t.raw('shop-eks', 'GET', '/api/v1/pods', undefined, token || 'x');
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('Unauthorized');
  });
});

describe('local Kubernetes API: workloads', () => {
  it('runs the world deployment on nodes, with the digest resolved from ECR in each pod', async () => {
    const dep = await t.client('shop-eks').get<Json>('/apis/apps/v1/namespaces/shop/deployments/api');
    expect(dep.status).toMatchObject({
      observedGeneration: 1,
      replicas: 3,
      updatedReplicas: 3,
      availableReplicas: 3,
    });
    expect(dep.status.conditions.find((c: Json) => c.type === 'Progressing').reason).toBe(
      'NewReplicaSetAvailable',
    );
    const pods = await t
      .client('shop-eks')
      .list('/api/v1/namespaces/shop/pods', { labelSelector: 'app=api' });
    expect(pods).toHaveLength(3);
    for (const p of pods as Json[]) {
      expect(p.spec.nodeName).toMatch(/^ip-/);
      expect(p.status.containerStatuses[0].imageID).toBe(`${REG}/shop/api@${D('1')}`);
    }
  });

  it('lists nodes of the self-managed group and the node group, and scales the node group when asked', async () => {
    const nodes = (await t.client('shop-eks').listNodes()) as Json[];
    const inGroup = (list: Json[]) =>
      list.filter((n) => n.metadata.labels['eks.amazonaws.com/nodegroup'] === 'general');
    expect(inGroup(nodes)).toHaveLength(2);
    expect(nodes).toHaveLength(3);
    const update = t.eks.routes.find((r) => r.operation === 'UpdateNodegroupConfig');
    const call = async (desiredSize: number) =>
      update?.handler(
        {
          params: { name: 'shop-eks', nodegroupName: 'general' },
          query: new URLSearchParams(),
          headers: {},
          body: { scalingConfig: { desiredSize } },
        },
        { accountId: '000000000000', region: 'us-east-1', accessKeyId: 'test' },
      );
    await call(4);
    expect(inGroup((await t.client('shop-eks').listNodes()) as Json[])).toHaveLength(4);
    await expect(call(5)).rejects.toThrow(/desiredSize must be between minSize and maxSize/);
    await call(2);
    expect(inGroup((await t.client('shop-eks').listNodes()) as Json[])).toHaveLength(2);
  });

  it('rolls a patched image: a new ReplicaSet, pods replaced within maxSurge, the new digest running', async () => {
    const c = t.client('shop-eks');
    t.digests.set(`${REG}/shop/api:v2`, D('2'));
    await c.patch('/apis/apps/v1/namespaces/shop/deployments/api', {
      spec: { template: { spec: { containers: [{ name: 'api', image: `${REG}/shop/api:v2@${D('2')}` }] } } },
    });
    let maxPods = 0;
    for (let i = 0; i < 60; i++) {
      await t.clock.advance(500);
      maxPods = Math.max(maxPods, (await c.list('/api/v1/namespaces/shop/pods')).length);
    }
    expect(maxPods).toBeLessThanOrEqual(4); // 3 replicas + maxSurge 1
    const dep = await c.get<Json>('/apis/apps/v1/namespaces/shop/deployments/api');
    expect(dep.metadata.generation).toBe(2);
    expect(dep.status).toMatchObject({
      observedGeneration: 2,
      updatedReplicas: 3,
      availableReplicas: 3,
      replicas: 3,
    });
    const rs = (await c.list('/apis/apps/v1/namespaces/shop/replicasets')) as Json[];
    expect(rs.map((r) => r.spec.replicas).sort()).toEqual([0, 3]);
    const pods = (await c.list('/api/v1/namespaces/shop/pods')) as Json[];
    expect(pods.map((p) => p.status.containerStatuses[0].imageID)).toEqual(
      Array(3).fill(`${REG}/shop/api@${D('2')}`),
    );
  });

  it('puts a pod matching a Fargate profile on a fargate- node of its own', async () => {
    const res = await t.raw('shop-eks', 'POST', '/api/v1/namespaces', { metadata: { name: 'batch' } });
    expect(res.status).toBe(201);
    const pod = {
      metadata: { name: 'job' },
      spec: { containers: [{ name: 'job', image: `${REG}/shop/api@${D('2')}` }] },
    };
    expect((await t.raw('shop-eks', 'POST', '/api/v1/namespaces/batch/pods', pod)).status).toBe(201);
    await t.settle(10_000);
    const got = await t.client('shop-eks').get<Json>('/api/v1/namespaces/batch/pods/job');
    expect(got.spec.nodeName).toMatch(/^fargate-ip-/);
    expect(got.spec.schedulerName).toBe('fargate-scheduler');
    expect(got.status.phase).toBe('Running');
  });

  it('leaves a pod that fits nowhere Pending and Unschedulable, and a pull failure in ErrImagePull/ImagePullBackOff', async () => {
    const big = {
      metadata: { name: 'big' },
      spec: {
        containers: [
          { name: 'x', image: `${REG}/shop/api@${D('2')}`, resources: { requests: { cpu: '64' } } },
        ],
      },
    };
    const bad = {
      metadata: { name: 'bad' },
      spec: { containers: [{ name: 'x', image: `${REG}/shop/api:missing` }] },
    };
    await t.raw('shop-eks', 'POST', '/api/v1/namespaces/default/pods', big);
    await t.raw('shop-eks', 'POST', '/api/v1/namespaces/default/pods', bad);
    await t.settle(8_000);
    const c = t.client('shop-eks');
    const b = await c.get<Json>('/api/v1/namespaces/default/pods/big');
    expect(b.status.phase).toBe('Pending');
    expect(b.status.conditions[0]).toMatchObject({
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
    });
    expect(b.status.conditions[0].message).toMatch(/^0\/4 nodes are available: .*3 Insufficient cpu/);
    const p = await c.get<Json>('/api/v1/namespaces/default/pods/bad');
    expect(p.status.containerStatuses[0].state.waiting.reason).toBe('ImagePullBackOff');
  });

  it('reports ProgressDeadlineExceeded when a rollout cannot progress', async () => {
    const c = t.client('shop-eks');
    await c.patch('/apis/apps/v1/namespaces/shop/deployments/api', {
      spec: {
        progressDeadlineSeconds: 30,
        template: { spec: { containers: [{ name: 'api', image: `${REG}/shop/api:gone` }] } },
      },
    });
    await t.settle(60_000);
    const dep = await c.get<Json>('/apis/apps/v1/namespaces/shop/deployments/api');
    expect(dep.status.conditions.find((x: Json) => x.type === 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
    });
    expect(dep.status.availableReplicas).toBe(3); // maxUnavailable 0: the old pods keep serving
  });
});
