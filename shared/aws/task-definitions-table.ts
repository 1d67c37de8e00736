/**
 * The state table as a task definition store: `taskdef#<arn>` items holding each revision's description as
 * JSON. Apart from the cache so a function without the state table (pruneImages) bundles no DynamoDB client.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { TaskDefinition } from '@aws-sdk/client-ecs';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { EXPIRATION_ATTRIBUTE } from '../state/table';
import type { TaskDefinitionStore } from './task-definitions';

/** A revision not read for this long leaves the table (the TTL is renewed on each cold read). */
const STORED_TTL_S = 90 * 24 * 3600;
/** Items of BatchGetItem and BatchWriteItem, DynamoDB's limits. */
const GET_BATCH = 100;
const WRITE_BATCH = 25;
const MAX_UNPROCESSED_ROUNDS = 5;

const itemId = (arn: string) => `taskdef#${arn}`;

/** The store itself. */
export class StateTableTaskDefinitions implements TaskDefinitionStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async getMany(arns: readonly string[]): Promise<Map<string, TaskDefinition>> {
    const found = new Map<string, TaskDefinition>();
    for (let i = 0; i < arns.length; i += GET_BATCH) {
      let keys: Record<string, unknown>[] | undefined = arns
        .slice(i, i + GET_BATCH)
        .map((arn) => ({ id: itemId(arn) }));
      for (let round = 0; keys?.length && round < MAX_UNPROCESSED_ROUNDS; round++) {
        const out: BatchGetCommandOutput = await this.doc.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: keys, ProjectionExpression: 'id, body' } },
          }),
        );
        for (const item of out.Responses?.[this.tableName] ?? []) {
          const arn = String(item.id).slice('taskdef#'.length);
          // A body that does not parse is a miss: described again and written over.
          try {
            found.set(arn, JSON.parse(String(item.body)) as TaskDefinition);
          } catch {}
        }
        keys = out.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return found;
  }

  async putMany(taskDefinitions: readonly TaskDefinition[]): Promise<void> {
    const expiration = Math.floor(this.now() / 1000) + STORED_TTL_S;
    const items = taskDefinitions
      .filter((td) => td.taskDefinitionArn)
      .map((td) => ({
        PutRequest: {
          Item: {
            id: itemId(td.taskDefinitionArn as string),
            body: JSON.stringify(td),
            [EXPIRATION_ATTRIBUTE]: expiration,
          },
        },
      }));
    for (let i = 0; i < items.length; i += WRITE_BATCH) {
      let requests: typeof items | undefined = items.slice(i, i + WRITE_BATCH);
      for (let round = 0; requests?.length && round < MAX_UNPROCESSED_ROUNDS; round++) {
        const out: BatchWriteCommandOutput = await this.doc.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
        );
        requests = out.UnprocessedItems?.[this.tableName] as typeof items | undefined;
      }
    }
  }
}
