/**
 * rollEks end to end over real HTTP: a push to ECR → the router runs rollEks → it reads the cluster through
 * DescribeCluster and an EKS token → patches the Deployments that run the tag → the local controllers roll
 * pods onto the new digest, Fargate pods included. Duplicates change nothing; bad tokens get 401.
 */

import { ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import { makeEksConnector } from '../../../shared/aws/eks-connect';
import { createEksToken } from '../../../shared/aws/eks-token';
import { KubeApiError, KubeClient } from '../../../shared/aws/kube';
import { clientConfig, digestOf, manifest, REGISTRY, until } from '../../support/cloud';
import { deniedRequests, documentedRules, requestAttributes } from '../../support/rbac';
import { eksWorld } from './world';

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are plain JSON, checked by the assertions
type Json = any;

let cloud: LocalCloud;
let kube: KubeClient;
let eks: EKSClient;

beforeAll(async () => {
  cloud = await createLocalCloud({
    port: 0,
    speed: 0,
    world: { ...eksWorld, config: { eks: { rolloutWaitSeconds: 0 } } },
  });
  eks = new EKSClient(clientConfig(cloud));
  // The test reads the cluster under a key of its own, so the audit log tells its calls from rollEks's (`test`).
  kube = await makeEksConnector({
    eks: new EKSClient({
      ...clientConfig(cloud),
      credentials: { accessKeyId: 'observer', secretAccessKey: 'observer' },
    }),
  })('shop-eks');
  await until(cloud, 'api running', async () => (await digests('shop', 'app=api')).length === 2);
});
afterAll(() => cloud.stop());

async function digests(namespace: string, selector: string): Promise<string[]> {
  const pods = (await kube.list(`/api/v1/namespaces/${namespace}/pods`, {
    labelSelector: selector,
  })) as Json[];
  return pods
    .filter((p) => p.status.phase === 'Running')
    .map((p) => String(p.status.containerStatuses[0].imageID).split('@')[1] ?? '');
}

const rollInvocations = () => cloud.router.invocations().filter((i) => i.functionName === 'rollEks');

describe('rollEks on the local cloud', () => {
  it('a push rolls the Deployments that run the tag, on node-group and Fargate nodes, to the new digest', async () => {
    const v1 = (await digests('shop', 'app=api'))[0];
    const ecr = new ECRClient(clientConfig(cloud));
    await ecr.send(
      new PutImageCommand({ repositoryName: 'shop/api', imageTag: 'latest', imageManifest: manifest('v2') }),
    );
    const v2 = digestOf(manifest('v2'));
    expect(v2).not.toBe(v1);
    await until(cloud, 'api and worker on v2', async () => {
      const [api, worker] = [await digests('shop', 'app=api'), await digests('jobs', 'app=worker')];
      return api.length === 2 && api.every((d) => d === v2) && worker.length === 1 && worker[0] === v2;
    });
    const api: Json = await kube.get('/apis/apps/v1/namespaces/shop/deployments/api');
    expect(api.spec.template.spec.containers[0].image).toBe(`${REGISTRY}/shop/api:latest@${v2}`);
    expect(api.metadata.annotations['harborpilot.io/rolled']).toBe(`${REGISTRY}/shop/api:latest@${v2}`);
    const web: Json = await kube.get('/apis/apps/v1/namespaces/shop/deployments/web');
    expect(web.metadata.generation).toBe(1); // another repository: untouched
    const worker = (await kube.list('/api/v1/namespaces/jobs/pods')) as Json[];
    expect(worker[0].spec.nodeName).toMatch(/^fargate-ip-/);
    const ok = rollInvocations().filter((i) => i.status === 'succeeded');
    expect(ok.at(-1)?.result).toMatchObject({ trigger: 'push', clusters: ['shop-eks'] });
    expect((ok.at(-1)?.result as Json)?.patched?.map((p: Json) => p.workload).sort()).toEqual([
      'shop-eks/jobs/deployment/worker',
      'shop-eks/shop/deployment/api',
    ]);
  });

  it('the same push delivered again patches nothing', async () => {
    const v2 = digestOf(manifest('v2'));
    const push = cloud.bus.history.find(
      (e) => e['detail-type'] === 'ECR Image Action' && e.detail['image-digest'] === v2,
    );
    expect(push).toBeDefined();
    const before: Json = await kube.get('/apis/apps/v1/namespaces/shop/deployments/api');
    const n = rollInvocations().length;
    cloud.bus.publishEvent(push as NonNullable<typeof push>);
    cloud.bus.publishEvent(push as NonNullable<typeof push>);
    await until(cloud, 'both duplicates handled', async () => rollInvocations().length >= n + 2);
    const after: Json = await kube.get('/apis/apps/v1/namespaces/shop/deployments/api');
    expect(after.metadata.generation).toBe(before.metadata.generation);
    for (const i of rollInvocations().slice(n)) {
      expect(i.status).toBe('succeeded');
      expect((i.result as Json).patched).toEqual([]);
    }
  });

  it('stays within the RBAC that docs/eks.md tells users to grant', async () => {
    const calls = cloud.eks
      .kube('shop-eks')
      .audit.filter((a) => a.accessKeyId === 'test')
      .map((a) => requestAttributes(a.method, a.url));
    expect(calls.some((c) => c.verb === 'patch' && c.resource === 'deployments')).toBe(true);
    expect(deniedRequests(calls, documentedRules('docs/eks.md', 'harborpilot-rbac.yaml'))).toEqual([]);
  });

  it('answers 401 to a token for another cluster and to a token with a wrong signature', async () => {
    const { cluster } = await eks.send(new DescribeClusterCommand({ name: 'shop-eks' }));
    const caPem = Buffer.from(String(cluster?.certificateAuthority?.data), 'base64').toString();
    const call = (token: string) =>
      new KubeClient({
        cluster: 'shop-eks',
        endpoint: String(cluster?.endpoint),
        caPem,
        token: async () => token,
      }).get('/api/v1/namespaces');
    const sign = async (clusterName: string, secretAccessKey: string) =>
      (
        await createEksToken({
          clusterName,
          region: 'us-east-1',
          credentials: { accessKeyId: 'test', secretAccessKey },
        })
      ).token;
    await expect(call(await sign('other', 'test'))).rejects.toMatchObject({ status: 401 });
    await expect(call(await sign('shop-eks', 'wrong'))).rejects.toBeInstanceOf(KubeApiError);
    await expect(call(await sign('shop-eks', 'test'))).resolves.toMatchObject({ kind: 'NamespaceList' });
  });
});
