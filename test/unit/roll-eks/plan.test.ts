import { describe, expect, it } from 'vitest';
import type { ImagePush } from '../../../shared/events/image-push';
import type { Gate } from '../../../shared/gates';
import type { Digest } from '../../../shared/image-ref';
import type { Workload } from '../../../shared/roll-eks/model';
import { planRoll } from '../../../shared/roll-eks/plan';
import { formatWorkloadId } from '../../../shared/workload';

const REG = '000000000000.dkr.ecr.us-east-1.amazonaws.com';
const D = (c: string) => `sha256:${c.repeat(64)}` as Digest;
const repo = { accountId: '000000000000', region: 'us-east-1', repositoryName: 'shop/api' };
const push = (tag: string | undefined, digest: Digest): ImagePush => ({
  repository: repo,
  digest,
  ...(tag ? { tag } : {}),
  pushedAt: new Date('2026-03-01T00:00:00Z'),
});

function workload(image: string, over: Partial<Workload> = {}): Workload {
  return {
    cluster: 'shop-eks',
    kind: 'Deployment',
    namespace: 'shop',
    name: 'api',
    containers: [{ name: 'api', image, init: false }],
    runningDigests: { api: [D('1')] },
    rollout: { state: 'complete', message: '' },
    ...over,
  };
}

describe('planRoll', () => {
  const cases: {
    name: string;
    w: Workload;
    pushes: ImagePush[];
    policy?: string;
    to?: string;
    skip?: RegExp;
    error?: RegExp;
  }[] = [
    {
      name: 'force: the running tag pushed again → pinned to the new digest',
      w: workload(`${REG}/shop/api:latest`),
      pushes: [push('latest', D('2'))],
      to: `${REG}/shop/api:latest@${D('2')}`,
    },
    {
      name: 'force: the digest already runs → nothing',
      w: workload(`${REG}/shop/api:latest`, { runningDigests: { api: [D('2')] } }),
      pushes: [push('latest', D('2'))],
      skip: /already runs/,
    },
    {
      name: 'force: a rollout is mid-way (pods mixed) → still patched',
      w: workload(`${REG}/shop/api:latest`, { runningDigests: { api: [D('1'), D('2')] } }),
      pushes: [push('latest', D('2'))],
      to: `${REG}/shop/api:latest@${D('2')}`,
    },
    {
      name: 'duplicate after our patch: the spec already pins the digest → nothing',
      w: workload(`${REG}/shop/api:latest@${D('2')}`),
      pushes: [push('latest', D('2'))],
      skip: /already set/,
    },
    {
      name: 'force: another tag → nothing',
      w: workload(`${REG}/shop/api:latest`),
      pushes: [push('v2', D('2'))],
      skip: /force follows the running tag latest/,
    },
    {
      name: 'annotation minor: 1.2.0 → 1.3.0',
      w: workload(`${REG}/shop/api:1.2.0`, { policyAnnotation: 'minor' }),
      pushes: [push('1.3.0', D('3'))],
      to: `${REG}/shop/api:1.3.0@${D('3')}`,
    },
    {
      name: 'annotation minor: 2.0.0 is beyond',
      w: workload(`${REG}/shop/api:1.2.0`, { policyAnnotation: 'minor' }),
      pushes: [push('2.0.0', D('3'))],
      skip: /beyond a minor/,
    },
    {
      name: 'annotation never',
      w: workload(`${REG}/shop/api:latest`, { policyAnnotation: 'never' }),
      pushes: [push('latest', D('2'))],
      skip: /never/,
    },
    {
      name: 'config default policy applies without annotation',
      w: workload(`${REG}/shop/api:1.2.0`),
      pushes: [push('1.2.1', D('4'))],
      policy: 'patch',
      to: `${REG}/shop/api:1.2.1@${D('4')}`,
    },
    {
      name: 'bad annotation → an error naming it',
      w: workload(`${REG}/shop/api:latest`, { policyAnnotation: 'sometimes' }),
      pushes: [push('latest', D('2'))],
      error: /harborpilot.io\/policy/,
    },
    {
      name: 'untagged push → skipped with the reason',
      w: workload(`${REG}/shop/api:latest`),
      pushes: [push(undefined, D('2'))],
      skip: /no tag/,
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const plan = planRoll([c.w], c.pushes, c.policy ?? 'force');
      if (c.to) {
        expect(plan.actions).toHaveLength(1);
        expect(plan.actions[0]?.changes.map((x) => x.toImage)).toEqual([c.to]);
      } else expect(plan.actions).toEqual([]);
      if (c.skip) expect(plan.skips[0]?.reason).toMatch(c.skip);
      if (c.error) expect(plan.errors[0]?.error).toMatch(c.error);
    });
  }

  it('leaves other repositories, other registries and unparsable images alone', () => {
    const w = workload(`${REG}/shop/api:latest`, {
      containers: [
        { name: 'web', image: `${REG}/shop/web:latest`, init: false },
        { name: 'proxy', image: 'shop/api:latest', init: false }, // Docker Hub, same name
        { name: 'odd', image: 'NOT AN IMAGE', init: false },
      ],
    });
    expect(planRoll([w], [push('latest', D('2'))], 'force')).toEqual({
      actions: [],
      skips: [],
      holds: [],
      errors: [],
    });
  });

  it('patches containers and init containers by name in one strategic merge patch', () => {
    const w = workload(`${REG}/shop/api:latest`, {
      containers: [
        { name: 'api', image: `${REG}/shop/api:latest`, init: false },
        { name: 'sidecar', image: 'envoyproxy/envoy:v1.30', init: false },
        { name: 'migrate', image: `${REG}/shop/api:latest`, init: true },
      ],
      runningDigests: {},
    });
    const [action] = planRoll([w], [push('latest', D('2'))], 'force').actions;
    const to = `${REG}/shop/api:latest@${D('2')}`;
    expect(action?.patch).toEqual({
      metadata: { annotations: { 'harborpilot.io/rolled': `${to} ${to}` } },
      spec: {
        template: {
          spec: {
            containers: [{ name: 'api', image: to }],
            initContainers: [{ name: 'migrate', image: to }],
          },
        },
      },
    });
  });

  it('reconcile: the highest semver tag among the repository tags wins', () => {
    const w = workload(`${REG}/shop/api:1.0.0`, { policyAnnotation: 'major' });
    const plan = planRoll(
      [w],
      [push('1.1.0', D('a')), push('3.0.0', D('c')), push('2.0.0', D('b'))],
      'force',
    );
    expect(plan.actions[0]?.changes[0]).toMatchObject({
      toImage: `${REG}/shop/api:3.0.0@${D('c')}`,
      fromDigest: D('1'),
    });
  });

  it('a gate holds a workload: no action, the action it would take kept with the reason', () => {
    const frozen: Gate = ({ workload }) =>
      formatWorkloadId(workload) === 'eks/shop-eks/shop/deployment/api'
        ? { gate: 'freeze', reason: 'frozen by ana: incident 42' }
        : undefined;
    const other = workload(`${REG}/shop/api:latest`, { name: 'worker' });
    const plan = planRoll([workload(`${REG}/shop/api:latest`), other], [push('latest', D('2'))], 'force', [
      frozen,
    ]);
    expect(plan.actions.map((a) => a.name)).toEqual(['worker']);
    expect(plan.holds).toEqual([
      expect.objectContaining({
        name: 'api',
        hold: { gate: 'freeze', reason: 'frozen by ana: incident 42' },
        action: expect.objectContaining({ changes: [expect.objectContaining({ toDigest: D('2') })] }),
      }),
    ]);
  });

  it('makes the same patch for the same change (idempotency records compare actions)', () => {
    const a = planRoll([workload(`${REG}/shop/api:latest`)], [push('latest', D('2'))], 'force');
    const b = planRoll([workload(`${REG}/shop/api:latest`)], [push('latest', D('2'))], 'force');
    expect(a).toEqual(b);
  });
});
