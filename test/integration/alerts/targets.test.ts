/**
 * Alerts from a workload account (docs/organisation.md): the same cluster and service name fail to pull their
 * image in harborpilot's own account and in staging (111111111111, us-west-2). Both accounts' stopped tasks reach
 * alertTaskFailures (the local cloud has one bus; on AWS staging's rule forwards them), with the workload account
 * and region in the envelope. Two emails, not one shared window: staging's names the account, the home one reads
 * as before.
 */
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import { clientConfig, REGISTRY } from '../../support/cloud';

const HUB = '000000000000';
const STAGING = '111111111111';

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await createLocalCloud({
    port: 0,
    speed: 0,
    world: {
      accountId: HUB,
      region: 'us-east-1',
      roles: [{ accountId: STAGING, name: 'harborpilot', trust: [HUB], externalId: 'hp-staging' }],
      ses: { identities: ['example.com'] },
      config: {
        alerts: { from: 'alerts@example.com', to: ['ops@example.com'] },
        targets: [
          {
            account: STAGING,
            name: 'staging',
            regions: ['us-west-2'],
            role: 'harborpilot',
            externalId: 'hp-staging',
          },
        ],
      },
    },
  });
});
afterAll(() => cloud?.stop());

/** A 12-digit access key acts in its own account (local/docs/world.md); the region is the client's. */
const ecsIn = (accountId: string, region: string) =>
  new ECSClient({
    ...clientConfig(cloud),
    region,
    credentials: { accessKeyId: accountId === HUB ? 'test' : accountId, secretAccessKey: 'x' },
  });

it("a workload account's failing service is emailed naming the account, apart from the same name at home", async () => {
  await new ECRClient(clientConfig(cloud)).send(new CreateRepositoryCommand({ repositoryName: 'shop/api' }));
  for (const [accountId, region] of [
    [HUB, 'us-east-1'],
    [STAGING, 'us-west-2'],
  ] as const) {
    const ecs = ecsIn(accountId, region);
    await ecs.send(new CreateClusterCommand({ clusterName: 'prod' }));
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'api',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'app', image: `${REGISTRY}/shop/api:missing`, essential: true }],
      }),
    );
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'prod',
        serviceName: 'api-service',
        taskDefinition: 'api',
        desiredCount: 1,
        launchType: 'FARGATE',
      }),
    );
  }
  for (let i = 0; i < 9; i++) {
    await cloud.clock.advance(20_000);
    await cloud.router.waitForIdle();
  }
  const { messages } = (await (await fetch(`${cloud.endpoint}/_aws/ses`)).json()) as {
    messages: { Subject: string; Body: { text_part: string; html_part: string } }[];
  };
  const subjects = messages.map((m) => m.Subject);
  const staging = messages.find((m) => m.Subject.includes(STAGING));
  expect(staging?.Subject).toMatch(
    /^\[harborpilot\] api-service in prod \(account staging \(111111111111\), us-west-2\): \d+ tasks? failed — image pull$/,
  );
  expect(staging?.Body.text_part).toContain(`Account:       staging (${STAGING}), us-west-2\n`);
  expect(staging?.Body.text_part).toContain(`Cluster:       prod (${STAGING}, us-west-2)\n`);
  expect(staging?.Body.text_part).toContain('https://us-west-2.console.aws.amazon.com/ecs/v2/clusters/prod/');
  expect(staging?.Body.html_part).toContain(`staging (${STAGING}), us-west-2`);
  // The home service of the same names: its own window and email, as before targets existed.
  expect(subjects).toContainEqual(
    expect.stringMatching(/^\[harborpilot\] api-service in prod: \d+ tasks? failed — image pull$/),
  );
  expect(messages).toHaveLength(2);
  const failed = cloud.router
    .invocations()
    .filter((i) => i.functionName === 'alertTaskFailures' && i.status === 'failed');
  expect(failed).toEqual([]);
}, 120_000);
