/**
 * Rollbacks that stick, end to end through the local cloud: a push whose deployment the circuit breaker rolls back
 * is recorded, settled as rolled back by trackDeployments (ECS's service deployment confirms it), and the 15-minute
 * reconcile then holds that digest instead of deploying it again; a newer digest deploys and clears it. A
 * duplicate deployment event changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateRepositoryCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import { main as planMain } from '../../../cli/plan';
import { ACCOUNT, clientConfig, digestOf, manifest, REGION, REGISTRY, until } from '../../support/cloud';

let cloud: LocalCloud;
let ecs: ECSClient;
let ecr: ECRClient;
const v1 = digestOf(manifest('v1'));
const v2 = digestOf(manifest('v2'));
const v3 = digestOf(manifest('v3'));

async function start(
  world: Record<string, unknown> = {},
  services: Record<string, { key: string; value: string }[]> = { api: [] },
  strategy: { strategy?: 'BLUE_GREEN'; bakeTimeInMinutes?: number } = {},
) {
  cloud = await createLocalCloud({ port: 0, speed: 0, world });
  ecs = new ECSClient(clientConfig(cloud));
  ecr = new ECRClient(clientConfig(cloud));
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  vi.stubEnv('AWS_REGION', REGION);
  vi.stubEnv('AWS_ENDPOINT_URL', cloud.endpoint);
  await ecr.send(new CreateRepositoryCommand({ repositoryName: 'shop/api' }));
  await push('v1');
  await ecs.send(new CreateClusterCommand({ clusterName: 'prod' }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'api',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'app', image: `${REGISTRY}/shop/api:latest`, essential: true }],
    }),
  );
  for (const [serviceName, tags] of Object.entries(services))
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'prod',
        serviceName,
        taskDefinition: 'api',
        desiredCount: 1,
        launchType: 'FARGATE',
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true }, ...strategy },
        tags,
      }),
    );
  await until(cloud, 'services steady on v1', async () => {
    for (const name of Object.keys(services))
      if ((await primary(name)).rolloutState !== 'COMPLETED') return false;
    return true;
  });
}

afterEach(async () => {
  vi.unstubAllEnvs();
  await cloud?.stop();
});

const push = (seed: string) =>
  ecr.send(
    new PutImageCommand({ repositoryName: 'shop/api', imageTag: 'latest', imageManifest: manifest(seed) }),
  );

async function service(name = 'api') {
  const { services = [] } = await ecs.send(
    new DescribeServicesCommand({ cluster: 'prod', services: [name] }),
  );
  return services[0];
}
const primary = async (name = 'api') => ({
  ...(await service(name))?.deployments?.find((d) => d.status === 'PRIMARY'),
});

async function runningDigest(name = 'api'): Promise<string | undefined> {
  const { taskArns = [] } = await ecs.send(
    new ListTasksCommand({ cluster: 'prod', serviceName: name, desiredStatus: 'RUNNING' }),
  );
  if (taskArns.length !== 1) return undefined;
  const { tasks = [] } = await ecs.send(new DescribeTasksCommand({ cluster: 'prod', tasks: taskArns }));
  return tasks[0]?.lastStatus === 'RUNNING' ? tasks[0]?.containers?.[0]?.imageDigest : undefined;
}

const logs = (fn: string, message: string) =>
  cloud.router
    .invocations()
    .filter((i) => i.functionName === fn)
    .flatMap((i) => i.logs ?? [])
    .filter((l) => l.includes(`"message":"${message}"`));

async function item(id: string) {
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { unmarshall } = await import('@aws-sdk/util-dynamodb');
  const out = await new DynamoDBClient(clientConfig(cloud)).send(
    new GetItemCommand({ TableName: cloud.config.stateTable, Key: { id: { S: id } }, ConsistentRead: true }),
  );
  return out.Item ? unmarshall(out.Item) : undefined;
}

async function planCli(args: string[]): Promise<string> {
  let out = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
    out += String(c);
    return true;
  });
  try {
    await planMain(args);
    return out;
  } finally {
    o.mockRestore();
  }
}

/** A push of a broken image (its digest cannot be pulled): the circuit breaker fails it and rolls back to v1. */
async function pushRolledBack(seed: string) {
  cloud.faults.add({
    kind: 'pullFailure',
    repository: 'shop/api',
    digest: digestOf(manifest(seed)),
    reason: 'broken image',
  });
  const before = (await primary()).id;
  await push(seed);
  await cloud.router.waitForIdle();
  const started = (await primary()).id;
  expect(started).not.toBe(before);
  await until(cloud, 'the circuit breaker fails the deployment', async () => {
    const d = (await service())?.deployments?.find((x) => x.id === started);
    return d === undefined || d.rolloutState === 'FAILED';
  });
  await until(
    cloud,
    'rolled back to v1',
    async () => {
      const p = await primary();
      return p.id !== started && p.rolloutState === 'COMPLETED' && (await runningDigest()) === v1;
    },
    5_000,
    120_000,
  );
  await cloud.clock.advance(60_000);
  await cloud.router.waitForIdle();
  return started as string;
}

describe('rollbacks that stick (ECS)', () => {
  beforeEach(() => start());

  it('a rolled-back digest is not redeployed by the reconcile; a newer digest deploys and clears it', async () => {
    const started = await pushRolledBack('v2');
    const record = await item(`deployment#ecs/prod/api#${started}`);
    expect(record).toMatchObject({
      state: 'rolled-back',
      workload: 'ecs/prod/api',
      cause: { kind: 'push' },
      changes: [{ container: 'app', toDigest: v2 }],
      deployedDigests: { app: v2 },
    });
    expect(record?.reason).toMatch(/circuit breaker: tasks failed to start.*rolling back to deploymentId/);
    expect(record?.serviceDeploymentArn).toMatch(/:service-deployment\/prod\/api\//);
    expect((await item('failed#ecs/prod/api'))?.digests).toEqual({
      [v2]: expect.objectContaining({ container: 'app', outcome: 'rolled-back', deployment: started }),
    });
    expect(logs('trackDeployments', 'deployment settled: digest held as failed')).toHaveLength(1);

    // The reconcile (every 15 minutes) sees latest → v2 and a service on v1: held, not deployed, run after run.
    const rolledBackTo = (await primary()).id;
    for (let i = 0; i < 2; i++) {
      const [run] = await cloud.router.runSchedule('redeployEcs');
      expect(run?.status).toBe('succeeded');
    }
    expect((await primary()).id).toBe(rolledBackTo);
    expect(await runningDigest()).toBe(v1);
    const held = logs('redeployEcs', 'redeploy plan').filter((l) => l.includes('"gate":"failed-digest"'));
    expect(held.length).toBeGreaterThanOrEqual(2);
    // harborpilot plan push says why, and when.
    const plan = await planCli(['push', `${REGISTRY}/shop/api:latest`, '--endpoint-url', cloud.endpoint]);
    expect(plan).toMatch(
      new RegExp(
        `ECS\\s+prod/api\\s+held \\(failed-digest\\)\\s+${v2} was rolled back here at \\S+ \\(deployment ${started} of app, shop/api:latest pushed at`,
      ),
    );

    // A fix: another digest deploys, completes, and the failed digest is forgotten.
    await push('v3');
    await until(cloud, 'v3 running', async () => (await runningDigest()) === v3, 5_000, 120_000);
    await until(
      cloud,
      'the v3 deployment settled',
      async () => (await item('failed#ecs/prod/api')) === undefined,
    );
    const settled = logs('trackDeployments', 'deployment settled');
    expect(settled.at(-1)).toContain(`"failedDigestsCleared":["${v2}"]`);
    expect(
      cloud.router
        .invocations()
        .filter((i) => i.status === 'failed' && i.functionName !== 'alertTaskFailures'),
    ).toEqual([]);
  }, 240_000);

  it('a duplicate deployment event changes nothing', async () => {
    const started = await pushRolledBack('v2');
    const failedEvent = cloud.bus.history.find(
      (e) => e.detail.eventName === 'SERVICE_DEPLOYMENT_FAILED' && e.detail.deploymentId === started,
    );
    expect(failedEvent).toBeDefined();
    const before = [await item(`deployment#ecs/prod/api#${started}`), await item('failed#ecs/prod/api')];
    const event = {
      version: '0' as const,
      id: randomUUID(),
      'detail-type': 'ECS Deployment State Change',
      source: 'aws.ecs',
      account: ACCOUNT,
      time: cloud.clock
        .now()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
      region: REGION,
      resources: [`arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/api`],
      detail: failedEvent?.detail ?? {},
    };
    cloud.router.invoke('trackDeployments', event);
    cloud.router.invoke('trackDeployments', event);
    await cloud.router.waitForIdle();
    expect([await item(`deployment#ecs/prod/api#${started}`), await item('failed#ecs/prod/api')]).toEqual(
      before,
    );
    expect(
      logs('trackDeployments', 'no open deployment harborpilot started on this service').length,
    ).toBeGreaterThanOrEqual(2);
    expect(logs('trackDeployments', 'deployment settled: digest held as failed')).toHaveLength(1);
  }, 240_000);
});

describe('deployment notices', () => {
  const world = {
    ses: { identities: ['example.com'] },
    config: {
      alerts: { from: 'harborpilot@example.com', to: ['ops@example.com'] },
      notices: { level: 'all' },
    },
  };
  const mail = async () =>
    (
      (await (await fetch(`${cloud.endpoint}/_aws/ses`)).json()) as {
        messages: {
          Subject: string;
          Destination: { ToAddresses: string[] };
          Body: { text_part: string; html_part: string };
        }[];
      }
    ).messages;
  const scheduleEvent = () => ({
    version: '0' as const,
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: ACCOUNT,
    time: cloud.clock
      .now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z'),
    region: REGION,
    resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/harborpilot-dev-trackDeployments-settle`],
    detail: {},
  });

  it('a push that moves several services is one email, once, naming each from → to; notify=off leaves one out', async () => {
    await start(world, {
      api: [],
      web: [],
      worker: [{ key: 'harborpilot:notify', value: 'off' }],
    });
    await push('v2');
    await until(
      cloud,
      'every service on v2',
      async () => {
        for (const name of ['api', 'web', 'worker'])
          if ((await primary(name)).rolloutState !== 'COMPLETED' || (await runningDigest(name)) !== v2)
            return false;
        return true;
      },
      5_000,
      120_000,
    );
    await until(cloud, 'the notice sent', async () => (await mail()).length > 0, 30_000, 120_000);
    // Later runs of the schedule, and one run delivered twice at once, send nothing more.
    const event = scheduleEvent();
    cloud.router.invoke('trackDeployments', event);
    cloud.router.invoke('trackDeployments', event);
    await cloud.clock.advance(180_000);
    await cloud.router.waitForIdle();
    const messages = await mail();
    expect(messages).toHaveLength(1);
    const [email] = messages;
    expect(email?.Subject).toBe('[harborpilot] shop/api:latest: 3 deployed');
    expect(email?.Destination.ToAddresses).toEqual(['ops@example.com']);
    const text = email?.Body.text_part ?? '';
    expect(text).toMatch(/^- ecs\/prod\/api: deployed after \d+ (s|min)/m);
    expect(text).toMatch(/^- ecs\/prod\/web: deployed after/m);
    expect(text).not.toContain('ecs/prod/worker');
    expect(text).toContain('1 other deployment(s) of this push not shown');
    expect(text).toContain(`app: shop/api:latest (${v1}) -> shop/api:latest (${v2})`);
    expect(text).toMatch(new RegExp(`^shop/api:latest → ${v2}, pushed `, 'm'));
    expect(email?.Body.html_part).toContain('<b>app</b>');
    expect(cloud.router.invocations().filter((i) => i.status === 'failed')).toEqual([]);
  }, 240_000);

  it('a blue/green deployment is told only once ECS reports it successful, after its bake time', async () => {
    await start(world, { api: [] }, { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 10 });
    const before = (await primary()).id;
    await push('v2');
    await cloud.router.waitForIdle();
    const started = (await primary()).id as string;
    expect(started).not.toBe(before);
    // Green runs beside blue and bakes: the settle schedule reads IN_PROGRESS, the record stays open, no email.
    await cloud.clock.advance(180_000);
    await cloud.router.waitForIdle();
    const [run] = await cloud.router.runSchedule('trackDeployments');
    expect(run?.status).toBe('succeeded');
    const { taskArns = [] } = await ecs.send(
      new ListTasksCommand({ cluster: 'prod', serviceName: 'api', desiredStatus: 'RUNNING' }),
    );
    expect(taskArns).toHaveLength(2);
    expect(await item(`deployment#ecs/prod/api#${started}`)).toMatchObject({ state: 'in-progress' });
    expect(await mail()).toEqual([]);
    // Bake time over: blue stops, ECS reports it SUCCESSFUL, the record completes and the notice goes out.
    await until(
      cloud,
      'the deployment settled as completed',
      async () => (await item(`deployment#ecs/prod/api#${started}`))?.state === 'completed',
      30_000,
      120_000,
    );
    expect(await runningDigest()).toBe(v2);
    await until(cloud, 'the notice sent', async () => (await mail()).length > 0, 30_000, 120_000);
    const [email] = await mail();
    expect(email?.Subject).toBe('[harborpilot] shop/api:latest: 1 deployed');
    expect(email?.Body.text_part).toMatch(/^- ecs\/prod\/api: deployed after 1\d min/m);
  }, 240_000);
});
