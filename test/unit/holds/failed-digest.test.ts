/**
 * The failed-digest gate (pure: a failed digest is held on its workload only, another digest passes, a freeze
 * still says more) and its state items over an embedded DynamoDB (read in the gates' batch, cleared when another
 * digest is deployed to the same container).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstHold, type GateCandidate } from '../../../shared/gates';
import { type FailedDigest, type FailedDigests, failedDigestGate } from '../../../shared/holds/failed-digest';
import { holdGates } from '../../../shared/holds/gates';
import { HoldsStore } from '../../../shared/holds/store';
import type { Digest } from '../../../shared/image-ref';
import { stateDocument } from '../../../shared/state/document';
import { parseWorkloadId } from '../../../shared/workload';
import { createStateTable, startStateTable, type TestTable } from '../../support/dynalite';

const W = 'ecs/prod/api';
const BAD = `sha256:${'b'.repeat(64)}` as Digest;
const FIX = `sha256:${'f'.repeat(64)}` as Digest;
const change = (toDigest: Digest, containerName = 'app') => ({
  containerName,
  fromImage: 'r/api:latest',
  toImage: 'r/api:latest',
  toDigest,
});
const candidate = (workload: string, ...changes: ReturnType<typeof change>[]): GateCandidate => ({
  workload: parseWorkloadId(workload),
  changes,
});
const failure = (f: Partial<FailedDigest> = {}): FailedDigest => ({
  container: 'app',
  image: 'r/api:latest',
  outcome: 'rolled-back',
  reason: 'ECS deployment circuit breaker: tasks failed to start.',
  at: '2026-01-14T10:05:00.000Z',
  deployment: 'ecs-svc/1234567890123456789',
  push: 'shop/api:latest pushed at 2026-01-14T10:00:00.000Z',
  ...f,
});
const failedOn = (workload: string, digests: Record<string, FailedDigest>) =>
  new Map<string, FailedDigests>([[workload, { workload, digests }]]);

describe('failed-digest gate', () => {
  it('holds a change to a digest that was rolled back on that workload, saying when, why and by which deployment', () => {
    const hold = failedDigestGate(failedOn(W, { [BAD]: failure() }))(candidate(W, change(BAD)));
    expect(hold).toEqual({
      gate: 'failed-digest',
      reason:
        `${BAD} was rolled back here at 2026-01-14T10:05:00.000Z (deployment ecs-svc/1234567890123456789 of app, ` +
        'shop/api:latest pushed at 2026-01-14T10:00:00.000Z): ECS deployment circuit breaker: tasks failed to start.; ' +
        'a different digest deploys',
    });
  });

  it('lets a different digest through, and the same digest on another workload', () => {
    const gate = failedDigestGate(failedOn(W, { [BAD]: failure({ outcome: 'failed' }) }));
    expect(gate(candidate(W, change(FIX)))).toBeUndefined();
    expect(gate(candidate('ecs/prod/web', change(BAD)))).toBeUndefined();
    expect(gate(candidate('eks/c/shop/deployment/api', change(BAD)))).toBeUndefined();
    expect(failedDigestGate(undefined)(candidate(W, change(BAD)))).toBeUndefined();
  });

  it('holds the whole workload when any one of its containers would get a failed digest', () => {
    const hold = failedDigestGate(
      failedOn(W, { [BAD]: failure({ outcome: 'failed', container: 'sidecar' }) }),
    )(candidate(W, change(FIX), change(BAD, 'sidecar')));
    expect(hold?.reason).toMatch(new RegExp(`^${BAD} failed here at .* of sidecar`));
  });

  it('comes after a freeze and before approval and window', () => {
    const settings = new Map([[W, { approvalRequired: true, windows: [] }]]);
    const state = {
      freezes: new Map(),
      approvals: new Map(),
      failed: failedOn(W, { [BAD]: failure() }),
    };
    const now = new Date('2026-01-14T11:00:00Z');
    expect(firstHold(holdGates(settings, state, now), candidate(W, change(BAD)))?.gate).toBe('failed-digest');
    expect(firstHold(holdGates(settings, state, now), candidate(W, change(FIX)))?.gate).toBe('approval');
    const frozen = {
      ...state,
      freezes: new Map([[W, { workload: W, by: 'ana', at: '2026-01-14T10:00:00Z', reason: 'x' }]]),
    };
    expect(firstHold(holdGates(settings, frozen, now), candidate(W, change(BAD)))?.gate).toBe('freeze');
  });
});

describe('failed digests in the state table', () => {
  let table: TestTable;
  let n = 0;
  beforeAll(async () => {
    table = await startStateTable();
  });
  afterAll(() => table.stop());
  async function freshStore(): Promise<HoldsStore> {
    const name = `failed-${++n}`;
    await createStateTable(table.client, name);
    return new HoldsStore(stateDocument(table.client), name);
  }

  it('are read in the gates batch, for the workloads asked about only', async () => {
    const store = await freshStore();
    await store.markFailed(W, { [BAD]: failure() }, 90);
    // The same outcome written again (a retried settle) is one entry.
    await store.markFailed(W, { [BAD]: failure() }, 90);
    const state = await store.read([W, 'ecs/prod/web'], []);
    expect([...(state.failed?.keys() ?? [])]).toEqual([W]);
    expect(state.failed?.get(W)?.digests).toEqual({ [BAD]: failure() });
    expect((await store.read(['ecs/prod/web'], [])).failed?.size).toBe(0);
  });

  it('are forgotten once a different digest is deployed to the same container, not before', async () => {
    const store = await freshStore();
    const other = `sha256:${'c'.repeat(64)}`;
    await store.markFailed(W, { [BAD]: failure() }, 90);
    await store.markFailed(W, { [other]: failure({ container: 'sidecar' }) }, 90);
    // The failed digest itself, or another container: nothing cleared.
    expect(await store.clearFailed(W, { app: BAD })).toEqual([]);
    expect(await store.clearFailed(W, { worker: FIX })).toEqual([]);
    expect(await store.clearFailed(W, { app: FIX })).toEqual([BAD]);
    expect(Object.keys((await store.getFailed(W))?.digests ?? {})).toEqual([other]);
    expect(await store.clearFailed(W, { sidecar: FIX })).toEqual([other]);
    expect(await store.getFailed(W)).toBeUndefined();
    expect(await store.clearFailed(W, { app: FIX })).toEqual([]);
  });

  it('are listed for `harborpilot holds` until cleared or expired', async () => {
    const store = await freshStore();
    const at = new Date(failure().at);
    expect(await store.listFailed(at)).toEqual([]);
    await store.markFailed(W, { [BAD]: failure() }, 90);
    await store.markFailed('ecs/prod/web', { [BAD]: failure() }, 1);
    expect((await store.listFailed(at)).map((f) => f.workload)).toEqual(['ecs/prod/api', 'ecs/prod/web']);
    // Two days on, web's one-day entry no longer holds, though the TTL has not deleted it yet.
    const later = new Date(at.getTime() + 2 * 24 * 3600_000);
    expect((await store.listFailed(later)).map((f) => f.workload)).toEqual(['ecs/prod/api']);
    expect(await store.clearFailed(W, { app: FIX })).toEqual([BAD]);
    expect((await store.listFailed(at)).map((f) => f.workload)).toEqual(['ecs/prod/web']);
  });
});
