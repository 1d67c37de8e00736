/**
 * The state table as a task definition store: `taskdef#<arn>` items holding each revision's description as
 * JSON. Apart from the cache so a function without the state table (pruneImages) bundles no DynamoDB client.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { TaskDefinition } from '@aws-sdk/client-ecs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetItems, batchWriteItems } from '../state/batch';
import { stateDocument } from '../state/document';
import { EXPIRATION_ATTRIBUTE } from '../state/table';
import type { TaskDefinitionStore } from './task-definitions';

/** A revision not read for this long leaves the table (the TTL is renewed on each cold read). */
const STORED_TTL_S = 90 * 24 * 3600;
const MAX_UNPROCESSED_ROUNDS = 5;

const itemId = (arn: string) => `taskdef#${arn}`;

export class StateTableTaskDefinitions implements TaskDefinitionStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {
    this.doc = stateDocument(client);
  }

  async getMany(arns: readonly string[]): Promise<Map<string, TaskDefinition>> {
    const items = await batchGetItems(this.doc, this.tableName, arns.map(itemId), {
      projection: 'id, body',
      maxRounds: MAX_UNPROCESSED_ROUNDS,
    });
    const found = new Map<string, TaskDefinition>();
    for (const item of items.values()) {
      const arn = String(item.id).slice('taskdef#'.length);
      // A body that does not parse is a miss: described again and written over.
      try {
        found.set(arn, JSON.parse(String(item.body)) as TaskDefinition);
      } catch {}
    }
    return found;
  }

  /** Throws when DynamoDB leaves writes unprocessed; the cache's save() shrugs that off (a describe next time). */
  async putMany(taskDefinitions: readonly TaskDefinition[]): Promise<void> {
    const expiration = Math.floor(this.now() / 1000) + STORED_TTL_S;
    const requests = taskDefinitions
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
    await batchWriteItems(this.doc, this.tableName, requests, 'task definitions', MAX_UNPROCESSED_ROUNDS);
  }
}
