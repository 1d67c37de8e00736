/**
 * The AWS CLI against the local cloud, as a user types it: v1 (`aws` on PATH) and Debian's v2
 * (/usr/bin/aws), each skipped only when it is not installed.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../local/cloud';

const run = promisify(execFile);

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(`${dir}/${cmd}`)) return `${dir}/${cmd}`;
  }
  return undefined;
}

const CLIS = [
  { name: 'v1 (aws on PATH)', path: which('aws') },
  { name: 'v2 (/usr/bin/aws)', path: existsSync('/usr/bin/aws') ? '/usr/bin/aws' : undefined },
];

let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await createLocalCloud({
    speed: 0,
    startRouter: false,
    world: {
      accounts: [{ accountId: '111111111111', accessKeys: ['staging'] }],
      ecr: { repositories: [{ name: 'shop/api', images: [{ tag: 'v1' }] }] },
    },
  });
});
afterAll(() => cloud?.stop());

describe.each(CLIS)('AWS CLI $name', ({ path }) => {
  const aws = async (args: string[], accessKey = 'test', extraEnv: Record<string, string> = {}) => {
    try {
      const { stdout } = await run(
        path as string,
        ['--endpoint-url', cloud.endpoint, '--output', 'json', ...args],
        {
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? '/tmp',
            AWS_ACCESS_KEY_ID: accessKey,
            AWS_SECRET_ACCESS_KEY: 'test',
            AWS_DEFAULT_REGION: 'us-east-1',
            AWS_PAGER: '',
            AWS_CONFIG_FILE: '/dev/null',
            AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
            ...extraEnv,
          },
          timeout: 20_000,
        },
      );
      return { code: 0, out: JSON.parse(stdout || '{}') as Record<string, unknown>, err: '' };
    } catch (e) {
      const err = e as { code?: number; stderr?: string };
      return { code: err.code ?? -1, out: {}, err: err.stderr ?? '' };
    }
  };

  it.skipIf(!path)('sts get-caller-identity names the account of the access key', async () => {
    expect((await aws(['sts', 'get-caller-identity'])).out).toMatchObject({ Account: '000000000000' });
    expect((await aws(['sts', 'get-caller-identity'], 'staging')).out).toMatchObject({
      Account: '111111111111',
    });
  });

  it.skipIf(!path)('dynamodb list-tables shows the state table', async () => {
    expect((await aws(['dynamodb', 'list-tables'])).out).toEqual({ TableNames: [cloud.config.stateTable] });
  });

  it.skipIf(!path)('prints AWS error codes the way it would for AWS', async () => {
    const missing = await aws(['ecr', 'describe-repositories', '--repository-names', 'nope']);
    expect(missing.code).not.toBe(0);
    expect(missing.err).toMatch(
      /\(RepositoryNotFoundException\) when calling the DescribeRepositories operation/,
    );

    cloud.faults.add({ kind: 'throttle', service: 'sts', rate: 1 });
    try {
      const throttled = await aws(['sts', 'get-caller-identity'], 'test', { AWS_MAX_ATTEMPTS: '1' });
      expect(throttled.code).not.toBe(0);
      expect(throttled.err).toMatch(/\(Throttling\)/);
    } finally {
      cloud.faults.clear();
    }
  });

  it.skipIf(!path)('events put-events reaches the bus', async () => {
    const res = await aws([
      'events',
      'put-events',
      '--entries',
      JSON.stringify([{ Source: 'cli.test', DetailType: 'Ping', Detail: '{"n":1}' }]),
    ]);
    expect(res.out).toMatchObject({ FailedEntryCount: 0 });
    const id = (res.out.Entries as { EventId: string }[])[0]?.EventId;
    expect(cloud.bus.history.find((e) => e.id === id)?.detail).toEqual({ n: 1 });
  });
});
