/** What the EKS in-use source counts as in use, and how it fails. */
import { EKSClient } from '@aws-sdk/client-eks';
import { describe, expect, it } from 'vitest';
import type { EksConnector } from '../../../shared/aws/eks-connect';
import { KubeApiError } from '../../../shared/aws/kube';
import { clusterInUse, eksInUseSource } from '../../../shared/prune-images/in-use/eks';

const REG = '000000000000.dkr.ecr.us-east-1.amazonaws.com';
const sha = (c: string) => `sha256:${c.repeat(64)}`;
const tpl = (containers: object[], initContainers: object[] = []) => ({
  template: { spec: { containers, initContainers } },
});

const objects: Record<string, unknown[]> = {
  '/api/v1/pods': [
    {
      metadata: { name: 'api-1', namespace: 'shop' },
      spec: {
        initContainers: [{ name: 'migrate', image: `${REG}/shop/migrate:v3` }],
        containers: [{ name: 'api', image: `${REG}/shop/api:latest` }],
        ephemeralContainers: [{ name: 'debug', image: `${REG}/tools/debug:1` }],
      },
      status: {
        phase: 'Running',
        initContainerStatuses: [{ name: 'migrate', imageID: `${REG}/shop/migrate@${sha('a')}` }],
        containerStatuses: [
          {
            name: 'api',
            image: `${REG}/shop/api:latest`,
            imageID: `docker-pullable://${REG}/shop/api@${sha('b')}`,
          },
        ],
      },
    },
    {
      metadata: { name: 'report-done', namespace: 'batch' },
      spec: { containers: [{ name: 'r', image: `${REG}/shop/report:old` }] },
      status: {
        phase: 'Succeeded',
        containerStatuses: [{ name: 'r', imageID: `${REG}/shop/report@${sha('c')}` }],
      },
    },
  ],
  '/apis/apps/v1/deployments': [
    {
      metadata: { name: 'idle', namespace: 'shop' },
      spec: { replicas: 0, ...tpl([{ name: 'i', image: `${REG}/shop/idle:v1` }]) },
    },
  ],
  '/apis/apps/v1/replicasets': [
    {
      metadata: { name: 'api-old', namespace: 'shop' },
      spec: { replicas: 0, ...tpl([{ name: 'api', image: `${REG}/shop/api:v0.9` }]) },
    },
  ],
  '/apis/apps/v1/statefulsets': [
    { metadata: { name: 'db', namespace: 'data' }, spec: tpl([{ name: 'db', image: `${REG}/data/db:15` }]) },
  ],
  '/apis/apps/v1/daemonsets': [
    {
      metadata: { name: 'agent', namespace: 'kube-system' },
      spec: tpl(
        [{ name: 'a', image: `${REG}/ops/agent:2` }],
        [{ name: 'setup', image: `${REG}/ops/setup:2` }],
      ),
    },
  ],
  '/apis/batch/v1/jobs': [
    {
      metadata: { name: 'once', namespace: 'batch' },
      spec: tpl([{ name: 'o', image: `${REG}/shop/once:1` }]),
    },
  ],
  '/apis/batch/v1/cronjobs': [
    {
      metadata: { name: 'nightly', namespace: 'batch' },
      spec: { suspend: true, jobTemplate: { spec: tpl([{ name: 'n', image: `${REG}/shop/nightly:5` }]) } },
    },
  ],
};
const fakeKube = (lists: Record<string, unknown[]>) => ({ list: async (path: string) => lists[path] ?? [] });

describe('EKS in-use source', () => {
  it('counts running pods (every container kind, with resolved digests) and every workload template', async () => {
    const refs = await clusterInUse(fakeKube(objects), 'prod');
    const images = refs.map((r) => r.image).filter(Boolean);
    expect(images).toEqual(
      expect.arrayContaining([
        `${REG}/shop/migrate:v3`,
        `${REG}/shop/api:latest`,
        `${REG}/tools/debug:1`,
        `${REG}/shop/idle:v1`,
        `${REG}/shop/api:v0.9`,
        `${REG}/data/db:15`,
        `${REG}/ops/agent:2`,
        `${REG}/ops/setup:2`,
        `${REG}/shop/once:1`,
        `${REG}/shop/nightly:5`,
      ]),
    );
    expect(refs.filter((r) => r.digest).map((r) => [r.digest, r.usedBy])).toEqual([
      [sha('a'), 'EKS pod prod/shop/api-1 (Running) container migrate'],
      [sha('b'), 'EKS pod prod/shop/api-1 (Running) container api'],
    ]);
    // A finished pod runs nothing: its image is kept only if something else names it.
    expect(images).not.toContain(`${REG}/shop/report:old`);
    expect(refs.find((r) => r.image === `${REG}/shop/nightly:5`)?.usedBy).toBe(
      'EKS CronJob prod/batch/nightly container n',
    );
  });

  it('names the cluster and the object when the API answers something unexpected', async () => {
    const bad = { '/api/v1/pods': [{ metadata: { namespace: 'x' } }] };
    await expect(clusterInUse(fakeKube(bad), 'prod')).rejects.toThrow(
      /unexpected Pod \? from the Kubernetes API of prod: metadata\.name: Invalid input/,
    );
  });

  it('fails as a whole when one cluster cannot be read, naming each one that failed', async () => {
    const connect: EksConnector = async (cluster) => {
      if (cluster === 'dev') return fakeKube(objects) as unknown as Awaited<ReturnType<EksConnector>>;
      return {
        list: async (path: string) => {
          throw new KubeApiError(cluster, 'GET', path, 403, 'Forbidden', 'pods is forbidden');
        },
      } as unknown as Awaited<ReturnType<EksConnector>>;
    };
    const source = eksInUseSource({
      eks: new EKSClient({ region: 'us-east-1' }),
      connect,
      clusters: ['dev', 'prod'],
    });
    await expect(source.collect()).rejects.toThrow(
      'EKS cluster prod: KubeApiError: GET /api/v1/pods on prod: 403 Forbidden: pods is forbidden',
    );
    const ok = eksInUseSource({ eks: new EKSClient({ region: 'us-east-1' }), connect, clusters: ['dev'] });
    expect((await ok.collect()).length).toBeGreaterThan(10);
  });
});
