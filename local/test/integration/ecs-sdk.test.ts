import { readFileSync } from 'node:fs';
import {
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListContainerInstancesCommand,
  ListTasksCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createLocalCloud, type LocalCloud } from '../../cloud';
import { clientConfig } from '../support';

const ecr = {
  repositories: [
    { name: 'shop/api', images: [{ tags: ['v1', 'latest'] }] },
    { name: 'shop/web', images: [{ tags: ['v2', 'latest'], platforms: ['linux/amd64', 'linux/arm64'] }] },
    { name: 'shop/worker', images: [{ tag: 'v1.0.0' }] },
  ],
};

describe('ECS over HTTP with the AWS SDK v3', () => {
  let cloud: LocalCloud;
  let client: ECSClient;
  beforeAll(async () => {
    const ecs = parse(readFileSync(new URL('./ecs-demo.yml', import.meta.url), 'utf8')).ecs;
    cloud = await createLocalCloud({ world: { ecr, ecs }, speed: 0, startRouter: false });
    client = new ECSClient(clientConfig(cloud));
  });
  afterAll(async () => {
    client?.destroy();
    await cloud?.stop();
  });

  it('serves the demo world steady and rolls a forced deployment to the new digest', async () => {
    const { services = [] } = await client.send(
      new DescribeServicesCommand({ cluster: 'shop', services: ['api', 'web', 'worker'], include: ['TAGS'] }),
    );
    expect(services.map((s) => [s.serviceName, s.runningCount, s.deployments?.[0]?.rolloutState])).toEqual([
      ['api', 2, 'COMPLETED'],
      ['web', 3, 'COMPLETED'],
      ['worker', 2, 'COMPLETED'],
    ]);
    expect(services[0]?.tags).toEqual([{ key: 'harborpilot:policy', value: 'auto' }]);
    expect(services[0]?.createdAt).toBeInstanceOf(Date);

    const newDigest = cloud.ecr.pushImage({ repositoryName: 'shop/api', tags: ['v2', 'latest'] }).digest;
    await client.send(
      new UpdateServiceCommand({ cluster: 'shop', service: 'api', forceNewDeployment: true }),
    );
    await cloud.clock.runUntilIdle(3600_000);
    const { taskArns = [] } = await client.send(
      new ListTasksCommand({ cluster: 'shop', serviceName: 'api' }),
    );
    const { tasks = [] } = await client.send(new DescribeTasksCommand({ cluster: 'shop', tasks: taskArns }));
    expect(tasks).toHaveLength(2);
    for (const t of tasks) expect(t.containers?.[0]?.imageDigest).toBe(newDigest);

    const { containerInstanceArns = [] } = await client.send(
      new ListContainerInstancesCommand({ cluster: 'shop' }),
    );
    const { containerInstances = [] } = await client.send(
      new DescribeContainerInstancesCommand({ cluster: 'shop', containerInstances: containerInstanceArns }),
    );
    expect(containerInstances.map((i) => i.ec2InstanceId?.slice(0, 3))).toEqual([
      'i-0',
      'i-0',
      'i-0',
      'mi-',
      'mi-',
    ]);
    const memory = (i: (typeof containerInstances)[number]) =>
      i.remainingResources?.find((r) => r.name === 'MEMORY')?.integerValue;
    expect(containerInstances.slice(3).map(memory).sort()).toEqual([7168, 7168]);
  });
});
