import { describe, expect, it } from 'vitest';
import type { ImagePush } from '../../../shared/events/image-push';
import type { Gate } from '../../../shared/gates';
import type { Digest } from '../../../shared/image-ref';
import type { EcsService } from '../../../shared/redeploy-ecs/model';
import { planRedeploy } from '../../../shared/redeploy-ecs/plan';

const REG = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const repo = { accountId: '123456789012', region: 'us-east-1', repositoryName: 'shop/api' };
const d = (c: string) => `sha256:${c.repeat(64)}` as Digest;

function service(name: string, image: string, extra: Partial<EcsService> = {}): EcsService {
  return {
    clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/prod',
    serviceArn: `arn:aws:ecs:us-east-1:123456789012:service/prod/${name}`,
    serviceName: name,
    capacity: 'FARGATE',
    taskDefinitionArn: `arn:aws:ecs:us-east-1:123456789012:task-definition/${name}:1`,
    containers: [{ containerName: 'app', image }],
    runningDigests: { app: d('1') },
    ...extra,
  };
}
const push = (tag: string | undefined, digest = d('2')): ImagePush => ({
  repository: repo,
  digest,
  ...(tag ? { tag } : {}),
});

describe('planRedeploy', () => {
  it('gates: the first gate that holds a service makes it a hold, in order; the rest move', () => {
    const asked: string[] = [];
    const window: Gate = ({ workload, changes }) => {
      asked.push(`window ${workload.platform === 'ecs' ? workload.service : ''} ${changes[0]?.toDigest}`);
      return workload.platform === 'ecs' && workload.service === 'api'
        ? { gate: 'window', reason: 'outside Mon-Fri 09:00-17:00 Europe/Berlin' }
        : undefined;
    };
    const never: Gate = () => ({ gate: 'approval', reason: 'asked after the window' });
    const plan = planRedeploy(
      [service('api', `${REG}/shop/api:latest`), service('web', `${REG}/shop/web:latest`)],
      [push('latest')],
      'force',
      [window, never],
    );
    expect(plan.actions).toEqual([]);
    expect(plan.holds).toEqual([
      expect.objectContaining({
        serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/prod/api',
        hold: { gate: 'window', reason: 'outside Mon-Fri 09:00-17:00 Europe/Berlin' },
        action: expect.objectContaining({ type: 'force-new-deployment', serviceName: 'api' }),
      }),
    ]);
    // web uses another repository: no gate is asked about a service that would not move.
    expect(asked).toEqual([`window api ${d('2')}`]);
  });

  it('force: the running tag pushed again forces a new deployment, task definition unchanged', () => {
    const plan = planRedeploy([service('api', `${REG}/shop/api:latest`)], [push('latest')], 'force');
    expect(plan.actions).toEqual([
      expect.objectContaining({
        type: 'force-new-deployment',
        serviceName: 'api',
        changes: [
          expect.objectContaining({
            toImage: `${REG}/shop/api:latest`,
            fromDigest: d('1'),
            toDigest: d('2'),
          }),
        ],
      }),
    ]);
  });

  it('force: nothing when the PRIMARY deployment started after the push and no task reported a digest yet', () => {
    const pushedAt = new Date('2026-11-25T10:00:00Z');
    const rolling = service('api', `${REG}/shop/api:latest`, {
      runningDigests: {},
      primaryCreatedAt: new Date('2026-11-25T10:00:05Z'),
    });
    const plan = planRedeploy([rolling], [{ ...push('latest'), pushedAt }], 'force');
    expect(plan.actions).toEqual([]);
    expect(plan.skips[0]?.reason).toMatch(/PRIMARY deployment started after latest was pushed/);
  });

  it('force: a PRIMARY deployment from before the push is moved, even with no digest reported', () => {
    const pushedAt = new Date('2026-11-25T10:00:00Z');
    const older = service('api', `${REG}/shop/api:latest`, {
      runningDigests: {},
      primaryCreatedAt: new Date('2026-11-25T09:00:00Z'),
    });
    const plan = planRedeploy([older], [{ ...push('latest'), pushedAt }], 'force');
    expect(plan.actions).toEqual([expect.objectContaining({ type: 'force-new-deployment' })]);
  });

  it('force: nothing when the primary deployment already runs the pushed digest', () => {
    const plan = planRedeploy(
      [service('api', `${REG}/shop/api:latest`, { runningDigests: { app: d('2') } })],
      [push('latest')],
      'force',
    );
    expect(plan.actions).toEqual([]);
    expect(plan.skips[0]?.reason).toMatch(/already runs sha256:2222/);
  });

  it('force: another tag of the repository does not move the service', () => {
    const plan = planRedeploy([service('api', `${REG}/shop/api:prod`)], [push('latest')], 'force');
    expect(plan.actions).toEqual([]);
    expect(plan.skips[0]?.reason).toMatch(/follows the running tag prod/);
  });

  it('semver: a new tag registers a revision with that tag, keeping the registry', () => {
    const plan = planRedeploy(
      [service('worker', `${REG}/shop/api:1.2.3`, { policyTag: 'minor' })],
      [push('1.3.0')],
      'force',
    );
    expect(plan.actions[0]).toMatchObject({
      type: 'register-task-definition',
      changes: [{ fromImage: `${REG}/shop/api:1.2.3`, toImage: `${REG}/shop/api:1.3.0`, toDigest: d('2') }],
    });
  });

  it('a digest-pinned image moves only by a new revision pinned to the new digest', () => {
    const plan = planRedeploy(
      [service('pinned', `${REG}/shop/api:latest@${d('1')}`, { runningDigests: {} })],
      [push('latest')],
      'force',
    );
    expect(plan.actions[0]).toMatchObject({
      type: 'register-task-definition',
      changes: [{ toImage: `${REG}/shop/api:latest@${d('2')}`, fromDigest: d('1') }],
    });
  });

  it('services of other repositories, registries and foreign images are not touched', () => {
    const plan = planRedeploy(
      [
        service('web', `${REG}/shop/web:latest`),
        service('other-account', '210987654321.dkr.ecr.us-east-1.amazonaws.com/shop/api:latest'),
        service('hub', 'nginx:latest'),
      ],
      [push('latest')],
      'force',
    );
    expect(plan).toEqual({ actions: [], skips: [], holds: [], errors: [] });
  });

  it('an unknown policy is an error for that service only', () => {
    const plan = planRedeploy(
      [
        service('bad', `${REG}/shop/api:latest`, { policyTag: 'sometimes' }),
        service('good', `${REG}/shop/api:latest`),
      ],
      [push('latest')],
      'force',
    );
    expect(plan.errors).toEqual([
      {
        serviceArn: expect.stringContaining('/bad'),
        error: expect.stringMatching(/harborpilot:policy: invalid update policy "sometimes"/),
      },
    ]);
    expect(plan.actions.map((a) => a.serviceName)).toEqual(['good']);
  });

  it('policy never and the service tag override the default', () => {
    const plan = planRedeploy(
      [
        service('frozen', `${REG}/shop/api:latest`, { policyTag: 'never' }),
        service('default', `${REG}/shop/api:latest`),
      ],
      [push('latest')],
      'force',
    );
    expect(plan.actions.map((a) => a.serviceName)).toEqual(['default']);
    expect(plan.skips).toEqual([
      { serviceArn: expect.stringContaining('/frozen'), reason: 'app: policy is never' },
    ]);
  });

  it('every container of the repository in a service changes in one action (sidecars too)', () => {
    const svc = service('multi', `${REG}/shop/api:latest`, {
      containers: [
        { containerName: 'app', image: `${REG}/shop/api:latest` },
        { containerName: 'migrate', image: `${REG}/shop/api:latest` },
        { containerName: 'proxy', image: 'envoyproxy/envoy:v1.31' },
      ],
      runningDigests: { app: d('1'), migrate: d('1') },
    });
    const plan = planRedeploy([svc], [push('latest')], 'force');
    expect(plan.actions).toHaveLength(1);
    expect(plan.actions[0]?.changes.map((c) => c.containerName)).toEqual(['app', 'migrate']);
  });

  it('reconcile: picks the highest version the policy allows among every tag', () => {
    const tags = ['1.2.3', '1.2.9', '1.3.1', '2.0.0'].map((t, i) => ({
      ...push(t, d(String(i + 3))),
      pushedAt: new Date(i),
    }));
    const plan = planRedeploy([service('w', `${REG}/shop/api:1.2.3`, { policyTag: 'patch' })], tags, 'force');
    expect(plan.actions[0]?.changes[0]).toMatchObject({ toImage: `${REG}/shop/api:1.2.9`, toDigest: d('4') });
  });

  it('an untagged push is explained, not acted on', () => {
    const plan = planRedeploy([service('api', `${REG}/shop/api:latest`)], [push(undefined)], 'force');
    expect(plan.actions).toEqual([]);
    expect(plan.skips[0]?.reason).toMatch(/no tag/);
  });
});
