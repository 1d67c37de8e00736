/** An embedded DynamoDB (dynalite) with the state table, for tests of idempotency and state. */
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
// @ts-expect-error dynalite ships no types
import dynalite from 'dynalite';
import { createStateTable as createTable } from '../../shared/state/table';

/** A table shaped like the state table (hash key `id`), e.g. a fresh one per test; dynalite has no TTL API. */
export const createStateTable = (client: DynamoDBClient, tableName: string) =>
  createTable(client, tableName, { timeToLive: false });

export interface TestTable {
  client: DynamoDBClient;
  tableName: string;
  stop: () => Promise<void>;
}

export async function startStateTable(tableName = 'harborpilot-state'): Promise<TestTable> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await createStateTable(client, tableName);
  return {
    client,
    tableName,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
