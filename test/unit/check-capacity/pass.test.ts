/** checkCapacity's scan pass over several invocations: whole clusters a turn, cursor in the state table. */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListClustersCommand,
  ListContainerInstancesCommand,
  ListServicesCommand,
  type Service,
} from '@aws-sdk/client-ecs';
import { EKSClient } from '@aws-sdk/client-eks';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import scheduled from '../../../events/scheduled.json';
import { makeHandler } from '../../../functions/checkCapacity';
import type { CapacitySummary } from '../../../shared/check-capacity/handler';
import { CAPACITY_PASS_ID } from '../../../shared/check-capacity/pass';
import { configFromEnv } from '../../../shared/config';
import { ScanStalledError } from '../../../shared/redeploy-ecs/scan-pass';
import { stateDocument } from '../../../shared/state/document';
import { createStateTable, startStateTable, type TestTable } from '../../support/dynalite';

const ecsMock = mockClient(ECSClient);
const sesMock = mockClient(SESv2Client);
const ACCOUNT = 'arn:aws:ecs:us-east-1:000000000000';
const CLUSTERS = ['alpha', 'beta', 'gamma'];
const arn = (c: string) => `${ACCOUNT}:cluster/${c}`;
const T0 = Date.parse(scheduled.time);
const MIN = 60_000;

let table: TestTable;
beforeAll(async () => {
  table = await startStateTable();
});
afterAll(() => table.stop());

/** Services that cannot be placed (desired 2, running 0, no instance): one critical finding per cluster. */
let stuck: Set<string>;
const service = (cluster: string): Service => ({
  serviceName: 'api',
  serviceArn: `${ACCOUNT}:service/${cluster}/api`,
  clusterArn: arn(cluster),
  status: 'ACTIVE',
  launchType: 'EC2',
  desiredCount: 2,
  runningCount: stuck.has(cluster) ? 0 : 2,
  pendingCount: 0,
  taskDefinition: `${ACCOUNT}:task-definition/api:1`,
  deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
  deployments: [
    {
      id: `ecs-svc/${cluster}`,
      status: 'PRIMARY',
      rolloutState: 'COMPLETED',
      desiredCount: 2,
      runningCount: stuck.has(cluster) ? 0 : 2,
      pendingCount: 0,
      createdAt: new Date(T0 - 60 * MIN),
      updatedAt: new Date(T0 - 60 * MIN),
    },
  ],
});

/** ECS calls made per cluster (ListContainerInstances, ListServices, DescribeServices). */
let perCluster: Record<string, number>;
const count = (cluster: string) => {
  const name = cluster.slice(cluster.lastIndexOf('/') + 1);
  perCluster[name] = (perCluster[name] ?? 0) + 1;
};

beforeEach(() => {
  ecsMock.reset();
  sesMock.reset();
  stuck = new Set(CLUSTERS);
  perCluster = {};
  ecsMock.on(ListClustersCommand).resolves({ clusterArns: CLUSTERS.map(arn) });
  ecsMock.on(DescribeClustersCommand).callsFake((input: { clusters: string[] }) => ({
    clusters: input.clusters.map((c) => ({
      clusterArn: c,
      clusterName: c.slice(c.lastIndexOf('/') + 1),
      status: 'ACTIVE',
    })),
    failures: [],
  }));
  ecsMock.on(ListContainerInstancesCommand).callsFake((input: { cluster: string }) => {
    count(input.cluster);
    return { containerInstanceArns: [] };
  });
  ecsMock.on(DescribeContainerInstancesCommand).resolves({ containerInstances: [] });
  ecsMock.on(ListServicesCommand).callsFake((input: { cluster: string }) => {
    count(input.cluster);
    return {
      serviceArns: [`${ACCOUNT}:service/${input.cluster.slice(input.cluster.lastIndexOf('/') + 1)}/api`],
    };
  });
  ecsMock.on(DescribeServicesCommand).callsFake((input: { cluster: string }) => {
    count(input.cluster);
    return { services: [service(input.cluster.slice(input.cluster.lastIndexOf('/') + 1))], failures: [] };
  });
  ecsMock.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => ({
    taskDefinition: {
      taskDefinitionArn: input.taskDefinition,
      containerDefinitions: [{ name: 'app', image: 'x', cpu: 256, memoryReservation: 512 }],
    },
  }));
  sesMock
    .on(SendEmailCommand)
    .callsFake(() => ({ MessageId: `msg-${sesMock.commandCalls(SendEmailCommand).length}` }));
});

/**
 * An invocation that has time for `reads` ECS calls (a fake clock over the calls made, no sleeping): 120 s
 * at the start, the reserve of 30 s reached after `reads` calls.
 */
function invocation(reads: number): Context {
  const start = ecsMock.calls().length;
  return {
    getRemainingTimeInMillis: () => 120_000 - ((ecsMock.calls().length - start) * 90_000) / reads,
  } as Context;
}

let run = 0;
async function setup() {
  run += 1;
  const tableName = `capacity-pass-${run}`;
  await createStateTable(table.client, tableName);
  const config = configFromEnv({
    HARBORPILOT_CONFIG: JSON.stringify({
      stateTable: tableName,
      alerts: { from: 'capacity@example.com', to: ['ops@example.com'] },
      capacity: { watch: ['ecs'] },
      ecs: { maxReadsPerSecond: 1000 },
    }),
  });
  const handler = makeHandler({
    config,
    ecs: new ECSClient({ region: 'us-east-1' }),
    eks: new EKSClient({ region: 'us-east-1' }),
    ses: new SESv2Client({ region: 'us-east-1' }),
    dynamodb: table.client,
    logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    metrics: { publish: () => {} },
    kube: async (c) => {
      throw new Error(`unexpected connection to ${c}`);
    },
  });
  const turn = (n: number, reads: number, id = `evt-${n}`): Promise<CapacitySummary> =>
    handler({ ...scheduled, id, time: new Date(T0 + n * 15 * MIN).toISOString() }, invocation(reads));
  const passItem = async () =>
    (
      await stateDocument(table.client).send(
        new GetCommand({ TableName: tableName, Key: { id: CAPACITY_PASS_ID } }),
      )
    ).Item;
  return { turn, passItem };
}

const emails = () =>
  sesMock.commandCalls(SendEmailCommand).map((c) => ({
    subject: c.args[0].input.Content?.Simple?.Subject?.Data ?? '',
    text: c.args[0].input.Content?.Simple?.Body?.Text?.Data ?? '',
  }));

/**
 * Time for one whole cluster a turn: the budget lets `reads + 1` calls start; a first turn makes ListClusters,
 * DescribeClusters and alpha's four (its task definition once), a later one DescribeClusters and three a cluster,
 * so the next cluster always runs out of time part-way.
 */
const ONE_CLUSTER = 5;

describe('a capacity pass over several invocations', () => {
  it('reads each cluster once over three turns, keeps the cursor, and reports each cluster once', async () => {
    const { turn, passItem } = await setup();

    const first = await turn(1, ONE_CLUSTER);
    expect(first.pass).toMatchObject({ turn: 1, clustersRead: ['alpha'], remaining: 2, complete: false });
    expect((await passItem())?.remaining).toEqual([arn('beta'), arn('gamma')]);
    expect((await passItem())?.expiration).toBeTypeOf('number');

    const second = await turn(2, ONE_CLUSTER);
    expect(second.pass).toMatchObject({ turn: 2, clustersRead: ['beta'], remaining: 1 });
    const third = await turn(3, ONE_CLUSTER);
    expect(third.pass).toMatchObject({ turn: 3, clustersRead: ['gamma'], remaining: 0, complete: true });
    expect(await passItem()).toMatchObject({ remaining: [], turns: 3 });

    // Each email tells the new findings of the cluster its turn read, and says what it covered.
    const sent = emails();
    expect(sent).toHaveLength(3);
    expect(sent.map((e) => /ECS (\w+)/.exec(e.text)?.[1])).toEqual(['alpha', 'beta', 'gamma']);
    expect(sent[0]?.text).toContain('covered 1 ECS cluster(s) (alpha); 2 remain in the pass.');
    expect(sent[2]?.text).toContain('the pass is complete.');
  });

  it('does not report findings of clusters read in an earlier turn as cleared', async () => {
    const { turn } = await setup();
    await turn(1, ONE_CLUSTER);
    await turn(2, ONE_CLUSTER);
    await turn(3, ONE_CLUSTER);
    sesMock.resetHistory();
    // Next pass: the first turn reads alpha only, still broken; beta and gamma are not read and stay told.
    const next = await turn(4, ONE_CLUSTER);
    expect(next.pass).toMatchObject({ turn: 1, clustersRead: ['alpha'], remaining: 2 });
    expect(next.changes).toBe(0);
    expect(emails()).toHaveLength(0);
    // beta recovers: the turn that reads it says so, and only about beta.
    stuck.delete('beta');
    const fixed = await turn(5, ONE_CLUSTER);
    expect(fixed.changes).toBe(1);
    expect(emails()[0]?.text).toMatch(/beta/);
    expect(emails()[0]?.text).not.toMatch(/ECS gamma/);
  });

  it('a duplicate delivery of the same schedule event neither reads again nor advances the pass', async () => {
    const { turn, passItem } = await setup();
    await turn(1, ONE_CLUSTER);
    const calls = ecsMock.calls().length;
    const again = await turn(1, ONE_CLUSTER);
    expect(again.duplicate).toBe(true);
    expect(ecsMock.calls().length).toBe(calls);
    expect(await passItem()).toMatchObject({ turns: 1, remaining: [arn('beta'), arn('gamma')] });
    expect(emails()).toHaveLength(1);
  });

  it('a duplicate of the event that completed the pass does not start the next one', async () => {
    const { turn, passItem } = await setup();
    await turn(1, ONE_CLUSTER);
    await turn(2, ONE_CLUSTER);
    await turn(3, ONE_CLUSTER);
    const calls = ecsMock.calls().length;
    expect((await turn(3, ONE_CLUSTER)).duplicate).toBe(true);
    expect(ecsMock.calls().length).toBe(calls);
    expect(await passItem()).toMatchObject({ remaining: [], turns: 3, lastEventId: 'evt-3' });
    // The next schedule begins a new pass at the first cluster.
    expect((await turn(4, ONE_CLUSTER)).pass).toMatchObject({
      turn: 1,
      clustersRead: ['alpha'],
      remaining: 2,
    });
  });

  it('a cluster bigger than one invocation reads fails with an error naming the setting', async () => {
    const { turn, passItem } = await setup();
    const failed = turn(1, 3);
    await expect(failed).rejects.toBeInstanceOf(ScanStalledError);
    await expect(failed).rejects.toThrow(/ecs\.maxReadsPerSecond/);
    expect(await passItem()).toBeUndefined();
    expect(emails()).toHaveLength(0);
  });

  it('a fleet read in one invocation keeps no pass', async () => {
    const { turn, passItem } = await setup();
    const all = await turn(1, 100);
    expect(all.pass).toBeUndefined();
    expect(await passItem()).toBeUndefined();
    expect(perCluster).toEqual({ alpha: 3, beta: 3, gamma: 3 });
  });
});
