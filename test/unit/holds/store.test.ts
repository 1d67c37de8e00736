/** The holds in the state table: replacement, claims, approvals and their expiry, over an embedded DynamoDB. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Approval, type HeldItem, HoldsStore, prefetchHolds } from '../../../shared/holds/store';
import { stateDocument } from '../../../shared/state/document';
import { createStateTable, startStateTable, type TestTable } from '../../support/dynalite';

let table: TestTable;
let n = 0;
beforeAll(async () => {
  table = await startStateTable();
});
afterAll(() => table.stop());

async function freshStore(): Promise<HoldsStore> {
  const name = `holds-${++n}`;
  await createStateTable(table.client, name);
  return new HoldsStore(stateDocument(table.client), name);
}

const held = (digest: string, pushedAt: string): HeldItem => ({
  workload: 'ecs/prod/api',
  gate: 'window',
  reason: 'outside maintenance window',
  heldAt: pushedAt,
  version: `v-${digest}`,
  pushedAt,
  action: { serviceArn: 'arn:aws:ecs:us-east-1:1:service/prod/api' },
  pushes: [
    {
      repository: { accountId: '1', region: 'us-east-1', repositoryName: 'api' },
      tag: 'latest',
      digest,
      pushedAt,
    },
  ],
});

describe('held pushes', () => {
  it('a newer push replaces a held one; an older one (a late delivery) does not', async () => {
    const store = await freshStore();
    expect(await store.putHeld(held('sha256:a', '2026-01-14T10:00:00Z'), 14)).toBe(true);
    expect(await store.putHeld(held('sha256:b', '2026-01-14T11:00:00Z'), 14)).toBe(true);
    expect(await store.putHeld(held('sha256:a', '2026-01-14T10:00:00Z'), 14)).toBe(false);
    const list = await store.listHeld();
    expect(list.map((h) => h.pushes[0]?.digest)).toEqual(['sha256:b']);
  });

  it('is claimed once: a second claim, or a claim of a replaced version, gets false', async () => {
    const store = await freshStore();
    await store.putHeld(held('sha256:a', '2026-01-14T10:00:00Z'), 14);
    const claims = await Promise.all([
      store.claimHeld('ecs/prod/api', 'v-sha256:a'),
      store.claimHeld('ecs/prod/api', 'v-sha256:a'),
    ]);
    expect(claims.sort()).toEqual([false, true]);
    await store.putHeld(held('sha256:b', '2026-01-14T11:00:00Z'), 14);
    expect(await store.claimHeld('ecs/prod/api', 'v-sha256:a')).toBe(false);
    expect(await store.listHeld()).toHaveLength(1);
  });
});

describe('approvals', () => {
  const pending: Approval = {
    approvalId: 'k3m9x2qa',
    workload: 'ecs/prod/api',
    status: 'pending',
    changes: ['app: api:1 → api:2 (sha256:b)'],
    requestedAt: '2026-01-14T10:00:00Z',
    expiresAt: '2026-01-17T10:00:00Z',
  };

  it('a duplicate request changes nothing; one that expired undecided is asked again', async () => {
    const store = await freshStore();
    expect(await store.requestApproval(pending, '2026-01-14T10:00:00Z')).toBe(true);
    expect(
      await store.requestApproval(
        { ...pending, requestedAt: '2026-01-14T11:00:00Z' },
        '2026-01-14T11:00:00Z',
      ),
    ).toBe(false);
    expect((await store.getApproval('k3m9x2qa'))?.requestedAt).toBe('2026-01-14T10:00:00Z');
    expect(
      await store.requestApproval(
        { ...pending, requestedAt: '2026-01-18T10:00:00Z', expiresAt: '2026-01-21T10:00:00Z' },
        '2026-01-18T10:00:00Z',
      ),
    ).toBe(true);
  });

  it('is decided once, and never after it expired', async () => {
    const store = await freshStore();
    await store.requestApproval(pending, '2026-01-14T10:00:00Z');
    expect(
      await store.decide('k3m9x2qa', 'approved', 'arn:aws:iam::1:user/ana', '2026-01-17T10:00:00Z'),
    ).toBeUndefined();
    const approved = await store.decide(
      'k3m9x2qa',
      'approved',
      'arn:aws:iam::1:user/ana',
      '2026-01-15T10:00:00Z',
    );
    expect(approved).toMatchObject({ status: 'approved', decidedBy: 'arn:aws:iam::1:user/ana' });
    expect(
      await store.decide('k3m9x2qa', 'rejected', 'arn:aws:iam::1:user/bo', '2026-01-15T11:00:00Z'),
    ).toBeUndefined();
    expect((await store.getApproval('k3m9x2qa'))?.status).toBe('approved');
    expect(await store.decide('nosuchid', 'approved', 'x', '2026-01-15T10:00:00Z')).toBeUndefined();
  });
});

describe('freezes', () => {
  it('are listed until unfrozen; unfreezing says what the freeze was', async () => {
    const store = await freshStore();
    await store.putFreeze({
      workload: 'ecs/prod/api',
      by: 'ana',
      at: '2026-01-14T10:00:00Z',
      reason: 'incident',
    });
    expect((await store.listFreezes()).map((f) => f.workload)).toEqual(['ecs/prod/api']);
    expect((await store.deleteFreeze('ecs/prod/api'))?.reason).toBe('incident');
    expect(await store.deleteFreeze('ecs/prod/api')).toBeUndefined();
    expect(await store.listFreezes()).toEqual([]);
  });
});

describe('prefetchHolds', () => {
  const freeze = (workload: string) => ({
    workload,
    by: 'ana',
    at: '2026-01-14T10:00:00Z',
    reason: 'incident',
  });

  it('answers from what it read early, and asks the table only for what it did not cover', async () => {
    const store = await freshStore();
    await store.putFreeze(freeze('ecs/prod/api'));
    const early = prefetchHolds(store, ['ecs/prod/api', 'ecs/prod/web']);
    // Read now, the prefetch would not see it: written after, for a workload it does not cover.
    await store.putFreeze(freeze('ecs/prod/worker'));
    await store.requestApproval(
      {
        approvalId: 'k3m9x2qa',
        workload: 'ecs/prod/api',
        status: 'pending',
        changes: ['app: api:1 → api:2 (sha256:b)'],
        requestedAt: '2026-01-14T10:00:00Z',
        expiresAt: '2026-01-17T10:00:00Z',
      },
      '2026-01-14T10:00:00Z',
    );
    const covered = await early.read(['ecs/prod/api'], []);
    expect([...covered.freezes.keys()]).toEqual(['ecs/prod/api']);
    expect(covered.approvals.size).toBe(0);
    const more = await early.read(['ecs/prod/api', 'ecs/prod/worker'], ['k3m9x2qa']);
    expect([...more.freezes.keys()].sort()).toEqual(['ecs/prod/api', 'ecs/prod/worker']);
    expect([...more.approvals.keys()]).toEqual(['k3m9x2qa']);
  });
});
