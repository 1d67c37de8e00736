/**
 * The scan gate end to end through the local cloud, with ECR scanning on push: a push waits for its scan; one with
 * a CRITICAL finding is held on ECS and EKS alike and emailed once (however many workloads, functions, duplicate
 * deliveries and reconciles); the reconcile does not deploy it; a later clean push deploys after its scan; released
 * with `harborpilot release`, it is deployed exactly once; a workload whose scan gate is off does not wait.
 */
import { randomUUID } from 'node:crypto';
import { ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { EKSClient } from '@aws-sdk/client-eks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../cli/holds';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import { main as planMain } from '../../../cli/plan';
import { makeEksConnector } from '../../../shared/aws/eks-connect';
import type { KubeClient } from '../../../shared/aws/kube';
import { ACCOUNT, clientConfig, digestOf, manifest, REGION, REGISTRY, until } from '../../support/cloud';
import { eksWorld } from '../eks/world';

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects and emails are plain JSON, checked by the assertions
type Json = any;

const V2 = digestOf(manifest('v2'));
const V3 = digestOf(manifest('v3'));
const CRITICAL = {
  digest: V2,
  findings: [
    {
      name: 'CVE-2024-3094',
      severity: 'CRITICAL',
      package: 'xz-utils',
      version: '5.6.0',
      uri: 'https://nvd.nist.gov/vuln/detail/CVE-2024-3094',
    },
    { name: 'CVE-2023-4911', severity: 'HIGH', package: 'glibc', version: '2.37' },
  ],
};

let cloud: LocalCloud;
let ecs: ECSClient;
let ecr: ECRClient;
let kube: KubeClient | undefined;

async function start(o: { eks?: boolean; serviceTags?: { key: string; value: string }[] } = {}) {
  const world: Json = o.eks ? structuredClone(eksWorld) : { ecr: { repositories: [{ name: 'shop/api' }] } };
  const api = world.ecr.repositories.find((r: Json) => r.name === 'shop/api');
  Object.assign(api, {
    scanOnPush: true,
    scanFindings: [CRITICAL],
    images: [{ tags: ['v1.0.0', 'latest'], pushedDaysAgo: 2 }],
  });
  cloud = await createLocalCloud({
    port: 0,
    speed: 0,
    world: {
      ...world,
      ses: { identities: ['example.com'] },
      config: {
        alerts: { from: 'harborpilot@example.com', to: ['security@example.com'] },
        eks: { rolloutWaitSeconds: 0 },
      },
    },
  });
  ecs = new ECSClient(clientConfig(cloud));
  ecr = new ECRClient(clientConfig(cloud));
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  vi.stubEnv('AWS_REGION', REGION);
  vi.stubEnv('AWS_ENDPOINT_URL', cloud.endpoint);
  await ecs.send(new CreateClusterCommand({ clusterName: 'prod' }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'api',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'app', image: `${REGISTRY}/shop/api:latest`, essential: true }],
    }),
  );
  await ecs.send(
    new CreateServiceCommand({
      cluster: 'prod',
      serviceName: 'api',
      taskDefinition: 'api',
      desiredCount: 1,
      launchType: 'FARGATE',
      tags: o.serviceTags ?? [],
    }),
  );
  kube = o.eks ? await makeEksConnector({ eks: new EKSClient(clientConfig(cloud)) })('shop-eks') : undefined;
  await until(cloud, 'api steady', async () => {
    const p = await primary();
    return p.runningCount === 1 && p.rolloutState === 'COMPLETED';
  });
}

afterEach(async () => {
  vi.unstubAllEnvs();
  await cloud?.stop();
});

async function deployments() {
  const { services = [] } = await ecs.send(
    new DescribeServicesCommand({ cluster: 'prod', services: ['api'] }),
  );
  return services[0]?.deployments ?? [];
}
async function primary() {
  return (await deployments()).find((d) => d.status === 'PRIMARY') ?? {};
}

const push = (seed: string) =>
  ecr.send(
    new PutImageCommand({ repositoryName: 'shop/api', imageTag: 'latest', imageManifest: manifest(seed) }),
  );

async function emails(): Promise<Json[]> {
  const { messages } = (await (await fetch(`${cloud.endpoint}/_aws/ses`)).json()) as { messages: Json[] };
  return messages.filter((m) => String(m.Subject).includes('held: scan'));
}

const logged = (fn: string, message: string) =>
  cloud.router
    .invocations()
    .filter((i) => i.functionName === fn)
    .flatMap((i) => i.logs ?? [])
    .filter((l) => l.includes(`"message":"${message}"`));

async function eksImage(namespace: string, name: string): Promise<string> {
  if (!kube) throw new Error('this test started no EKS cluster');
  const deployment = (await kube.get(`/apis/apps/v1/namespaces/${namespace}/deployments/${name}`)) as Json;
  return deployment.spec.template.spec.containers[0].image;
}

async function cli(command: string, ...args: string[]) {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
    out += String(c);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c) => {
    err += String(c);
    return true;
  });
  try {
    return { code: await main([...args, '--table', cloud.config.stateTable], command), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

async function planPush(): Promise<string> {
  let out = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
    out += String(c);
    return true;
  });
  try {
    await planMain(['push', `${REGISTRY}/shop/api:latest`, '--endpoint-url', cloud.endpoint]);
    return out;
  } finally {
    o.mockRestore();
  }
}

/** The scan event of an image, as ECR sent it (a duplicate delivery keeps its id). */
const scanEvent = (digest: string) =>
  cloud.bus.history.find((e) => e['detail-type'] === 'ECR Image Scan' && e.detail['image-digest'] === digest);

/** The reconcile's schedule event, as EventBridge delivers it. */
const reconcile = (fn: string) => ({
  version: '0' as const,
  id: randomUUID(),
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: ACCOUNT,
  time: cloud.clock
    .now()
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z'),
  region: REGION,
  resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/harborpilot-dev-${fn}-reconcile`],
  detail: {},
});

// Three functions' schedules run every simulated minute: on the shared 2-core machine a test can take 40 s.
describe('the scan gate', { timeout: 90_000 }, () => {
  it('holds a CRITICAL image on ECS and EKS after its scan, emails once, and a later clean push deploys after its own scan', async () => {
    await start({ eks: true });
    const before = (await primary()).id;
    const apiImage = await eksImage('shop', 'api');
    await push('v2');
    await cloud.router.waitForIdle();
    // The scan is running: nothing moves, both functions say why.
    expect((await primary()).id).toBe(before);
    expect(await eksImage('shop', 'api')).toBe(apiImage);
    expect(logged('redeployEcs', 'awaiting scan').join()).toContain('"status":"IN_PROGRESS"');
    expect(logged('rollEks', 'awaiting scan').join()).toContain('eks/shop-eks/shop/deployment/api');

    await cloud.clock.advance(30_000);
    await cloud.router.waitForIdle();
    const sent = await emails();
    expect(sent).toHaveLength(1);
    expect(sent[0].Destination.ToAddresses).toEqual(['security@example.com']);
    expect(sent[0].Subject).toBe('[harborpilot] shop/api:latest held: scan found 1 CRITICAL');
    expect(sent[0].Body.text_part).toContain('- CRITICAL CVE-2024-3094 in xz-utils 5.6.0');
    expect(sent[0].Body.text_part).not.toContain('CVE-2023-4911'); // HIGH: below the default threshold
    expect(sent[0].Body.text_part).toContain(`npx harborpilot release shop/api@${V2} --reason TEXT`);
    expect(sent[0].Body.html_part).toContain('CVE-2024-3094</a>');
    const held = JSON.parse((await cli('holds', '--json')).out) as Json;
    expect(held.held.map((h: Json) => [h.workload, h.gate]).sort()).toEqual([
      ['ecs/prod/api', 'scan'],
      ['eks/shop-eks/jobs/deployment/worker', 'scan'],
      ['eks/shop-eks/shop/deployment/api', 'scan'],
    ]);

    // Duplicate deliveries of the scan event and reconciles: still held, still one email.
    const event = scanEvent(V2) as Json;
    cloud.router.invoke('redeployEcs', event);
    cloud.router.invoke('redeployEcs', event);
    cloud.router.invoke('rollEks', event);
    cloud.router.invoke('redeployEcs', reconcile('redeployEcs'));
    cloud.router.invoke('rollEks', reconcile('rollEks'));
    await cloud.router.waitForIdle();
    await cloud.clock.advance(120_000);
    await cloud.router.waitForIdle();
    expect((await primary()).id).toBe(before);
    expect(await eksImage('shop', 'api')).toBe(apiImage);
    expect(await emails()).toHaveLength(1);
    expect(logged('redeployEcs', 'redeploy plan').at(-1)).toMatch(/"gate":"scan".*found 1 CRITICAL/);

    // A later push, clean: it waits for its own scan, then deploys; the held one is dropped as superseded.
    await push('v3');
    await cloud.router.waitForIdle();
    expect((await primary()).id).toBe(before);
    await until(cloud, 'v3 deployed on ECS', async () => (await primary()).id !== before);
    await until(cloud, 'v3 patched on EKS', async () => (await eksImage('shop', 'api')).endsWith(V3));
    await cloud.clock.advance(120_000);
    await cloud.router.waitForIdle();
    expect(logged('redeployEcs', 'held push dropped').join()).toContain(
      `a newer push moved latest on to ${V3}`,
    );
    expect((await cli('holds')).out).toMatch(/no freezes, held pushes, approvals or failed digests/);
    expect(await emails()).toHaveLength(1);
  });

  it('released, the held image is deployed exactly once; the reconcile never deployed it before', async () => {
    await start();
    const before = (await primary()).id;
    await push('v2');
    await cloud.router.waitForIdle();
    await cloud.clock.advance(30_000);
    await cloud.router.waitForIdle();
    expect(await emails()).toHaveLength(1);

    // The reconcile reads the scan with the tags, and release runs come and go: held, not deployed, no second email.
    await cloud.router.runSchedule('redeployEcs');
    await cloud.clock.advance(120_000);
    await cloud.router.waitForIdle();
    expect(logged('redeployEcs', 'redeploy plan').at(-1)).toMatch(/"trigger":"reconcile".*"gate":"scan"/);
    expect((await primary()).id).toBe(before);
    expect(await emails()).toHaveLength(1);

    // harborpilot plan push says why it would not deploy now.
    expect(await planPush()).toMatch(
      /ECS\s+prod\/api\s+held \(scan\)\s+scan of shop\/api@sha256:\w+ found 1 CRITICAL/,
    );

    const refused = await cli('release', `shop/api@${V2}`);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/--reason TEXT is required/);
    const unknown = await cli('release', `shop/api@${V3}`, '--reason', 'x');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/is not held by the scan gate/);
    const released = await cli('release', `shop/api@${V2}`, '--reason', 'CVE-2024-3094 not reachable: SEC-7');
    expect(released.code, released.err).toBe(0);
    expect(released.out).toMatch(
      /released shop\/api@sha256:\S+ as arn:aws:iam::000000000000:root: CVE-2024-3094 not reachable: SEC-7; held because scan of shop\/api@sha256:\w+ found 1 CRITICAL .*moves to it at the next release run/,
    );

    await until(cloud, 'the released image deployed', async () => (await primary()).id !== before);
    // More release runs and a reconcile: nothing more.
    await cloud.router.runSchedule('redeployEcs');
    await cloud.clock.advance(180_000);
    await cloud.router.waitForIdle();
    expect(logged('redeployEcs', 'held push released')).toHaveLength(1);
    expect((await deployments()).filter((d) => d.id !== before && d.createdAt)).toHaveLength(1);
    expect(await emails()).toHaveLength(1);
  });

  it('a scan that fails holds the image with its reason', async () => {
    await start();
    const before = (await primary()).id;
    const declared = await fetch(`${cloud.endpoint}/_harborpilot/ecr/scan-findings`, {
      method: 'POST',
      body: JSON.stringify({
        repository: 'shop/api',
        digest: V3,
        status: 'FAILED',
        description: 'UnsupportedImageError: The operating system and/or package manager are not supported.',
      }),
    });
    expect(declared.status).toBe(201);
    await push('v3');
    await cloud.router.waitForIdle();
    await cloud.clock.advance(90_000);
    await cloud.router.waitForIdle();
    expect((await primary()).id).toBe(before);
    const sent = await emails();
    expect(sent.map((m) => m.Subject)).toEqual([
      '[harborpilot] shop/api:latest held: scan FAILED: UnsupportedImageError: The operating system and/or package manager are not supported.',
    ]);
    expect((await cli('holds')).out).toMatch(
      /ecs\/prod\/api\s+held \(scan\)\s+.*FAILED: UnsupportedImageError/,
    );
  });

  it('a workload whose scan gate is off deploys on the push, without waiting for the scan', async () => {
    await start({ serviceTags: [{ key: 'harborpilot:scan-gate', value: 'off' }] });
    const before = (await primary()).id;
    await push('v2');
    await cloud.router.waitForIdle();
    expect((await primary()).id).not.toBe(before);
    expect(logged('redeployEcs', 'awaiting scan')).toHaveLength(0);
    await cloud.clock.advance(30_000);
    await cloud.router.waitForIdle();
    expect(await emails()).toHaveLength(0);
  });
});
