/**
 * pruneImages's in-use scan over several invocations: whole clusters a turn, the in-use parts and the cursor in
 * the state table (dynalite), and nothing deleted before the turn that has read every cluster.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EKSClient } from '@aws-sdk/client-eks';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import scheduled from '../../../events/scheduled.json';
import { parseConfig } from '../../../shared/config';
import { makePruneImages, type PruneSummary } from '../../../shared/prune-images/handler';
import { InUseSourceError } from '../../../shared/prune-images/in-use/model';
import {
  CONTINUE_RULE_SUFFIX,
  chunkRefs,
  PRUNE_PASS_ID,
  PrunePassFailedError,
} from '../../../shared/prune-images/pass';
import { ScanStalledError } from '../../../shared/redeploy-ecs/scan-pass';
import { stateDocument } from '../../../shared/state/document';
import { listedNames } from '../../../shared/state/scan-pass';
import { d, image, NOW, REG } from '../../fixtures/ecr-image-builders';
import { type FakeWorld, fakeCloud } from '../../fixtures/fake-registry';
import { createStateTable, startStateTable, type TestTable } from '../../support/dynalite';

const MIN = 60_000;
const CLUSTERS = ['alpha', 'beta', 'gamma'];

let table: TestTable;
beforeAll(async () => {
  table = await startStateTable();
});
afterAll(() => table.stop());

let cloud: ReturnType<typeof fakeCloud>;
beforeEach(() => cloud?.reset());

/** Each cluster runs one service on an image of its own; three old images nothing uses. */
function world(): FakeWorld {
  return {
    repositories: [
      {
        name: 'shop/api',
        images: [
          image('alpha-img', 100, { tags: ['alpha'] }),
          image('beta-img', 100, { tags: ['beta'] }),
          image('gamma-img', 100, { tags: ['gamma'] }),
          image('old-0', 200, { tags: ['build-0'] }),
          image('old-1', 200, { tags: ['build-1'] }),
          image('old-2', 200, { tags: ['build-2'] }),
        ],
      },
    ],
    clusters: CLUSTERS,
    taskDefinitions: CLUSTERS.map((c) => ({
      family: `api-${c}`,
      revision: 1,
      images: [`${REG}/shop/api:${c}`],
    })),
    services: CLUSTERS.map((c) => ({
      cluster: c,
      name: 'api',
      deployments: [
        { id: `ecs-svc/${c}`, status: 'PRIMARY' as const, taskDefinition: `api-${c}:1`, running: 1 },
      ],
    })),
    tasks: [],
  };
}

const ecsCalls = () =>
  Object.entries(cloud.calls)
    .filter(([op]) => op.startsWith('ecs:'))
    .reduce((n, [, count]) => n + count, 0);

/**
 * An invocation with time for `reads` + 1 ECS calls (a clock over the calls made, no sleeping): 120 s at the
 * start, the 30 s reserve reached after `reads` calls.
 */
function invocation(reads: number): Context {
  const start = ecsCalls();
  return { getRemainingTimeInMillis: () => 120_000 - ((ecsCalls() - start) * 90_000) / reads } as Context;
}

/**
 * Time for one whole cluster a turn: a cluster takes 5 calls (ListTasks, ListServices, DescribeServices,
 * ListTaskDefinitions, DescribeTaskDefinition), a first turn one more (ListClusters).
 */
const ONE_CLUSTER = 5;

let run = 0;
async function setup(prune: Record<string, unknown> = {}, w: FakeWorld = world()) {
  run += 1;
  const tableName = `prune-pass-${run}`;
  await createStateTable(table.client, tableName);
  cloud = fakeCloud(w);
  let now = NOW.getTime();
  const config = parseConfig(
    {
      stateTable: tableName,
      ecs: { maxReadsPerSecond: 1000 },
      prune: { keepLast: 0, keepDays: 0, protectTags: [], dryRun: false, ...prune },
      alerts: { from: 'harborpilot@example.com', to: ['platform@example.com'] },
    },
    'test',
  );
  const handler = makePruneImages({
    ecr: new ECRClient({ region: 'us-east-1' }),
    ecs: new ECSClient({ region: 'us-east-1' }),
    eks: new EKSClient({ region: 'us-east-1' }),
    ses: new SESv2Client({ region: 'us-east-1' }),
    dynamodb: table.client,
    config,
    logger: new Logger({ serviceName: 'pruneImages', logLevel: 'SILENT' }),
    region: 'us-east-1',
    now: () => new Date(now),
  });
  /** A schedule run `minutes` after the first: the daily rule, or the 10-minute one that only continues. */
  const turn = (
    minutes: number,
    reads: number,
    o: { id?: string; rule?: 'daily' | 'continue' } = {},
  ): Promise<PruneSummary> => {
    now = NOW.getTime() + minutes * MIN;
    const rule =
      o.rule === 'continue' ? `harborpilot-dev${CONTINUE_RULE_SUFFIX}` : 'harborpilot-dev-pruneImages';
    return handler(
      {
        ...scheduled,
        id: o.id ?? `evt-${minutes}`,
        time: new Date(now).toISOString(),
        resources: [`arn:aws:events:us-east-1:000000000000:rule/${rule}`],
      },
      invocation(reads),
    );
  };
  const passItem = async () =>
    (
      await stateDocument(table.client).send(
        new GetCommand({ TableName: tableName, Key: { id: PRUNE_PASS_ID } }),
      )
    ).Item;
  const tags = () => cloud.repository('shop/api').images.flatMap((i) => i.tags);
  return { turn, passItem, tags, world: w, tableName };
}

describe('a prune pass over several invocations', () => {
  it('deletes nothing until the turn that has read every cluster, then what no cluster uses', async () => {
    const { turn, passItem, tags } = await setup();

    const first = await turn(0, ONE_CLUSTER);
    expect(first.pass).toEqual({
      turn: 1,
      startedAt: NOW.toISOString(),
      clustersRead: 1,
      remaining: 2,
      complete: false,
    });
    expect(first).toMatchObject({ planned: 0, deleted: 0, emailed: false });
    expect((await passItem())?.remaining).toEqual([
      expect.stringMatching(/cluster\/beta$/),
      expect.stringMatching(/cluster\/gamma$/),
    ]);
    const second = await turn(10, ONE_CLUSTER, { rule: 'continue' });
    expect(second.pass).toMatchObject({ turn: 2, clustersRead: 1, remaining: 1, complete: false });
    expect(cloud.deleteCalls).toEqual([]);

    // The last turn: alpha's image, read two turns ago, is kept; the three old images go.
    const third = await turn(20, ONE_CLUSTER, { rule: 'continue' });
    expect(third.pass).toMatchObject({ turn: 3, clustersRead: 1, remaining: 0, complete: true });
    expect(third).toMatchObject({ planned: 3, deleted: 3, emailed: true });
    expect(tags().sort()).toEqual(['alpha', 'beta', 'gamma']);
    expect(await passItem()).toMatchObject({ remaining: [], turns: 3, failed: false });
    // Each cluster was read once over the pass.
    expect(cloud.calls['ecs:ListServices']).toBe(3);

    // The pass is over: the continuation schedule finds nothing to do.
    const after = await turn(30, ONE_CLUSTER, { rule: 'continue' });
    expect(after).toMatchObject({ idle: true, deleted: 0 });
  });

  it('never deletes an image pushed, or pulled, after the pass began', async () => {
    const { turn, tags, world: w } = await setup();
    await turn(0, ONE_CLUSTER);
    const repo = w.repositories[0];
    // A push during the pass (no cluster read yet says it runs it) and an old image a task pulled since.
    repo?.images.push(
      image('pushed-later', 0, { tags: ['hotfix'], pushedAt: new Date(NOW.getTime() + 5 * MIN) }),
    );
    const old0 = repo?.images.find((i) => i.digest === d('old-0'));
    if (old0) old0.lastPulledAt = new Date(NOW.getTime() + 15 * MIN);
    await turn(10, ONE_CLUSTER, { rule: 'continue' });
    const last = await turn(20, ONE_CLUSTER, { rule: 'continue' });
    expect(last).toMatchObject({ deleted: 2 });
    expect(tags().sort()).toEqual(['alpha', 'beta', 'build-0', 'gamma', 'hotfix']);
  });

  it('a turn that cannot read ends the pass: nothing deleted, its retries fail, the next daily run begins anew', async () => {
    const { turn, passItem, world: w } = await setup();
    await turn(0, ONE_CLUSTER);
    // beta now runs a task definition ECS cannot describe.
    w.services.push({
      cluster: 'beta',
      name: 'broken',
      deployments: [{ id: 'ecs-svc/x', status: 'PRIMARY', taskDefinition: 'ghost:1', running: 1 }],
    });
    await expect(turn(10, 50, { rule: 'continue', id: 'evt-fail' })).rejects.toThrow(InUseSourceError);
    expect(await passItem()).toMatchObject({ failed: true, remaining: [] });
    // Lambda's retry of the same event fails as well, naming why; nothing deleted anywhere.
    const retry = turn(11, 50, { rule: 'continue', id: 'evt-fail' });
    await expect(retry).rejects.toThrow(PrunePassFailedError);
    await expect(retry).rejects.toThrow(/the prune pass failed, nothing deleted.*source ecs failed.*ghost:1/);
    expect(await turn(20, 50, { rule: 'continue' })).toMatchObject({ idle: true });
    expect(cloud.deleteCalls).toEqual([]);

    w.services.pop();
    const fresh = await turn(60 * 24, 50);
    expect(fresh.pass).toBeUndefined(); // everything read in one invocation: a single run, no pass
    expect(fresh).toMatchObject({ deleted: 3 });
  });

  it('a duplicate delivery of a turn moves nothing, and of the last turn deletes nothing twice', async () => {
    const { turn, passItem } = await setup();
    await turn(0, ONE_CLUSTER, { id: 'evt-a' });
    expect(await turn(1, ONE_CLUSTER, { id: 'evt-a' })).toMatchObject({ duplicate: true });
    expect(await passItem()).toMatchObject({ turns: 1 });
    await turn(10, ONE_CLUSTER, { rule: 'continue', id: 'evt-b' });
    await turn(20, ONE_CLUSTER, { rule: 'continue', id: 'evt-c' });
    const deletes = cloud.deleteCalls.length;
    expect(deletes).toBeGreaterThan(0);
    expect(await turn(21, ONE_CLUSTER, { rule: 'continue', id: 'evt-c' })).toMatchObject({
      duplicate: true,
      deleted: 0,
    });
    expect(cloud.deleteCalls).toHaveLength(deletes);
  });

  it('the daily run continues a pass in progress rather than beginning another; one older than a day is abandoned', async () => {
    const { turn, passItem } = await setup();
    await turn(0, ONE_CLUSTER);
    const daily = await turn(10, ONE_CLUSTER);
    expect(daily.pass).toMatchObject({ turn: 2, remaining: 1 });
    const stale = await turn(60 * 25, ONE_CLUSTER);
    expect(stale.pass).toMatchObject({ turn: 1, remaining: 2 });
    expect((await passItem())?.startedAt).toBe(new Date(NOW.getTime() + 60 * 25 * MIN).toISOString());
  });

  it('fails naming the setting when a single cluster needs more reads than an invocation has', async () => {
    const { turn } = await setup();
    await expect(turn(0, 2)).rejects.toThrow(ScanStalledError);
    await expect(turn(1, 2, { id: 'evt-again' })).rejects.toThrow(/ecs\.maxReadsPerSecond 1000/);
    expect(cloud.deleteCalls).toEqual([]);
  });

  it('a part of the in-use set gone from the table fails the last turn, naming it, and deletes nothing', async () => {
    const { turn, passItem, tableName } = await setup();
    await turn(0, ONE_CLUSTER);
    const carry = JSON.parse(String((await passItem())?.carry)) as { parts: string[] };
    expect(carry.parts).toHaveLength(1);
    await stateDocument(table.client).send(
      new DeleteCommand({ TableName: tableName, Key: { id: carry.parts[0] } }),
    );
    await turn(10, ONE_CLUSTER, { rule: 'continue' });
    await expect(turn(20, ONE_CLUSTER, { rule: 'continue' })).rejects.toThrow(
      new RegExp(`part ${carry.parts[0]} of the in-use set is missing`),
    );
    expect(cloud.deleteCalls).toEqual([]);
  });

  it('a dry run plans and emails on the last turn, and deletes nothing', async () => {
    const { turn, tags } = await setup({ dryRun: true });
    await turn(0, ONE_CLUSTER);
    await turn(10, ONE_CLUSTER, { rule: 'continue' });
    const last = await turn(20, ONE_CLUSTER, { rule: 'continue' });
    expect(last).toMatchObject({ dryRun: true, planned: 3, deleted: 0, emailed: true });
    expect(cloud.emails()[0]?.Content?.Simple?.Subject?.Data).toContain('(dry run)');
    expect(tags()).toHaveLength(6);
  });

  it('a continuation run with no pass in progress reads one state item and no ECS', async () => {
    const { turn } = await setup();
    expect(await turn(0, ONE_CLUSTER, { rule: 'continue' })).toMatchObject({ idle: true });
    expect(ecsCalls()).toBe(0);
  });
});

describe('chunkRefs', () => {
  it('keeps every part under the size limit, in order, nothing lost', () => {
    const refs = Array.from({ length: 1000 }, (_, i) => ({
      image: `${REG}/shop/api:build-${i}`,
      usedBy: 'x'.repeat(200),
    }));
    const parts = chunkRefs(refs, 20_000);
    expect(parts.length).toBeGreaterThan(10);
    expect(parts.flat()).toEqual(refs);
    for (const p of parts) expect(Buffer.byteLength(JSON.stringify(p))).toBeLessThanOrEqual(20_000);
  });
});

describe('listedNames', () => {
  it('names the first 20 clusters a turn read, then how many more', () => {
    const names = Array.from({ length: 23 }, (_, i) => `c${i}`);
    expect(listedNames(names.slice(0, 2))).toBe('c0, c1');
    expect(listedNames(names)).toBe(`${names.slice(0, 20).join(', ')} and 3 more`);
  });
});
