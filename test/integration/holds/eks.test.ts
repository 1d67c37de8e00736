/**
 * Holds on EKS through the local cloud: a Deployment that requires approval (annotation) is not patched by a
 * push until approved, then the release run patches it once; a rollback returns it to the previous ReplicaSet's
 * digest and freezes it, so the next push is held; a rollback to the same tag without a digest is refused.
 */
import { ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { EKSClient } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../cli/holds';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import { makeEksConnector } from '../../../shared/aws/eks-connect';
import type { KubeClient } from '../../../shared/aws/kube';
import { clientConfig, digestOf, manifest, REGION, REGISTRY, until } from '../../support/cloud';
import { eksWorld } from '../eks/world';

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are plain JSON, checked by the assertions
type Json = any;
const API = '/apis/apps/v1/namespaces/shop/deployments/api';
const WORKLOAD = 'eks/shop-eks/shop/deployment/api';

let cloud: LocalCloud;
let kube: KubeClient;
let ecr: ECRClient;

beforeAll(async () => {
  const world = structuredClone(eksWorld) as Json;
  const api = world.eks.clusters[0].objects.find((o: Json) => o.metadata.name === 'api');
  api.metadata.annotations = { 'harborpilot.io/approval': 'required' };
  cloud = await createLocalCloud({
    port: 0,
    speed: 0,
    world: { ...world, config: { eks: { rolloutWaitSeconds: 0 } } },
  });
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  vi.stubEnv('AWS_REGION', REGION);
  vi.stubEnv('AWS_ENDPOINT_URL', cloud.endpoint);
  ecr = new ECRClient(clientConfig(cloud));
  kube = await makeEksConnector({ eks: new EKSClient(clientConfig(cloud)) })('shop-eks');
  await until(cloud, 'api running', async () => (await running('shop', 'app=api')).length === 2);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await cloud.stop();
});

async function running(namespace: string, selector: string): Promise<string[]> {
  const pods = (await kube.list(`/api/v1/namespaces/${namespace}/pods`, {
    labelSelector: selector,
  })) as Json[];
  return pods
    .filter((p) => p.status.phase === 'Running')
    .map((p) => String(p.status.containerStatuses[0].imageID).split('@')[1] ?? '');
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

const push = (seed: string) =>
  ecr.send(
    new PutImageCommand({ repositoryName: 'shop/api', imageTag: 'latest', imageManifest: manifest(seed) }),
  );

const released = () =>
  cloud.router
    .invocations()
    .filter((i) => i.functionName === 'rollEks')
    .flatMap((i) => i.logs ?? [])
    .filter((l) => l.includes('"message":"held push released"'));

describe('holds on EKS', () => {
  it('approval: the annotated Deployment waits for approve, the other rolls at once', async () => {
    await push('v2');
    const v2 = digestOf(manifest('v2'));
    await until(cloud, 'worker on v2', async () => (await running('jobs', 'app=worker'))[0] === v2);
    expect(((await kube.get(API)) as Json).metadata.generation).toBe(1);
    const list = JSON.parse((await cli('holds', '--json')).out) as Json;
    expect(list.held).toMatchObject([{ workload: WORKLOAD, gate: 'approval' }]);
    const id = list.approvals[0].approvalId as string;

    const approved = await cli('approve', id);
    expect(approved.code, approved.err).toBe(0);
    await until(cloud, 'api on v2', async () => {
      const pods = await running('shop', 'app=api');
      return pods.length === 2 && pods.every((d) => d === v2);
    });
    await cloud.clock.advance(180_000);
    await cloud.router.waitForIdle();
    expect(released()).toHaveLength(1);
    expect(((await kube.get(API)) as Json).spec.template.spec.containers[0].image).toBe(
      `${REGISTRY}/shop/api:latest@${v2}`,
    );
  });

  it('rollback to the same tag without its digest is refused: nothing patched, nothing frozen', async () => {
    const generation = ((await kube.get(API)) as Json).metadata.generation;
    const refused = await cli('rollback', WORKLOAD);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(
      /earlier ReplicaSet ran .*shop\/api:latest \(container api\), a tag with no digest/,
    );
    expect(((await kube.get(API)) as Json).metadata.generation).toBe(generation);
    expect((await cli('holds')).out).not.toMatch(/frozen/);
  });

  it('rollback: back to the previous ReplicaSet digest, frozen, and the next push held', async () => {
    const v2 = digestOf(manifest('v2'));
    await push('v3');
    await cloud.router.waitForIdle();
    const id = (JSON.parse((await cli('holds', '--json')).out) as Json).approvals[0].approvalId as string;
    expect((await cli('approve', id)).code).toBe(0);
    const v3 = digestOf(manifest('v3'));
    await until(cloud, 'api on v3', async () => {
      const pods = await running('shop', 'app=api');
      return pods.length === 2 && pods.every((d) => d === v3);
    });

    const done = await cli('rollback', WORKLOAD);
    expect(done.code, done.err).toBe(0);
    expect(((await kube.get(API)) as Json).spec.template.spec.containers[0].image).toBe(
      `${REGISTRY}/shop/api:latest@${v2}`,
    );
    expect(done.out).toMatch(/frozen: rolled back by arn:aws:iam::000000000000:root/);
    await until(cloud, 'api back on v2', async () => {
      const pods = await running('shop', 'app=api');
      return pods.length === 2 && pods.every((d) => d === v2);
    });
    const generation = ((await kube.get(API)) as Json).metadata.generation;
    await push('v4');
    await cloud.router.waitForIdle();
    await cloud.clock.advance(120_000);
    await cloud.router.waitForIdle();
    expect(((await kube.get(API)) as Json).metadata.generation).toBe(generation);
    const holds = (await cli('holds')).out;
    expect(holds).toMatch(/eks\/shop-eks\/shop\/deployment\/api\s+frozen/);
    expect(holds).toMatch(/eks\/shop-eks\/shop\/deployment\/api\s+held \(freeze\)/);
  });
});
