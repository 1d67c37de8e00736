/**
 * rollEks's handler over a fake Kubernetes API (in-memory workloads and pods, patches recorded) and a real
 * idempotency table: what gets patched, what not, how failures and rollouts are reported.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { EKSClient } from '@aws-sdk/client-eks';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import push from '../../../events/ecr-image-push.json';
import { KubeApiError } from '../../../shared/aws/kube';
import { configFromEnv } from '../../../shared/config';
import { PartialFailureError } from '../../../shared/errors';
import { HoldsStore } from '../../../shared/holds/store';
import { DeploymentStore } from '../../../shared/outcomes/store';
import { makeRollEks } from '../../../shared/roll-eks/handler';
import { stateDocument } from '../../../shared/state/document';
import { startStateTable, type TestTable } from '../../support/dynalite';

const REG = '000000000000.dkr.ecr.us-east-1.amazonaws.com';
const PUSHED = push.detail['image-digest'];
const OLD = `sha256:${'1'.repeat(64)}`;
const logger = new Logger({ serviceName: 'rollEks', logLevel: 'SILENT' });

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are plain JSON here
type Json = any;
type Rollout = 'complete' | 'progressing' | 'stalled';

interface FakeWorkload {
  name: string;
  image: string;
  policy?: string;
  /** What its pods run. */
  running?: string;
  /** How its status reads after a patch. */
  after?: Rollout;
  /** A patch is answered with this status code. */
  rejectPatch?: number;
  /** Image of an init container `migrate`, when it has one. */
  initImage?: string;
}

/** One cluster's API: Deployments in namespace `shop`, their pods, every PATCH recorded. */
function fakeCluster(cluster: string, workloads: FakeWorkload[]) {
  const patches: { path: string; body: Json }[] = [];
  const objects = new Map<string, Json>();
  for (const w of workloads) {
    objects.set(w.name, {
      metadata: {
        name: w.name,
        namespace: 'shop',
        generation: 1,
        ...(w.policy ? { annotations: { 'harborpilot.io/policy': w.policy } } : {}),
      },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: w.name } },
        template: {
          spec: {
            containers: [{ name: 'app', image: w.image }],
            ...(w.initImage ? { initContainers: [{ name: 'migrate', image: w.initImage }] } : {}),
          },
        },
      },
      status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 },
    });
  }
  const status = (rollout: Rollout) =>
    rollout === 'complete'
      ? { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }
      : rollout === 'progressing'
        ? { observedGeneration: 2, replicas: 3, updatedReplicas: 1, availableReplicas: 2 }
        : {
            observedGeneration: 2,
            replicas: 3,
            updatedReplicas: 1,
            availableReplicas: 2,
            conditions: [
              {
                type: 'Progressing',
                reason: 'ProgressDeadlineExceeded',
                message: 'ReplicaSet "x" has timed out progressing.',
              },
            ],
          };
  /** Status reads per workload name: how often the handler looked at each rollout. */
  const reads = new Map<string, number>();
  const kube = {
    cluster,
    async list(path: string, query: Record<string, string> = {}) {
      if (path.endsWith('/deployments')) return [...objects.values()];
      if (path.endsWith('/pods')) {
        const app = query.labelSelector?.replace('app=', '');
        const w = workloads.find((x) => x.name === app);
        return [1, 2].map(() => ({
          metadata: { labels: { app } },
          status: { containerStatuses: [{ name: 'app', imageID: `${REG}/shop/api@${w?.running ?? OLD}` }] },
        }));
      }
      return [];
    },
    async get(path: string) {
      const name = path.split('/').at(-1) as string;
      reads.set(name, (reads.get(name) ?? 0) + 1);
      return objects.get(name);
    },
    async patch(path: string, body: Json) {
      const name = path.split('/').at(-1) as string;
      const w = workloads.find((x) => x.name === name);
      if (w?.rejectPatch)
        throw new KubeApiError(
          cluster,
          'PATCH',
          path,
          w.rejectPatch,
          'Forbidden',
          'deployments.apps is forbidden',
        );
      patches.push({ path, body });
      const o = objects.get(name);
      o.metadata.generation = 2;
      const app = body.spec.template.spec.containers?.[0];
      if (app) o.spec.template.spec.containers[0].image = app.image;
      o.status = status(w?.after ?? 'complete');
      return o;
    },
  };
  return { kube, patches, reads };
}

let table: TestTable;
beforeAll(async () => {
  table = await startStateTable();
});
afterAll(() => table.stop());

const ecr = mockClient(ECRClient);
const eks = mockClient(EKSClient);
let sleeps: number[];
let clock: number;
beforeEach(() => {
  ecr.reset();
  // The pushed tag is not found: a push proceeds (superseded needs ECR to name a newer digest for it).
  ecr.on(DescribeImagesCommand).resolves({ imageDetails: [] });
  eks.reset();
  sleeps = [];
  clock = Date.now();
});

function handler(
  clusters: Record<string, ReturnType<typeof fakeCluster> | Error>,
  config: Record<string, unknown> = {},
) {
  return makeRollEks({
    eks: new EKSClient({ region: 'us-east-1' }),
    ecr: new ECRClient({ region: 'us-east-1' }),
    dynamodb: table.client,
    config: configFromEnv({
      HARBORPILOT_CONFIG: JSON.stringify({
        stateTable: table.tableName,
        ...config,
        eks: { clusters: Object.keys(clusters), ...(config.eks as object) },
      }),
    }),
    logger,
    region: 'us-east-1',
    connect: async (name) => {
      const c = clusters[name];
      if (c instanceof Error) throw c;
      return c?.kube as never;
    },
    // Simulated waiting, concurrent like real time: every sleeper that went to sleep in the same turn wakes at
    // its own due time, and the clock only moves forward to it (two sleeps of 2 s side by side take 2 s, not 4).
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      const due = clock + ms;
      await new Promise((r) => setImmediate(r));
      clock = Math.max(clock, due);
    },
  });
}

/** A push event for shop/api:latest with a fresh id (idempotency is per action, not per event id). */
const pushEvent = (digest = PUSHED, tag = 'latest') => ({
  ...push,
  id: crypto.randomUUID(),
  detail: { ...push.detail, 'image-digest': digest, 'image-tag': tag },
});

describe('rollEks handler', () => {
  it('a push the tag has moved on from is superseded: no workload is pinned back to the older digest', async () => {
    const NEWER = `sha256:${'3'.repeat(64)}`;
    // ECR: the pushed digest went to shop/api:latest, then NEWER a minute later; the older event comes now.
    ecr.on(DescribeImagesCommand).resolves({
      imageDetails: [
        { imageDigest: PUSHED, imageTags: [], imagePushedAt: new Date('2026-11-25T10:00:00Z') },
        { imageDigest: NEWER, imageTags: ['latest'], imagePushedAt: new Date('2026-11-25T10:01:00Z') },
      ],
    });
    const prod = fakeCluster('prod', [{ name: 'api', image: `${REG}/shop/api:latest@${NEWER}` }]);
    const summary = await handler({ prod })(pushEvent());
    expect(summary.superseded).toEqual({ tag: 'latest', digest: NEWER });
    expect(prod.patches).toHaveLength(0);
    expect(ecr.commandCalls(DescribeImagesCommand)[0]?.args[0].input.imageIds).toEqual([
      { imageTag: 'latest' },
      { imageDigest: PUSHED },
    ]);
  });

  it('patches the workloads on the pushed repository and tag to the digest, and nothing else', async () => {
    const prod = fakeCluster('prod', [
      { name: 'api', image: `${REG}/shop/api:latest` },
      { name: 'web', image: `${REG}/shop/web:latest` },
      { name: 'api-pinned', image: `${REG}/shop/api:v1.0.0`, policy: 'never' },
    ]);
    const summary = await handler({ prod })(pushEvent());
    expect(prod.patches).toHaveLength(1);
    expect(prod.patches[0]?.path).toBe('/apis/apps/v1/namespaces/shop/deployments/api');
    expect(prod.patches[0]?.body.spec.template.spec.containers).toEqual([
      { name: 'app', image: `${REG}/shop/api:latest@${PUSHED}` },
    ]);
    expect(summary.patched).toEqual([
      {
        workload: 'prod/shop/deployment/api',
        changes: [
          { container: 'app', from: `${REG}/shop/api:latest`, to: `${REG}/shop/api:latest@${PUSHED}` },
        ],
        rollout: { state: 'complete', message: '2 of 2 updated and available' },
      },
    ]);
  });

  it('the same push delivered again patches nothing; a digest already running is left alone', async () => {
    const digest = `sha256:${'2'.repeat(64)}`;
    const prod = fakeCluster('prod', [{ name: 'api', image: `${REG}/shop/api:latest` }]);
    const roll = handler({ prod });
    await roll(pushEvent(digest));
    // The workload now names the digest but a retry of the same event must not patch it again.
    const again = await roll(pushEvent(digest));
    expect(prod.patches).toHaveLength(1);
    expect(again.patched).toEqual([]);

    const running = fakeCluster('prod', [{ name: 'api', image: `${REG}/shop/api:latest`, running: PUSHED }]);
    const summary = await handler({ prod: running })(pushEvent());
    expect(running.patches).toEqual([]);
    expect(summary.skipped).toBe(1);
  });

  it('dry run plans and patches nothing', async () => {
    const prod = fakeCluster('prod', [{ name: 'api', image: `${REG}/shop/api:latest` }]);
    const summary = await handler({ prod }, { dryRun: true })(pushEvent(`sha256:${'3'.repeat(64)}`));
    expect(summary.dryRun).toBe(true);
    expect(summary.planned).toHaveLength(1);
    expect(prod.patches).toEqual([]);
  });

  it('a rejected patch fails the invocation naming the workload, after the others were patched', async () => {
    const prod = fakeCluster('prod', [
      { name: 'api', image: `${REG}/shop/api:latest`, rejectPatch: 403 },
      { name: 'api-canary', image: `${REG}/shop/api:latest` },
    ]);
    const err = await handler({ prod })(pushEvent(`sha256:${'4'.repeat(64)}`)).catch((e) => e);
    expect(err).toBeInstanceOf(PartialFailureError);
    expect(err.message).toMatch(
      /rollEks: 1 failed, 1 succeeded: prod\/shop\/deployment\/api: KubeApiError: PATCH .* 403 Forbidden/,
    );
    expect(prod.patches.map((p) => p.path)).toEqual(['/apis/apps/v1/namespaces/shop/deployments/api-canary']);
  });

  it('a cluster that cannot be reached is named; the other clusters are still rolled', async () => {
    const dev = fakeCluster('dev', [{ name: 'api', image: `${REG}/shop/api:latest` }]);
    const err = await handler({
      dev,
      prod: new Error('EKS cluster prod cannot be reached: status is CREATING'),
    })(pushEvent(`sha256:${'5'.repeat(64)}`)).catch((e) => e);
    expect(err).toBeInstanceOf(PartialFailureError);
    expect(err.message).toContain('cluster prod: EKS cluster prod cannot be reached');
    expect(dev.patches).toHaveLength(1);
  });

  it('reports ProgressDeadlineExceeded as a failed rollout without failing the invocation', async () => {
    const prod = fakeCluster('prod', [{ name: 'api', image: `${REG}/shop/api:latest`, after: 'stalled' }]);
    const summary = await handler({ prod })(pushEvent(`sha256:${'6'.repeat(64)}`));
    expect(summary.patched[0]?.rollout).toEqual({
      state: 'failed',
      message: 'ProgressDeadlineExceeded: ReplicaSet "x" has timed out progressing.',
    });
  });

  it('a rollout that fails (ProgressDeadlineExceeded) holds its digest there: the same digest is not patched in again', async () => {
    const BAD = `sha256:${'9'.repeat(64)}`;
    const prod = fakeCluster('prod', [
      { name: 'stalls', image: `${REG}/shop/api:latest`, after: 'stalled' },
      { name: 'fine', image: `${REG}/shop/api:latest` },
    ]);
    await handler({ prod })(pushEvent(BAD));
    const holds = new HoldsStore(stateDocument(table.client), table.tableName);
    const failed = await holds.getFailed('eks/prod/shop/deployment/stalls');
    expect(failed?.digests[BAD]).toMatchObject({
      container: 'app',
      outcome: 'failed',
      deployment: 'generation/2',
      reason: 'ProgressDeadlineExceeded: ReplicaSet "x" has timed out progressing.',
    });
    expect(await holds.getFailed('eks/prod/shop/deployment/fine')).toBeUndefined();
    const [record] = await new DeploymentStore(stateDocument(table.client), table.tableName).records([
      'deployment#eks/prod/shop/deployment/fine#generation/2',
    ]);
    expect(record).toMatchObject({
      state: 'completed',
      cause: { kind: 'push' },
      changes: [{ toDigest: BAD }],
    });

    // Rolled back by hand (kubectl rollout undo): the same digest comes again (a duplicate push, the reconcile).
    const again = fakeCluster('prod', [{ name: 'stalls', image: `${REG}/shop/api:latest` }]);
    const summary = await handler({ prod: again })(pushEvent(BAD));
    expect(again.patches).toEqual([]);
    expect(summary.held).toBe(1);
  });

  it('watches all rollouts at once under one deadline, never past the Lambda timeout', async () => {
    const slow = () =>
      fakeCluster('prod', [
        { name: 'api', image: `${REG}/shop/api:latest`, after: 'progressing' },
        { name: 'api-eu', image: `${REG}/shop/api:latest`, after: 'progressing' },
      ]);
    const prod = slow();
    const start = clock;
    const summary = await handler(
      { prod },
      { eks: { rolloutWaitSeconds: 10 } },
    )(pushEvent(`sha256:${'7'.repeat(64)}`));
    expect(summary.patched.map((p) => p.rollout.state)).toEqual(['progressing', 'progressing']);
    // One 10 s deadline shared by both (polls every 2 s): the invocation waited about 10 s, not 20 s, and
    // both rollouts were watched all along (not the second one only after the first gave up).
    expect(clock - start).toBeGreaterThanOrEqual(8_000);
    expect(clock - start).toBeLessThanOrEqual(10_000);
    expect(prod.reads.get('api')).toBeGreaterThanOrEqual(4);
    expect(prod.reads.get('api-eu')).toBeGreaterThanOrEqual(4);

    const capped = slow();
    const context = { getRemainingTimeInMillis: () => 14_000 } as Context;
    const before = clock;
    await handler({ prod: capped }, { eks: { rolloutWaitSeconds: 600 } })(
      pushEvent(`sha256:${'8'.repeat(64)}`),
      context,
    );
    // 14 s left, 10 s kept back: at most 4 s of waiting although 600 s are configured.
    expect(clock - before).toBeGreaterThanOrEqual(2_000);
    expect(clock - before).toBeLessThanOrEqual(4_000);
  });

  it('init containers on the pushed image change in the same single patch as the containers', async () => {
    const prod = fakeCluster('prod', [
      { name: 'api', image: `${REG}/shop/api:latest`, initImage: `${REG}/shop/api:latest` },
      { name: 'worker', image: `${REG}/shop/worker:latest`, initImage: `${REG}/shop/api:latest` },
    ]);
    const digest = `sha256:${'9'.repeat(64)}`;
    await handler({ prod })(pushEvent(digest));
    expect(prod.patches.map((p) => p.path)).toEqual([
      '/apis/apps/v1/namespaces/shop/deployments/api',
      '/apis/apps/v1/namespaces/shop/deployments/worker',
    ]);
    const [api, worker] = prod.patches.map((p) => p.body.spec.template.spec);
    expect(api).toEqual({
      containers: [{ name: 'app', image: `${REG}/shop/api:latest@${digest}` }],
      initContainers: [{ name: 'migrate', image: `${REG}/shop/api:latest@${digest}` }],
    });
    // The worker's own container is on another repository: only its init container moves.
    expect(worker).toEqual({
      initContainers: [{ name: 'migrate', image: `${REG}/shop/api:latest@${digest}` }],
    });
  });

  it('the policy annotation decides, as on ECS; workloads on other tags stay under the default policy', async () => {
    const prod = fakeCluster('prod', [
      { name: 'minor', image: `${REG}/shop/api:v1.2.0`, policy: 'minor' },
      { name: 'patch-only', image: `${REG}/shop/api:v1.2.0`, policy: 'patch' },
      { name: 'glob', image: `${REG}/shop/api:v1.0.0`, policy: 'glob:v1.*' },
      { name: 'glob-other', image: `${REG}/shop/api:v1.0.0`, policy: 'glob:release-*' },
      { name: 'never', image: `${REG}/shop/api:v1.2.0`, policy: 'never' },
      { name: 'force-other-tag', image: `${REG}/shop/api:stable` },
    ]);
    const digest = `sha256:${'a'.repeat(64)}`;
    const summary = await handler({ prod })(pushEvent(digest, 'v1.3.0'));
    expect(prod.patches.map((p) => p.path.split('/').at(-1))).toEqual(['minor', 'glob']);
    expect(prod.patches[0]?.body.spec.template.spec.containers).toEqual([
      { name: 'app', image: `${REG}/shop/api:v1.3.0@${digest}` },
    ]);
    expect(summary.skipped).toBe(4);
  });

  it('an unknown policy annotation fails naming the workload, after the others were patched', async () => {
    const prod = fakeCluster('prod', [
      { name: 'api', image: `${REG}/shop/api:latest`, policy: 'none' },
      { name: 'api-eu', image: `${REG}/shop/api:latest` },
    ]);
    const err = await handler({ prod })(pushEvent(`sha256:${'b'.repeat(64)}`)).catch((e) => e);
    expect(err).toBeInstanceOf(PartialFailureError);
    expect(err.message).toMatch(/prod\/shop\/deployment\/api: annotation harborpilot.io\/policy/);
    expect(prod.patches.map((p) => p.path.split('/').at(-1))).toEqual(['api-eu']);
  });

  it('force with the pushed digest already running patches nothing and reads no AWS API but ECR where the tag is', async () => {
    const prod = fakeCluster('prod', [
      { name: 'api', image: `${REG}/shop/api:latest`, policy: 'force', running: PUSHED },
    ]);
    const summary = await handler({ prod })(pushEvent());
    expect(prod.patches).toEqual([]);
    expect(summary.patched).toEqual([]);
    // Clusters are configured and the push names its digest: no ListClusters, no tags listed; one
    // DescribeImages asks whether a newer push moved the tag on.
    expect(eks.calls()).toHaveLength(0);
    expect(ecr.calls()).toHaveLength(1);
  });
});
