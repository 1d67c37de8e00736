/**
 * Alert windows in the state table (hash key `id`, TTL attribute `expiration`), shared by concurrent
 * invocations. Every write is conditional or commutative (ADD), so counts are never lost when invocations
 * race, and a delivery counted once is never counted again.
 *
 * Items (all ids start with `alert#`):
 * - `alert#key#<key>`: the key's current window number `seq` and when its last email went (`lastEmailAt`).
 * - `alert#window#<key>#<seq>`: one window: count, the dedupe hashes it counted (`seen`), exit codes,
 *   digests, first and last seen, the first few occurrences as samples, and every occurrence's reason counted
 *   (`reasonKeys`, then `rt_<hash>` the text and `rc_<hash>` the count; `otherReasons` past REASON_LIMIT),
 *   in the same update as the count, so the reasons an email lists add up to its count; `closedAt` once a flush claimed it
 *   (events then move to the next window), `sentAt` once its email went.
 * - `alert#open`: the set of window ids that may still need an email, so a flush reads one item, not a scan.
 * - `alert#seen#<hash>`: a delivery already counted, in whichever window (TTL one day).
 */
import { createHash } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { batchGetItems } from '../state/batch';
import { isConditionFailure, stateDocument } from '../state/document';
import type { AlertClass, AlertGroup, ContainerFailure, Occurrence } from './model';
import { alertKey, CONTEXT_CLASSES, TASK_FAILURE_CLASSES } from './model';

/** Occurrences kept in full per window (the email shows them); the rest are counted only. */
export const SAMPLE_LIMIT = 10;
/**
 * Distinct reasons counted one by one per window; further new reasons count together as "other reasons", so
 * a storm of unique reasons cannot grow the item towards DynamoDB's 400 KB limit.
 */
export const REASON_LIMIT = 20;
const DAY_S = 24 * 3600;
const WINDOW_TTL_S = 7 * DAY_S;
const KEY_TTL_S = 30 * DAY_S;
const SEEN_TTL_S = DAY_S;
const MAX_ATTEMPTS = 8;
const INDEX_ID = 'alert#open';

export interface Sample {
  time: string;
  resourceArn: string;
  reason: string;
  containers: ContainerFailure[];
}

/** A window as stored: what its email will say. */
export interface AlertWindow {
  id: string;
  key: string;
  seq: number;
  group: AlertGroup;
  alertClass: AlertClass;
  count: number;
  firstSeen: string;
  lastSeen: string;
  exitCodes: number[];
  imageDigests: string[];
  samples: Sample[];
  /** Every counted occurrence's reason with its count, most frequent first. */
  reasonCounts: [string, number][];
  /** Occurrences whose reason was new after REASON_LIMIT distinct ones. */
  otherReasons: number;
  closedAt?: number;
  sentAt?: number;
  /**
   * Recipient chunks (50 addresses each, in `alerts.to` order) that already got this window's email: a send
   * that fails on a later chunk is retried from there, not from the first one.
   */
  chunksSent?: number;
}

export interface KeyState {
  key: string;
  seq: number;
  lastEmailAt?: number;
}

export type RecordResult =
  | { result: 'counted'; windowId: string; count: number }
  | { result: 'duplicate'; windowId?: string };

export class StateContentionError extends Error {
  constructor(
    readonly key: string,
    readonly attempts: number,
  ) {
    super(`alert window for ${key} still contended after ${attempts} attempts`);
    this.name = 'StateContentionError';
  }
}

const clip = (s: string, max = 1000) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);
const keyId = (key: string) => `alert#key#${key}`;
const windowId = (key: string, seq: number) => `alert#window#${key}#${seq}`;
const epochS = (ms: number) => Math.floor(ms / 1000);

export class AlertStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = stateDocument(client);
  }

  /** Counts `occ` once in its key's open window, opening the next window when the current one is claimed. */
  async record(occ: Occurrence, nowMs: number): Promise<RecordResult> {
    const key = alertKey(occ.group, occ.alertClass);
    const h = hash(occ.dedupeKey);
    const seenId = `alert#seen#${h}`;
    if (await this.get(seenId)) return { result: 'duplicate' };

    let reasonBucket: 'own' | 'other' = 'own';
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const state = await this.get(keyId(key));
      const seq = typeof state?.seq === 'number' ? state.seq : 0;
      const id = windowId(key, seq);
      // Indexed before it is counted: a crash between the two leaves an empty entry the flush drops, never
      // a counted window no flush knows of. The index expires too, a month after the last failure.
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: INDEX_ID },
          UpdateExpression: 'SET expiration = :exp ADD windows :w',
          ExpressionAttributeValues: { ':w': new Set([id]), ':exp': epochS(nowMs) + KEY_TTL_S },
        }),
      );
      let updated: Record<string, unknown>;
      try {
        updated = await this.countIn(id, key, seq, occ, h, nowMs, reasonBucket);
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        const current = await this.get(id);
        if ((current?.seen as Set<string> | undefined)?.has(h)) {
          await this.markSeen(seenId, nowMs);
          return { result: 'duplicate', windowId: id };
        }
        // Still open and not a duplicate: the window already counts REASON_LIMIT other reasons.
        if (current && current.closedAt === undefined && reasonBucket === 'own') {
          reasonBucket = 'other';
          continue;
        }
        await this.advance(key, seq, nowMs);
        continue;
      }
      const count = Number(updated.count);
      if (count <= SAMPLE_LIMIT) await this.addSample(id, occ);
      if (occ.time < String(updated.firstSeen)) await this.moveBound(id, 'firstSeen', '>', occ.time);
      if (occ.time > String(updated.lastSeen)) await this.moveBound(id, 'lastSeen', '<', occ.time);
      await this.markSeen(seenId, nowMs);
      return { result: 'counted', windowId: id, count };
    }
    throw new StateContentionError(key, MAX_ATTEMPTS);
  }

  private async countIn(
    id: string,
    key: string,
    seq: number,
    occ: Occurrence,
    h: string,
    nowMs: number,
    reasonBucket: 'own' | 'other',
  ) {
    const values: Record<string, unknown> = {
      ':one': 1,
      ':h': new Set([h]),
      ':hs': h,
      ':key': key,
      ':seq': seq,
      ':group': occ.group,
      ':class': occ.alertClass,
      ':t': occ.time,
      ':exp': epochS(nowMs) + WINDOW_TTL_S,
    };
    const names: Record<string, string> = { '#count': 'count', '#key': 'key', '#group': 'group' };
    let add = 'ADD #count :one, seen :h';
    let set = '';
    let reasonCondition = '';
    if (reasonBucket === 'own') {
      const r = hash(clip(occ.reason));
      names['#rt'] = `rt_${r}`;
      names['#rc'] = `rc_${r}`;
      values[':rt'] = clip(occ.reason);
      values[':rk'] = new Set([r]);
      values[':maxReasons'] = REASON_LIMIT;
      set = ', #rt = if_not_exists(#rt, :rt)';
      add += ', #rc :one, reasonKeys :rk';
      reasonCondition =
        ' AND (attribute_exists(#rt) OR attribute_not_exists(reasonKeys) OR size(reasonKeys) < :maxReasons)';
    } else {
      add += ', otherReasons :one';
    }
    if (occ.exitCodes.length > 0) {
      add += ', exitCodes :codes';
      values[':codes'] = new Set(occ.exitCodes);
    }
    if (occ.imageDigests.length > 0) {
      add += ', imageDigests :digests';
      values[':digests'] = new Set(occ.imageDigests);
    }
    const out = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id },
        UpdateExpression:
          'SET #key = if_not_exists(#key, :key), seq = if_not_exists(seq, :seq), #group = if_not_exists(#group, :group), ' +
          'alertClass = if_not_exists(alertClass, :class), firstSeen = if_not_exists(firstSeen, :t), ' +
          `lastSeen = if_not_exists(lastSeen, :t), expiration = if_not_exists(expiration, :exp)${set} ${add}`,
        ConditionExpression: `attribute_not_exists(closedAt) AND NOT contains(seen, :hs)${reasonCondition}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return out.Attributes ?? {};
  }

  /** The window was claimed by a flush: move the key to the next window (once, whoever gets there first). */
  private async advance(key: string, seq: number, nowMs: number) {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: keyId(key) },
          UpdateExpression: 'SET seq = :next, expiration = :exp',
          ConditionExpression: 'attribute_not_exists(seq) OR seq = :seq',
          ExpressionAttributeValues: { ':next': seq + 1, ':seq': seq, ':exp': epochS(nowMs) + KEY_TTL_S },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  private async addSample(id: string, occ: Occurrence) {
    const sample: Sample = {
      time: occ.time,
      resourceArn: occ.resourceArn,
      reason: clip(occ.reason),
      containers: occ.containers.slice(0, 10).map((c) => ({
        ...c,
        name: clip(c.name, 255),
        ...(c.reason !== undefined ? { reason: clip(c.reason) } : {}),
        ...(c.image !== undefined ? { image: clip(c.image, 500) } : {}),
      })),
    };
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id },
        UpdateExpression: 'SET samples = list_append(if_not_exists(samples, :empty), :sample)',
        ExpressionAttributeValues: { ':empty': [], ':sample': [sample] },
      }),
    );
  }

  /** Keeps firstSeen the minimum and lastSeen the maximum when events arrive out of order. */
  private async moveBound(id: string, attr: 'firstSeen' | 'lastSeen', cmp: '<' | '>', time: string) {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: `SET ${attr} = :t`,
          ConditionExpression: `${attr} ${cmp} :t`,
          ExpressionAttributeValues: { ':t': time },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  private async markSeen(id: string, nowMs: number) {
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: { id, expiration: epochS(nowMs) + SEEN_TTL_S } }),
    );
  }

  /** Every window that may still owe an email, with its key's state. Drops index entries that owe nothing. */
  async openWindows(): Promise<{ windows: AlertWindow[]; keys: Map<string, KeyState> }> {
    const index = await this.get(INDEX_ID);
    const ids = [...((index?.windows as Set<string> | undefined) ?? [])];
    const items = await this.batchGet(ids);
    const windows: AlertWindow[] = [];
    const stale: string[] = [];
    for (const id of ids) {
      const item = items.get(id);
      if (!item || item.sentAt !== undefined || item.count === undefined) stale.push(id);
      else windows.push(toWindow(item));
    }
    if (stale.length > 0) await this.unindex(stale);
    // The plan also needs when a service with deployment or service-action context last had a task-failure
    // email (context waits a window for company): those keys are read too, where they exist.
    const related = windows
      .filter((w) => w.group.kind === 'service' && CONTEXT_CLASSES.includes(w.alertClass))
      .flatMap((w) => TASK_FAILURE_CLASSES.map((c) => alertKey(w.group, c)));
    const wanted = [...new Set([...windows.map((w) => w.key), ...related])];
    const keyItems = await this.batchGet(wanted.map(keyId));
    const keys = new Map<string, KeyState>();
    const open = new Set(windows.map((w) => w.key));
    for (const key of wanted) {
      const item = keyItems.get(keyId(key));
      if (!item && !open.has(key)) continue;
      keys.set(key, {
        key,
        seq: typeof item?.seq === 'number' ? item.seq : 0,
        ...(typeof item?.lastEmailAt === 'number' ? { lastEmailAt: item.lastEmailAt } : {}),
      });
    }
    return { windows, keys };
  }

  /**
   * Claims a window for sending: from then on events count in the next window, so the claimed count is
   * final. `staleClaim` re-claims a window whose sender died before sending. Undefined if another flush won.
   */
  async claim(window: AlertWindow, nowMs: number): Promise<AlertWindow | undefined> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: window.id },
          UpdateExpression: 'SET closedAt = :now',
          ConditionExpression:
            window.closedAt === undefined
              ? 'attribute_exists(id) AND attribute_not_exists(closedAt)'
              : 'closedAt = :old AND attribute_not_exists(sentAt)',
          ExpressionAttributeValues: {
            ':now': nowMs,
            ...(window.closedAt !== undefined ? { ':old': window.closedAt } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? toWindow(out.Attributes) : undefined;
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  }

  /** Gives a claim back after a failed send, so the next flush sends it. */
  async release(window: AlertWindow): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: window.id },
          UpdateExpression: 'REMOVE closedAt',
          ConditionExpression: 'closedAt = :mine AND attribute_not_exists(sentAt)',
          ExpressionAttributeValues: { ':mine': window.closedAt },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  /** The first `chunks` recipient chunks got the windows' email; the rest are still to send. */
  async markChunksSent(windows: AlertWindow[], chunks: number): Promise<void> {
    for (const w of windows) {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: w.id },
          UpdateExpression: 'SET chunksSent = :n',
          ExpressionAttributeValues: { ':n': chunks },
        }),
      );
    }
  }

  /** After the email went: the window is done and its key's next email waits a full window. */
  async markSent(windows: AlertWindow[], nowMs: number): Promise<void> {
    for (const w of windows) {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: w.id },
          UpdateExpression: 'SET sentAt = :now',
          ExpressionAttributeValues: { ':now': nowMs },
        }),
      );
    }
    for (const key of new Set(windows.map((w) => w.key))) {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: keyId(key) },
          UpdateExpression: 'SET lastEmailAt = :now, expiration = :exp, seq = if_not_exists(seq, :zero)',
          ExpressionAttributeValues: { ':now': nowMs, ':exp': epochS(nowMs) + KEY_TTL_S, ':zero': 0 },
        }),
      );
    }
    await this.unindex(windows.map((w) => w.id));
  }

  private async unindex(ids: string[]) {
    if (ids.length === 0) return;
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: INDEX_ID },
        UpdateExpression: 'DELETE windows :w',
        ExpressionAttributeValues: { ':w': new Set(ids) },
      }),
    );
  }

  private async get(id: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true }),
    );
    return out.Item;
  }

  private batchGet(ids: string[]): Promise<Map<string, Record<string, unknown>>> {
    // Unprocessed keys come back under load: asked again until DynamoDB has answered for all of them.
    return batchGetItems(this.doc, this.tableName, ids, { consistentRead: true });
  }
}

function toWindow(item: Record<string, unknown>): AlertWindow {
  const numbers = (v: unknown) =>
    [...((v as Set<number> | undefined) ?? [])].map(Number).sort((a, b) => a - b);
  return {
    id: String(item.id),
    key: String(item.key),
    seq: Number(item.seq ?? 0),
    group: item.group as AlertGroup,
    alertClass: item.alertClass as AlertClass,
    count: Number(item.count ?? 0),
    firstSeen: String(item.firstSeen),
    lastSeen: String(item.lastSeen),
    exitCodes: numbers(item.exitCodes),
    imageDigests: [...((item.imageDigests as Set<string> | undefined) ?? [])].sort(),
    samples: ((item.samples as Sample[] | undefined) ?? []).slice(0, SAMPLE_LIMIT),
    reasonCounts: [...((item.reasonKeys as Set<string> | undefined) ?? [])]
      .map((r): [string, number] => [String(item[`rt_${r}`] ?? '?'), Number(item[`rc_${r}`] ?? 0)])
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
    otherReasons: Number(item.otherReasons ?? 0),
    ...(typeof item.closedAt === 'number' ? { closedAt: item.closedAt } : {}),
    ...(typeof item.sentAt === 'number' ? { sentAt: item.sentAt } : {}),
    ...(typeof item.chunksSent === 'number' ? { chunksSent: item.chunksSent } : {}),
  };
}
