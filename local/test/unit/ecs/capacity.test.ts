import { describe, expect, it } from 'vitest';
import { ACCOUNT, makeEcs, REGION } from './core';

const IMAGE = '000000000000.dkr.ecr.us-east-1.amazonaws.com/shop/worker:v1';
const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;

function world(env: ReturnType<typeof makeEcs>) {
  env.digests.set(IMAGE, D1);
  env.ecs.loadWorld({
    taskDefinitions: [
      { family: 'worker', containers: [{ name: 'worker', image: IMAGE, cpu: 512, memory: 1024 }] },
    ],
    clusters: [
      {
        name: 'edge',
        containerInstances: [
          { kind: 'EXTERNAL', cpu: 2048, memory: 4096, count: 2, attributes: { site: 'store-42' } },
          { kind: 'EC2', cpu: 4096, memory: 8192 },
        ],
        services: [{ name: 'worker', taskDefinition: 'worker', launchType: 'EXTERNAL', desiredCount: 2 }],
      },
    ],
  });
}

async function instances(env: ReturnType<typeof makeEcs>) {
  const { containerInstanceArns } = await env.call('ListContainerInstances', { cluster: 'edge' });
  return (
    await env.call('DescribeContainerInstances', {
      cluster: 'edge',
      containerInstances: containerInstanceArns,
    })
  ).containerInstances;
}
type Inst = {
  ec2InstanceId: string;
  status: string;
  agentConnected: boolean;
  runningTasksCount: number;
  attributes: { name: string; value?: string }[];
  remainingResources: { name: string; integerValue: number }[];
};
const remaining = (i: Inst, name: string) => i.remainingResources.find((r) => r.name === name)?.integerValue;

describe('ECS container instances', () => {
  it('places EXTERNAL service tasks only on EXTERNAL instances and accounts their resources', async () => {
    const env = makeEcs();
    world(env);
    const all: Inst[] = await instances(env);
    const external = all.filter((i) => i.ec2InstanceId.startsWith('mi-'));
    expect(external).toHaveLength(2);
    expect(external.map((i) => [remaining(i, 'CPU'), remaining(i, 'MEMORY'), i.runningTasksCount])).toEqual([
      [1536, 3072, 1],
      [1536, 3072, 1],
    ]);
    expect(external[0]?.attributes).toContainEqual({ name: 'site', value: 'store-42' });
    const ec2 = all.find((i) => i.ec2InstanceId.startsWith('i-'));
    expect(ec2 && [remaining(ec2, 'CPU'), ec2.runningTasksCount]).toEqual([4096, 0]);
  });

  it('removeCapacity drains instances (tasks stop, nothing placed), restoreCapacity brings them back', async () => {
    const env = makeEcs();
    world(env);
    const removed = env.ecs.removeCapacity({
      accountId: ACCOUNT,
      region: REGION,
      cluster: 'edge',
      launchType: 'EXTERNAL',
    });
    expect(removed.containerInstanceArns).toHaveLength(2);
    await env.clock.advance(60_000);
    const drained: Inst[] = (await instances(env)).filter((i: Inst) => i.ec2InstanceId.startsWith('mi-'));
    expect(drained.map((i) => [i.status, i.agentConnected, i.runningTasksCount])).toEqual([
      ['DRAINING', false, 0],
      ['DRAINING', false, 0],
    ]);
    const { services } = await env.call('DescribeServices', { cluster: 'edge', services: ['worker'] });
    expect(services[0].runningCount).toBe(0);
    const failure = env.bus.history.find((e) => e.detail.eventName === 'SERVICE_TASK_PLACEMENT_FAILURE');
    expect(failure?.detail.reasons).toEqual(['RESOURCE:INSTANCES']);

    env.ecs.restoreCapacity({ accountId: ACCOUNT, region: REGION, cluster: 'edge' });
    await env.clock.advance(60_000);
    const after = await env.call('DescribeServices', { cluster: 'edge', services: ['worker'] });
    expect(after.services[0].runningCount).toBe(2);
  });

  it('RunTask says why a task fits nowhere as ECS does: the resource and the closest instance, or AGENT', async () => {
    const env = makeEcs();
    world(env);
    const register = (family: string, container: Record<string, unknown>) =>
      env.call('RegisterTaskDefinition', {
        family,
        containerDefinitions: [{ name: 'app', image: IMAGE, essential: true, ...container }],
      });
    await register('big', { cpu: 256, memory: 4000 });
    await register('busy', { cpu: 2000, memory: 128 });
    await register('web', { cpu: 128, memory: 128, portMappings: [{ containerPort: 80, hostPort: 80 }] });
    const all: (Inst & { containerInstanceArn: string })[] = await instances(env);
    const ec2 = all.find((i) => i.ec2InstanceId.startsWith('i-'))?.containerInstanceArn;
    const external = all.filter((i) => i.ec2InstanceId.startsWith('mi-')).map((i) => i.containerInstanceArn);

    const memory = await env.call('RunTask', {
      cluster: 'edge',
      taskDefinition: 'big',
      launchType: 'EXTERNAL',
    });
    expect(memory.tasks).toEqual([]);
    expect(memory.failures).toEqual([{ arn: expect.any(String), reason: 'RESOURCE:MEMORY' }]);
    expect(external).toContain(memory.failures[0].arn);
    const cpu = await env.call('RunTask', {
      cluster: 'edge',
      taskDefinition: 'busy',
      launchType: 'EXTERNAL',
    });
    expect(cpu.failures).toEqual([{ arn: expect.any(String), reason: 'RESOURCE:CPU' }]);
    // One EC2 instance, a fixed host port: the second task of the same call finds the port taken.
    const ports = await env.call('RunTask', {
      cluster: 'edge',
      taskDefinition: 'web',
      launchType: 'EC2',
      count: 2,
    });
    expect(ports.tasks).toHaveLength(1);
    expect(ports.failures).toEqual([{ arn: ec2, reason: 'RESOURCE:PORTS' }]);

    env.ecs.removeCapacity({ accountId: ACCOUNT, region: REGION, cluster: 'edge', launchType: 'EXTERNAL' });
    const agent = await env.call('RunTask', {
      cluster: 'edge',
      taskDefinition: 'worker',
      launchType: 'EXTERNAL',
    });
    expect(agent.failures).toEqual([{ arn: expect.any(String), reason: 'AGENT' }]);
    expect(external).toContain(agent.failures[0].arn);

    await env.call('CreateCluster', { clusterName: 'bare' });
    await expect(
      env.call('RunTask', { cluster: 'bare', taskDefinition: 'worker', launchType: 'EC2' }),
    ).rejects.toMatchObject({
      code: 'InvalidParameterException',
      message: 'No Container Instances were found in your cluster.',
    });
  });

  it('ListServiceDeployments and DescribeServiceRevisions show each deployment with its pinned digests', async () => {
    const env = makeEcs();
    world(env);
    env.digests.set(IMAGE, D2);
    await env.call('UpdateService', { cluster: 'edge', service: 'worker', forceNewDeployment: true });
    await env.clock.runUntilIdle(600_000);
    const { serviceDeployments } = await env.call('ListServiceDeployments', {
      cluster: 'edge',
      service: 'worker',
    });
    expect(serviceDeployments.map((d: { status: string }) => d.status)).toEqual(['SUCCESSFUL', 'SUCCESSFUL']);
    const { serviceRevisions } = await env.call('DescribeServiceRevisions', {
      serviceRevisionArns: serviceDeployments.map(
        (d: { targetServiceRevisionArn: string }) => d.targetServiceRevisionArn,
      ),
    });
    expect(
      serviceRevisions.map(
        (r: { containerImages: { imageDigest: string }[] }) => r.containerImages[0]?.imageDigest,
      ),
    ).toEqual([D2, D1]);
  });
});
