import { describe, expect, it } from 'vitest';
import { makeEcs } from './core';

const IMAGE = '000000000000.dkr.ecr.us-east-1.amazonaws.com/shop/api:prod';
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

function world(env: ReturnType<typeof makeEcs>, over: Record<string, unknown> = {}) {
  env.digests.set(IMAGE, D1);
  env.ecs.loadWorld({
    taskDefinitions: [{ family: 'api', containers: [{ name: 'api', image: IMAGE, cpu: 256, memory: 512 }] }],
    clusters: [
      {
        name: 'prod',
        containerInstances: [{ kind: 'EC2', cpu: 2048, memory: 4096, count: 2 }],
        services: [
          {
            name: 'api',
            taskDefinition: 'api',
            desiredCount: 4,
            tags: { 'harborpilot:policy': 'auto' },
            ...over,
          },
        ],
      },
    ],
  });
}

async function tasks(env: ReturnType<typeof makeEcs>, input: Record<string, unknown>) {
  const { taskArns } = await env.call('ListTasks', { cluster: 'prod', ...input });
  if (taskArns.length === 0) return [];
  return (await env.call('DescribeTasks', { cluster: 'prod', tasks: taskArns })).tasks;
}

describe('ECS world and services', () => {
  it('a CODE_DEPLOY or EXTERNAL service refuses deployments of its own, as ECS does; its desired count still moves', async () => {
    for (const controller of ['CODE_DEPLOY', 'EXTERNAL'] as const) {
      const env = makeEcs();
      world(env, { deploymentController: controller });
      const { services } = await env.call('DescribeServices', { cluster: 'prod', services: ['api'] });
      expect(services[0].deploymentController).toEqual({ type: controller });
      await expect(
        env.call('UpdateService', { cluster: 'prod', service: 'api', forceNewDeployment: true }),
      ).rejects.toMatchObject({
        name: 'InvalidParameterException',
        message: expect.stringMatching(
          `^Unable to force a new deployment on services with a ${controller} deployment controller\\.`,
        ),
      });
      await expect(
        env.call('UpdateService', { cluster: 'prod', service: 'api', taskDefinition: 'api' }),
      ).rejects.toMatchObject({
        message: expect.stringMatching(
          `^Unable to update task definition on services with a ${controller} deployment controller\\.`,
        ),
      });
      const scaled = await env.call('UpdateService', { cluster: 'prod', service: 'api', desiredCount: 2 });
      expect(scaled.service).toMatchObject({ desiredCount: 2, deployments: [expect.anything()] });
    }
  });

  it('loads services steady: one COMPLETED PRIMARY deployment, tasks RUNNING on the resolved digest', async () => {
    const env = makeEcs();
    world(env);
    const { services } = await env.call('DescribeServices', {
      cluster: 'prod',
      services: ['api'],
      include: ['TAGS'],
    });
    const svc = services[0];
    expect(svc).toMatchObject({ status: 'ACTIVE', desiredCount: 4, runningCount: 4, pendingCount: 0 });
    expect(svc.tags).toEqual([{ key: 'harborpilot:policy', value: 'auto' }]);
    expect(svc.deployments).toHaveLength(1);
    expect(svc.deployments[0]).toMatchObject({
      status: 'PRIMARY',
      rolloutState: 'COMPLETED',
      runningCount: 4,
    });
    expect(svc.deployments[0].id).toMatch(/^ecs-svc\/\d{19}$/);
    const running = await tasks(env, { serviceName: 'api' });
    expect(running).toHaveLength(4);
    for (const t of running) {
      expect(t).toMatchObject({
        lastStatus: 'RUNNING',
        group: 'service:api',
        startedBy: svc.deployments[0].id,
      });
      expect(t.containers[0].imageDigest).toBe(D1);
    }
    // Without TAGS, no tags.
    const plain = await env.call('DescribeServices', { cluster: 'prod', services: ['api'] });
    expect(plain.services[0].tags).toBeUndefined();
    expect(env.bus.history).toHaveLength(0);
  });

  it('forceNewDeployment rolls every task to the new digest within min/max percent, events in order', async () => {
    const env = makeEcs();
    world(env, { minimumHealthyPercent: 50, maximumPercent: 150 });
    env.digests.set(IMAGE, D2);
    const { service } = await env.call('UpdateService', {
      cluster: 'prod',
      service: 'api',
      forceNewDeployment: true,
    });
    expect(service.deployments.map((d: { status: string }) => d.status)).toEqual(['PRIMARY', 'ACTIVE']);
    const newId = service.deployments[0].id;
    let maxAlive = 0;
    let minRunning = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 120; i++) {
      await env.clock.advance(500);
      const alive = await tasks(env, { serviceName: 'api' });
      maxAlive = Math.max(maxAlive, alive.length);
      minRunning = Math.min(
        minRunning,
        alive.filter((t: { lastStatus: string }) => t.lastStatus === 'RUNNING').length,
      );
    }
    expect(maxAlive).toBeLessThanOrEqual(6); // maximumPercent 150 of 4
    expect(minRunning).toBeGreaterThanOrEqual(2); // minimumHealthyPercent 50 of 4
    const after = await tasks(env, { serviceName: 'api' });
    expect(after).toHaveLength(4);
    for (const t of after) {
      expect(t.startedBy).toBe(newId);
      expect(t.containers[0].imageDigest).toBe(D2);
    }
    const byStartedBy = await env.call('ListTasks', { cluster: 'prod', startedBy: newId });
    expect(byStartedBy.taskArns).toHaveLength(4);
    const { services } = await env.call('DescribeServices', { cluster: 'prod', services: ['api'] });
    expect(services[0].deployments).toHaveLength(1);
    expect(services[0].deployments[0]).toMatchObject({
      id: newId,
      rolloutState: 'COMPLETED',
      runningCount: 4,
    });
    expect(services[0].events[0].message).toContain('has reached a steady state');

    const stopped = await tasks(env, { serviceName: 'api', desiredStatus: 'STOPPED' });
    expect(stopped).toHaveLength(4);
    for (const t of stopped) {
      expect(t).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'ServiceSchedulerInitiated' });
      expect(t.stoppedReason).toBe(`Scaling activity initiated by (deployment ${newId})`);
    }
    const kinds = env.bus.history.map((e) =>
      e['detail-type'] === 'ECS Task State Change' ? `task:${e.detail.lastStatus}` : `${e.detail.eventName}`,
    );
    expect(kinds[0]).toBe('SERVICE_DEPLOYMENT_IN_PROGRESS');
    expect(kinds.slice(-2)).toEqual(['SERVICE_DEPLOYMENT_COMPLETED', 'SERVICE_STEADY_STATE']);
    expect(kinds.indexOf('task:RUNNING')).toBeLessThan(kinds.indexOf('task:STOPPED'));
    const deploymentEvent = env.bus.history.find((e) => e['detail-type'] === 'ECS Deployment State Change');
    expect(deploymentEvent?.resources).toEqual([service.serviceArn]);
    const versions = env.bus.history
      .filter((e) => e['detail-type'] === 'ECS Task State Change')
      .map((e) => e.detail.version as number);
    expect(versions.every((v) => v >= 1)).toBe(true);
  });

  it('BLUE_GREEN: the new revision runs whole beside the old through the bake time, then the old stops and it completes', async () => {
    const env = makeEcs();
    // 4 tasks of 256 CPU beside 4 old ones: room on two 2048-CPU instances.
    world(env, { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 10 });
    env.digests.set(IMAGE, D2);
    const { service } = await env.call('UpdateService', {
      cluster: 'prod',
      service: 'api',
      forceNewDeployment: true,
    });
    expect(service.deploymentConfiguration).toMatchObject({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 10 });
    const green = service.deployments[0].id;
    const deployment = async () => {
      const {
        serviceDeployments: [brief],
      } = await env.call('ListServiceDeployments', { cluster: 'prod', service: 'api' });
      const {
        serviceDeployments: [d],
      } = await env.call('DescribeServiceDeployments', {
        serviceDeploymentArns: [brief.serviceDeploymentArn],
      });
      return d;
    };
    await env.clock.advance(60_000);
    // Green all running, blue still running: 8 tasks, the deployment baking, not done.
    expect(await tasks(env, { serviceName: 'api' })).toHaveLength(8);
    expect(await deployment()).toMatchObject({ status: 'IN_PROGRESS', lifecycleStage: 'BAKE_TIME' });
    const { services } = await env.call('DescribeServices', { cluster: 'prod', services: ['api'] });
    expect(services[0].deployments.map((d: { rolloutState: string }) => d.rolloutState)).toEqual([
      'IN_PROGRESS',
      'COMPLETED',
    ]);
    expect(env.bus.history.some((e) => e.detail.eventName === 'SERVICE_DEPLOYMENT_COMPLETED')).toBe(false);
    await env.clock.advance(8 * 60_000);
    expect(await deployment()).toMatchObject({ status: 'IN_PROGRESS', lifecycleStage: 'BAKE_TIME' });
    await env.clock.advance(3 * 60_000);
    // Bake time over: blue stopped, the deployment successful, one COMPLETED event.
    const after = await tasks(env, { serviceName: 'api' });
    expect(after).toHaveLength(4);
    expect(after.every((t: { startedBy: string }) => t.startedBy === green)).toBe(true);
    const done = await deployment();
    expect(done.status).toBe('SUCCESSFUL');
    expect(done.lifecycleStage).toBeUndefined();
    expect(done.finishedAt - done.startedAt).toBeGreaterThanOrEqual(600);
    expect(env.bus.history.filter((e) => e.detail.eventName === 'SERVICE_DEPLOYMENT_COMPLETED')).toHaveLength(
      1,
    );
  });

  it('refuses an unknown deployment strategy or a bake time out of range, naming it', async () => {
    const env = makeEcs();
    world(env);
    await expect(
      env.call('UpdateService', {
        cluster: 'prod',
        service: 'api',
        deploymentConfiguration: { strategy: 'GREEN' },
      }),
    ).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringMatching(/strategy: GREEN/),
    });
    await expect(
      env.call('UpdateService', {
        cluster: 'prod',
        service: 'api',
        deploymentConfiguration: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 2000 },
      }),
    ).rejects.toMatchObject({ message: 'bakeTimeInMinutes must be between 0 and 1440.' });
  });

  it('resolves the tag once, when the deployment starts: a later push of the tag changes none of its tasks', async () => {
    const env = makeEcs();
    world(env, { minimumHealthyPercent: 50, maximumPercent: 150 });
    env.digests.set(IMAGE, D2);
    await env.call('UpdateService', { cluster: 'prod', service: 'api', forceNewDeployment: true });
    await env.clock.advance(3_000); // mid-rollout, the tag moves again
    const D3 = `sha256:${'3'.repeat(64)}`;
    env.digests.set(IMAGE, D3);
    await env.clock.runUntilIdle(600_000);
    // Scaling out starts tasks of the same deployment: the digest it pinned, not the tag's new one.
    await env.call('UpdateService', { cluster: 'prod', service: 'api', desiredCount: 5 });
    await env.clock.runUntilIdle(600_000);
    const running = await tasks(env, { serviceName: 'api' });
    expect(running).toHaveLength(5);
    expect(
      new Set(running.map((t: { containers: { imageDigest: string }[] }) => t.containers[0]?.imageDigest)),
    ).toEqual(new Set([D2]));
    const { services } = await env.call('DescribeServices', { cluster: 'prod', services: ['api'] });
    expect(services[0].deployments).toMatchObject([
      { status: 'PRIMARY', rolloutState: 'COMPLETED', runningCount: 5 },
    ]);
  });

  it('taskDefinition change deploys the new revision', async () => {
    const env = makeEcs();
    world(env);
    const reg = await env.call('RegisterTaskDefinition', {
      family: 'api',
      containerDefinitions: [{ name: 'api', image: IMAGE, cpu: 256, memory: 256 }],
    });
    expect(reg.taskDefinition.revision).toBe(2);
    await env.call('UpdateService', { cluster: 'prod', service: 'api', taskDefinition: 'api:2' });
    await env.clock.runUntilIdle(600_000);
    const after = await tasks(env, { serviceName: 'api' });
    expect(after.map((t: { taskDefinitionArn: string }) => t.taskDefinitionArn)).toEqual(
      Array(4).fill(reg.taskDefinition.taskDefinitionArn),
    );
  });

  it('a pull failure stops tasks with TaskFailedToStart and the circuit breaker rolls back', async () => {
    const env = makeEcs();
    world(env, { circuitBreaker: { enable: true, rollback: true } });
    await env.call('RegisterTaskDefinition', {
      family: 'api',
      containerDefinitions: [
        { name: 'api', image: `${IMAGE.split(':prod')[0]}:missing`, cpu: 256, memory: 512 },
      ],
    });
    await env.call('UpdateService', { cluster: 'prod', service: 'api', taskDefinition: 'api:2' });
    await env.clock.runUntilIdle(3600_000);
    const stopped = await tasks(env, { serviceName: 'api', desiredStatus: 'STOPPED' });
    const failed = stopped.filter((t: { taskDefinitionArn: string }) => t.taskDefinitionArn.endsWith(':2'));
    expect(failed.length).toBeGreaterThanOrEqual(3);
    expect(failed[0]).toMatchObject({ stopCode: 'TaskFailedToStart', lastStatus: 'STOPPED' });
    expect(failed[0].stoppedReason).toMatch(/^CannotPullContainerError: /);
    expect(failed[0].containers[0].reason).toMatch(/^CannotPullContainerError: /);
    const names = env.bus.history.map((e) => e.detail.eventName).filter(Boolean);
    expect(names).toContain('SERVICE_DEPLOYMENT_FAILED');
    const { services } = await env.call('DescribeServices', { cluster: 'prod', services: ['api'] });
    expect(services[0].taskDefinition).toMatch(/task-definition\/api:1$/);
    expect(services[0].deployments[0]).toMatchObject({ rolloutState: 'COMPLETED', runningCount: 4 });
  });

  it('a forced deployment whose image no longer pulls rolls back to the previous digests', async () => {
    const env = makeEcs();
    world(env, { circuitBreaker: { enable: true, rollback: true } });
    env.digests.delete(IMAGE);
    await env.call('UpdateService', { cluster: 'prod', service: 'api', forceNewDeployment: true });
    await env.clock.advance(3600_000);
    const names = env.bus.history.map((e) => e.detail.eventName).filter(Boolean);
    expect(names).toContain('SERVICE_TASK_START_IMPAIRED');
    expect(names.indexOf('SERVICE_DEPLOYMENT_FAILED')).toBeLessThan(
      names.lastIndexOf('SERVICE_DEPLOYMENT_COMPLETED'),
    );
    const running = await tasks(env, { serviceName: 'api' });
    expect(running).toHaveLength(4);
    for (const t of running) expect(t.containers[0].imageDigest).toBe(D1);
    const { services } = await env.call('DescribeServices', { cluster: 'prod', services: ['api'] });
    expect(services[0].events.some((e: { message: string }) => /rolling back/.test(e.message))).toBe(true);
    const { serviceDeployments } = await env.call('ListServiceDeployments', {
      cluster: 'prod',
      service: 'api',
    });
    expect(serviceDeployments.map((d: { status: string }) => d.status)).toEqual([
      'SUCCESSFUL',
      'ROLLBACK_SUCCESSFUL',
      'SUCCESSFUL',
    ]);
  });

  it('DescribeServiceDeployments: the failed deployment rolled back (reason, rollback revision, breaker), the others successful', async () => {
    const env = makeEcs();
    world(env, { circuitBreaker: { enable: true, rollback: true } });
    env.digests.delete(IMAGE);
    await env.call('UpdateService', { cluster: 'prod', service: 'api', forceNewDeployment: true });
    await env.clock.advance(3600_000);
    const { serviceDeployments: briefs } = await env.call('ListServiceDeployments', {
      cluster: 'prod',
      service: 'api',
    });
    const arns = briefs.map((b: { serviceDeploymentArn: string }) => b.serviceDeploymentArn);
    const { serviceDeployments, failures } = await env.call('DescribeServiceDeployments', {
      serviceDeploymentArns: [...arns, `${arns[0]}x`],
    });
    expect(failures).toEqual([{ arn: `${arns[0]}x`, reason: 'MISSING' }]);
    const [rollback, failed, first] = serviceDeployments;
    expect(failed).toMatchObject({
      status: 'ROLLBACK_SUCCESSFUL',
      statusReason: 'ECS deployment circuit breaker: tasks failed to start.',
      deploymentCircuitBreaker: { status: 'TRIGGERED', threshold: 3 },
      rollback: {
        reason: expect.stringMatching(
          /^ECS deployment circuit breaker: rolling back to deploymentId ecs-svc\//,
        ),
        serviceRevisionArn: briefs[0].targetServiceRevisionArn,
      },
      targetServiceRevision: { arn: briefs[1].targetServiceRevisionArn, runningTaskCount: 0 },
    });
    expect(failed.deploymentCircuitBreaker.failureCount).toBeGreaterThanOrEqual(3);
    expect(rollback).toMatchObject({ status: 'SUCCESSFUL', targetServiceRevision: { runningTaskCount: 4 } });
    expect(rollback.finishedAt).toBeGreaterThan(rollback.startedAt);
    expect(first).toMatchObject({ status: 'SUCCESSFUL' });
    expect(first.rollback).toBeUndefined();
  });

  it('a pull failure on the new digest only: the circuit breaker rolls back, and the rollback pulls the old digest', async () => {
    const env = makeEcs();
    world(env, { circuitBreaker: { enable: true, rollback: true } });
    env.faults.add({ kind: 'pullFailure', repository: 'shop/api', digest: D2, reason: 'broken build' });
    env.digests.set(IMAGE, D2);
    await env.call('UpdateService', { cluster: 'prod', service: 'api', forceNewDeployment: true });
    await env.clock.advance(3600_000);
    const names = env.bus.history.map((e) => e.detail.eventName).filter(Boolean);
    expect(names).toContain('SERVICE_DEPLOYMENT_FAILED');
    const running = await tasks(env, { serviceName: 'api', desiredStatus: 'RUNNING' });
    expect(running).toHaveLength(4);
    for (const t of running) expect(t.containers[0].imageDigest).toBe(D1);
    const { services } = await env.call('DescribeServices', { cluster: 'prod', services: ['api'] });
    expect(services[0].deployments).toMatchObject([{ status: 'PRIMARY', rolloutState: 'COMPLETED' }]);
  });

  it('tasks that reach RUNNING and then crash are replaced at once: no launch throttle, no "unable to start"', async () => {
    const env = makeEcs();
    world(env);
    // Every task runs 30 s, then its essential container exits 1: all four crash together, again and again.
    env.containerFaults.set('api', { kind: 'exit', exitCode: 1, afterMs: 30_000 });
    await env.call('UpdateService', { cluster: 'prod', service: 'api', forceNewDeployment: true });
    await env.clock.advance(600_000);
    const names = env.bus.history.map((e) => e.detail.eventName).filter(Boolean);
    expect(names).not.toContain('SERVICE_TASK_START_IMPAIRED');
    const { services } = await env.call('DescribeServices', { cluster: 'prod', services: ['api'] });
    expect(
      services[0].events.some((e: { message: string }) => /unable to consistently start/.test(e.message)),
    ).toBe(false);
    // Each crash is replaced within seconds: about 40 crashes in 10 minutes (4 tasks, every ~32 s), not a
    // few spread out by a growing delay.
    const crashed = (await tasks(env, { serviceName: 'api', desiredStatus: 'STOPPED' })).filter(
      (t: { stopCode: string }) => t.stopCode === 'EssentialContainerExited',
    );
    expect(crashed.length).toBeGreaterThanOrEqual(60);
  });

  it('tasks that never reach RUNNING are throttled: a growing delay and "unable to consistently start tasks"', async () => {
    const env = makeEcs();
    world(env);
    env.digests.delete(IMAGE);
    await env.call('UpdateService', { cluster: 'prod', service: 'api', forceNewDeployment: true });
    await env.clock.advance(600_000);
    const names = env.bus.history.map((e) => e.detail.eventName).filter(Boolean);
    expect(names).toContain('SERVICE_TASK_START_IMPAIRED');
    const failed = (await tasks(env, { serviceName: 'api', desiredStatus: 'STOPPED' })).filter(
      (t: { stopCode: string }) => t.stopCode === 'TaskFailedToStart',
    );
    // Unthrottled, a failed launch retries every few seconds (hundreds in 10 minutes); throttled, far fewer.
    expect(failed.length).toBeLessThan(40);
  });

  it('a new task definition resets the launch throttle: the new deployment starts at once', async () => {
    const env = makeEcs();
    world(env);
    env.digests.delete(IMAGE);
    await env.call('UpdateService', { cluster: 'prod', service: 'api', forceNewDeployment: true });
    await env.clock.advance(300_000); // failing long enough for a delay of minutes
    const fixed = `${IMAGE.split(':prod')[0]}:fixed`;
    env.digests.set(fixed, D2);
    await env.call('RegisterTaskDefinition', {
      family: 'api',
      containerDefinitions: [{ name: 'api', image: fixed, cpu: 256, memory: 512 }],
    });
    await env.call('UpdateService', { cluster: 'prod', service: 'api', taskDefinition: 'api:2' });
    await env.clock.advance(30_000);
    const running = (await tasks(env, { serviceName: 'api' })).filter(
      (t: { lastStatus: string }) => t.lastStatus === 'RUNNING',
    );
    expect(running.length).toBeGreaterThanOrEqual(1);
    for (const t of running) expect(t.containers[0].imageDigest).toBe(D2);
  });

  it('a deployment whose image did not pull succeeds once it does: each placement attempt pulls again', async () => {
    const env = makeEcs();
    world(env);
    const missing = `${IMAGE.split(':prod')[0]}:next`;
    await env.call('RegisterTaskDefinition', {
      family: 'api',
      containerDefinitions: [{ name: 'api', image: missing, cpu: 256, memory: 512 }],
    });
    await env.call('UpdateService', { cluster: 'prod', service: 'api', taskDefinition: 'api:2' });
    await env.clock.advance(60_000);
    expect(
      (await tasks(env, { serviceName: 'api', desiredStatus: 'STOPPED' })).some(
        (t: { stopCode: string }) => t.stopCode === 'TaskFailedToStart',
      ),
    ).toBe(true);
    env.digests.set(missing, D2); // the fault is gone: the image is there now
    await env.clock.advance(1_800_000);
    const { services } = await env.call('DescribeServices', { cluster: 'prod', services: ['api'] });
    expect(services[0].deployments[0]).toMatchObject({ rolloutState: 'COMPLETED', runningCount: 4 });
    expect(services[0].taskDefinition).toMatch(/task-definition\/api:2$/);
    const running = await tasks(env, { serviceName: 'api' });
    for (const t of running) expect(t.containers[0].imageDigest).toBe(D2);
  });

  it('a deployment created while a pullFailure fault is set completes once the fault is removed', async () => {
    const env = makeEcs();
    world(env);
    const added = env.faults.add({ kind: 'pullFailure', repository: 'shop/api' });
    const faultId = 'fault' in added ? added.fault.id : '';
    const { service } = await env.call('UpdateService', {
      cluster: 'prod',
      service: 'api',
      forceNewDeployment: true,
    });
    const newId = service.deployments[0].id;
    await env.clock.advance(600_000);
    const failed = (await tasks(env, { serviceName: 'api', desiredStatus: 'STOPPED' })).filter(
      (t: { stopCode: string }) => t.stopCode === 'TaskFailedToStart',
    );
    expect(failed.length).toBeGreaterThanOrEqual(3);
    expect(failed[0].stoppedReason).toMatch(/^CannotPullContainerError: /);
    // The admin API's DELETE /_harborpilot/faults/<id>: the next placement attempt pulls again and succeeds,
    // at the latest once the throttle's delay (at most 15 minutes) has passed.
    expect(env.faults.remove(faultId)).toBe(true);
    await env.clock.advance(16 * 60_000);
    const { services } = await env.call('DescribeServices', { cluster: 'prod', services: ['api'] });
    expect(services[0].deployments).toMatchObject([
      { id: newId, rolloutState: 'COMPLETED', runningCount: 4 },
    ]);
    const running = await tasks(env, { serviceName: 'api' });
    expect(running).toHaveLength(4);
    for (const t of running) {
      expect(t.startedBy).toBe(newId);
      expect(t.containers[0].imageDigest).toBe(D1);
    }
  });

  it('while the throttle holds launches back, a lower desiredCount stops the extra tasks at once', async () => {
    const env = makeEcs();
    world(env);
    env.digests.delete(IMAGE);
    await env.call('UpdateService', { cluster: 'prod', service: 'api', forceNewDeployment: true });
    await env.clock.advance(300_000); // the relaunch delay is minutes by now
    await env.call('UpdateService', { cluster: 'prod', service: 'api', desiredCount: 2 });
    await env.clock.advance(5_000);
    const running = (await tasks(env, { serviceName: 'api' })).filter(
      (t: { lastStatus: string }) => t.lastStatus === 'RUNNING',
    );
    expect(running).toHaveLength(2);
    const scaledIn = (await tasks(env, { serviceName: 'api', desiredStatus: 'STOPPED' })).filter(
      (t: { stopCode: string }) => t.stopCode === 'ServiceSchedulerInitiated',
    );
    expect(scaledIn).toHaveLength(2);
  });

  it('forceNewDeployment on a throttled service creates its deployment at once; it launches when the delay ends', async () => {
    const env = makeEcs();
    world(env);
    env.digests.delete(IMAGE);
    await env.call('UpdateService', { cluster: 'prod', service: 'api', forceNewDeployment: true });
    await env.clock.advance(300_000);
    env.digests.set(IMAGE, D2); // the tag is pushed again
    const { service } = await env.call('UpdateService', {
      cluster: 'prod',
      service: 'api',
      forceNewDeployment: true,
    });
    const newId = service.deployments[0].id;
    expect(service.deployments[0]).toMatchObject({ status: 'PRIMARY', rolloutState: 'IN_PROGRESS' });
    const names = env.bus.history.map((e) => e.detail.eventName).filter(Boolean);
    expect(names.at(-1)).toBe('SERVICE_DEPLOYMENT_IN_PROGRESS');
    // Only a new task definition returns a service to a non-throttled state (ECS's service throttle logic): the
    // same revision, forced again, waits for the pending delay.
    await env.clock.advance(10_000);
    expect((await env.call('ListTasks', { cluster: 'prod', startedBy: newId })).taskArns).toEqual([]);
    await env.clock.advance(15 * 60_000);
    const { services } = await env.call('DescribeServices', { cluster: 'prod', services: ['api'] });
    expect(services[0].deployments).toMatchObject([
      { id: newId, rolloutState: 'COMPLETED', runningCount: 4 },
    ]);
    for (const t of await tasks(env, { serviceName: 'api' })) expect(t.containers[0].imageDigest).toBe(D2);
  });

  it('a task stopped by a user before it started is replaced at the normal pace: it did not fail to start', async () => {
    const env = makeEcs();
    world(env);
    env.digests.set(IMAGE, D2);
    const { service } = await env.call('UpdateService', {
      cluster: 'prod',
      service: 'api',
      forceNewDeployment: true,
    });
    const newId = service.deployments[0].id;
    await env.clock.advance(2_500); // the new tasks are PENDING
    const [first] = (await env.call('ListTasks', { cluster: 'prod', startedBy: newId })).taskArns;
    await env.call('StopTask', { cluster: 'prod', task: first, reason: 'not this one' });
    await env.clock.advance(4_500); // stopped after 2 s; the next pass replaces it a second later
    const mine = await env.call('ListTasks', { cluster: 'prod', startedBy: newId });
    expect(mine.taskArns).toHaveLength(4);
    expect(mine.taskArns).not.toContain(first);
  });

  it('OOM exits are EssentialContainerExited with exit code 137 and are replaced', async () => {
    const env = makeEcs();
    world(env);
    env.containerFaults.set('api', { kind: 'oom', afterMs: 10_000 });
    await env.call('UpdateService', { cluster: 'prod', service: 'api', forceNewDeployment: true });
    await env.clock.advance(40_000);
    const stopped = await tasks(env, { serviceName: 'api', desiredStatus: 'STOPPED' });
    const oom = stopped.find((t: { stopCode: string }) => t.stopCode === 'EssentialContainerExited');
    expect(oom.containers[0]).toMatchObject({
      exitCode: 137,
      reason: 'OutOfMemoryError: Container killed due to memory usage',
    });
  });

  it('reports placement failure when the cluster is full', async () => {
    const env = makeEcs();
    world(env);
    await env.call('UpdateService', { cluster: 'prod', service: 'api', desiredCount: 40 });
    await env.clock.advance(60_000);
    const { containerInstanceArns } = await env.call('ListContainerInstances', { cluster: 'prod' });
    const { containerInstances } = await env.call('DescribeContainerInstances', {
      cluster: 'prod',
      containerInstances: containerInstanceArns,
    });
    const memory = containerInstances.map(
      (i: { remainingResources: { name: string; integerValue: number }[] }) =>
        i.remainingResources.find((r) => r.name === 'MEMORY')?.integerValue,
    );
    expect(memory).toEqual([0, 0]);
    const failure = env.bus.history.find((e) => e.detail.eventName === 'SERVICE_TASK_PLACEMENT_FAILURE');
    expect(failure?.detail.reasons).toEqual(['RESOURCE:MEMORY']);
    const { services } = await env.call('DescribeServices', { cluster: 'prod', services: ['api'] });
    expect(services[0].runningCount).toBe(16);
    expect(services[0].events.map((e: { message: string }) => e.message)).toContainEqual(
      expect.stringMatching(
        /^\(service api\) was unable to place a task because no container instance met all of its requirements\. The closest matching \(container-instance [0-9a-f]{32}\) has insufficient memory available\./,
      ),
    );
  });

  it('a fixed host port rolls one instance at a time without placement failures while old tasks stop', async () => {
    const env = makeEcs();
    env.digests.set(IMAGE, D1);
    env.ecs.loadWorld({
      taskDefinitions: [
        {
          family: 'api',
          containers: [
            {
              name: 'api',
              image: IMAGE,
              cpu: 256,
              memory: 512,
              portMappings: [{ containerPort: 8080, hostPort: 8080 }],
            },
          ],
        },
      ],
      clusters: [
        {
          name: 'prod',
          containerInstances: [{ kind: 'EC2', count: 3 }],
          services: [
            {
              name: 'api',
              taskDefinition: 'api',
              desiredCount: 2,
              minimumHealthyPercent: 50,
              maximumPercent: 150,
            },
          ],
        },
      ],
    });
    env.digests.set(IMAGE, D2);
    await env.call('UpdateService', { cluster: 'prod', service: 'api', forceNewDeployment: true });
    await env.clock.advance(30_000);
    const names = env.bus.history.map((e) => e.detail.eventName).filter(Boolean);
    expect(names).not.toContain('SERVICE_TASK_PLACEMENT_FAILURE');
    expect(names.slice(-2)).toEqual(['SERVICE_DEPLOYMENT_COMPLETED', 'SERVICE_STEADY_STATE']);
    const after = await tasks(env, { serviceName: 'api' });
    expect(after.map((t: { containers: { imageDigest: string }[] }) => t.containers[0]?.imageDigest)).toEqual(
      [D2, D2],
    );
    expect(new Set(after.map((t: { containerInstanceArn: string }) => t.containerInstanceArn)).size).toBe(2);
  });

  it('pages ListServices by 100 and refuses more than 10 names in DescribeServices', async () => {
    const env = makeEcs();
    world(env);
    for (let i = 0; i < 150; i++) {
      await env.call('CreateService', {
        cluster: 'prod',
        serviceName: `s${i}`,
        taskDefinition: 'api',
        desiredCount: 0,
      });
    }
    const first = await env.call('ListServices', { cluster: 'prod' });
    expect(first.serviceArns).toHaveLength(100);
    const second = await env.call('ListServices', { cluster: 'prod', nextToken: first.nextToken });
    expect(second.serviceArns).toHaveLength(51);
    expect(second.nextToken).toBeUndefined();
    const names = Array.from({ length: 11 }, (_, i) => `s${i}`);
    await expect(env.call('DescribeServices', { cluster: 'prod', services: names })).rejects.toMatchObject({
      code: 'InvalidParameterException',
    });
    await expect(env.call('DescribeServices', { cluster: 'nope', services: ['api'] })).rejects.toMatchObject({
      code: 'ClusterNotFoundException',
    });
    await expect(env.call('UpdateService', { cluster: 'prod', service: 'nope' })).rejects.toMatchObject({
      code: 'ServiceNotFoundException',
    });
  });
});
