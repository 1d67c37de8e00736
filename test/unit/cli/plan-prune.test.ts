/**
 * `harborpilot plan prune` over a fake registry and fleet (aws-sdk-client-mock): the plan pruneImages would
 * make, every delete and keep reason, read-only, and the errors and usage a user meets.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { EKSClient } from '@aws-sdk/client-eks';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import scheduled from '../../../events/scheduled.json';
import { parseConfigYaml } from '../../../shared/config-file';
import { makePruneImages } from '../../../shared/prune-images/handler';
import { d, image, NOW, REG } from '../../fixtures/ecr-image-builders';
import { type FakeWorld, fakeCloud } from '../../fixtures/fake-registry';
import { configFile, runPlan } from './run';

const dynamodb = mockClient(DynamoDBClient);
let cloud: ReturnType<typeof fakeCloud>;

beforeEach(() => {
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('HARBORPILOT_CONFIG_FILE', undefined);
  dynamodb.reset();
});
afterEach(() => {
  cloud?.reset();
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

const CONFIG = 'prune:\n  keepLast: 1\n  keepDays: 7\n';

/** shop/api: build-0..2 old (build-1 runs on ECS), build-new recent; shop/web: one old, one recent. */
function world(over: Partial<FakeWorld> = {}) {
  cloud = fakeCloud({
    repositories: [
      {
        name: 'shop/api',
        images: [
          image('api0', 30, { tags: ['build-0'] }),
          image('api1', 29, { tags: ['build-1'] }),
          image('api2', 28, { tags: ['build-2'], sizeBytes: 5_000_000 }),
          image('api-new', 1, { tags: ['build-new'] }),
        ],
      },
      {
        name: 'shop/web',
        images: [image('web0', 40, { tags: ['w-0'] }), image('web1', 2, { tags: ['w-1'] })],
      },
    ],
    clusters: ['prod'],
    taskDefinitions: [{ family: 'api', revision: 1, images: [`${REG}/shop/api:build-1`] }],
    services: [
      {
        cluster: 'prod',
        name: 'api',
        deployments: [{ id: 'ecs-svc/1', status: 'PRIMARY', taskDefinition: 'api:1', running: 1 }],
      },
    ],
    tasks: [
      {
        cluster: 'prod',
        id: 't1',
        taskDefinition: 'api:1',
        containers: [{ name: 'api', image: `${REG}/shop/api:build-1`, imageDigest: d('api1') }],
      },
    ],
    ...over,
  });
  return cloud;
}

const readOnly = (calls: Record<string, number>) =>
  Object.keys(calls).filter((op) => !/:(Describe|List|BatchGet)/.test(op));

describe('harborpilot plan prune', () => {
  it('prints per repository what would be deleted and why, what is kept and why, and the totals', async () => {
    const c = world();
    const r = await runPlan(['prune', '--config', configFile(CONFIG)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(
      'prune plan: 3 of 6 image(s) would be deleted, 23.8 MiB freed, in 2 repositories (2 in-use references read)',
    );
    expect(r.stdout).toContain('shop/api: 2 would delete (14.3 MiB), 2 kept');
    expect(r.stdout).toMatch(/build-0\s+\S+\s+delete\s+tags build-0, pushed 30 days ago: .*not in use/);
    expect(r.stdout).toMatch(/build-2\s+\S+\s+delete\s+/);
    expect(r.stdout).toMatch(/build-1\s+\S+\s+keep\s+in-use: ECS task prod\/t1 container api/);
    expect(r.stdout).toMatch(/build-new\s+\S+\s+keep\s+keep-last: #1 .*; keep-days: pushed 1 days? ago/);
    expect(r.stdout).toContain('shop/web: 1 would delete (9.5 MiB), 1 kept');
    // read-only: only Describe/List/BatchGet calls, no email, no state table
    expect(readOnly(c.calls)).toEqual([]);
    expect(c.calls['ecr:DescribeImages']).toBe(2);
    expect(c.emails()).toEqual([]);
    expect(dynamodb.calls()).toEqual([]);
  });

  it('is exactly the plan pruneImages makes with the same config', async () => {
    const c = world();
    const file = configFile(CONFIG);
    const r = await runPlan(['prune', '--json', '--config', file]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    const deleted: { image: { digest: string }; why: string }[] = json.plan.repositories.flatMap(
      (rp: { deleted: unknown[] }) => rp.deleted,
    );
    expect(deleted.map((x) => x.image.digest).sort()).toEqual([d('api0'), d('api2'), d('web0')].sort());

    const prune = makePruneImages({
      ecr: new ECRClient({}),
      ecs: new ECSClient({}),
      eks: new EKSClient({}),
      ses: new SESv2Client({}),
      config: parseConfigYaml(`${CONFIG}  dryRun: true\nalerts:\n  to: [ops@example.com]\n`, 'test'),
      logger: new Logger({ logLevel: 'SILENT' }),
      region: 'us-east-1',
      now: () => NOW,
    });
    const summary = await prune(scheduled);
    expect(summary).toMatchObject({
      images: json.plan.totals.images,
      planned: json.plan.totals.deleted,
      bytesFreed: json.plan.totals.bytesFreed,
    });
    // its report gives the same images the same reasons
    const email = c.emails()[0]?.Content?.Simple?.Body?.Text?.Data ?? '';
    for (const x of deleted) expect(email).toContain(`${x.image.digest.slice(0, 19)}… `);
    for (const x of deleted) expect(email).toContain(`: ${x.why}\n`);
  });

  it('--json keeps stdout clean; progress goes to stderr with --progress or on a terminal only', async () => {
    world();
    const file = configFile(CONFIG);
    const quiet = await runPlan(['prune', '--json', '--config', file]);
    expect(quiet.stderr).toBe('');
    const withFlag = await runPlan(['prune', '--json', '--progress', '--config', file]);
    expect(JSON.parse(withFlag.stdout).plan.totals.deleted).toBe(3);
    expect(withFlag.stderr).toMatch(/read 2\/2 repositories/);
    const onTty = await runPlan(['prune', '--config', file], { tty: true });
    expect(onTty.stderr).toMatch(/2 image references in use; reading images/);
    expect(onTty.stdout).not.toMatch(/read \d\/\d repositories/);
  });

  it('an in-use source that cannot be read: no plan, exit 1, the source named', async () => {
    const c = world();
    c.ecs
      .on(ListTasksCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const r = await runPlan(['prune', '--config', configFile(CONFIG)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^harborpilot plan prune: in-use set incomplete.*source ecs failed: .*ListTasks/,
    );
  });

  it('--repository plans only the named repositories, reading only their images', async () => {
    const c = world();
    const r = await runPlan(['prune', '--repository', 'shop/web', '--config', configFile(CONFIG)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^prune plan: 1 of 2 image\(s\) would be deleted, 9.5 MiB freed, in 1 repository/,
    );
    expect(r.stdout).not.toContain('shop/api');
    expect(c.calls['ecr:DescribeImages']).toBe(1);
  });

  it('--repository names one pruning does not cover, or one that does not exist', async () => {
    const c = world({
      repositories: [
        { name: 'shop/api', images: [image('a', 30, { tags: ['x'] })] },
        { name: 'shop/db', tags: { 'harborpilot:prune': 'false' }, images: [] },
        { name: 'base/node', images: [] },
      ],
    });
    const file = configFile(`${CONFIG}  repositories: ["shop/*"]\n`);
    const r = await runPlan([
      'prune',
      '--repository',
      'base/node',
      '--repository',
      'shop/db',
      '--config',
      file,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('base/node: not pruned, outside prune.repositories in the config');
    expect(r.stdout).toContain('shop/db: not pruned, its harborpilot:prune tag turns pruning off');
    expect(c.calls['ecr:DescribeImages']).toBeUndefined();

    const missing = await runPlan(['prune', '--repository', 'shop/nope', '--config', file]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/no ECR repository named shop\/nope/);
  });

  it('a --config that cannot be read or is invalid is an error naming the file', async () => {
    world();
    const gone = await runPlan(['prune', '--config', '/nonexistent/harborpilot.yml']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/\/nonexistent\/harborpilot.yml: cannot read the config/);
    const bad = await runPlan(['prune', '--config', configFile('prune:\n  keepLast: -1\n')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/harborpilot.yml.*prune.keepLast/);
  });
});

describe('harborpilot plan usage', () => {
  it("--max-reads-per-second paces the plan's ECS reads: at 2 a second, a handful of reads takes seconds", async () => {
    vi.useRealTimers(); // the budget keeps time with Date.now: a frozen Date would not pace
    const c = world();
    const t0 = performance.now();
    const r = await runPlan(['prune', '--config', configFile(CONFIG), '--max-reads-per-second', '2']);
    const ms = performance.now() - t0;
    expect(r.code, r.stderr).toBe(0);
    const ecsReads = Object.entries(c.calls)
      .filter(([op]) => op.startsWith('ecs:'))
      .reduce((a, [, n]) => a + n, 0);
    expect(ecsReads).toBeGreaterThanOrEqual(6);
    // Two start at once, then one each 510 ms: the last of n starts after (n - 2) × 510 ms at the earliest.
    expect(ms).toBeGreaterThanOrEqual((ecsReads - 2) * 500);
  });

  it.each([
    [['prune', '--max-reads-per-second', '0']],
    [['prune', '--max-reads-per-second', 'fast']],
    [['prune', 'extra']],
    [['prune', '--bogus']],
    [['capacity', '--repository', 'shop/api']],
    [['push']],
    [['nothing']],
    [[]],
  ])('%j is a usage error: exit 2, usage on stderr', async (args) => {
    const r = await runPlan(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/usage: harborpilot plan/);
  });

  it('--world without a local cloud endpoint is a usage error', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL', undefined);
    const r = await runPlan(['prune', '--world', 'worlds/demo.yml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--world plans against the local cloud: give --endpoint-url or AWS_ENDPOINT_URL/,
    );
  });

  it.each([
    ['prune', /--repository NAME/],
    ['capacity', /capacity report checkCapacity would compute/],
    ['push', /<image>/],
  ])('plan %s --help prints its own options', async (what, text) => {
    const r = await runPlan([what, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^usage: harborpilot plan ${what}`));
    expect(r.stdout).toMatch(text);
  });
});
