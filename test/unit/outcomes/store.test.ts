/**
 * Deployment records over an embedded DynamoDB: written once (a retry or duplicate changes nothing, and never
 * reopens a settled record), grouped per push, settled once, notices claimed once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentRecord } from '../../../shared/outcomes/model';
import { DeploymentStore } from '../../../shared/outcomes/store';
import { stateDocument } from '../../../shared/state/document';
import { createStateTable, startStateTable, type TestTable } from '../../support/dynalite';

let table: TestTable;
let n = 0;
beforeAll(async () => {
  table = await startStateTable();
});
afterAll(() => table.stop());

async function freshStore(): Promise<DeploymentStore> {
  const name = `outcomes-${++n}`;
  await createStateTable(table.client, name);
  return new DeploymentStore(stateDocument(table.client), name);
}

const record = (ref: string, workload = 'ecs/prod/api', eventId = 'e1'): DeploymentRecord => ({
  recordId: `deployment#${workload}#${ref}`,
  workload,
  platform: 'ecs',
  ref,
  cause: { kind: 'push', eventId },
  pushes: [],
  changes: [{ container: 'app', fromImage: 'r:1', toImage: 'r:2', toDigest: 'sha256:b' }],
  startedAt: '2026-01-14T11:50:00.000Z',
  notify: 'all',
  state: 'in-progress',
});
const settlement = {
  state: 'rolled-back' as const,
  reason: 'circuit breaker',
  settledAt: '2026-01-14T11:55:00.000Z',
};

describe('DeploymentStore', () => {
  it('records a deployment once, grouped with the others of its push', async () => {
    const store = await freshStore();
    expect(await store.record(record('ecs-svc/1'))).toBe(true);
    expect(await store.record({ ...record('ecs-svc/1'), startedAt: '2026-01-14T11:51:00.000Z' })).toBe(false);
    await store.record(record('ecs-svc/2', 'ecs/prod/web'));
    const [a] = await store.records(['deployment#ecs/prod/api#ecs-svc/1']);
    expect(a?.startedAt).toBe('2026-01-14T11:50:00.000Z');
    const [group] = await store.groups(['e1']);
    expect(group?.deployments.sort()).toEqual([
      'deployment#ecs/prod/api#ecs-svc/1',
      'deployment#ecs/prod/web#ecs-svc/2',
    ]);
    expect(group?.notice).toBe('pending');
    expect(await store.open()).toEqual({
      deployments: expect.arrayContaining([
        'deployment#ecs/prod/api#ecs-svc/1',
        'deployment#ecs/prod/web#ecs-svc/2',
      ]),
      pushes: ['e1'],
    });
  });

  it('settles once: a second settlement (duplicate event, two runs) is refused; a late record write does not reopen it', async () => {
    const store = await freshStore();
    const id = 'deployment#ecs/prod/api#ecs-svc/1';
    await store.record(record('ecs-svc/1'));
    expect(await store.settle(id, settlement)).toBe(true);
    expect(await store.settle(id, { ...settlement, state: 'completed' })).toBe(false);
    expect((await store.records([id]))[0]).toMatchObject({ state: 'rolled-back', reason: 'circuit breaker' });
    expect((await store.open()).deployments).toEqual([]);
    expect(await store.record(record('ecs-svc/1'))).toBe(false);
    expect((await store.open()).deployments).toEqual([]);
  });

  it('claims a notice once, and gives it back when sending failed', async () => {
    const store = await freshStore();
    await store.record(record('ecs-svc/1'));
    const claims = await Promise.all([
      store.claimNotice('e1', 'pending', 'done'),
      store.claimNotice('e1', 'pending', 'done'),
    ]);
    expect(claims.sort()).toEqual([false, true]);
    expect((await store.open()).pushes).toEqual([]);
    await store.unclaimNotice('e1', 'pending');
    expect((await store.groups(['e1']))[0]?.notice).toBe('pending');
    expect((await store.open()).pushes).toEqual(['e1']);
  });
});
