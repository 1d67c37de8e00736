/**
 * Holds end to end through the local cloud: a frozen service is not deployed until unfrozen; a push outside
 * the service's maintenance window is held and applied once when it opens, even when the release schedule is
 * delivered twice; an approval holds the push, approving it releases it once, rejecting it drops it.
 */
import { randomUUID } from 'node:crypto';
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
import { main } from '../../../cli/holds';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import { main as planMain } from '../../../cli/plan';
import { ACCOUNT, clientConfig, digestOf, manifest, REGION, REGISTRY, until } from '../../support/cloud';

let cloud: LocalCloud;
let ecs: ECSClient;
let ecr: ECRClient;
const WORKLOAD = 'ecs/prod/api';

async function start(tags: { key: string; value: string }[] = []) {
  cloud = await createLocalCloud({ port: 0, speed: 0, empty: true });
  ecs = new ECSClient(clientConfig(cloud));
  ecr = new ECRClient(clientConfig(cloud));
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  vi.stubEnv('AWS_REGION', REGION);
  vi.stubEnv('AWS_ENDPOINT_URL', cloud.endpoint);
  await ecr.send(new CreateRepositoryCommand({ repositoryName: 'shop/api' }));
  await ecr.send(
    new PutImageCommand({ repositoryName: 'shop/api', imageTag: 'latest', imageManifest: manifest('v1') }),
  );
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
  await ecs.send(
    new CreateServiceCommand({
      cluster: 'prod',
      serviceName: 'api',
      taskDefinition: 'api',
      desiredCount: 1,
      launchType: 'FARGATE',
      tags,
    }),
  );
  await until(cloud, 'api steady, its deployment completed', async () => {
    const p = await primary();
    return p.runningCount === 1 && p.rolloutState === 'COMPLETED';
  });
}

afterEach(async () => {
  vi.unstubAllEnvs();
  await cloud?.stop();
});

async function primary() {
  const { services = [] } = await ecs.send(
    new DescribeServicesCommand({ cluster: 'prod', services: ['api'] }),
  );
  const deployments = services[0]?.deployments ?? [];
  return { ...deployments.find((d) => d.status === 'PRIMARY'), count: deployments.length };
}

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  // The functions run in this process too: a scheduled invocation may log while the CLI runs, so their
  // structured log lines are set aside from what the CLI printed.
  const isLog = (c: unknown) => String(c).startsWith('{"level":');
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
    if (!isLog(c)) out += String(c);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c) => {
    if (!isLog(c)) err += String(c);
    return true;
  });
  try {
    const [command, ...rest] = args;
    const code = await main([...rest, '--table', cloud.config.stateTable], command);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

async function planCli(args: string[]): Promise<string> {
  let out = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
    if (!String(c).startsWith('{"level":')) out += String(c); // a function's log line, not the CLI's output
    return true;
  });
  try {
    await planMain(args);
    return out;
  } finally {
    o.mockRestore();
  }
}

const push = (seed: string) =>
  ecr.send(
    new PutImageCommand({ repositoryName: 'shop/api', imageTag: 'latest', imageManifest: manifest(seed) }),
  );

/** The release schedule's event, as EventBridge delivers it (the same event twice: a duplicate delivery). */
function releaseEvent() {
  return {
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
    resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/harborpilot-dev-redeployEcs-release-holds`],
    detail: {},
  };
}

const logged = (message: string) =>
  cloud.router
    .invocations()
    .filter((i) => i.functionName === 'redeployEcs')
    .flatMap((i) => i.logs ?? [])
    .filter((l) => l.includes(`"message":"${message}"`));

async function runningDigest(): Promise<string | undefined> {
  const { taskArns = [] } = await ecs.send(
    new ListTasksCommand({ cluster: 'prod', serviceName: 'api', desiredStatus: 'RUNNING' }),
  );
  if (taskArns.length !== 1) return undefined;
  const { tasks = [] } = await ecs.send(new DescribeTasksCommand({ cluster: 'prod', tasks: taskArns }));
  return tasks[0]?.lastStatus === 'RUNNING' ? tasks[0]?.containers?.[0]?.imageDigest : undefined;
}

const primaryTaskDefinition = async () => (await primary()).taskDefinition;
const primaryId = async () => (await primary()).id;

describe('freeze', () => {
  beforeEach(() => start());

  it('a frozen service is not deployed; unfreezing releases the held push once', async () => {
    const frozen = await cli('freeze', WORKLOAD, '--reason', 'incident 42', '--until', '2d');
    expect(frozen.code, frozen.err).toBe(0);
    expect(frozen.out).toMatch(
      /frozen ecs\/prod\/api until .* by arn:aws:iam::000000000000:root: incident 42/,
    );
    const before = await primaryId();
    await push('v2');
    await cloud.router.waitForIdle();
    expect(await primaryId()).toBe(before);
    expect(logged('push held')).toHaveLength(1);
    const list = await cli('holds');
    expect(list.out).toMatch(/ecs\/prod\/api\s+frozen\s+by arn:aws:iam::000000000000:root/);
    expect(list.out).toMatch(/ecs\/prod\/api\s+held \(freeze\)\s+shop\/api:latest@sha256:.*frozen by/);
    // harborpilot plan push says why it would not deploy now.
    const plan = await planCli(['push', `${REGISTRY}/shop/api:latest`, '--endpoint-url', cloud.endpoint]);
    expect(plan).toMatch(
      /ECS\s+prod\/api\s+held \(freeze\)\s+frozen by arn:aws:iam::000000000000:root at .*: incident 42/,
    );

    // Still frozen: release runs (the 1-minute schedule) keep it held.
    await cloud.clock.advance(120_000);
    await cloud.router.waitForIdle();
    expect(await primaryId()).toBe(before);

    const unfrozen = await cli('unfreeze', WORKLOAD);
    expect(unfrozen.out).toMatch(/unfrozen ecs\/prod\/api \(frozen by .*incident 42\)/);
    await until(cloud, 'the held push released', async () => (await primaryId()) !== before);
    await cloud.clock.advance(180_000);
    await cloud.router.waitForIdle();
    expect(logged('held push released')).toHaveLength(1);
    expect((await cli('holds')).out).toMatch(/no freezes, held pushes, approvals or failed digests/);
    await until(cloud, 'the task on v2', async () => (await runningDigest()) === digestOf(manifest('v2')));
  });

  it('refuses a freeze without a reason, and a workload id it cannot read', async () => {
    expect((await cli('freeze', WORKLOAD)).err).toMatch(/--reason TEXT is required/);
    const bad = await cli('freeze', 'ecs/prod', '--reason', 'x');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/invalid workload "ecs\/prod": an ECS workload has a cluster and a service/);
  });
});

describe('maintenance window', () => {
  it('a push outside the window is held and applied once when it opens, though the release is delivered twice', async () => {
    // A window opening 10 minutes from the simulated now, for an hour, every day.
    const opens = new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 10 * 60_000);
    const hhmm = (d: Date) => d.toISOString().slice(11, 16);
    const window = `Mon-Sun ${hhmm(opens)}-${hhmm(new Date(opens.getTime() + 3600_000))} UTC`;
    await start([{ key: 'harborpilot:window', value: window }]);
    const before = await primaryId();
    const taskDefinition = await primaryTaskDefinition();
    await push('v2');
    await cloud.router.waitForIdle();
    expect(await primaryId()).toBe(before);
    expect((await cli('holds')).out).toMatch(/held \(window\).*outside maintenance window/);

    // Once it opens: the 1-minute schedule, and two deliveries of one release event at once.
    await until(
      cloud,
      'the window opens',
      async () => cloud.clock.nowMs() >= opens.getTime(),
      5_000,
      120_000,
    );
    const event = releaseEvent();
    cloud.router.invoke('redeployEcs', event);
    cloud.router.invoke('redeployEcs', event);
    await cloud.router.waitForIdle();
    await until(cloud, 'the held push released', async () => (await primaryId()) !== before);
    cloud.router.invoke('redeployEcs', releaseEvent());
    await cloud.clock.advance(120_000);
    await cloud.router.waitForIdle();
    expect(logged('held push released')).toHaveLength(1);
    expect((await primary()).taskDefinition).toBe(taskDefinition);
    const { services = [] } = await ecs.send(
      new DescribeServicesCommand({ cluster: 'prod', services: ['api'] }),
    );
    // The push's own deployment and the first: one released deployment, not two.
    expect(services[0]?.deployments?.filter((d) => d.id !== before).length).toBe(1);
  });

  it('a window that cannot be read holds the push and fails the invocation naming the service', async () => {
    await start([{ key: 'harborpilot:window', value: 'Mon-Fri 09:00-17:00 Mars/Olympus' }]);
    const before = await primaryId();
    await push('v2');
    await cloud.router.waitForIdle();
    expect(await primaryId()).toBe(before);
    const failed = cloud.router
      .invocations()
      .find((i) => i.functionName === 'redeployEcs' && i.status === 'failed');
    expect(failed?.error).toMatch(
      /ecs\/prod\/api: invalid maintenance window .*"Mars\/Olympus" is not an IANA time zone/,
    );
  });
});

describe('approval', () => {
  beforeEach(() => start([{ key: 'harborpilot:approval', value: 'required' }]));

  const pendingId = async () => {
    const list = JSON.parse((await cli('holds', '--json')).out) as { approvals: { approvalId: string }[] };
    return list.approvals[0]?.approvalId as string;
  };

  it('holds the push until approved, then releases it once', async () => {
    const before = await primaryId();
    await push('v2');
    await cloud.router.waitForIdle();
    expect(await primaryId()).toBe(before);
    const requested = logged('approval requested');
    expect(requested).toHaveLength(1);
    const id = await pendingId();
    expect(id).toMatch(/^[0-9a-z]{8}$/);
    expect(requested[0]).toContain(`npx harborpilot approve ${id}`);

    await cloud.clock.advance(120_000);
    await cloud.router.waitForIdle();
    expect(await primaryId()).toBe(before);

    const approved = await cli('approve', id);
    expect(approved.code, approved.err).toBe(0);
    expect(approved.out).toMatch(
      new RegExp(`approved ${id} for ecs/prod/api as arn:aws:iam::000000000000:root`),
    );
    await until(cloud, 'the approved push released', async () => (await primaryId()) !== before);
    await cloud.clock.advance(180_000);
    await cloud.router.waitForIdle();
    expect(logged('held push released')).toHaveLength(1);
    // Decided once: a second approval is refused, naming the first.
    const again = await cli('approve', id);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(
      new RegExp(`approval ${id} for ecs/prod/api was already approved by arn:aws:iam`),
    );
  });

  it('rejecting drops the held push', async () => {
    const before = await primaryId();
    await push('v2');
    await cloud.router.waitForIdle();
    const id = await pendingId();
    const rejected = await cli('reject', id);
    expect(rejected.out).toMatch(/the held push is dropped/);
    await cloud.clock.advance(180_000);
    await cloud.router.waitForIdle();
    expect(await primaryId()).toBe(before);
    expect(logged('held push dropped').join()).toMatch(/rejected by arn:aws:iam::000000000000:root/);
    expect((await cli('holds')).out).not.toMatch(/held \(approval\)/);
  });
});

describe('rollback', () => {
  beforeEach(() => start());
  const v1 = digestOf(manifest('v1'));
  const v2 = digestOf(manifest('v2'));

  it('returns a service to its previous digest and freezes it, so the next push waits', async () => {
    await push('v2');
    await until(cloud, 'the task on v2', async () => (await runningDigest()) === v2);
    await until(
      cloud,
      'the v2 deployment completed',
      async () => (await primary()).rolloutState === 'COMPLETED',
    );
    const dry = await cli('rollback', WORKLOAD, '--dry-run');
    expect(dry.code, dry.err).toBe(0);
    expect(dry.out).toMatch(
      /dry run: would roll back ecs\/prod\/api \(ecs-revision\) and freeze it: rolled back by arn:aws:iam::000000000000:root/,
    );
    expect(dry.out).toContain(`app: ${REGISTRY}/shop/api:latest@${v2} → ${REGISTRY}/shop/api:latest@${v1}`);

    const done = await cli('rollback', WORKLOAD);
    expect(done.code, done.err).toBe(0);
    expect(done.out).toMatch(
      /rolled back ecs\/prod\/api: UpdateService to arn:aws:ecs:.*:task-definition\/api:2/,
    );
    await until(cloud, 'the task back on v1', async () => (await runningDigest()) === v1);
    expect((await cli('holds')).out).toMatch(
      /ecs\/prod\/api\s+frozen\s+by arn:aws:iam::000000000000:root .*rolled back by/,
    );

    // The rollback sticks: a push of another image is held by the freeze, not deployed.
    await push('v3');
    await cloud.router.waitForIdle();
    await cloud.clock.advance(120_000);
    await cloud.router.waitForIdle();
    expect(await runningDigest()).toBe(v1);
    expect((await cli('holds')).out).toMatch(/held \(freeze\)/);
  });

  it('stops a deployment in progress with StopServiceDeployment (ROLLBACK)', async () => {
    await push('v2');
    await cloud.router.waitForIdle();
    expect((await primary()).rolloutState).toBe('IN_PROGRESS');
    const done = await cli('rollback', WORKLOAD, '--reason', 'bad build');
    expect(done.code, done.err).toBe(0);
    expect(done.out).toMatch(
      /StopServiceDeployment arn:aws:ecs:.*:service-deployment\/prod\/api\/.* \(ROLLBACK\)/,
    );
    expect(done.out).toMatch(/frozen: bad build/);
    await until(cloud, 'back on v1, the rollback completed', async () => {
      const p = await primary();
      return p.rolloutState === 'COMPLETED' && (await runningDigest()) === v1;
    });
  });

  it('a workload with nothing to return to is refused, naming why', async () => {
    const r = await cli('rollback', WORKLOAD);
    expect(r.err).not.toMatch(/in progress/);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /RollbackError: cannot roll back ecs\/prod\/api: no earlier successful deployment ran other images/,
    );
  });
});
