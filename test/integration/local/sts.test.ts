/**
 * STS AssumeRole in the local cloud, as harborpilot's functions and a person with the AWS CLI use it to act in
 * another account: the trust and external id decide, the temporary credentials act in the role's account, and they
 * expire on the simulated clock.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import { onPath } from '../../support/cloud';

const run = promisify(execFile);
const AWS = onPath('aws');
const HUB = '000000000000';
const PROD = '111111111111';
const ROLE = `arn:aws:iam::${PROD}:role/harborpilot`;

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await createLocalCloud({
    speed: 0,
    startRouter: false,
    world: {
      accounts: [{ accountId: '222222222222', accessKeys: ['stranger'] }],
      roles: [
        { accountId: PROD, name: 'harborpilot', trust: [HUB], externalId: 'hp-7f3a' },
        { accountId: PROD, name: 'readonly', trust: [`arn:aws:iam::${PROD}:role/harborpilot`] },
      ],
      ecs: { clusters: [{ name: 'hub-cluster' }, { name: 'prod-cluster', accountId: PROD }] },
    },
  });
});
afterAll(() => cloud?.stop());

const client = <C>(Client: new (c: object) => C, creds = { accessKeyId: 'test', secretAccessKey: 'test' }) =>
  new Client({ endpoint: cloud.endpoint, region: 'us-east-1', credentials: creds, maxAttempts: 1 });

async function assume(o: { externalId?: string; roleArn?: string; as?: object; duration?: number } = {}) {
  const out = await client(STSClient, o.as as never).send(
    new AssumeRoleCommand({
      RoleArn: o.roleArn ?? ROLE,
      RoleSessionName: 'harborpilot-redeployEcs',
      ...(o.externalId ? { ExternalId: o.externalId } : {}),
      ...(o.duration ? { DurationSeconds: o.duration } : {}),
    }),
  );
  const c = out.Credentials;
  return {
    out,
    creds: {
      accessKeyId: c?.AccessKeyId ?? '',
      secretAccessKey: c?.SecretAccessKey ?? '',
      sessionToken: c?.SessionToken ?? '',
    },
  };
}

describe('STS AssumeRole', () => {
  it('gives credentials that act in the role account, as the assumed role, until they expire', async () => {
    const { out, creds } = await assume({ externalId: 'hp-7f3a' });
    expect(out.AssumedRoleUser?.Arn).toBe(
      `arn:aws:sts::${PROD}:assumed-role/harborpilot/harborpilot-redeployEcs`,
    );
    expect(creds.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    // Expiration is wall-clock time (SDKs refresh against their own clock); time is stopped here, so an hour.
    const expiresIn = (out.Credentials?.Expiration?.getTime() ?? 0) - Date.now();
    expect(expiresIn).toBeGreaterThan(3590_000);
    expect(expiresIn).toBeLessThanOrEqual(3600_000);
    const identity = await client(STSClient, creds).send(new GetCallerIdentityCommand({}));
    expect(identity).toMatchObject({
      Account: PROD,
      Arn: `arn:aws:sts::${PROD}:assumed-role/harborpilot/harborpilot-redeployEcs`,
    });
    const clusters = await client(ECSClient, creds).send(new ListClustersCommand({}));
    expect(clusters.clusterArns).toEqual([`arn:aws:ecs:us-east-1:${PROD}:cluster/prod-cluster`]);
    // Role chaining: the session may enter a role that trusts its role.
    const chained = await assume({ roleArn: `arn:aws:iam::${PROD}:role/readonly`, as: creds });
    expect(chained.out.AssumedRoleUser?.Arn).toMatch(/assumed-role\/readonly\//);

    await cloud.clock.advance(3600_000);
    await expect(client(ECSClient, creds).send(new ListClustersCommand({}))).rejects.toMatchObject({
      name: 'ExpiredTokenException',
      message: 'The security token included in the request is expired',
    });
  });

  it('answers an Expiration on the wall clock: at 10x speed an hour-long session ends in six real minutes', async () => {
    cloud.clock.setSpeed(10);
    try {
      const { out } = await assume({ externalId: 'hp-7f3a' });
      const expiresIn = (out.Credentials?.Expiration?.getTime() ?? 0) - Date.now();
      expect(expiresIn).toBeGreaterThan(350_000);
      expect(expiresIn).toBeLessThanOrEqual(360_000);
    } finally {
      cloud.clock.setSpeed(0);
    }
  });

  it('refuses a wrong or missing external id, an untrusted caller and a role that does not exist alike', async () => {
    const denied = (resource: string, caller = `arn:aws:iam::${HUB}:root`) => ({
      name: 'AccessDenied',
      message: `User: ${caller} is not authorized to perform: sts:AssumeRole on resource: ${resource}`,
    });
    await expect(assume({ externalId: 'hp-wrong' })).rejects.toMatchObject(denied(ROLE));
    await expect(assume()).rejects.toMatchObject(denied(ROLE));
    await expect(
      assume({ externalId: 'hp-7f3a', as: { accessKeyId: 'stranger', secretAccessKey: 'x' } }),
    ).rejects.toMatchObject(denied(ROLE, 'arn:aws:iam::222222222222:root'));
    const ghost = `arn:aws:iam::${PROD}:role/ghost`;
    await expect(assume({ roleArn: ghost, externalId: 'hp-7f3a' })).rejects.toMatchObject(denied(ghost));
    // The readonly role trusts the harborpilot role's sessions only, not the hub account itself.
    const readonly = `arn:aws:iam::${PROD}:role/readonly`;
    await expect(assume({ roleArn: readonly })).rejects.toMatchObject(denied(readonly));
    await expect(assume({ externalId: 'hp-7f3a', duration: 7200 })).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    });
  });

  it.skipIf(!AWS)(
    'works from the AWS CLI: assume-role, then the credentials in the environment',
    async () => {
      const env = {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      };
      const aws = async (args: string[], extra: Record<string, string> = {}) =>
        JSON.parse(
          (
            await run(AWS as string, ['--endpoint-url', cloud.endpoint, '--output', 'json', ...args], {
              env: { ...env, ...extra },
            })
          ).stdout,
        );
      const { Credentials: c } = await aws([
        'sts',
        'assume-role',
        '--role-arn',
        ROLE,
        '--role-session-name',
        'me',
        '--external-id',
        'hp-7f3a',
      ]);
      const session = {
        AWS_ACCESS_KEY_ID: c.AccessKeyId,
        AWS_SECRET_ACCESS_KEY: c.SecretAccessKey,
        AWS_SESSION_TOKEN: c.SessionToken,
      };
      expect((await aws(['sts', 'get-caller-identity'], session)).Arn).toBe(
        `arn:aws:sts::${PROD}:assumed-role/harborpilot/me`,
      );
      expect((await aws(['ecs', 'list-clusters'], session)).clusterArns).toEqual([
        `arn:aws:ecs:us-east-1:${PROD}:cluster/prod-cluster`,
      ]);
      const refused = await run(
        AWS as string,
        [
          '--endpoint-url',
          cloud.endpoint,
          'sts',
          'assume-role',
          '--role-arn',
          ROLE,
          '--role-session-name',
          'me',
        ],
        { env },
      ).catch((e: { stderr: string }) => e.stderr);
      expect(refused).toMatch(
        /\(AccessDenied\) when calling the AssumeRole operation: User: arn:aws:iam::000000000000:root is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role\/harborpilot/,
      );
    },
  );
});
