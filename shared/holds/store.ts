/**
 * Holds in the state table: freezes (`freeze#<workload>`), held pushes (`held#<workload>`: the action a plan
 * kept and the pushes it came from), approvals (`approval#<id>`), failed digests (`failed#<workload>`), and one
 * index item (`held#index`) naming the frozen and held workloads, so the release schedule and
 * `harborpilot holds` read one item instead of scanning.
 */
import { createHash } from 'node:crypto';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { GateName } from '../gates';
import { parseScanRecord, type ScanRecord, scanItemId } from '../scan/store';
import { batchGetItems } from '../state/batch';
import { isConditionFailure } from '../state/document';
import * as z from '../zod';
import { type FailedDigest, FailedDigests, failedId } from './failed-digest';

const INDEX_ID = 'held#index';
const DAY = 24 * 3600;

export const freezeId = (workload: string) => `freeze#${workload}`;
export const heldId = (workload: string) => `held#${workload}`;
export const approvalItemId = (id: string) => `approval#${id}`;

export const Freeze = z.object({
  workload: z.string(),
  by: z.string(),
  at: z.string(),
  until: z.optional(z.string()),
  reason: z.string(),
});
export type Freeze = z.infer<typeof Freeze>;

/** A push as a held item keeps it (its time as ISO text). */
export const HeldPush = z.object({
  repository: z.object({ accountId: z.string(), region: z.string(), repositoryName: z.string() }),
  tag: z.optional(z.string()),
  digest: z.string(),
  pushedAt: z.optional(z.string()),
});
export type HeldPush = z.infer<typeof HeldPush>;

export const HeldItem = z.object({
  workload: z.string(),
  gate: z.enum(['freeze', 'window', 'approval', 'scan']),
  reason: z.string(),
  heldAt: z.string(),
  /** Identifies this action and these pushes: a release claims the item by it. */
  version: z.string(),
  /** The newest push time among `pushes`: an older push never replaces a newer held one. */
  pushedAt: z.string(),
  action: z.record(z.string(), z.unknown()),
  pushes: z.array(HeldPush),
  approvalId: z.optional(z.string()),
});
export type HeldItem = z.infer<typeof HeldItem>;

export const Approval = z.object({
  approvalId: z.string(),
  workload: z.string(),
  status: z.enum(['pending', 'approved', 'rejected']),
  /** What the approved push changes: `container: from → to (digest)`. */
  changes: z.array(z.string()),
  requestedAt: z.string(),
  expiresAt: z.string(),
  decidedBy: z.optional(z.string()),
  decidedAt: z.optional(z.string()),
});
export type Approval = z.infer<typeof Approval>;

/** An approval id short enough to type: the same workload and digests always give the same id. */
export function approvalIdOf(workload: string, digests: readonly string[]): string {
  const hash = createHash('sha256')
    .update(`${workload}\n${[...digests].sort().join('\n')}`)
    .digest();
  // 8 characters of Crockford's base32 (no I, L, O, U): 40 bits, unambiguous when read aloud.
  const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';
  let id = '';
  for (let i = 0; i < 8; i++) id += alphabet[(hash[i] as number) % 32];
  return id;
}

export function holdVersion(action: unknown, pushes: readonly HeldPush[]): string {
  return createHash('sha256').update(JSON.stringify({ action, pushes })).digest('hex').slice(0, 16);
}

/** What the gates of one plan need, read in one batch for the workloads (and approvals) the plan would move. */
export interface HoldState {
  freezes: Map<string, Freeze>;
  approvals: Map<string, Approval>;
  /** Failed digests by workload (read with the freezes: the failed-digest gate). */
  failed?: Map<string, FailedDigests>;
  /** The scan gate's items of the images a plan's scans would hold (`scan#<image>`: held, released). */
  scans?: Map<string, ScanRecord>;
}

const epoch = (iso: string, plusSeconds: number) => Math.floor(Date.parse(iso) / 1000) + plusSeconds;

export class HoldsStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Freezes and failed digests of these workloads, these approvals and scan items, in one BatchGetItem (100 keys a call). */
  async read(
    workloads: readonly string[],
    approvalIds: readonly string[],
    scanImages: readonly string[] = [],
  ): Promise<HoldState> {
    const ids = [
      ...new Set([
        ...workloads.map(freezeId),
        ...workloads.map(failedId),
        ...approvalIds.map(approvalItemId),
        ...scanImages.map(scanItemId),
      ]),
    ];
    const items = ids.length
      ? await batchGetItems(this.doc, this.tableName, ids, { consistentRead: true })
      : new Map();
    const state: HoldState = {
      freezes: new Map(),
      approvals: new Map(),
      failed: new Map(),
      scans: new Map(),
    };
    for (const [id, item] of items) {
      if (id.startsWith('scan#')) {
        const r = parseScanRecord(item);
        if (r) state.scans?.set(r.image, r);
      } else if (id.startsWith('freeze#')) {
        const f = Freeze.safeParse(item);
        if (f.success) state.freezes.set(f.data.workload, f.data);
      } else if (id.startsWith('failed#')) {
        const f = FailedDigests.safeParse(item);
        if (f.success && Object.keys(f.data.digests).length > 0) state.failed?.set(f.data.workload, f.data);
      } else {
        const a = Approval.safeParse(item);
        if (a.success) state.approvals.set(a.data.approvalId, a.data);
      }
    }
    return state;
  }

  async getFreeze(workload: string): Promise<Freeze | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { id: freezeId(workload) }, ConsistentRead: true }),
    );
    const f = Freeze.safeParse(out.Item);
    return f.success ? f.data : undefined;
  }

  /** Writes (or replaces) a freeze; kept until `until` and a day, or a year without one (TTL on every item). */
  async putFreeze(freeze: Freeze): Promise<void> {
    const expiration = freeze.until ? epoch(freeze.until, DAY) : epoch(freeze.at, 366 * DAY);
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { id: freezeId(freeze.workload), ...freeze, expiration },
      }),
    );
    await this.index('ADD', 'freezes', freeze.workload);
  }

  /** Deletes a freeze; the previous one, or undefined when the workload was not frozen. */
  async deleteFreeze(workload: string): Promise<Freeze | undefined> {
    const out = await this.doc.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { id: freezeId(workload) },
        ReturnValues: 'ALL_OLD',
      }),
    );
    await this.index('DELETE', 'freezes', workload);
    const f = Freeze.safeParse(out.Attributes);
    return f.success ? f.data : undefined;
  }

  /**
   * Keeps a held push; a newer push replaces a held one, an older one (a late or repeated delivery) does not.
   * false: the item already holds a newer push. Kept for `expiryDays`, after which the reconcile would find
   * the push again anyway.
   */
  async putHeld(item: HeldItem, expiryDays: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { id: heldId(item.workload), ...item, expiration: epoch(item.heldAt, expiryDays * DAY) },
          ConditionExpression: 'attribute_not_exists(id) OR pushedAt <= :p',
          ExpressionAttributeValues: { ':p': item.pushedAt },
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
    await this.index('ADD', 'workloads', item.workload);
    return true;
  }

  /** The held push of each workload named in the index (one GetItem, then one batch). */
  async listHeld(): Promise<HeldItem[]> {
    const index = await this.readIndex();
    if (index.workloads.length === 0) return [];
    const items = await batchGetItems(this.doc, this.tableName, index.workloads.map(heldId), {
      consistentRead: true,
    });
    const held: HeldItem[] = [];
    for (const item of items.values()) {
      const h = HeldItem.safeParse(item);
      if (h.success) held.push(h.data);
    }
    return held;
  }

  async listFreezes(): Promise<Freeze[]> {
    const index = await this.readIndex();
    if (index.freezes.length === 0) return [];
    const items = await batchGetItems(this.doc, this.tableName, index.freezes.map(freezeId), {
      consistentRead: true,
    });
    return [...items.values()].flatMap((i) => {
      const f = Freeze.safeParse(i);
      return f.success ? [f.data] : [];
    });
  }

  /**
   * Claims a held push for release by deleting it if it is still this version: of two schedule runs at once,
   * or a run and its duplicate, exactly one gets true and applies it.
   */
  async claimHeld(workload: string, version: string): Promise<boolean> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { id: heldId(workload) },
          ConditionExpression: 'version = :v',
          ExpressionAttributeValues: { ':v': version },
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
    await this.index('DELETE', 'workloads', workload);
    return true;
  }

  /** Puts a claimed push back (its release failed) unless a newer one was held meanwhile. */
  async restoreHeld(item: HeldItem, expiryDays: number): Promise<void> {
    await this.putHeld(item, expiryDays);
  }

  /** Writes a pending approval unless this one exists and is still alive (a duplicate push changes nothing). */
  async requestApproval(approval: Approval, nowIso: string): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            id: approvalItemId(approval.approvalId),
            ...approval,
            expiration: epoch(approval.expiresAt, DAY),
          },
          ConditionExpression: 'attribute_not_exists(id) OR (#s = :pending AND expiresAt <= :now)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':pending': 'pending', ':now': nowIso },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async getApproval(id: string): Promise<Approval | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { id: approvalItemId(id) }, ConsistentRead: true }),
    );
    const a = Approval.safeParse(out.Item);
    return a.success ? a.data : undefined;
  }

  /**
   * Approves or rejects a pending approval that has not expired: one UpdateItem on `approval#<id>`, which the
   * caller's own IAM policy must allow. undefined: no such pending approval (gone, expired or decided).
   */
  async decide(
    id: string,
    decision: 'approved' | 'rejected',
    by: string,
    nowIso: string,
  ): Promise<Approval | undefined> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: approvalItemId(id) },
          UpdateExpression: 'SET #s = :d, decidedBy = :by, decidedAt = :now',
          ConditionExpression: 'attribute_exists(id) AND #s = :pending AND expiresAt > :now',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':d': decision, ':by': by, ':now': nowIso, ':pending': 'pending' },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const a = Approval.safeParse(out.Attributes);
      return a.success ? a.data : undefined;
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  }

  async getFailed(workload: string): Promise<FailedDigests | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { id: failedId(workload) }, ConsistentRead: true }),
    );
    const f = FailedDigests.safeParse(out.Item);
    return f.success ? f.data : undefined;
  }

  /**
   * Remembers digests as failed on a workload (a later settle of the same digest overwrites its entry: the same
   * outcome written twice is one entry). Kept `days` after the newest, then the TTL forgets it.
   */
  async markFailed(workload: string, digests: Record<string, FailedDigest>, days: number): Promise<void> {
    const entries = Object.entries(digests);
    if (entries.length === 0) return;
    const newest = new Date(Math.max(...entries.map(([, f]) => Date.parse(f.at)))).toISOString();
    // A member of a map that may not exist yet: the map is made first (one update cannot do both).
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: failedId(workload) },
        UpdateExpression: 'SET workload = :w, digests = if_not_exists(digests, :empty), expiration = :e',
        ExpressionAttributeValues: { ':w': workload, ':empty': {}, ':e': epoch(newest, days * DAY) },
      }),
    );
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: failedId(workload) },
        UpdateExpression: `SET ${entries.map((_, i) => `digests.#d${i} = :d${i}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(entries.map(([d], i) => [`#d${i}`, d])),
        ExpressionAttributeValues: Object.fromEntries(entries.map(([, f], i) => [`:d${i}`, f])),
      }),
    );
    // Named in the index so `harborpilot holds` lists it without scanning the table.
    await this.index('ADD', 'failed', workload);
  }

  /** The failed digests of every workload named in the index, those the TTL has not yet removed. */
  async listFailed(now: Date): Promise<FailedDigests[]> {
    const index = await this.readIndex();
    if (index.failed.length === 0) return [];
    const items = await batchGetItems(this.doc, this.tableName, index.failed.map(failedId), {
      consistentRead: true,
    });
    const out: FailedDigests[] = [];
    for (const item of items.values()) {
      const f = FailedDigests.safeParse(item);
      // DynamoDB's TTL deletes within days of the expiration, not at it: an expired item no longer holds.
      const expired = typeof item.expiration === 'number' && item.expiration * 1000 <= now.getTime();
      if (f.success && !expired && Object.keys(f.data.digests).length > 0) out.push(f.data);
    }
    return out.sort((a, b) => a.workload.localeCompare(b.workload));
  }

  /**
   * A different digest was deployed to these containers of the workload: their failed digests no longer hold
   * it. The names of the digests forgotten (none when there were none).
   */
  async clearFailed(workload: string, deployed: Record<string, string>): Promise<string[]> {
    const known = await this.getFailed(workload);
    if (!known) return [];
    const gone = Object.entries(known.digests)
      .filter(([digest, f]) => deployed[f.container] !== undefined && deployed[f.container] !== digest)
      .map(([digest]) => digest);
    if (gone.length === 0) return [];
    if (gone.length === Object.keys(known.digests).length) {
      await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { id: failedId(workload) } }));
      await this.index('DELETE', 'failed', workload);
    } else {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: failedId(workload) },
          UpdateExpression: `REMOVE ${gone.map((_, i) => `digests.#d${i}`).join(', ')}`,
          ExpressionAttributeNames: Object.fromEntries(gone.map((d, i) => [`#d${i}`, d])),
        }),
      );
    }
    return gone;
  }

  private async readIndex(): Promise<{ workloads: string[]; freezes: string[]; failed: string[] }> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { id: INDEX_ID }, ConsistentRead: true }),
    );
    const set = (v: unknown) => (v instanceof Set ? [...v].map(String) : []);
    return {
      workloads: set(out.Item?.workloads),
      freezes: set(out.Item?.freezes),
      failed: set(out.Item?.failed),
    };
  }

  /** String sets change atomically, so two writers at once both land. */
  private async index(
    op: 'ADD' | 'DELETE',
    member: 'workloads' | 'freezes' | 'failed',
    workload: string,
  ): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: INDEX_ID },
        // The index lives as long as anything it names could (a freeze: a year).
        UpdateExpression: `SET expiration = :e ${op} #m :w`,
        ExpressionAttributeNames: { '#m': member },
        ExpressionAttributeValues: {
          ':w': new Set([workload]),
          ':e': Math.floor(Date.now() / 1000) + 400 * DAY,
        },
      }),
    );
  }
}

export type StoredGate = Extract<GateName, 'freeze' | 'window' | 'approval' | 'scan'>;

/**
 * The freezes and failed digests of these workloads, read now, while the caller does other reads: a push
 * through the fleet index knows its candidate services before it confirms them, so the gates' read is off the
 * way to the first UpdateService. `read` then asks the store only for what the prefetch did not cover
 * (approvals, scan items, other workloads), and nothing when it covered all.
 */
export function prefetchHolds(store: HoldsStore, workloads: readonly string[]): Pick<HoldsStore, 'read'> {
  const early = store.read(workloads, []);
  // Its failure is the read's, reported when planning reads it.
  early.catch(() => {});
  const covered = new Set(workloads);
  return {
    async read(ws, approvalIds, scanImages = []) {
      const prefetched = await early;
      const others = ws.filter((w) => !covered.has(w));
      if (others.length === 0 && approvalIds.length === 0 && scanImages.length === 0) return prefetched;
      const rest = await store.read(others, approvalIds, scanImages);
      return {
        freezes: new Map([...prefetched.freezes, ...rest.freezes]),
        approvals: rest.approvals,
        failed: new Map([...(prefetched.failed ?? []), ...(rest.failed ?? [])]),
        scans: rest.scans ?? new Map(),
      };
    },
  };
}
