/**
 * pruneImages with an EKS cluster in the account, through the local cloud: images that pods run, that a
 * scaled-to-zero Deployment or a suspended CronJob names, stay; the rest that is old goes. Every Kubernetes
 * call it makes is one the RBAC in docs/prune.md allows. An unreachable cluster means nothing is deleted.
 */
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EKSClient } from '@aws-sdk/client-eks';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import type { WorldInput } from '../../../local/world';
import { makeEksConnector } from '../../../shared/aws/eks-connect';
import { configFromEnv } from '../../../shared/config';
import { pruneInUseSources } from '../../../shared/prune-images/handler';
import { collectInUse, InUseSourceError } from '../../../shared/prune-images/in-use/model';
import { clientConfig, REGISTRY, until } from '../../support/cloud';
import { deniedRequests, documentedRules, requestAttributes } from '../../support/rbac';

const image = (tag: string) => `${REGISTRY}/shop/api:${tag}`;
const template = (tag: string) => ({
  metadata: { labels: { app: tag } },
  spec: { containers: [{ name: 'app', image: image(tag), resources: { requests: { cpu: '100m' } } }] },
});

const world: WorldInput = {
  config: {
    alerts: { from: 'harborpilot@example.com', to: ['platform@example.com'] },
    prune: { dryRun: false, keepLast: 1, keepDays: 7, protectTags: [] },
  },
  ses: { identities: ['example.com'] },
  ecr: {
    repositories: [
      {
        name: 'shop/api',
        images: [
          ...['sha-1', 'sha-2', 'sha-3', 'sha-4', 'sha-5'].map((tag, i) => ({ tag, pushedDaysAgo: 40 - i })),
          { tag: 'sha-6', pushedDaysAgo: 1 },
        ],
      },
    ],
  },
  eks: {
    clusters: [
      {
        name: 'prod-eks',
        nodegroups: [{ name: 'general', minSize: 1, maxSize: 2, desiredSize: 1 }],
        objects: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'api', namespace: 'shop' },
            spec: { replicas: 1, selector: { matchLabels: { app: 'sha-2' } }, template: template('sha-2') },
          },
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'idle', namespace: 'shop' },
            spec: { replicas: 0, selector: { matchLabels: { app: 'sha-3' } }, template: template('sha-3') },
          },
          {
            apiVersion: 'batch/v1',
            kind: 'CronJob',
            metadata: { name: 'nightly', namespace: 'batch' },
            spec: {
              schedule: '0 3 * * *',
              suspend: true,
              jobTemplate: { spec: { template: template('sha-4') } },
            },
          },
        ],
      },
    ],
  },
};

let cloud: LocalCloud;
afterEach(() => cloud?.stop());

async function tags(): Promise<string[]> {
  const ecr = new ECRClient(clientConfig(cloud));
  const { imageDetails = [] } = await ecr.send(new DescribeImagesCommand({ repositoryName: 'shop/api' }));
  return imageDetails.flatMap((i) => i.imageTags ?? []).sort();
}

describe('pruneImages with EKS', () => {
  it('keeps what pods run and what workload templates name, deletes the rest, within the documented RBAC', async () => {
    cloud = await createLocalCloud({ port: 0, speed: 0, world });
    const kube = cloud.eks.kube('prod-eks');
    await until(cloud, 'api pod running', async () =>
      kube.store
        .list('pods', 'shop')
        .some((p) => (p as { status?: { phase?: string } }).status?.phase === 'Running'),
    );
    const [run] = await cloud.router.runSchedule('pruneImages');
    expect(run?.status, run?.error).toBe('succeeded');
    expect(run?.result).toMatchObject({ deleted: 2, failures: 0 });
    expect(await tags()).toEqual(['sha-2', 'sha-3', 'sha-4', 'sha-6']);

    const calls = kube.audit
      .filter((a) => a.accessKeyId === 'test')
      .map((a) => requestAttributes(a.method, a.url));
    expect(calls.map((c) => `${c.verb} ${c.resource}`)).toEqual(
      expect.arrayContaining(['list pods', 'list cronjobs']),
    );
    expect(deniedRequests(calls, documentedRules('docs/prune.md', 'harborpilot-inuse.yaml'))).toEqual([]);
  });

  it('deletes nothing when a cluster in scope cannot be read', async () => {
    cloud = await createLocalCloud({
      port: 0,
      speed: 0,
      world: { ...world, config: { ...world.config, eks: { clusters: ['prod-eks', 'gone-eks'] } } },
    });
    const [run] = await cloud.router.runSchedule('pruneImages');
    expect(run?.status).toBe('failed');
    expect(run?.error).toMatch(/in-use set incomplete, nothing deleted: .*EKS cluster gone-eks/);
    expect(await tags()).toEqual(['sha-1', 'sha-2', 'sha-3', 'sha-4', 'sha-5', 'sha-6']);
  });

  it('a cluster that answers 401 to the token fails the in-use set, naming the cluster; a retry signs a new token', async () => {
    cloud = await createLocalCloud({ port: 0, speed: 0, world });
    const eks = new EKSClient(clientConfig(cloud));
    let tokens = 0;
    // Not an STS URL: the cluster's API answers 401 Unauthorized, as EKS does for a token it cannot verify.
    const connect = makeEksConnector({
      eks,
      makeToken: async () => {
        tokens += 1;
        return { token: 'k8s-aws-v1.bm90LWEtdXJs', expiresAt: new Date(Date.now() + 10 * 60_000) };
      },
    });
    const config = configFromEnv({
      HARBORPILOT_CONFIG: JSON.stringify({ ...world.config, eks: { clusters: ['prod-eks'] } }),
    });
    const sources = pruneInUseSources({
      ecs: new ECSClient(clientConfig(cloud)),
      eks,
      config,
      connect,
      region: 'us-east-1',
    });
    const err = await collectInUse(sources).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InUseSourceError);
    expect((err as Error).message).toMatch(
      /^in-use set incomplete, nothing deleted: source eks failed: .*EKS cluster prod-eks: KubeApiError: GET \/api\/v1\/pods\S* on prod-eks: 401 Unauthorized/,
    );
    await collectInUse(sources).catch(() => undefined);
    expect(tokens).toBe(2);
    expect(await tags()).toHaveLength(6);
  });
});
