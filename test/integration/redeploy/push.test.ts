/**
 * The product's first promise, end to end over real HTTP: an image pushed to ECR redeploys the ECS services
 * that run its tag, exactly once, even when ECS throttles.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
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
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import { cliEnv, clientConfig, digestOf, manifest, REGISTRY, until } from '../../support/cloud';

const run = promisify(execFile);
let cloud: LocalCloud;
let ecs: ECSClient;
let ecr: ECRClient;

beforeEach(async () => {
  cloud = await createLocalCloud({ port: 0, speed: 0, empty: true });
  ecs = new ECSClient(clientConfig(cloud));
  ecr = new ECRClient(clientConfig(cloud));
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
      desiredCount: 2,
      launchType: 'FARGATE',
      deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
    }),
  );
  await until(
    cloud,
    'api steady on v1',
    async () =>
      (await runningDigests()).join() === [digestOf(manifest('v1')), digestOf(manifest('v1'))].join(),
  );
});

afterEach(() => cloud.stop());

async function runningDigests(): Promise<string[]> {
  const { taskArns = [] } = await ecs.send(
    new ListTasksCommand({ cluster: 'prod', serviceName: 'api', desiredStatus: 'RUNNING' }),
  );
  if (taskArns.length === 0) return [];
  const { tasks = [] } = await ecs.send(new DescribeTasksCommand({ cluster: 'prod', tasks: taskArns }));
  return tasks.filter((t) => t.lastStatus === 'RUNNING').map((t) => String(t.containers?.[0]?.imageDigest));
}

async function deploymentsCreated(): Promise<number> {
  const { services = [] } = await ecs.send(
    new DescribeServicesCommand({ cluster: 'prod', services: ['api'] }),
  );
  return services[0]?.deployments?.length ?? 0;
}

const redeployInvocations = () => cloud.router.invocations().filter((i) => i.functionName === 'redeployEcs');

describe('push → redeployEcs → rolling deployment', () => {
  it('a push of the running tag replaces every task with the new digest', async () => {
    await ecr.send(
      new PutImageCommand({ repositoryName: 'shop/api', imageTag: 'latest', imageManifest: manifest('v2') }),
    );
    const v2 = digestOf(manifest('v2'));
    await until(cloud, 'tasks on v2', async () => {
      const digests = await runningDigests();
      return digests.length === 2 && digests.every((d) => d === v2);
    });
    expect(redeployInvocations().some((i) => i.status === 'succeeded' && i.trigger === 'event')).toBe(true);
  });

  it('the same event delivered again starts no second deployment', async () => {
    await ecr.send(
      new PutImageCommand({ repositoryName: 'shop/api', imageTag: 'latest', imageManifest: manifest('v2') }),
    );
    const v2 = digestOf(manifest('v2'));
    await until(cloud, 'tasks on v2', async () => (await runningDigests()).every((d) => d === v2));
    const push = cloud.bus.history.find(
      (e) => e['detail-type'] === 'ECR Image Action' && e.detail['image-digest'] === v2,
    );
    expect(push).toBeDefined();
    const before = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: ['api'] }));
    const primary = before.services?.[0]?.deployments?.find((d) => d.status === 'PRIMARY')?.id;
    const invocations = redeployInvocations().length;
    cloud.bus.publishEvent(push as NonNullable<typeof push>);
    cloud.bus.publishEvent(push as NonNullable<typeof push>);
    await until(
      cloud,
      'both duplicates handled',
      async () => redeployInvocations().length >= invocations + 2,
    );
    const after = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: ['api'] }));
    expect(after.services?.[0]?.deployments?.find((d) => d.status === 'PRIMARY')?.id).toBe(primary);
    expect(await deploymentsCreated()).toBe(1);
  });

  it('with the clock stopped, a reconcile right after the push does not deploy the same digest again', async () => {
    // --speed 0: the deployment the push started is created at the very time of the push.
    const before = redeployInvocations().length;
    await ecr.send(
      new PutImageCommand({ repositoryName: 'shop/api', imageTag: 'latest', imageManifest: manifest('v2') }),
    );
    await cloud.router.waitForIdle();
    // The push's invocation, and the fleet index's for the deployment it started.
    expect(
      redeployInvocations()
        .slice(before)
        .map((i) => i.status),
    ).toEqual(['succeeded', 'succeeded']);
    expect(await deploymentsCreated()).toBe(2);
    const [reconcile] = await cloud.router.runSchedule('redeployEcs');
    expect(reconcile?.status).toBe('succeeded');
    expect(await deploymentsCreated()).toBe(2);
  });

  it('throttled ECS reads are retried by the SDK and the deployment still happens', async () => {
    cloud.faults.add({ kind: 'throttle', service: 'ecs', operation: 'DescribeServices', rate: 0.5 });
    cloud.faults.add({ kind: 'throttle', service: 'ecs', operation: 'UpdateService', rate: 0.5 });
    await ecr.send(
      new PutImageCommand({ repositoryName: 'shop/api', imageTag: 'latest', imageManifest: manifest('v3') }),
    );
    const v3 = digestOf(manifest('v3'));
    await until(cloud, 'tasks on v3', async () => {
      const digests = await runningDigests();
      return digests.length === 2 && digests.every((d) => d === v3);
    });
  });

  it.skipIf(!process.env.PATH?.split(':').some(() => true))(
    'the same scenario driven by the AWS CLI',
    async () => {
      const env = cliEnv(cloud);
      const clis = ['aws', '/usr/bin/aws'];
      let pushed = 0;
      let primaryBefore: string | undefined = (
        await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: ['api'] }))
      ).services?.[0]?.deployments?.find((d) => d.status === 'PRIMARY')?.id;
      for (const [i, cli] of clis.entries()) {
        const found = await run(cli, ['--version'], { env }).then(
          () => true,
          () => false,
        );
        if (!found) continue;
        const body = manifest(`cli-${i}`);
        await run(
          cli,
          [
            '--endpoint-url',
            cloud.endpoint,
            'ecr',
            'put-image',
            '--repository-name',
            'shop/api',
            '--image-tag',
            'latest',
            '--image-manifest',
            body,
          ],
          { env },
        );
        pushed += 1;
        const digest = digestOf(body);
        await until(cloud, `tasks on the image pushed by ${cli}`, async () => {
          const digests = await runningDigests();
          return digests.length === 2 && digests.every((d) => d === digest);
        });
        const { stdout } = await run(
          cli,
          [
            '--endpoint-url',
            cloud.endpoint,
            'ecs',
            'describe-services',
            '--cluster',
            'prod',
            '--services',
            'api',
            '--output',
            'json',
          ],
          { env },
        );
        const described = JSON.parse(stdout) as {
          services: { deployments: { id: string; status: string; rolloutState?: string }[] }[];
        };
        const primary = described.services[0]?.deployments.find((d) => d.status === 'PRIMARY');
        expect(primary?.id).not.toBe(primaryBefore);
        primaryBefore = primary?.id;
        // What the user sees with the CLI: every running task on the pushed digest.
        const ecsCli = async (...args: string[]) =>
          (
            await run(cli, ['--endpoint-url', cloud.endpoint, 'ecs', ...args, '--output', 'text'], { env })
          ).stdout
            .trim()
            .split(/\s+/);
        const taskArns = await ecsCli(
          'list-tasks',
          '--cluster',
          'prod',
          '--service-name',
          'api',
          '--desired-status',
          'RUNNING',
          '--query',
          'taskArns',
        );
        const digests = await ecsCli(
          'describe-tasks',
          '--cluster',
          'prod',
          '--tasks',
          ...taskArns,
          '--query',
          "tasks[?lastStatus=='RUNNING'].containers[0].imageDigest",
        );
        expect(digests).toEqual([digest, digest]);
      }
      expect(pushed, 'no AWS CLI found: .ci/run installs one').toBeGreaterThan(0);
    },
    // Two AWS CLIs, each through a whole rollout (13 s alone): a shared 2-core machine under load took 46 s.
    90_000,
  );
});
