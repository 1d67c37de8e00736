import { describe, expect, it } from 'vitest';
import { planEcsCluster, planFargateQuota, tasksThatStillFit } from '../../../shared/check-capacity/ecs-plan';
import type {
  ContainerInstanceState,
  EcsServiceState,
  FargateUsage,
} from '../../../shared/check-capacity/model';
import { cluster, deployment, instance, MIN, NOW, service } from '../../fixtures/capacity-builders';

const plan = (c: ReturnType<typeof cluster>, fargate?: FargateUsage, stuckDeploymentMinutes = 30) =>
  planEcsCluster(c, { nowMs: NOW, stuckDeploymentMinutes, ...(fargate ? { fargate } : {}) });
const keys = (r: ReturnType<typeof plan>) => r.findings.map((f) => `${f.key}=${f.severity}`);

describe('tasks that still fit', () => {
  const api = service('api', { task: { cpu: 512, memory: 1024 } });
  it.each<[string, ContainerInstanceState[], EcsServiceState, number]>([
    ['one roomy instance, memory-bound', [instance(4096, 4096)], api, 4],
    ['cpu-bound', [instance(1024, 16384)], api, 2],
    ['adds up per instance, not per cluster', [instance(2048, 4096), instance(512, 1500)], api, 5],
    // 3 × 600 MiB = 1800 MiB free in total, yet no single instance takes a 1024 MiB task.
    [
      'fragmented: enough in total, none on any one',
      [instance(4096, 600), instance(4096, 600), instance(4096, 600)],
      api,
      0,
    ],
    ['draining instances offer nothing', [instance(4096, 4096, { status: 'DRAINING' })], api, 0],
    ['nor instances whose agent is disconnected', [instance(4096, 4096, { agentConnected: false })], api, 0],
    ['EXTERNAL instances do not take EC2 tasks', [instance(4096, 4096, { kind: 'EXTERNAL' })], api, 0],
    [
      'EXTERNAL tasks only on EXTERNAL instances',
      [instance(4096, 4096, { kind: 'EXTERNAL' }), instance(4096, 4096)],
      service('edge', { capacity: 'EXTERNAL', task: { cpu: 1024, memory: 1024 } }),
      4,
    ],
    [
      'a fixed host port: one task per instance at most',
      [instance(4096, 4096), instance(4096, 4096)],
      service('web', { task: { cpu: 128, memory: 128, hostPorts: [80] } }),
      2,
    ],
    [
      'none where the host port is already taken',
      [instance(4096, 4096, { reservedPorts: [22, 80] }), instance(4096, 4096)],
      service('web', { task: { cpu: 128, memory: 128, hostPorts: [80] } }),
      1,
    ],
    [
      'Fargate services have no instance math',
      [instance(4096, 4096)],
      service('f', { capacity: 'FARGATE' }),
      0,
    ],
  ])('%s', (_name, instances, svc, expected) => {
    expect(tasksThatStillFit(instances, svc)).toBe(expected);
  });
});

describe('ECS findings', () => {
  it('fragmented instances: no room, critical when the next deployment cannot start', () => {
    const r = plan(
      cluster(
        [instance(4096, 600), instance(4096, 600), instance(4096, 600)],
        [service('api', { task: { cpu: 512, memory: 1024 } })],
      ),
    );
    expect(keys(r)).toEqual(['ecs:prod:service/api:no-room=critical']);
    expect(r.findings[0]?.detail).toContain('1024 MiB');
    expect(r.report.services[0]?.tasksThatStillFit).toBe(0);
  });

  it('no room is a warning when the deployment may stop old tasks first', () => {
    const r = plan(
      cluster(
        [instance(100, 100)],
        [service('api', { desiredCount: 4, runningCount: 4, minimumHealthyPercent: 50 })],
      ),
    );
    expect(keys(r)).toEqual(['ecs:prod:service/api:no-room=warning']);
    expect(r.findings[0]?.detail).toContain('replace at most 2 task(s)');
  });

  it.each([
    // desired, maximumPercent, room for, finding
    [4, 200, 4, []],
    [4, 200, 2, ['ecs:prod:service/api:deployment-headroom=warning']],
    [3, 150, 1, []], // floor(3 × 1.5) − 3 = 1 extra task
    [3, 149, 1, []], // ECS rounds down: 4 − 3 = 1
    [4, 100, 1, []], // no surge: old tasks stop first
  ])('rolling deployment: desired %i at %i %% with room for %i', (desired, max, room, expected) => {
    const r = plan(
      cluster(
        [instance(256 * room, 512 * room)],
        [service('api', { desiredCount: desired, runningCount: desired, maximumPercent: max })],
      ),
    );
    expect(keys(r)).toEqual(expected);
    expect(r.report.services[0]?.tasksThatStillFit).toBe(room);
  });

  it('counts EXTERNAL capacity apart from EC2', () => {
    const r = plan(
      cluster(
        [
          instance(1000, 2000),
          instance(3000, 5000, { kind: 'EXTERNAL' }),
          instance(7000, 7000, { kind: 'EXTERNAL', status: 'DRAINING' }),
        ],
        [],
      ),
    );
    expect(r.report.ec2).toMatchObject({
      instances: 1,
      usable: 1,
      remainingCpu: 1000,
      remainingMemory: 2000,
    });
    expect(r.report.external).toMatchObject({
      instances: 2,
      usable: 1,
      remainingCpu: 3000,
      remainingMemory: 5000,
    });
    expect(keys(r)).toEqual([expect.stringMatching(/^ecs:prod:container-instance\/mi-\d+:draining=info$/)]);
  });

  it('an ACTIVE instance whose agent is gone is a warning', () => {
    const r = plan(
      cluster(
        [instance(4096, 4096, { instanceId: 'i-0abc', agentConnected: false }), instance(4096, 4096)],
        [service('api')],
      ),
    );
    expect(keys(r)).toEqual(['ecs:prod:container-instance/i-0abc:agent-disconnected=warning']);
  });

  it('Fargate-only cluster: no instance math, no room findings without a quota', () => {
    const r = plan(
      cluster([], [service('api', { capacity: 'FARGATE', desiredCount: 10, runningCount: 10 })]),
    );
    expect(r.findings).toEqual([]);
    expect(r.report.services[0]?.tasksThatStillFit).toBeNull();
    expect(r.report.ec2.instances + r.report.external.instances).toBe(0);
  });

  it('Fargate with a quota: what is left of it decides how many tasks fit', () => {
    const svc = service('api', {
      capacity: 'FARGATE',
      desiredCount: 4,
      runningCount: 4,
      task: { cpu: 1024, memory: 2048 },
    });
    const tight = plan(cluster([], [svc]), { onDemandVcpu: 98, quotaVcpu: 100 });
    expect(tight.report.services[0]?.tasksThatStillFit).toBe(2);
    expect(keys(tight)).toEqual(['ecs:prod:service/api:deployment-headroom=warning']);
    expect(keys(plan(cluster([], [svc]), { onDemandVcpu: 100, quotaVcpu: 100 }))).toEqual([
      'ecs:prod:service/api:no-room=critical',
    ]);
  });

  it.each([
    // running, pending, room for, severity: capacity is the reason only when the missing tasks do not fit
    [2, 0, 0, 'warning'],
    [0, 0, 2, 'critical'],
    [2, 0, 1, 'info'],
    [0, 3, 0, 'info'],
  ])(
    'below desired: %i running, %i pending of 3 with room for %i is %s',
    (running, pending, room, severity) => {
      const r = plan(
        cluster(
          [instance(256 * room, 512 * room)],
          [service('api', { runningCount: running, pendingCount: pending, desiredCount: 3 })],
        ),
      );
      expect(
        r.findings.filter((f) => f.kind === 'below-desired').map((f) => `${f.key}=${f.severity}`),
      ).toEqual([`ecs:prod:service/api:below-desired=${severity}`]);
      expect(r.findings.find((f) => f.kind === 'below-desired')?.title).toBe(
        `api runs ${running} of 3 tasks`,
      );
    },
  );

  it('below desired during a rolling deployment within minimumHealthyPercent is the deployment working', () => {
    const rolling = deployment({ rolloutState: 'IN_PROGRESS', updatedAtMs: NOW - 2 * MIN });
    const svc = service('api', {
      desiredCount: 4,
      runningCount: 2,
      minimumHealthyPercent: 50,
      deployments: [rolling],
    });
    expect(plan(cluster([instance(4096, 8192)], [svc])).findings).toEqual([]);
    const worse = { ...svc, runningCount: 1 };
    expect(keys(plan(cluster([instance(4096, 8192)], [worse])))).toEqual([
      'ecs:prod:service/api:below-desired=info',
    ]);
  });

  it.each([
    ['IN_PROGRESS', 31, ['ecs:prod:service/api:stuck-deployment=critical']],
    ['IN_PROGRESS', 29, []],
    ['COMPLETED', 300, []],
    ['FAILED', 300, []],
  ] as const)(
    'deployment %s, last change %i minutes ago (threshold 30)',
    (rolloutState, minutes, expected) => {
      const d = deployment({ rolloutState, updatedAtMs: NOW - minutes * MIN });
      const r = plan(cluster([instance(4096, 8192)], [service('api', { deployments: [d] })]));
      expect(keys(r)).toEqual([...expected]);
    },
  );

  it('services scaled to zero need no room', () => {
    expect(plan(cluster([], [service('batch', { desiredCount: 0, runningCount: 0 })])).findings).toEqual([]);
  });
});

describe('Fargate vCPU quota', () => {
  it.each([
    [50, []],
    [80, ['warning']],
    [95, ['critical']],
    [120, ['critical']],
  ])('%i of 100 vCPU', (used, expected) => {
    expect(planFargateQuota({ onDemandVcpu: used, quotaVcpu: 100 }).map((f) => f.severity)).toEqual(expected);
  });
});
