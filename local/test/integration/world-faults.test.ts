/**
 * Faults declared in a world file's `faults:` section are on from start-up, with the same effects as the admin
 * API's: throttling, latency, failed pulls, containers that exit or run out of memory, capacity taken away.
 */
import {
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListClustersCommand,
  ListContainerInstancesCommand,
  RunTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../cloud';
import { clientConfig, REGISTRY } from '../support';

let cloud: LocalCloud;
let ecs: ECSClient;

const container = (repo: string) => ({ name: 'app', image: `${REGISTRY}/${repo}:v1`, cpu: 256, memory: 512 });

beforeAll(async () => {
  cloud = await createLocalCloud({
    port: 0,
    speed: 0,
    startRouter: false,
    world: {
      ecr: {
        repositories: [
          { name: 'shop/api', images: [{ tag: 'v1' }] },
          { name: 'shop/web', images: [{ tag: 'v1' }] },
        ],
      },
      ecs: {
        taskDefinitions: [
          { family: 'api', containers: [container('shop/api')] },
          { family: 'batch', containers: [container('shop/api')] },
          { family: 'web', containers: [container('shop/web')] },
        ],
        clusters: [
          { name: 'prod', containerInstances: [{ kind: 'EC2', cpu: 4096, memory: 8192, count: 2 }] },
        ],
      },
      faults: [
        { kind: 'throttle', service: 'ecs', operation: 'ListClusters', rate: 1 },
        { kind: 'latency', ms: 40 },
        { kind: 'pullFailure', repository: 'shop/web', reason: 'pull access denied' },
        { kind: 'containerExit', family: 'api', exitCode: 3, afterMs: 1_000 },
        { kind: 'containerOom', family: 'batch', afterMs: 1_000 },
        { kind: 'removeCapacity', cluster: 'prod', launchType: 'EC2', count: 1 },
      ],
    },
  });
  ecs = new ECSClient({ ...clientConfig(cloud), maxAttempts: 1 });
});
afterAll(() => cloud?.stop());

async function runToStop(family: string): Promise<Task> {
  const run = await ecs.send(
    new RunTaskCommand({ cluster: 'prod', taskDefinition: family, launchType: 'EC2' }),
  );
  const taskArn = run.tasks?.[0]?.taskArn as string;
  await cloud.clock.advance(30_000);
  const { tasks = [] } = await ecs.send(new DescribeTasksCommand({ cluster: 'prod', tasks: [taskArn] }));
  return tasks[0] as Task;
}

describe('faults from the world file', () => {
  it('throttles the named operation and slows every call from the start', async () => {
    await expect(ecs.send(new ListClustersCommand({}))).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
    const started = Date.now();
    await ecs.send(new ListContainerInstancesCommand({ cluster: 'prod' }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
  });

  it('takes capacity away once ECS has loaded', async () => {
    const { containerInstanceArns } = await ecs.send(new ListContainerInstancesCommand({ cluster: 'prod' }));
    const { containerInstances = [] } = await ecs.send(
      new DescribeContainerInstancesCommand({ cluster: 'prod', containerInstances: containerInstanceArns }),
    );
    expect(containerInstances.map((i) => [i.status, i.agentConnected]).sort()).toEqual([
      ['ACTIVE', true],
      ['DRAINING', false],
    ]);
  });

  it('fails pulls of the repository, and makes containers exit or run out of memory', async () => {
    expect(await runToStop('web')).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'TaskFailedToStart',
      stoppedReason: expect.stringContaining('CannotPullContainerError: pull access denied'),
    });
    expect(await runToStop('api')).toMatchObject({
      stopCode: 'EssentialContainerExited',
      containers: [expect.objectContaining({ exitCode: 3 })],
    });
    expect(await runToStop('batch')).toMatchObject({
      stopCode: 'EssentialContainerExited',
      containers: [
        expect.objectContaining({ exitCode: 137, reason: expect.stringMatching(/^OutOfMemoryError/) }),
      ],
    });
  });
});
