import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import {
  DescribeServicesCommand,
  ListClustersCommand,
  ListServicesCommand,
  ListTasksCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pushEvent from '../../../events/ecr-image-push.json';
import deploymentEvent from '../../../events/ecs-deployment-in-progress.json';
import scheduled from '../../../events/scheduled.json';
import { EventValidationError } from '../../../shared/errors';
import {
  ACCOUNT,
  digest,
  type FakeService,
  fakeFleet,
  REG,
  REGION,
  redeployEcsOverFakes,
} from '../../fixtures/fake-ecs-fleet';
import { createStateTable, startStateTable, type TestTable } from '../../support/dynalite';

const ecrMock = mockClient(ECRClient);
let table: TestTable;
let runs = 0;
beforeAll(async () => {
  table = await startStateTable();
});
afterAll(() => table.stop());
beforeEach(() => {
  ecrMock.reset();
  ecrMock.on(DescribeImagesCommand).resolves({ imageDetails: [] });
});

const API = `${REG}/shop/api:latest`;
const OTHER = `${REG}/shop/other:latest`;
/** 3 services on shop/api among 40 over 4 clusters. */
const FLEET: FakeService[] = Array.from({ length: 40 }, (_, i) => ({
  cluster: `c${i % 4}`,
  name: `svc-${i}`,
  image: i < 3 ? API : OTHER,
  runningDigest: digest('1'),
}));

async function setup(config: Record<string, unknown> = {}) {
  runs += 1;
  const tableName = `fleet-${runs}`;
  await createStateTable(table.client, tableName);
  const fleet = fakeFleet(FLEET);
  const redeploy = redeployEcsOverFakes({ tableName, dynamodb: table.client, config });
  return { ...fleet, redeploy };
}

let pushes = 0;
/** A push of a new digest of shop/api:latest; pushed "now", so a PRIMARY created earlier does not run it. */
function push(repository = 'shop/api') {
  pushes += 1;
  return {
    ...pushEvent,
    id: `push-${runs}-${pushes}`,
    account: ACCOUNT,
    region: REGION,
    time: new Date(Date.now() + 60_000).toISOString(),
    detail: {
      ...pushEvent.detail,
      'repository-name': repository,
      'image-digest': digest(String((pushes % 8) + 2)),
    },
  };
}
const reconcile = () => ({ ...scheduled, id: `sched-${runs}-${++pushes}`, account: ACCOUNT, region: REGION });
const arnOf = (name: string, cluster: string) =>
  `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${cluster}/${name}`;
const updated = (ecs: ReturnType<typeof fakeFleet>['ecs']) =>
  ecs.commandCalls(UpdateServiceCommand).map((c) => String(c.args[0].input.service).split('/').pop());

describe('fleet index', () => {
  it('a cold index falls back to the full scan and builds the index; the next push reads only its services', async () => {
    const { ecs, redeploy } = await setup();
    const first = await redeploy(push());
    expect(first.index).toBe('rebuilt');
    expect(ecs.commandCalls(ListServicesCommand).length).toBeGreaterThan(0);
    expect(updated(ecs).sort()).toEqual(['svc-0', 'svc-1', 'svc-2']);
    ecs.resetHistory();
    const second = await redeploy(push());
    expect(second.index).toBe('used');
    expect(ecs.commandCalls(ListClustersCommand)).toHaveLength(0);
    expect(ecs.commandCalls(ListServicesCommand)).toHaveLength(0);
    // The three candidates are in three clusters: one DescribeServices each, whatever the fleet's size.
    expect(ecs.commandCalls(DescribeServicesCommand)).toHaveLength(3);
    expect(second.services).toBe(3);
    expect(updated(ecs).sort()).toEqual(['svc-0', 'svc-1', 'svc-2']);
  });

  it('a service that left the repository since indexing is not deployed, and its entry goes', async () => {
    const { ecs, redeploy, put } = await setup();
    await redeploy(reconcile());
    put({ cluster: 'c1', name: 'svc-1', image: OTHER, runningDigest: digest('1') });
    ecs.resetHistory();
    await redeploy(push());
    expect(updated(ecs).sort()).toEqual(['svc-0', 'svc-2']);
    ecs.resetHistory();
    const next = await redeploy(push());
    expect(next.services).toBe(2); // svc-1 is no longer a candidate
  });

  it('a deleted service is skipped and forgotten; a changed policy tag is read fresh', async () => {
    const { ecs, redeploy, services, put } = await setup();
    await redeploy(reconcile());
    services.delete(arnOf('svc-0', 'c0'));
    put({ cluster: 'c2', name: 'svc-2', image: API, policy: 'never', runningDigest: digest('1') });
    ecs.resetHistory();
    const summary = await redeploy(push());
    expect(updated(ecs)).toEqual(['svc-1']);
    expect(summary.skipped).toBe(1); // svc-2: never
    ecs.resetHistory();
    expect((await redeploy(push())).services).toBe(2);
  });

  it('a service created since indexing is found by the next reconcile, then by pushes', async () => {
    const { ecs, redeploy, put } = await setup();
    await redeploy(reconcile());
    put({ cluster: 'c3', name: 'newcomer', image: API, runningDigest: digest('1') });
    await redeploy(push());
    expect(updated(ecs)).not.toContain('newcomer');
    await redeploy(reconcile());
    ecs.resetHistory();
    await redeploy(push());
    expect(updated(ecs)).toContain('newcomer');
  });

  it('an ECS deployment event moves the service in the index at once', async () => {
    const { ecs, redeploy, put } = await setup();
    await redeploy(reconcile());
    put({ cluster: 'c3', name: 'svc-7', image: API, runningDigest: digest('1') });
    const summary = await redeploy({
      ...deploymentEvent,
      account: ACCOUNT,
      region: REGION,
      resources: [arnOf('svc-7', 'c3')],
    });
    expect(summary.trigger).toBe('index');
    ecs.resetHistory();
    await redeploy(push());
    expect(updated(ecs).sort()).toEqual(['svc-0', 'svc-1', 'svc-2', 'svc-7']);
  });

  it('a malformed deployment event fails naming the field, and the index is left as it was', async () => {
    const { ecs, redeploy, put } = await setup();
    await redeploy(reconcile());
    put({ cluster: 'c3', name: 'svc-7', image: API, runningDigest: digest('1') });
    ecs.resetHistory();
    const bad = {
      ...deploymentEvent,
      account: ACCOUNT,
      region: REGION,
      detail: { eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS' },
    };
    await expect(redeploy(bad)).rejects.toThrow(EventValidationError);
    await expect(redeploy(bad)).rejects.toThrow(
      /ECS Deployment State Change.*detail\.(eventType|deploymentId)/,
    );
    expect(ecs.commandCalls(DescribeServicesCommand)).toHaveLength(0);
    // The same event, delivered twice well-formed, moves svc-7 into the index once: a push then finds it.
    const event = { ...deploymentEvent, account: ACCOUNT, region: REGION, resources: [arnOf('svc-7', 'c3')] };
    await redeploy(event);
    await redeploy(event);
    ecs.resetHistory();
    await redeploy(push());
    expect(updated(ecs).sort()).toEqual(['svc-0', 'svc-1', 'svc-2', 'svc-7']);
  });

  it('a deployment in a cluster outside ecs.clusters is ignored, not a failure', async () => {
    const { ecs, redeploy } = await setup({ ecs: { clusters: ['c0', 'c1'] } });
    ecs.resetHistory();
    const summary = await redeploy({
      ...deploymentEvent,
      account: ACCOUNT,
      region: REGION,
      resources: [arnOf('svc-3', 'c3')],
    });
    expect(summary.services).toBe(0);
    expect(ecs.commandCalls(DescribeServicesCommand)).toHaveLength(0);
  });

  it('the same push delivered twice through the index starts one deployment per service', async () => {
    const { ecs, redeploy } = await setup();
    await redeploy(reconcile());
    ecs.resetHistory();
    const event = push();
    await redeploy(event);
    await redeploy(event);
    expect(updated(ecs).sort()).toEqual(['svc-0', 'svc-1', 'svc-2']);
  });

  it('dry run reads through the index and changes nothing', async () => {
    const { ecs, redeploy } = await setup({ ecs: { dryRun: true } });
    await redeploy(reconcile());
    const summary = await redeploy(push());
    expect(summary.index).toBe('used');
    expect(summary.planned.map((a) => a.serviceName).sort()).toEqual(['svc-0', 'svc-1', 'svc-2']);
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });
});

describe('a full scan over several invocations, at the read budget', () => {
  /**
   * A 120-s Lambda context whose time passes with its ECS calls: after `reads` of them only the 30 s kept back
   * for planning and applying (a quarter) are left.
   */
  function invocation(ecs: ReturnType<typeof fakeFleet>['ecs'], reads: number): Context {
    const start = ecs.calls().length;
    return {
      getRemainingTimeInMillis: () => 120_000 - ((ecs.calls().length - start) * 90_000) / reads,
    } as Context;
  }
  /** ECR answers that shop/api:latest is now this digest (what a reconcile compares the services with). */
  function latestIs(d: string) {
    ecrMock.on(DescribeImagesCommand).callsFake((input: { repositoryName?: string }) => ({
      imageDetails:
        input.repositoryName === 'shop/api'
          ? [
              {
                registryId: ACCOUNT,
                repositoryName: 'shop/api',
                imageDigest: d,
                imageTags: ['latest'],
                imagePushedAt: new Date(Date.now() + 60_000),
              },
            ]
          : [],
    }));
  }

  it('reads what its time allows, continues in the next invocation, and every service is reconciled once', async () => {
    const { ecs, redeploy } = await setup();
    latestIs(digest('9'));
    // 4 clusters of 10 services take about 57 reads (14 a cluster: its tasks are read cluster-wide): 35 a turn
    // reads two clusters whole.
    const first = await redeploy(reconcile(), invocation(ecs, 35));
    expect(first.index).toBe('pass continues');
    expect(first.pass).toEqual({ turns: 1, clustersRemaining: 2 });
    expect(first.services).toBe(20);
    // svc-0 (c0) and svc-1 (c1) were read and moved by this turn; svc-2 (c2) was not read yet.
    expect(updated(ecs).sort()).toEqual(['svc-0', 'svc-1']);

    ecs.resetHistory();
    const second = await redeploy(reconcile(), invocation(ecs, 35));
    expect(second.index).toBe('pass complete');
    expect(second.pass).toEqual({ turns: 2, clustersRemaining: 0 });
    expect(second.services).toBe(20);
    expect(ecs.commandCalls(ListClustersCommand)).toHaveLength(0); // the pass kept its cluster list
    expect(updated(ecs)).toEqual(['svc-2']);
    // What 10 services of a cluster run comes from the cluster's tasks: one ListTasks a cluster, not one a service.
    expect(ecs.commandCalls(ListTasksCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: expect.stringMatching(/cluster\/c[23]$/), maxResults: 100 },
      { cluster: expect.stringMatching(/cluster\/c[23]$/), maxResults: 100 },
    ]);

    // The pass wrote the index: a push reads its three services only.
    ecs.resetHistory();
    const next = await redeploy(push());
    expect(next.index).toBe('used');
    expect(ecs.commandCalls(ListServicesCommand)).toHaveLength(0);
    expect(updated(ecs).sort()).toEqual(['svc-0', 'svc-1', 'svc-2']);
  });

  it('a push during a pass reads the entries written so far; the clusters not read yet are the pass to move', async () => {
    const { ecs, redeploy } = await setup();
    await redeploy(reconcile(), invocation(ecs, 35));
    ecs.resetHistory();
    const during = push();
    const summary = await redeploy(during);
    expect(summary.index).toBe('partial');
    expect(ecs.commandCalls(ListServicesCommand)).toHaveLength(0);
    expect(updated(ecs).sort()).toEqual(['svc-0', 'svc-1']);
    // The pass's next turn reads c2 and c3 and moves svc-2 to the pushed digest.
    latestIs(during.detail['image-digest']);
    ecs.resetHistory();
    const last = await redeploy(reconcile(), invocation(ecs, 35));
    expect(last.index).toBe('pass complete');
    expect(updated(ecs)).toEqual(['svc-2']);
  });

  it('an invocation too short for any whole cluster fails naming the budget, and the pass is left as it was', async () => {
    const { ecs, redeploy } = await setup();
    await redeploy(reconcile(), invocation(ecs, 35));
    await expect(redeploy(reconcile(), invocation(ecs, 5))).rejects.toThrow(
      /no cluster could be read completely within one invocation at ecs.maxReadsPerSecond 1000 \(2 to read/,
    );
    const next = await redeploy(reconcile(), invocation(ecs, 35));
    expect(next.pass).toEqual({ turns: 2, clustersRemaining: 0 });
  });
});
