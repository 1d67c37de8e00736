/**
 * Routing of the front door with tiny fake backends, driven by the real ECS and EKS SDK clients:
 * X-Amz-Target to the awsJson operation, method and path to the restJson route with decoded
 * `{param}`s, errors and throttling in each protocol's shape.
 */
import type { Server } from 'node:http';
import { ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import {
  DescribeClusterCommand,
  EKSClient,
  ListClustersCommand as EksListClustersCommand,
} from '@aws-sdk/client-eks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../bus';
import { SimClock } from '../../clock';
import { LocalDynamoDb } from '../../dynamodb';
import { EcrBackend } from '../../ecr';
import { EcsBackend } from '../../ecs';
import { EksBackend } from '../../eks';
import { AwsServiceError } from '../../errors';
import { LocalFaults } from '../../faults';
import { serverPort, startHttpServer } from '../../http/server';
import { ConsoleStream } from '../../http/stream';
import { Router } from '../../router';
import { SesBackend } from '../../ses';
import { LocalSts } from '../../sts';
import type { LocalCloudCore, RequestContext } from '../../types';

let server: Server;
let endpoint: string;
const calls: { operation: string; input: unknown; ctx: RequestContext }[] = [];
const clock = new SimClock(new Date('2026-03-01T12:00:00Z'), 0);
const bus = new EventBus(clock);
const faults = new LocalFaults({ accountId: '000000000000', region: 'us-east-1' });
const core: LocalCloudCore = {
  clock,
  bus,
  faults,
  images: { resolve: () => ({ error: 'none' }) },
  defaultAccountId: '000000000000',
  defaultRegion: 'us-east-1',
};
const router = new Router(core, { serverlessYml: 'serverless.yml', env: {} });
const ses = new SesBackend(core);
const eks = new EksBackend(core);

beforeAll(async () => {
  server = await startHttpServer(
    {
      faults,
      directory: { defaultAccountId: '000000000000', defaultRegion: 'us-east-1', accessKeys: new Map() },
      sts: new LocalSts(clock),
      json: {
        AmazonEC2ContainerServiceV20141113: {
          service: 'ecs',
          operations: () => ({
            ListClusters: (input, ctx) => {
              calls.push({ operation: 'ListClusters', input, ctx });
              return { clusterArns: [`arn:aws:ecs:${ctx.region}:${ctx.accountId}:cluster/fake`] };
            },
          }),
        },
      },
      rest: [
        {
          service: 'eks',
          routes: () => [
            {
              method: 'GET',
              path: '/clusters',
              operation: 'ListClusters',
              handler: () => ({ body: { clusters: ['one'] } }),
            },
            {
              method: 'GET',
              path: '/clusters/{name}',
              operation: 'DescribeCluster',
              handler: (req, ctx) => {
                calls.push({ operation: 'DescribeCluster', input: req.params, ctx });
                if (req.params.name === 'missing') {
                  throw new AwsServiceError(
                    'ResourceNotFoundException',
                    'No cluster found for name: missing.',
                    404,
                  );
                }
                return { body: { cluster: { name: req.params.name, status: 'ACTIVE' } } };
              },
            },
          ],
        },
      ],
      dynamodb: new LocalDynamoDb(),
      admin: {
        clock,
        bus,
        faults,
        router,
        ses,
        eks,
        ecs: new EcsBackend(core),
        ecr: new EcrBackend(core),
        stream: new ConsoleStream({ bus, router, ses, eks, faults, clock }),
        views: {},
        defaultAccountId: core.defaultAccountId,
        defaultRegion: core.defaultRegion,
        endpoint: () => endpoint,
        startedAt: new Date(),
        services: ['ecs', 'eks'],
      },
    },
    0,
  );
  endpoint = `http://127.0.0.1:${serverPort(server)}`;
});
afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);
beforeEach(() => {
  calls.length = 0;
  faults.clear();
});

const config = (region = 'eu-west-1') => ({
  endpoint,
  region,
  credentials: { accessKeyId: '123456789012', secretAccessKey: 'x' },
});

describe('routing with fake backends', () => {
  it('sends awsJson calls to the operation named by X-Amz-Target, in the caller’s account and region', async () => {
    const out = await new ECSClient(config()).send(new ListClustersCommand({ maxResults: 5 }));
    expect(out.clusterArns).toEqual(['arn:aws:ecs:eu-west-1:123456789012:cluster/fake']);
    expect(calls[0]).toMatchObject({
      operation: 'ListClusters',
      input: { maxResults: 5 },
      ctx: { accountId: '123456789012', region: 'eu-west-1', accessKeyId: '123456789012' },
    });
  });

  it('routes restJson by method and path, decoding {param}s, and the SDK parses the error code', async () => {
    const eks = new EKSClient(config('ap-south-1'));
    expect((await eks.send(new EksListClustersCommand({}))).clusters).toEqual(['one']);
    const out = await eks.send(new DescribeClusterCommand({ name: 'prod-eu' }));
    expect(out.cluster).toMatchObject({ name: 'prod-eu', status: 'ACTIVE' });
    expect(calls[0]?.ctx.region).toBe('ap-south-1');
    await expect(eks.send(new DescribeClusterCommand({ name: 'missing' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'No cluster found for name: missing.',
      $metadata: { httpStatusCode: 404 },
    });
    const raw = await fetch(`${endpoint}/clusters/a%20b`);
    expect(((await raw.json()) as { cluster: { name: string } }).cluster.name).toBe('a b');
  });

  it('throttles ECS and EKS with ThrottlingException before the backend runs', async () => {
    faults.add({ kind: 'throttle', service: '*', rate: 1 });
    await expect(
      new ECSClient({ ...config(), maxAttempts: 1 }).send(new ListClustersCommand({})),
    ).rejects.toMatchObject({ name: 'ThrottlingException' });
    await expect(
      new EKSClient({ ...config(), maxAttempts: 1 }).send(new DescribeClusterCommand({ name: 'x' })),
    ).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(calls).toEqual([]);
  });
});
