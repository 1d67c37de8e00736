/**
 * checkCapacity through the local cloud over real HTTP: capacity taken away by fault injection → one email
 * naming the service that no longer fits; still short → no repeat; capacity back → one "all clear" email.
 */
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import { clientConfig, REGISTRY, until } from '../../support/cloud';
import { deniedRequests, documentedRules, requestAttributes } from '../../support/rbac';

interface SesMessage {
  Subject: string;
  Destination: { ToAddresses: string[] };
  Body: { text_part?: string; html_part?: string };
}

let cloud: LocalCloud;
let ecs: ECSClient;

beforeEach(async () => {
  cloud = await createLocalCloud({
    port: 0,
    speed: 0,
    world: {
      config: {
        alerts: { from: 'harborpilot@example.com', to: ['ops@example.com'] },
        capacity: { watch: ['ecs'] },
      },
      ses: { identities: ['example.com'] },
      ecr: { repositories: [{ name: 'shop/api', images: [{ tag: 'v1' }] }] },
      ecs: {
        taskDefinitions: [
          {
            family: 'api',
            containers: [{ name: 'api', image: `${REGISTRY}/shop/api:v1`, cpu: 512, memory: 1024 }],
          },
        ],
        clusters: [
          {
            name: 'prod',
            containerInstances: [{ kind: 'EC2', cpu: 2048, memory: 4096, count: 2 }],
            services: [{ name: 'api', taskDefinition: 'api', desiredCount: 2, launchType: 'EC2' }],
          },
        ],
      },
    },
  });
  ecs = new ECSClient(clientConfig(cloud));
});

afterEach(() => cloud.stop());

async function messages(): Promise<SesMessage[]> {
  const res = await fetch(`${cloud.endpoint}/_aws/ses`);
  return ((await res.json()) as { messages: SesMessage[] }).messages;
}

async function check() {
  const [inv] = await cloud.router.runSchedule('checkCapacity');
  expect(inv?.status, inv?.error).toBe('succeeded');
  return inv?.result as { changes: number; findings: Record<string, number> };
}

async function running(): Promise<number> {
  const { services = [] } = await ecs.send(
    new DescribeServicesCommand({ cluster: 'prod', services: ['api'] }),
  );
  return services[0]?.runningCount ?? 0;
}

describe('checkCapacity on the local cloud', () => {
  it('remove capacity → one email naming the service; restore → one cleared email', async () => {
    expect(await check()).toMatchObject({ changes: 0, findings: { critical: 0, warning: 0 } });
    expect(await messages()).toEqual([]);

    cloud.faults.add({ kind: 'removeCapacity', cluster: 'prod' });
    await check();
    await check();
    let sent = await messages();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.Destination.ToAddresses).toEqual(['ops@example.com']);
    expect(sent[0]?.Subject).toBe(
      '[harborpilot] capacity shortage: no room for another task of api (ECS prod), and 1 more change(s)',
    );
    expect(sent[0]?.Body.text_part).toContain('[new] critical: service/api: no room for another task of api');
    expect(sent[0]?.Body.html_part).toContain('<!DOCTYPE html>');

    cloud.ecs.restoreCapacity({
      accountId: cloud.world.accountId,
      region: cloud.world.region,
      cluster: 'prod',
    });
    await until(cloud, 'api running 2 tasks again', async () => (await running()) === 2);
    await check();
    await check();
    sent = await messages();
    expect(sent.map((m) => m.Subject)).toEqual([
      '[harborpilot] capacity shortage: no room for another task of api (ECS prod), and 1 more change(s)',
      '[harborpilot] capacity all clear: 2 findings resolved',
    ]);
    expect(sent[1]?.Body.text_part).toContain(
      '[cleared] cleared: service/api: no room for another task of api',
    );
    expect(cloud.router.deadLetters()).toEqual([]);
  });
});

describe('checkCapacity on a local EKS cluster', () => {
  let eksCloud: LocalCloud;
  const bigRequests = { cpu: '3', memory: '1Gi' }; // more CPU than any t3.medium node has
  const deployment = (cpu: string) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'big', namespace: 'shop' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'big' } },
      template: {
        metadata: { labels: { app: 'big' } },
        spec: {
          containers: [
            {
              name: 'big',
              image: `${REGISTRY}/shop/api:v1`,
              resources: { requests: { ...bigRequests, cpu } },
            },
          ],
        },
      },
    },
  });

  beforeEach(async () => {
    eksCloud = await createLocalCloud({
      port: 0,
      speed: 0,
      world: {
        config: {
          alerts: { from: 'harborpilot@example.com', to: ['ops@example.com'] },
          capacity: { watch: ['eks'], pendingPodMinutes: 5 },
        },
        ses: { identities: ['example.com'] },
        ecr: { repositories: [{ name: 'shop/api', images: [{ tag: 'v1' }] }] },
        eks: {
          clusters: [
            {
              name: 'dev',
              nodegroups: [
                { name: 'general', minSize: 1, maxSize: 2, desiredSize: 2, instanceTypes: ['t3.medium'] },
              ],
              objects: [deployment(bigRequests.cpu)],
            },
          ],
        },
      },
    });
  });
  afterEach(() => eksCloud.stop());

  async function eksCheck() {
    const [inv] = await eksCloud.router.runSchedule('checkCapacity');
    expect(inv?.status, inv?.error).toBe('succeeded');
    return inv?.result as { changes: number; findings: Record<string, number> };
  }

  // The first run loads checkCapacity in a fresh worker (with the EKS and Kubernetes code): 20 s and more on a
  // busy 2-core machine, so this test gets more than the default 30 s.
  it('pods that fit no node, in a node group at its maximum → one email; made to fit → all clear', {
    timeout: 90_000,
  }, async () => {
    await eksCloud.clock.advance(6 * 60_000); // Pending longer than pendingPodMinutes
    await eksCheck();
    await eksCheck();
    const res = await fetch(`${eksCloud.endpoint}/_aws/ses`);
    let sent = ((await res.json()) as { messages: SesMessage[] }).messages;
    expect(sent).toHaveLength(1);
    expect(sent[0]?.Subject).toBe(
      '[harborpilot] capacity shortage: 1 pod(s) of shop/deployment/big cannot be scheduled (EKS dev), and 1 more change(s)',
    );
    expect(sent[0]?.Body.text_part).toMatch(/critical: .*deployment\/big/);
    expect(sent[0]?.Body.text_part).toContain('Insufficient cpu');
    expect(sent[0]?.Body.text_part).toContain('node group general is at its maximum size (2)');

    // Smaller requests: the new pod fits, the Pending one goes.
    const store = eksCloud.eks.kube('dev').store;
    const big = store.get('deployments', 'shop', 'big');
    store.update('deployments', { ...big, spec: deployment('500m').spec });
    await until(eksCloud, 'big scheduled', async () =>
      store
        .list('pods', 'shop')
        .every((p) => (p as { status?: { phase?: string } }).status?.phase === 'Running'),
    );
    await eksCheck();
    sent = ((await (await fetch(`${eksCloud.endpoint}/_aws/ses`)).json()) as { messages: SesMessage[] })
      .messages;
    expect(sent).toHaveLength(2);
    expect(sent[1]?.Subject).toMatch(/all clear/);
    expect(eksCloud.router.deadLetters()).toEqual([]);

    // Every Kubernetes call checkCapacity made is one the documented harborpilot-view role allows.
    const calls = eksCloud.eks
      .kube('dev')
      .audit.filter((a) => a.accessKeyId === 'test')
      .map((a) => requestAttributes(a.method, a.url));
    expect(calls.map((c) => `${c.verb} ${c.resource}`)).toContain('list nodes');
    expect(deniedRequests(calls, documentedRules('docs/capacity.md', 'harborpilot-view.yaml'))).toEqual([]);
  });
});
