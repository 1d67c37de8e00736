/**
 * The release loop: released once, kept, dropped (approval rejected or expired, the digest failed since), put back
 * when applying fails.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanGates } from '../../../shared/holds/plan-holds';
import { type Replanned, releaseHeld } from '../../../shared/holds/release';
import { type Approval, type HeldItem, HoldsStore } from '../../../shared/holds/store';
import { stateDocument } from '../../../shared/state/document';
import { createStateTable, startStateTable, type TestTable } from '../../support/dynalite';

let table: TestTable;
let n = 0;
beforeAll(async () => {
  table = await startStateTable();
});
afterAll(() => table.stop());
const logger = new Logger({ logLevel: 'SILENT' });
const NOW = new Date('2026-01-14T10:00:00Z');

async function storeWith(items: HeldItem[]): Promise<HoldsStore> {
  const name = `release-${++n}`;
  await createStateTable(table.client, name);
  const store = new HoldsStore(stateDocument(table.client), name);
  for (const i of items) await store.putHeld(i, 14);
  return store;
}

const item = (workload: string, gate: HeldItem['gate'] = 'window', approvalId?: string): HeldItem => ({
  workload,
  gate,
  reason: 'held',
  heldAt: '2026-01-14T09:00:00Z',
  version: `v-${workload}`,
  pushedAt: '2026-01-14T09:00:00Z',
  action: { name: workload },
  pushes: [],
  ...(approvalId ? { approvalId } : {}),
});

function run(
  store: HoldsStore,
  replan: (i: HeldItem) => Promise<Replanned<string>>,
  apply: (a: string) => Promise<unknown>,
) {
  const failures: { item: string; error: string }[] = [];
  return releaseHeld<string>({
    store,
    logger,
    now: NOW,
    platform: 'ecs',
    dryRun: false,
    heldExpiryDays: 14,
    replan,
    apply,
    failures,
  }).then((summary) => ({ summary, failures }));
}

const gatedWith = (a: Approval): PlanGates => ({
  gates: [],
  problems: [],
  state: { freezes: new Map(), approvals: new Map([[a.approvalId, a]]) },
});

describe('releaseHeld', () => {
  it('applies what the gates now let through, once, and keeps what they still hold', async () => {
    const store = await storeWith([
      item('ecs/prod/api'),
      item('ecs/prod/web'),
      item('eks/c/ns/deployment/x'),
    ]);
    const applied: string[] = [];
    const replan = async (i: HeldItem): Promise<Replanned<string>> =>
      i.workload === 'ecs/prod/api' ? { action: i.workload } : { hold: { gate: 'window', reason: 'held' } };
    const both = await Promise.all([
      run(store, replan, async (a) => applied.push(a)),
      run(store, replan, async (a) => applied.push(a)),
    ]);
    expect(applied).toEqual(['ecs/prod/api']);
    expect(both.flatMap((r) => r.summary.released)).toEqual(['ecs/prod/api']);
    // The EKS item is rollEks's to release.
    expect((await store.listHeld()).map((h) => h.workload).sort()).toEqual([
      'ecs/prod/web',
      'eks/c/ns/deployment/x',
    ]);
  });

  it('drops a push whose approval was rejected or expired undecided, naming why', async () => {
    const store = await storeWith([
      item('ecs/prod/a', 'approval', 'aaaaaaaa'),
      item('ecs/prod/b', 'approval', 'bbbbbbbb'),
    ]);
    const approvals: Record<string, Approval> = {
      aaaaaaaa: {
        approvalId: 'aaaaaaaa',
        workload: 'ecs/prod/a',
        status: 'rejected',
        decidedBy: 'arn:bo',
        changes: [],
        requestedAt: '',
        expiresAt: '2026-01-15T00:00:00Z',
      },
      bbbbbbbb: {
        approvalId: 'bbbbbbbb',
        workload: 'ecs/prod/b',
        status: 'pending',
        changes: [],
        requestedAt: '',
        expiresAt: '2026-01-14T09:59:00Z',
      },
    };
    const { summary } = await run(
      store,
      async (i) => ({
        hold: { gate: 'approval', reason: 'awaiting' },
        gated: gatedWith(approvals[i.approvalId as string] as Approval),
      }),
      async () => {
        throw new Error('not to be applied');
      },
    );
    expect([...summary.dropped].sort((x, y) => x.workload.localeCompare(y.workload))).toEqual([
      { workload: 'ecs/prod/a', reason: 'approval aaaaaaaa rejected by arn:bo' },
      { workload: 'ecs/prod/b', reason: 'approval bbbbbbbb expired at 2026-01-14T09:59:00Z' },
    ]);
    expect(await store.listHeld()).toEqual([]);
  });

  it('drops a held push whose digest has failed on the workload since: no release would ever apply it', async () => {
    const store = await storeWith([item('ecs/prod/api')]);
    const { summary } = await run(
      store,
      async () => ({ hold: { gate: 'failed-digest', reason: 'sha256:b was rolled back here' } }),
      async () => {
        throw new Error('not to be applied');
      },
    );
    expect(summary).toEqual({
      released: [],
      dropped: [{ workload: 'ecs/prod/api', reason: 'sha256:b was rolled back here' }],
      kept: 0,
    });
    expect(await store.listHeld()).toEqual([]);
  });

  it('puts a push back when applying it fails, and reports the failure', async () => {
    const store = await storeWith([item('ecs/prod/api')]);
    const { summary, failures } = await run(
      store,
      async (i) => ({ action: i.workload }),
      async () => {
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      },
    );
    expect(summary.released).toEqual([]);
    expect(failures).toEqual([{ item: 'ecs/prod/api', error: 'ThrottlingException: Rate exceeded' }]);
    expect((await store.listHeld()).map((h) => h.workload)).toEqual(['ecs/prod/api']);
  });

  it('drops a push the plan no longer makes, with the plan reason', async () => {
    const store = await storeWith([item('ecs/prod/api')]);
    const { summary } = await run(
      store,
      async () => ({ drop: 'a newer push moved latest on to sha256:c' }),
      async () => 0,
    );
    expect(summary.dropped).toEqual([
      { workload: 'ecs/prod/api', reason: 'a newer push moved latest on to sha256:c' },
    ]);
  });
});
