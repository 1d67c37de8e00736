/**
 * One deployment serving an organisation (docs/organisation.md): a push to the registry in harborpilot's own
 * account redeploys the services that run it in two workload accounts and two regions, through each account's
 * role (STS AssumeRole with its external id), rolls the EKS Deployment that runs it in one of them, and a target
 * whose role cannot be assumed fails alone.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import { HoldsStore } from '../../../shared/holds/store';
import { stateDocument } from '../../../shared/state/document';
import { clientConfig, digestOf, manifest, REGISTRY, until } from '../../support/cloud';
import { deployment } from '../eks/world';

const HUB = '000000000000';
const STAGING = '111111111111';
const PROD = '222222222222';
const SANDBOX = '333333333333';

let cloud: LocalCloud;

/** Where services run: the hub itself, staging in two regions, prod (external id mismatch), sandbox (no role). */
const PLACES = [
  { accountId: HUB, region: 'us-east-1' },
  { accountId: STAGING, region: 'us-east-1' },
  { accountId: STAGING, region: 'us-west-2' },
  { accountId: PROD, region: 'eu-west-1' },
  { accountId: SANDBOX, region: 'eu-west-1' },
] as const;
type Place = (typeof PLACES)[number];

// A 12-digit access key acts in its own account (local/docs/world.md); the region is the client's.
const ecsIn = (p: Place) =>
  new ECSClient({
    ...clientConfig(cloud),
    region: p.region,
    credentials: { accessKeyId: p.accountId === HUB ? 'test' : p.accountId, secretAccessKey: 'x' },
  });

async function primaryDigest(p: Place): Promise<string | undefined> {
  const { services = [] } = await ecsIn(p).send(
    new DescribeServicesCommand({ cluster: 'web', services: ['api'] }),
  );
  return services[0]?.deployments?.length === 1 ? String(services[0]?.deployments?.[0]?.id) : undefined;
}

async function primaryDeploymentId(p: Place): Promise<string | undefined> {
  const { services = [] } = await ecsIn(p).send(
    new DescribeServicesCommand({ cluster: 'web', services: ['api'] }),
  );
  return services[0]?.deployments?.find((d) => d.status === 'PRIMARY')?.id;
}

async function deploymentCount(p: Place): Promise<number> {
  const { services = [] } = await ecsIn(p).send(
    new DescribeServicesCommand({ cluster: 'web', services: ['api'] }),
  );
  return services[0]?.deployments?.length ?? 0;
}

async function taskDefinitionImage(p: Place): Promise<string | undefined> {
  const { services = [] } = await ecsIn(p).send(
    new DescribeServicesCommand({ cluster: 'web', services: ['api'] }),
  );
  return services[0]?.taskDefinition;
}

beforeAll(async () => {
  cloud = await createLocalCloud({
    port: 0,
    speed: 0,
    world: {
      accountId: HUB,
      region: 'us-east-1',
      roles: [
        { accountId: STAGING, name: 'harborpilot', trust: [HUB], externalId: 'hp-staging' },
        // The config gives prod the wrong external id: AssumeRole is refused.
        { accountId: PROD, name: 'harborpilot', trust: [HUB], externalId: 'hp-prod' },
        // Sandbox has no such role at all.
      ],
      config: {
        eks: { rolloutWaitSeconds: 0 },
        targets: [
          {
            account: STAGING,
            name: 'staging',
            regions: ['us-east-1', 'us-west-2'],
            role: 'harborpilot',
            externalId: 'hp-staging',
          },
          {
            account: PROD,
            name: 'prod',
            regions: ['eu-west-1'],
            role: 'harborpilot',
            externalId: 'hp-wrong',
          },
          { account: SANDBOX, name: 'sandbox', regions: ['eu-west-1'], role: 'harborpilot' },
        ],
      },
      ecr: { repositories: [{ name: 'shop/api', images: [{ tag: 'latest', pushedDaysAgo: 1 }] }] },
      eks: {
        clusters: [
          {
            name: 'apps',
            accountId: STAGING,
            region: 'us-west-2',
            nodegroups: [
              { name: 'general', minSize: 1, maxSize: 2, desiredSize: 1, instanceTypes: ['t3.large'] },
            ],
            objects: [deployment('api', 'shop', `${REGISTRY}/shop/api:latest`, 1)],
          },
        ],
      },
    },
  });
  for (const p of PLACES) {
    const ecs = ecsIn(p);
    await ecs.send(new CreateClusterCommand({ clusterName: 'web' }));
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
        cluster: 'web',
        serviceName: 'api',
        taskDefinition: 'api',
        desiredCount: 1,
        launchType: 'FARGATE',
      }),
    );
  }
  await until(cloud, 'every service steady', async () =>
    (await Promise.all(PLACES.map(primaryDigest))).every((d) => d !== undefined),
  );
});
afterAll(() => cloud?.stop());

const redeploys = () =>
  cloud.router.invocations().filter((i) => i.functionName === 'redeployEcs' && i.trigger === 'event');

describe('a push across targets', () => {
  // Lambda's two retries of the failing event run on the simulated clock (minutes apart): more than 30 s when busy.
  it('redeploys the services and rolls the EKS workload in every target whose role it can assume, once, and fails naming the others', {
    timeout: 90_000,
  }, async () => {
    const before = redeploys().length;
    await new ECRClient(clientConfig(cloud)).send(
      new PutImageCommand({ repositoryName: 'shop/api', imageTag: 'latest', imageManifest: manifest('v2') }),
    );
    await cloud.router.waitForIdle();
    const v2 = digestOf(manifest('v2'));
    const push = cloud.bus.history.find(
      (e) => e['detail-type'] === 'ECR Image Action' && e.detail['image-digest'] === v2,
    );
    const attempts = redeploys()
      .slice(before)
      .filter((i) => i.eventId === push?.id);
    expect(attempts.length).toBeGreaterThanOrEqual(1);
    const first = attempts[0];
    expect(first?.status).toBe('failed');
    expect(first?.error).toContain(
      `prod (${PROD}) eu-west-1: could not assume arn:aws:iam::${PROD}:role/harborpilot: AccessDenied: User: arn:aws:iam::${HUB}:root is not authorized to perform: sts:AssumeRole`,
    );
    expect(first?.error).toContain(
      `sandbox (${SANDBOX}) eu-west-1: could not assume arn:aws:iam::${SANDBOX}:role/harborpilot`,
    );
    expect(first?.error).toMatch(/3 succeeded/);

    // Home, staging us-east-1 and staging us-west-2 each got exactly one new deployment, retries or not.
    for (const p of PLACES.slice(0, 3))
      expect(await deploymentCount(p), `${p.accountId} ${p.region}`).toBe(2);
    for (const p of PLACES.slice(3)) expect(await deploymentCount(p), `${p.accountId} ${p.region}`).toBe(1);
    await until(cloud, 'the redeployed services settle on v2', async () =>
      (await Promise.all(PLACES.slice(0, 3).map(deploymentCount))).every((n) => n === 1),
    );
    // Lambda retried the failed event (twice): the targets that succeeded were not deployed again.
    await until(
      cloud,
      'both retries done',
      async () => redeploys().filter((i) => i.eventId === push?.id).length === 3,
      30_000,
    );
    await cloud.router.waitForIdle();
    for (const p of PLACES.slice(0, 3)) {
      const { serviceDeployments = [] } = await ecsIn(p).send(
        new ListServiceDeploymentsCommand({ cluster: 'web', service: 'api' }),
      );
      expect(serviceDeployments.length, `${p.accountId} ${p.region}`).toBe(2);
    }
    // rollEks: the staging us-west-2 cluster's Deployment now pins the pushed digest, patched by the role's session.
    const apps = cloud.eks.kube('apps', STAGING, 'us-west-2');
    const patches = apps.audit.filter((a) => a.method === 'PATCH' && a.url.includes('/deployments/api'));
    expect(patches.map((a) => a.accessKeyId)).toEqual([expect.stringMatching(/^ASIA/)]);
    const rolls = cloud.router
      .invocations()
      .filter((i) => i.functionName === 'rollEks' && i.eventId === push?.id);
    expect(rolls[0]?.error).toContain(`prod (${PROD}) eu-west-1: could not assume`);
    expect(await taskDefinitionImage(PLACES[1])).toMatch(
      new RegExp(`^arn:aws:ecs:us-east-1:${STAGING}:task-definition/api:`),
    );
  });

  it("a freeze of one target's service holds it there only: workload ids carry the account and region", async () => {
    const holds = new HoldsStore(
      stateDocument(new DynamoDBClient(clientConfig(cloud))),
      cloud.config.stateTable,
    );
    await holds.putFreeze({
      workload: `${STAGING}/us-west-2/ecs/web/api`,
      by: 'test',
      at: cloud.clock.now().toISOString(),
      reason: 'staging west under test',
    });
    const before = await Promise.all(PLACES.slice(0, 3).map(primaryDeploymentId));
    await new ECRClient(clientConfig(cloud)).send(
      new PutImageCommand({ repositoryName: 'shop/api', imageTag: 'latest', imageManifest: manifest('v3') }),
    );
    await cloud.router.waitForIdle();
    const after = await Promise.all(PLACES.slice(0, 3).map(primaryDeploymentId));
    // Home and staging us-east-1 moved (the same cluster and service names); staging us-west-2 is held.
    expect(after[0]).not.toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    expect(after[2]).toBe(before[2]);
    expect((await holds.listHeld()).map((h) => h.workload)).toEqual([`${STAGING}/us-west-2/ecs/web/api`]);
  });
});
