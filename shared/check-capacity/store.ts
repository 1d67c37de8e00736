/**
 * Hysteresis state in the state table (hash key `id`, TTL attribute `expiration`): one item,
 * `capacity#told`, holding what the recipients were last told and a version. Every write is conditional on
 * the version read, so of two runs that saw the same change (a duplicate delivery, an overlapping
 * schedule) only one commits, and only the one that committed sends the email.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { errorMessage } from '../errors';
import { isConditionFailure } from '../state/document';
import * as z from '../zod';
import type { Told } from './hysteresis';

export const TOLD_ID = 'capacity#told';
const DAY_S = 86_400;
/** Findings can persist for months; the item lives 90 days past the last write and is refreshed long before. */
const TTL_S = 90 * DAY_S;
const REFRESH_BELOW_S = 60 * DAY_S;

const ToldSchema = z.record(
  z.string(),
  z.object({
    severity: z.enum(['warning', 'critical']),
    cluster: z.string(),
    subject: z.string(),
    title: z.string(),
    /** Another target's finding (absent in state written before targets existed, and for the home target). */
    target: z.optional(z.string()),
  }),
);

export interface ToldState {
  /** 0 when nothing was ever told. */
  version: number;
  told: Told;
  /** When the report behind `told` was observed (ISO): a run with an older report is late and tells nothing. */
  reportAt?: string;
  expiration?: number;
}

export class CapacityStateError extends Error {
  constructor(
    readonly id: string,
    readonly problems: string[],
  ) {
    super(`capacity state ${id} is unreadable: ${problems.join('; ')}`);
    this.name = 'CapacityStateError';
  }
}

const epochS = (ms: number) => Math.floor(ms / 1000);

export class CapacityStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  async read(): Promise<ToldState> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { id: TOLD_ID }, ConsistentRead: true }),
    );
    const item = out.Item;
    if (!item) return { version: 0, told: {} };
    let parsed: unknown;
    try {
      parsed = JSON.parse(String(item.told ?? '{}'));
    } catch (err) {
      throw new CapacityStateError(TOLD_ID, [`told: ${errorMessage(err, { name: false })}`]);
    }
    const told = ToldSchema.safeParse(parsed);
    if (!told.success) {
      throw new CapacityStateError(
        TOLD_ID,
        told.error.issues.map((i) => `told.${i.path.join('.')}: ${i.message}`),
      );
    }
    return {
      version: Number(item.version ?? 0),
      told: told.data,
      ...(typeof item.reportAt === 'string' ? { reportAt: item.reportAt } : {}),
      ...(typeof item.expiration === 'number' ? { expiration: item.expiration } : {}),
    };
  }

  /** Writes `told` as version `from + 1` if the item is still at `from`; false when another run got there first. */
  async commit(from: number, told: Told, nowMs: number, reportAt?: string): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            id: TOLD_ID,
            version: from + 1,
            told: JSON.stringify(told),
            ...(reportAt !== undefined ? { reportAt } : {}),
            updatedAt: new Date(nowMs).toISOString(),
            expiration: epochS(nowMs) + TTL_S,
          },
          ConditionExpression: from === 0 ? 'attribute_not_exists(id)' : 'version = :from',
          ...(from === 0 ? {} : { ExpressionAttributeValues: { ':from': from } }),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /**
   * The email did not go: put back what was told before, unless another run has moved on since, so the next
   * run sees the same changes and tries again.
   */
  async revert(committed: number, previous: ToldState, nowMs: number): Promise<void> {
    // A commit on top of ours: false (another run has moved on) leaves that run's state alone.
    await this.commit(committed, previous.told, nowMs, previous.reportAt);
  }

  /** Keeps a long-unchanged item from expiring (which would re-send every open finding). */
  async refresh(state: ToldState, nowMs: number): Promise<void> {
    if (state.version === 0 || (state.expiration ?? 0) - epochS(nowMs) > REFRESH_BELOW_S) return;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: TOLD_ID },
          UpdateExpression: 'SET expiration = :exp',
          ConditionExpression: 'version = :v',
          ExpressionAttributeValues: { ':exp': epochS(nowMs) + TTL_S, ':v': state.version },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }
}
