/**
 * DynamoDB's batch calls over the state table, within their limits (100 keys a BatchGetItem, 25 requests a
 * BatchWriteItem) and asking again, with a growing pause, for what DynamoDB leaves unprocessed under load.
 */
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';

const GET_BATCH = 100;
const WRITE_BATCH = 25;

const pause = (round: number) =>
  round > 0 ? new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** round))) : undefined;

/**
 * The items with these ids (hash key `id`), by id; ids with no item are absent. `maxRounds`: how often to ask
 * for unprocessed keys before answering without them (unbounded by default).
 */
export async function batchGetItems(
  doc: DynamoDBDocumentClient,
  tableName: string,
  ids: readonly string[],
  o: { consistentRead?: boolean; projection?: string; maxRounds?: number } = {},
): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < ids.length; i += GET_BATCH) {
    let keys: Record<string, unknown>[] | undefined = ids.slice(i, i + GET_BATCH).map((id) => ({ id }));
    for (let round = 0; keys?.length && round < (o.maxRounds ?? Number.POSITIVE_INFINITY); round++) {
      await pause(round);
      const out: BatchGetCommandOutput = await doc.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: {
              Keys: keys,
              ...(o.consistentRead ? { ConsistentRead: true } : {}),
              ...(o.projection ? { ProjectionExpression: o.projection } : {}),
            },
          },
        }),
      );
      for (const item of out.Responses?.[tableName] ?? []) found.set(String(item.id), item);
      keys = out.UnprocessedKeys?.[tableName]?.Keys;
    }
  }
  return found;
}

/** Puts and deletes, 25 a call; throws naming how many DynamoDB still left unprocessed after `maxRounds`. */
export async function batchWriteItems(
  doc: DynamoDBDocumentClient,
  tableName: string,
  requests: readonly Record<string, unknown>[],
  what: string,
  maxRounds = 5,
): Promise<void> {
  for (let i = 0; i < requests.length; i += WRITE_BATCH) {
    let batch: Record<string, unknown>[] | undefined = requests.slice(i, i + WRITE_BATCH);
    for (let round = 0; batch?.length && round < maxRounds; round++) {
      await pause(round);
      const out: BatchWriteCommandOutput = await doc.send(
        new BatchWriteCommand({ RequestItems: { [tableName]: batch as never } }),
      );
      batch = out.UnprocessedItems?.[tableName] as Record<string, unknown>[] | undefined;
    }
    if (batch?.length)
      throw new Error(`${what}: ${batch.length} writes still unprocessed after ${maxRounds} tries`);
  }
}
