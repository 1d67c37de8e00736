/**
 * The demo, end to end: a service whose image cannot be pulled keeps failing to start in the local
 * cloud's ECS; its STOPPED events reach alertTaskFailures through the serverless.yml rules, and the team
 * gets one readable email at /_aws/ses, not one per task.
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

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await createLocalCloud({
    port: 0,
    speed: 0,
    world: {
      ses: { identities: ['example.com'] },
      config: { alerts: { from: 'alerts@example.com', to: ['ops@example.com'] } },
    },
  });
});
afterAll(() => cloud.stop());

it('a failing image pull produces one readable email', async () => {
  const ecs = new ECSClient(clientConfig(cloud));
  await new ECRClient(clientConfig(cloud)).send(new CreateRepositoryCommand({ repositoryName: 'shop/api' }));
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
      desiredCount: 2,
      launchType: 'FARGATE',
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
    }),
  );
  // Nine simulated minutes of retries by the scheduler, the flush running every minute.
  for (let i = 0; i < 27; i++) {
    await cloud.clock.advance(20_000);
    await cloud.router.waitForIdle();
  }
  const { messages } = (await (await fetch(`${cloud.endpoint}/_aws/ses`)).json()) as {
    messages: { Subject: string; Body: { text_part: string; html_part: string } }[];
  };
  expect(messages).toHaveLength(1);
  const [email] = messages;
  expect(email?.Subject).toMatch(/^\[harborpilot\] api-service in prod: \d+ tasks? failed — image pull$/);
  expect(email?.Body.text_part).toContain('CannotPullContainerError');
  // The circuit breaker's verdict rides along in the same email instead of arriving as emails of its own.
  expect(email?.Body.text_part).toMatch(/^Deployment:\s+The deployment failed/m);
  expect(email?.Body.text_part).toContain('Deployment and service events:');
  expect(email?.Body.html_part).toContain('/ecs/v2/clusters/prod/services/api-service/health');
  const failed = cloud.router
    .invocations()
    .filter((i) => i.functionName === 'alertTaskFailures' && i.status === 'failed');
  expect(failed).toEqual([]);
}, 120_000);
