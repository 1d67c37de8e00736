/**
 * checkCapacity across targets (docs/organisation.md), through the local cloud: the home account's ECS
 * cluster out of room and a workload account's EKS cluster (staging, us-west-2, read through its role) with pods
 * that fit no node are one email, under a heading per target; a target whose role cannot be assumed (prod, a
 * wrong external id) is named in that email and in the invocation's failure, after the rest was sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import { REGISTRY, until } from '../../support/cloud';

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are plain JSON, checked by the assertions
type Json = any;

const HUB = '000000000000';
const STAGING = '111111111111';
const PROD = '222222222222';

interface SesMessage {
  Subject: string;
  Body: { text_part?: string; html_part?: string };
}

const big = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'big', namespace: 'shop' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'big' } },
    template: {
      metadata: { labels: { app: 'big' } },
      spec: {
        // More CPU than any t3.medium node has.
        containers: [
          {
            name: 'big',
            image: `${REGISTRY}/shop/api:v1`,
            resources: { requests: { cpu: '3', memory: '1Gi' } },
          },
        ],
      },
    },
  },
};

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await createLocalCloud({
    port: 0,
    speed: 0,
    world: {
      accountId: HUB,
      region: 'us-east-1',
      roles: [
        { accountId: STAGING, name: 'harborpilot', trust: [HUB], externalId: 'hp-staging' },
        { accountId: PROD, name: 'harborpilot', trust: [HUB], externalId: 'hp-prod' },
      ],
      config: {
        alerts: { from: 'harborpilot@example.com', to: ['ops@example.com'] },
        capacity: { watch: ['ecs', 'eks'], pendingPodMinutes: 1 },
        targets: [
          {
            account: STAGING,
            name: 'staging',
            regions: ['us-west-2'],
            role: 'harborpilot',
            externalId: 'hp-staging',
          },
          // The config gives prod the wrong external id: AssumeRole is refused.
          {
            account: PROD,
            name: 'prod',
            regions: ['eu-west-1'],
            role: 'harborpilot',
            externalId: 'hp-wrong',
          },
        ],
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
      eks: {
        clusters: [
          {
            name: 'apps',
            accountId: STAGING,
            region: 'us-west-2',
            nodegroups: [
              { name: 'general', minSize: 1, maxSize: 2, desiredSize: 2, instanceTypes: ['t3.medium'] },
            ],
            objects: [big],
          },
        ],
      },
    },
  });
});
afterAll(() => cloud?.stop());

/** The capacity emails (the stopped tasks of the full cluster also make alertTaskFailures send one). */
async function messages(): Promise<SesMessage[]> {
  const { messages } = (await (await fetch(`${cloud.endpoint}/_aws/ses`)).json()) as {
    messages: SesMessage[];
  };
  return messages.filter((m) => m.Subject.startsWith('[harborpilot] capacity '));
}

describe('checkCapacity across targets', () => {
  it('one email grouped by target, the unassumable target named there and in the failure', async () => {
    cloud.faults.add({ kind: 'removeCapacity', cluster: 'prod' });
    // The big pod is reported once it has been Unschedulable longer than pendingPodMinutes: first it must be.
    const apps = cloud.eks.kube('apps', STAGING, 'us-west-2');
    await until(
      cloud,
      'the big pod unschedulable in staging',
      async () =>
        (apps.store.list('pods', 'shop') as Json[]).some((p) =>
          (p.status?.conditions ?? []).some(
            (c: Json) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
          ),
        ),
      1_000,
    );
    await cloud.clock.advance(61_000); // Pending longer than pendingPodMinutes
    await cloud.router.waitForIdle();
    const [inv] = await cloud.router.runSchedule('checkCapacity');
    expect(inv?.status).toBe('failed');
    expect(inv?.error).toContain('checkCapacity: 1 failed, 2 succeeded');
    expect(inv?.error).toContain(
      `prod (${PROD}) eu-west-1: could not assume arn:aws:iam::${PROD}:role/harborpilot: AccessDenied`,
    );

    const sent = await messages();
    expect(sent).toHaveLength(1);
    const text = sent[0]?.Body.text_part ?? '';
    const home = text.indexOf('# us-east-1 (home)');
    const prod = text.indexOf(`# prod (${PROD}) eu-west-1`);
    const staging = text.indexOf(`# staging (${STAGING}) us-west-2`);
    expect(home).toBeGreaterThan(0);
    expect(prod).toBeGreaterThan(home);
    expect(staging).toBeGreaterThan(prod);
    // Home: the ECS service that no longer fits; staging: its EKS cluster, read through the role.
    expect(sent[0]?.Subject).toBe(
      '[harborpilot] capacity shortage: no room for another task of api (ECS prod), and 4 more change(s)',
    );
    expect(text.slice(home, prod)).toContain('== ECS prod');
    expect(text.slice(home, prod)).toContain('[new] critical: service/api: no room for another task of api');
    expect(text.slice(prod, staging)).toContain(`capacity of prod (${PROD}) eu-west-1 could not be read`);
    expect(text.slice(prod, staging)).toContain('AccessDenied');
    expect(text.slice(staging)).toContain('== EKS apps');
    expect(text.slice(staging)).toMatch(/critical: .*deployment\/big/);
    expect(text.slice(staging)).toContain('node group general is at its maximum size (2)');
    // The staging cluster's Kubernetes API was read by the role's session, not the hub's own credentials.
    const reads = cloud.eks.kube('apps', STAGING, 'us-west-2').audit;
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((a) => /^ASIA/.test(a.accessKeyId ?? ''))).toBe(true);

    // The same again: nothing changed, no second email (the unread target's findings are not cleared).
    const [again] = await cloud.router.runSchedule('checkCapacity');
    expect(again?.status).toBe('failed');
    expect(await messages()).toHaveLength(1);
  }, 120_000);
});
