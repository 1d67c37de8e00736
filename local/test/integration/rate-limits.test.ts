/**
 * AWS's API rate quotas over real HTTP: a world's `rateLimits` fault gives every account and Region ECS's token
 * buckets, refilled by the simulated clock; an empty bucket answers the SDK and the AWS CLI with
 * ThrottlingException "Rate exceeded", as ECS does.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DescribeClustersCommand, ECSClient, ListServicesCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../cloud';
import { cliEnv, clientConfig } from '../support';

const run = promisify(execFile);
let cloud: LocalCloud;
let ecs: ECSClient;

beforeAll(async () => {
  cloud = await createLocalCloud({
    port: 0,
    speed: 0,
    startRouter: false,
    world: {
      ecs: { clusters: [{ name: 'prod' }] },
      // A tenth of AWS's quotas: Service read actions burst 10, refill 2 a second.
      faults: [{ kind: 'rateLimits', service: 'ecs', scale: 0.1 }],
    },
  });
  ecs = new ECSClient({ ...clientConfig(cloud), maxAttempts: 1 });
});
afterAll(() => cloud?.stop());

const listServices = () => ecs.send(new ListServicesCommand({ cluster: 'prod' }));

describe('rateLimits fault', () => {
  it('throttles the eleventh Service read of a burst, spares other categories, and refills with the clock', async () => {
    for (let i = 0; i < 10; i++) await listServices();
    await expect(listServices()).rejects.toMatchObject({
      name: 'ThrottlingException',
      message: 'Rate exceeded',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(ecs.send(new DescribeClustersCommand({ clusters: ['prod'] }))).resolves.toBeDefined();

    cloud.clock.advance(1_000); // two tokens back
    await listServices();
    await listServices();
    await expect(listServices()).rejects.toMatchObject({ name: 'ThrottlingException' });

    const res = await fetch(`${cloud.endpoint}/_harborpilot/faults`);
    const listed = (await res.json()) as { faults: { kind: string; calls: number; throttled: number }[] };
    expect(listed.faults).toContainEqual(
      expect.objectContaining({ kind: 'rateLimits', calls: 15, throttled: 2 }),
    );
  });

  it('gives the AWS CLI the error it prints for ECS throttling', async () => {
    const env = { ...cliEnv(cloud), AWS_MAX_ATTEMPTS: '1', AWS_RETRY_MODE: 'standard' };
    const err = await run(
      'aws',
      ['ecs', 'list-services', '--cluster', 'prod', '--endpoint-url', cloud.endpoint],
      {
        env,
      },
    ).then(
      () => undefined,
      (e: { stderr: string }) => e,
    );
    // The bucket is still empty from the test above: nothing has advanced the clock since.
    expect(err?.stderr).toContain(
      'An error occurred (ThrottlingException) when calling the ListServices operation',
    );
    expect(err?.stderr).toContain('Rate exceeded');
  });
});
