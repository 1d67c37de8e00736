/**
 * The state table through DynamoDB's DocumentClient, as every store reads and writes it: plain JavaScript
 * values, and the one error a conditional write answers that a store expects rather than fails on.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** A DocumentClient that leaves undefined members out of items (optional fields are simply absent). */
export function stateDocument(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** A conditional write's condition did not hold (by class, or by name where another SDK copy threw it). */
export const isConditionFailure = (err: unknown): boolean =>
  err instanceof ConditionalCheckFailedException ||
  (err as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
