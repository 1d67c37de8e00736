/**
 * The state table as serverless.yml declares it (hash key `id`, TTL on `expiration`), for whatever creates it
 * outside CloudFormation: the local cloud's start-up and the tests' embedded DynamoDB.
 */
import { CreateTableCommand, type DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';

/** The attribute every item's expiry is in (TimeToLiveSpecification in serverless.yml). */
export const EXPIRATION_ATTRIBUTE = 'expiration';

export async function createStateTable(
  client: DynamoDBClient,
  tableName: string,
  /** false where the DynamoDB has no TTL API (dynalite, in unit tests). */
  options: { timeToLive?: boolean } = {},
): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    }),
  );
  if (options.timeToLive === false) return;
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { Enabled: true, AttributeName: EXPIRATION_ATTRIBUTE },
    }),
  );
}
