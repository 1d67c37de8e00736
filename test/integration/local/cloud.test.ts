/**
 * The local cloud's front door, driven by the real SDK v3 clients: routing by protocol, the
 * account and region from the credentials, DynamoDB, PutEvents, error wire shapes and throttling.
 */
import { DescribeTimeToLiveCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DescribeRepositoriesCommand, ECRClient, GetLifecyclePolicyCommand } from '@aws-sdk/client-ecr';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';

let cloud: LocalCloud;

const clientConfig = (accessKeyId = 'test', region = 'us-east-1') => ({
  endpoint: cloud.endpoint,
  region,
  credentials: { accessKeyId, secretAccessKey: 'test' },
});

beforeAll(async () => {
  cloud = await createLocalCloud({
    speed: 0,
    startRouter: false,
    world: {
      accounts: [{ accountId: '111111111111', name: 'production', accessKeys: ['AKIAPROD'] }],
      ecr: { repositories: [{ name: 'shop/api', images: [{ tag: 'v1.0.0' }] }] },
      ses: { identities: ['harborpilot@example.com'] },
    },
  });
});
afterAll(() => cloud.stop());
beforeEach(() => {
  cloud.faults.clear();
});

describe('local cloud front door', () => {
  it('starts in well under the 2 s budget', () => {
    expect(cloud.startupMs).toBeLessThan(2000);
    expect(cloud.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers STS GetCallerIdentity with the account of the access key', async () => {
    const byDefault = await new STSClient(clientConfig()).send(new GetCallerIdentityCommand({}));
    expect(byDefault.Account).toBe('000000000000');
    expect(byDefault.Arn).toBe('arn:aws:iam::000000000000:root');
    const listed = await new STSClient(clientConfig('AKIAPROD')).send(new GetCallerIdentityCommand({}));
    expect(listed.Account).toBe('111111111111');
    const numeric = await new STSClient(clientConfig('222222222222')).send(new GetCallerIdentityCommand({}));
    expect(numeric.Account).toBe('222222222222');
  });

  it('serves the state table over DynamoDB, with TTL on `expiration`', async () => {
    const client = new DynamoDBClient(clientConfig());
    const tables = await client.send(new ListTablesCommand({}));
    expect(tables.TableNames).toEqual([cloud.config.stateTable]);
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: cloud.config.stateTable }));
    expect(ttl.TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiration' });

    const doc = DynamoDBDocumentClient.from(client);
    await doc.send(new PutCommand({ TableName: cloud.config.stateTable, Item: { id: 'k1', n: 7 } }));
    const got = await doc.send(new GetCommand({ TableName: cloud.config.stateTable, Key: { id: 'k1' } }));
    expect(got.Item).toEqual({ id: 'k1', n: 7 });
  });

  it('keeps DynamoDB data per account and region, as AWS does', async () => {
    const other = new DynamoDBClient(clientConfig('AKIAPROD'));
    expect((await other.send(new ListTablesCommand({}))).TableNames).toEqual([]);
    const elsewhere = new DynamoDBClient(clientConfig('test', 'eu-west-1'));
    expect((await elsewhere.send(new ListTablesCommand({}))).TableNames).toEqual([]);
  });

  it('publishes PutEvents entries on the bus in the EventBridge envelope', async () => {
    const seen: unknown[] = [];
    const unsubscribe = cloud.bus.subscribe((e) => {
      seen.push(e);
    });
    const res = await fetchJson('AWSEvents.PutEvents', {
      Entries: [
        { Source: 'shop.deploy', DetailType: 'Release', Detail: '{"version":"1.2.3"}', Resources: ['r1'] },
        { Source: 'aws.ecr', DetailType: 'ECR Image Action', Detail: '{}' },
        { Source: 'shop.deploy', DetailType: 'Release', Detail: 'not json' },
      ],
    });
    unsubscribe();
    expect(res.status).toBe(200);
    const body = res.body as { FailedEntryCount: number; Entries: Record<string, string>[] };
    expect(body.FailedEntryCount).toBe(2);
    expect(body.Entries[1]).toMatchObject({ ErrorCode: 'NotAuthorizedForSourceException' });
    expect(body.Entries[2]).toMatchObject({ ErrorCode: 'MalformedDetail' });
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual([
      expect.objectContaining({
        id: body.Entries[0]?.EventId,
        version: '0',
        source: 'shop.deploy',
        'detail-type': 'Release',
        account: '000000000000',
        region: 'us-east-1',
        resources: ['r1'],
        detail: { version: '1.2.3' },
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      }),
    ]);
  });

  it('returns backend errors in the shape the SDK turns into the named exception', async () => {
    const ecr = new ECRClient(clientConfig());
    await expect(
      ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['nope/nothing'] })),
    ).rejects.toMatchObject({ name: 'RepositoryNotFoundException', $metadata: { httpStatusCode: 400 } });
    const ses = new SESv2Client(clientConfig());
    await expect(
      ses.send(
        new SendEmailCommand({
          FromEmailAddress: 'harborpilot@example.com',
          Destination: { ToAddresses: ['stranger@example.org'] },
          Content: { Simple: { Subject: { Data: 's' }, Body: { Text: { Data: 'b' } } } },
        }),
      ),
    ).rejects.toMatchObject({ name: 'MessageRejected' });
  });

  it('answers unknown operations as AWS does', async () => {
    await expect(
      new ECRClient(clientConfig()).send(new GetLifecyclePolicyCommand({ repositoryName: 'shop/api' })),
    ).rejects.toMatchObject({
      name: 'UnknownOperationException',
    });
    const json = await fetchJson('AmazonEC2ContainerServiceV20141113.NoSuchThing', {});
    expect(json.status).toBe(400);
    expect(json.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(json.body).toMatchObject({ __type: 'UnknownOperationException' });
    const rest = await fetch(`${cloud.endpoint}/v2/email/nothing-here`, { headers: sigv4Header('ses') });
    expect(rest.status).toBe(404);
    expect(rest.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    const query = await fetch(cloud.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...sigv4Header('sts') },
      body: 'Action=AssumeRoleWithMagic&Version=2011-06-15',
    });
    expect(query.status).toBe(400);
    expect(await query.text()).toMatch(/<Code>InvalidAction<\/Code>/);
  });

  it('throttles: the SDK sees ThrottlingException, and its retries get through at a rate below 1', async () => {
    cloud.faults.add({ kind: 'throttle', service: 'ecr', operation: 'DescribeRepositories', rate: 1 });
    const once = new ECRClient({ ...clientConfig(), maxAttempts: 1 });
    await expect(once.send(new DescribeRepositoriesCommand({}))).rejects.toMatchObject({
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    // Another operation of the same service is untouched.
    await expect(once.send(new GetLifecyclePolicyCommand({ repositoryName: 'x1' }))).rejects.toMatchObject({
      name: 'UnknownOperationException',
    });

    cloud.faults.clear();
    cloud.faults.add({ kind: 'throttle', service: 'ecr', rate: 0.5 });
    const retrying = new ECRClient(clientConfig());
    const out = await retrying.send(new DescribeRepositoriesCommand({}));
    expect(out.repositories?.map((r) => r.repositoryName)).toEqual(['shop/api']);
    expect(out.$metadata.attempts).toBe(2);
    expect(cloud.faults.list()[0]).toMatchObject({ calls: 2, throttled: 1 });
  });

  it('throttles each service with its own error: DynamoDB, SES v2, STS', async () => {
    cloud.faults.add({ kind: 'throttle', service: '*', rate: 1 });
    const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ ...clientConfig(), maxAttempts: 1 }));
    await expect(
      dynamo.send(new GetCommand({ TableName: cloud.config.stateTable, Key: { id: 'x' } })),
    ).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    const ses = new SESv2Client({ ...clientConfig(), maxAttempts: 1 });
    await expect(
      ses.send(
        new SendEmailCommand({
          FromEmailAddress: 'harborpilot@example.com',
          Destination: { ToAddresses: ['harborpilot@example.com'] },
          Content: { Simple: { Subject: { Data: 's' }, Body: { Text: { Data: 'b' } } } },
        }),
      ),
    ).rejects.toMatchObject({ name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } });
    await expect(
      new STSClient({ ...clientConfig(), maxAttempts: 1 }).send(new GetCallerIdentityCommand({})),
    ).rejects.toMatchObject({ name: 'Throttling' });
  });

  it('slows every call by the latency fault', async () => {
    cloud.faults.add({ kind: 'latency', ms: 150 });
    const t0 = performance.now();
    await new STSClient(clientConfig()).send(new GetCallerIdentityCommand({}));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
  });
});

describe('admin API', () => {
  it('reports health, the clock, and advances it', async () => {
    const health = await admin('GET', 'health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'running', clock: { speed: 0 } });
    const before = cloud.clock.nowMs();
    const advanced = await admin('POST', 'clock/advance', { ms: 60_000 });
    expect(Date.parse((advanced.body as { now: string }).now)).toBe(before + 60_000);
    expect((await admin('POST', 'clock/advance', { ms: -1 })).status).toBe(400);
  });

  it('adds, lists and removes faults; refuses bad ones with the field', async () => {
    const added = await admin('POST', 'faults', [
      { kind: 'throttle', service: 'ecs', operation: 'DescribeServices', rate: 0.5 },
      { kind: 'pullFailure', repository: 'shop/*' },
    ]);
    expect(added.status).toBe(201);
    expect(cloud.faults.pullFailure('shop/api')).toMatch(/not found/);
    const listed = (await admin('GET', 'faults')).body as { faults: { id: string }[] };
    expect(listed.faults).toHaveLength(2);
    const first = listed.faults[0]?.id ?? '';
    expect((await admin('DELETE', `faults/${first}`)).status).toBe(200);
    expect(cloud.faults.list()).toHaveLength(1);
    expect((await admin('DELETE', 'faults')).status).toBe(200);
    expect(cloud.faults.list()).toEqual([]);

    const bad = await admin('POST', 'faults', { kind: 'throttle', service: 'ecs', rate: 3 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/rate/);
  });

  it('lists bus events filtered by detail-type, and sent mail at /_aws/ses', async () => {
    cloud.ecr.pushImage({ repositoryName: 'shop/api', tag: 'v1.1.0' });
    const events = (await admin('GET', 'events?detail-type=ECR%20Image%20Action')).body as {
      events: { detail: Record<string, string> }[];
    };
    expect(events.events.at(-1)?.detail).toMatchObject({ 'action-type': 'PUSH', 'image-tag': 'v1.1.0' });
    await new SESv2Client(clientConfig()).send(
      new SendEmailCommand({
        FromEmailAddress: 'harborpilot@example.com',
        Destination: { ToAddresses: ['harborpilot@example.com'] },
        Content: { Simple: { Subject: { Data: 'hello' }, Body: { Text: { Data: 'b' } } } },
      }),
    );
    const mail = (await (await fetch(`${cloud.endpoint}/_aws/ses`)).json()) as {
      messages: { Subject: string }[];
    };
    expect(mail.messages.map((m) => m.Subject)).toContain('hello');
  });

  it('answers unknown admin paths with 404', async () => {
    expect((await admin('GET', 'nothing')).status).toBe(404);
  });
});

function sigv4Header(service: string, accessKeyId = 'test') {
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20260301/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
  };
}

async function fetchJson(target: string, body: unknown) {
  const res = await fetch(cloud.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': target,
      ...sigv4Header('events'),
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as unknown };
}

async function admin(method: string, path: string, body?: unknown) {
  const res = await fetch(`${cloud.endpoint}/_harborpilot/${path}`, {
    method,
    ...(body !== undefined
      ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
      : {}),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}
