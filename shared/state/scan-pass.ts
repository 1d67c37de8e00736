/**
 * The cursor of a full scan that continues over several scheduled invocations (one state table item per
 * function, account and Region): the clusters still to read, the turns so far, whether any turn failed, the
 * schedule event that made the last turn (a duplicate delivery does not advance the pass twice) and what the
 * function carries from turn to turn. Every save is conditional on the turn it read, so of two overlapping
 * invocations only one advances the pass.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from '../zod';
import { isConditionFailure, stateDocument } from './document';
import { EXPIRATION_ATTRIBUTE } from './table';

/** A pass not advanced for this long is abandoned: the next invocation starts a new one. */
const PASS_TTL_S = 2 * 24 * 3600;

const PassItem = z.object({
  remaining: z.array(z.string()),
  startedAt: z.string(),
  turns: z.int().check(z.nonnegative()),
  failed: z.boolean(),
  lastEventId: z.string(),
  carry: z.optional(z.string()),
});

export interface Pass<C> {
  /** Cluster ARNs still to read. */
  remaining: string[];
  startedAt: string;
  turns: number;
  /** A turn could not read something: the pass ends without acting on the whole (prune deletes nothing). */
  failed: boolean;
  /** The schedule event of the last turn. */
  lastEventId: string;
  /** The function's partial result (JSON in the item). */
  carry?: C;
}

export class PassStateError extends Error {
  constructor(
    readonly id: string,
    readonly problems: string[],
  ) {
    super(`scan pass state ${id} is unreadable: ${problems.join('; ')}`);
    this.name = 'PassStateError';
  }
}

export class PassCursor<C> {
  private readonly doc: DynamoDBDocumentClient;
  readonly id: string;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    /** e.g. `capacity#pass#<account>#<region>` */
    id: string,
    private readonly carrySchema: z.ZodMiniType<C>,
    private readonly now: () => number = Date.now,
  ) {
    this.doc = stateDocument(client);
    this.id = id;
  }

  async read(): Promise<Pass<C> | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { id: this.id }, ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    // DynamoDB TTL deletes within days, not at the second: an expired item is already gone for us.
    const exp = out.Item[EXPIRATION_ATTRIBUTE];
    if (typeof exp === 'number' && exp * 1000 < this.now()) return undefined;
    const item = PassItem.safeParse(out.Item);
    if (!item.success) {
      throw new PassStateError(
        this.id,
        item.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      );
    }
    const { carry, ...rest } = item.data;
    if (carry === undefined) return rest;
    const parsed = this.carrySchema.safeParse(JSON.parse(carry));
    if (!parsed.success) {
      throw new PassStateError(
        this.id,
        parsed.error.issues.map((i) => `carry.${i.path.join('.')}: ${i.message}`),
      );
    }
    return { ...rest, carry: parsed.data };
  }

  /**
   * Saves the pass after a turn, if it is still at `from` (the pass this turn read; undefined for a new one);
   * false when another invocation advanced or ended it first (this turn then acts on nothing more).
   */
  async save(from: Pass<C> | undefined, next: Pass<C>): Promise<boolean> {
    const { carry, ...rest } = next;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            id: this.id,
            ...rest,
            ...(carry !== undefined ? { carry: JSON.stringify(carry) } : {}),
            updatedAt: new Date(this.now()).toISOString(),
            [EXPIRATION_ATTRIBUTE]: Math.floor(this.now() / 1000) + PASS_TTL_S,
          },
          ...this.condition(from),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  private condition(from: Pass<C> | undefined) {
    return from
      ? {
          ConditionExpression: 'turns = :turns AND lastEventId = :event',
          ExpressionAttributeValues: { ':turns': from.turns, ':event': from.lastEventId },
        }
      : { ConditionExpression: 'attribute_not_exists(id)' };
  }
}

/** The names a turn read, for its log line and report: the first 20, then how many more. */
export function listedNames(names: readonly string[], max = 20): string {
  return names.slice(0, max).join(', ') + (names.length > max ? ` and ${names.length - max} more` : '');
}

/** The pass after a turn that read `clusterArns` and left `unfinished` (whole clusters) for the next. */
export function advancePass<C>(
  pass: Pass<C> | undefined,
  turn: { eventId: string; nowMs: number; unfinished: readonly string[]; failed: boolean; carry?: C },
): Pass<C> {
  return {
    remaining: [...turn.unfinished],
    startedAt: pass?.startedAt ?? new Date(turn.nowMs).toISOString(),
    turns: (pass?.turns ?? 0) + 1,
    failed: (pass?.failed ?? false) || turn.failed,
    lastEventId: turn.eventId,
    ...(turn.carry !== undefined ? { carry: turn.carry } : {}),
  };
}
