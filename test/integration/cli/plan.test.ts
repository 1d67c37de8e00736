/**
 * `harborpilot plan` against the local cloud's demo world (simulated clock stopped, so the demo stands still
 * while it is planned): prune names the old sha-* builds of shop/api as deletable and keeps what ECS runs,
 * exactly as pruneImages plans it; push and capacity print their tables; nothing is written; a cluster that
 * cannot be read fails the plan, named. One run goes through bin/harborpilot.mjs as a user types it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import { loadWorldFile } from '../../../local/world';
import { clientConfig, REGISTRY, until } from '../../support/cloud';
import { configFile, runPlan } from '../../unit/cli/run';

const exec = promisify(execFile);
const ROOT = new URL('../../../', import.meta.url).pathname;
const WORLD = `${ROOT}worlds/demo.yml`;

let cloud: LocalCloud;
const calls: string[] = [];

beforeAll(async () => {
  cloud = await createLocalCloud({
    port: 0,
    speed: 0,
    world: loadWorldFile(WORLD),
    onApiCall: (line) => calls.push(line),
  });
  const ecs = new ECSClient(clientConfig(cloud));
  await until(cloud, 'the demo running: ECS tasks and EKS pods', async () => {
    const pods = cloud.eks.kube('shop-eks').store.list('pods') as { status?: { phase?: string } }[];
    const tasks = await ecs.send(new ListTasksCommand({ cluster: 'shop', desiredStatus: 'RUNNING' }));
    return (
      pods.length >= 6 &&
      pods.every((p) => p.status?.phase === 'Running') &&
      (tasks.taskArns ?? []).length >= 7
    );
  });
  await cloud.router.waitForIdle();
});
afterAll(() => cloud?.stop());
beforeEach(() => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('HARBORPILOT_CONFIG_FILE', undefined);
  return () => vi.unstubAllEnvs();
});

/** AWS calls and Kubernetes requests that change something: none may come from a plan. */
const writes = () => [
  ...calls.filter((l) =>
    /BatchDeleteImage|PutImage|UpdateService|RegisterTaskDefinition|SendEmail|PutItem|UpdateItem/.test(l),
  ),
  ...cloud.eks
    .kube('shop-eks')
    .audit.filter((a) => a.method !== 'GET')
    .map((a) => `${a.method} ${a.url}`),
];
const plan = (...args: string[]) => runPlan([...args, '--endpoint-url', cloud.endpoint]);

describe('harborpilot plan against the demo world', () => {
  it('plan prune (bin/harborpilot.mjs): the old sha-* builds of shop/api would go, what ECS runs stays', async () => {
    const before = writes().length;
    const { stdout, stderr } = await exec(
      'node',
      [`${ROOT}bin/harborpilot.mjs`, 'plan', 'prune', '--world', WORLD, '--repository', 'shop/api'],
      {
        cwd: ROOT,
        timeout: 30_000,
        env: { ...process.env, AWS_ENDPOINT_URL: cloud.endpoint, AWS_REGION: 'us-east-1' },
      },
    );
    expect(stderr).not.toMatch(/harborpilot plan/);
    // The AWS SDK's seven-line Node version warning is not shown; on Node < 22, one short line instead.
    expect(stderr).not.toContain('NodeVersionSupportWarning');
    expect(stderr.split('\n').filter(Boolean).length).toBeLessThanOrEqual(1);
    expect(stdout).toMatch(/^prune plan: 2 of 5 image\(s\) would be deleted, .* in 1 repository/);
    expect(stdout).toMatch(
      /\nsha256:\S+\s+sha-3f9c2e1\s+\S+\s+delete\s+tags sha-3f9c2e1, pushed 45 days ago: .*not in use/,
    );
    expect(stdout).toMatch(/\nsha256:\S+\s+sha-8a1b7d2\s+\S+\s+delete\s+/);
    expect(stdout).toMatch(
      /\nsha256:\S+\s+v1.2.0,latest\s+\S+\s+keep\s+in-use: ECS task shop\/\w+ container api \(RUNNING\)/,
    );
    expect(stdout).toMatch(/\nsha256:\S+\s+v1.0.0\s+\S+\s+keep\s+protected-tag/);
    expect(writes().length).toBe(before);
  });

  it('plan prune --json is the plan pruneImages makes in this world', async () => {
    const r = await plan('prune', '--json', '--world', WORLD);
    expect(r.code, r.stderr).toBe(0);
    const { plan: p } = JSON.parse(r.stdout);
    // planned at the local cloud's simulated time (stopped here), as its pruneImages plans
    expect(p.now).toBe(cloud.clock.now().toISOString());
    const [invocation] = await cloud.router.runSchedule('pruneImages');
    expect(invocation?.status).toBe('succeeded');
    expect(invocation?.result).toMatchObject({
      dryRun: true,
      images: p.totals.images,
      planned: p.totals.deleted,
      bytesFreed: p.totals.bytesFreed,
    });
    expect(p.totals.deleted).toBe(3); // shop/api's two sha-* builds and shop/worker's untagged leftover
  });

  it('plan push: the ECS service and the EKS Deployments that run the tag, as a table', async () => {
    const before = writes().length;
    const r = await plan('push', `${REGISTRY}/shop/api:latest@sha256:${'1'.repeat(64)}`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 of 1 ECS service\(s\) and 2 of 2 EKS workload\(s\) would move/);
    expect(r.stdout).toMatch(/ECS\s+shop\/api\s+force-new-deployment/);
    expect(r.stdout).toMatch(/EKS\s+shop-eks\/shop\/deployment\/api\s+patch/);
    expect(writes().length).toBe(before);
  });

  it('plan push --world: every target of the organisation, through its role; --account and --region narrow it', async () => {
    const before = writes().length;
    const image = `${REGISTRY}/shop/api:latest@sha256:${'1'.repeat(64)}`;
    const all = await plan('push', image, '--world', WORLD);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/3 of 3 ECS service\(s\) and 2 of 2 EKS workload\(s\) would move/);
    expect(all.stdout).toMatch(/ECS\s+111111111111\/us-east-1\/web\/shop-api\s+force-new-deployment/);
    expect(all.stdout).toMatch(/ECS\s+222222222222\/us-west-2\/web\/shop-api\s+force-new-deployment/);
    const prod = await plan('push', image, '--world', WORLD, '--account', 'prod');
    expect(prod.stdout).toMatch(/1 of 1 ECS service\(s\) and 0 of 0 EKS workload\(s\) would move/);
    expect(prod.stdout).toMatch(/ECS\s+222222222222\/us-west-2\/web\/shop-api/);
    const east = await plan('push', image, '--world', WORLD, '--region', 'us-east-1');
    expect(east.stdout).toMatch(/2 of 2 ECS service\(s\)/);
    expect(east.stdout).not.toMatch(/222222222222/);
    const unknown = await plan('push', image, '--world', WORLD, '--account', '999999999999');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--account 999999999999: not an account of harborpilot.yml's targets/);
    expect(calls.some((l) => l.startsWith('sts.AssumeRole'))).toBe(true);
    expect(writes().length).toBe(before);
  });

  it('plan capacity: findings and the headroom of the ECS services and EKS nodes', async () => {
    const before = writes().length;
    const r = await plan('capacity', '--world', WORLD);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^capacity at .*: \d+ critical, \d+ warning, \d+ info\n/);
    expect(r.stdout).toMatch(/\napi\s+EC2\s+2\/2\s/);
    expect(r.stdout).toMatch(/\nEKS shop-eks: 4 node\(s\), 0 pod\(s\) pending/);
    expect(r.stdout).toMatch(/\ngeneral\s+ACTIVE\s+\d+\/\d+\/\d+/);
    expect(writes().length).toBe(before);
  });

  it("plan capacity --world: one report across the organisation's targets; --account narrows it", async () => {
    const all = await plan('capacity', '--world', WORLD);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/\nECS shop: /);
    expect(all.stdout).toMatch(/\nECS 111111111111\/us-east-1\/web: no container instances \(Fargate only\)/);
    expect(all.stdout).toMatch(/\nECS 222222222222\/us-west-2\/web: /);
    const prod = await plan('capacity', '--world', WORLD, '--account', 'prod');
    expect(prod.code, prod.stderr).toBe(0);
    expect(prod.stdout).toMatch(/\nECS 222222222222\/us-west-2\/web: /);
    expect(prod.stdout).not.toMatch(/\nECS shop: /);
  });

  it('plan prune refuses to plan when a cluster in scope cannot be read, naming it', async () => {
    const r = await plan('prune', '--config', configFile('eks:\n  clusters: [shop-eks, gone-eks]\n'));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^harborpilot plan prune: in-use set incomplete.*EKS cluster gone-eks/);
  });
});
