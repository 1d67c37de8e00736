/**
 * ECR cross-region replication across an organisation (docs/organisation.md): a service in a workload account that
 * pulls the us-west-2 replica is redeployed once the replica exists there (ECR's `ECR Replication Action` event in
 * us-west-2), not on the source push, which it does not pull.
 */
import { ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import { clientConfig, digestOf, manifest, until } from '../../support/cloud';

const HUB = '000000000000';
const PROD = '222222222222';
const REPLICA = `${HUB}.dkr.ecr.us-west-2.amazonaws.com`;

let cloud: LocalCloud;

const prodEcs = () =>
  new ECSClient({
    ...clientConfig(cloud),
    region: 'us-west-2',
    credentials: { accessKeyId: PROD, secretAccessKey: 'x' },
  });

async function prodDigests(): Promise<string[]> {
  const ecs = prodEcs();
  const { taskArns = [] } = await ecs.send(new ListTasksCommand({ cluster: 'web', serviceName: 'api' }));
  if (taskArns.length === 0) return [];
  const { tasks = [] } = await ecs.send(new DescribeTasksCommand({ cluster: 'web', tasks: taskArns }));
  return tasks.filter((t) => t.lastStatus === 'RUNNING').map((t) => String(t.containers?.[0]?.imageDigest));
}

beforeAll(async () => {
  cloud = await createLocalCloud({
    port: 0,
    speed: 0,
    world: {
      accountId: HUB,
      region: 'us-east-1',
      roles: [{ accountId: PROD, name: 'harborpilot', trust: [HUB], externalId: 'hp-prod' }],
      config: {
        targets: [
          { account: PROD, name: 'prod', regions: ['us-west-2'], role: 'harborpilot', externalId: 'hp-prod' },
        ],
      },
      ecr: {
        repositories: [
          { name: 'shop/api', images: [{ tag: 'latest', pushedDaysAgo: 1 }] },
          // The replica the prod service pulls, as replication left it before the cloud started.
          { name: 'shop/api', region: 'us-west-2', images: [{ tag: 'latest', pushedDaysAgo: 1 }] },
        ],
        replicationSeconds: 30,
        replication: [{ rules: [{ destinations: [{ region: 'us-west-2' }], repositoryFilters: ['shop/'] }] }],
      },
      ecs: {
        taskDefinitions: [
          {
            family: 'api',
            requiresCompatibilities: ['FARGATE'],
            cpu: 256,
            memory: 512,
            containers: [{ name: 'app', image: `${REPLICA}/shop/api:latest` }],
          },
        ],
        clusters: [
          {
            name: 'web',
            accountId: PROD,
            region: 'us-west-2',
            services: [{ name: 'api', taskDefinition: 'api', launchType: 'FARGATE', desiredCount: 1 }],
          },
        ],
      },
    },
  });
  await until(cloud, 'prod api running', async () => (await prodDigests()).length === 1);
});
afterAll(() => cloud?.stop());

describe('a push replicated to another region', () => {
  it('redeploys the workload account service that pulls the replica once the replica exists, and not before', async () => {
    const before = await prodDigests();
    await new ECRClient(clientConfig(cloud)).send(
      new PutImageCommand({ repositoryName: 'shop/api', imageTag: 'latest', imageManifest: manifest('v2') }),
    );
    await cloud.router.waitForIdle();
    // The source push (us-east-1) is not what the service pulls: nothing moved yet.
    expect(await prodDigests()).toEqual(before);
    const v2 = digestOf(manifest('v2'));
    await until(cloud, 'prod api on the replica of v2', async () => {
      const digests = await prodDigests();
      return digests.length === 1 && digests[0] === v2;
    });
    const replicated = cloud.bus.history.find((e) => e['detail-type'] === 'ECR Replication Action');
    expect(replicated).toMatchObject({
      region: 'us-west-2',
      detail: { 'image-digest': v2, 'image-tag': 'latest' },
    });
    const handled = cloud.router
      .invocations()
      .filter((i) => i.functionName === 'redeployEcs' && i.eventId === replicated?.id);
    expect(handled.map((i) => i.status)).toEqual(['succeeded']);
  });
});
