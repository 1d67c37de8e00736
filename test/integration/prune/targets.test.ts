/**
 * pruneImages across an organisation (docs/organisation.md): the in-use set is the union over every target, read
 * through each account's role, so an image that only a workload account runs is never deleted; and when one
 * target cannot be read, nothing is deleted and the target is named.
 */
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import type { WorldInput } from '../../../local/world';
import { clientConfig, REGISTRY } from '../../support/cloud';
import { deployment } from '../eks/world';

const HUB = '000000000000';
const STAGING = '111111111111';
const PROD = '222222222222';

const staging = {
  account: STAGING,
  name: 'staging',
  regions: ['us-west-2'],
  role: 'harborpilot',
  externalId: 'hp-s',
};

const world = (targets: unknown[]): WorldInput => ({
  accountId: HUB,
  roles: [
    { accountId: STAGING, name: 'harborpilot', trust: [HUB], externalId: 'hp-s' },
    { accountId: PROD, name: 'harborpilot', trust: [HUB], externalId: 'hp-p' },
  ],
  config: {
    targets,
    alerts: { from: 'harborpilot@example.com', to: ['platform@example.com'] },
    prune: { dryRun: false, keepLast: 1, keepDays: 7, protectTags: [] },
  },
  ses: { identities: ['example.com'] },
  ecr: {
    repositories: [
      {
        name: 'shop/api',
        images: [
          ...['sha-1', 'sha-2', 'sha-3', 'sha-4'].map((tag, i) => ({ tag, pushedDaysAgo: 40 - i })),
          { tag: 'sha-5', pushedDaysAgo: 1 },
        ],
      },
    ],
  },
  ecs: {
    // Registered in every account and region the clusters are in.
    taskDefinitions: [
      {
        family: 'api',
        requiresCompatibilities: ['FARGATE'],
        cpu: 256,
        memory: 512,
        containers: [{ name: 'app', image: `${REGISTRY}/shop/api:sha-2` }],
      },
    ],
    // Only staging us-west-2 runs sha-2; harborpilot's own account runs nothing.
    clusters: [
      {
        name: 'web',
        accountId: STAGING,
        region: 'us-west-2',
        services: [{ name: 'api', taskDefinition: 'api', launchType: 'FARGATE', desiredCount: 1 }],
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
          { name: 'general', minSize: 1, maxSize: 2, desiredSize: 1, instanceTypes: ['t3.large'] },
        ],
        // Only this workload account's EKS runs sha-3.
        objects: [deployment('api', 'shop', `${REGISTRY}/shop/api:sha-3`, 1)],
      },
    ],
  },
});

let cloud: LocalCloud;
afterEach(() => cloud?.stop());

async function tags(): Promise<string[]> {
  const ecr = new ECRClient(clientConfig(cloud));
  const { imageDetails = [] } = await ecr.send(new DescribeImagesCommand({ repositoryName: 'shop/api' }));
  return imageDetails.flatMap((i) => i.imageTags ?? []).sort();
}

describe('pruneImages across targets', () => {
  it('keeps what a workload account runs on ECS and EKS, read through its role; deletes the rest', async () => {
    cloud = await createLocalCloud({ port: 0, speed: 0, world: world([staging]) });
    const [run] = await cloud.router.runSchedule('pruneImages');
    expect(run?.status, run?.error).toBe('succeeded');
    expect(run?.result).toMatchObject({ deleted: 2, failures: 0 });
    expect(await tags()).toEqual(['sha-2', 'sha-3', 'sha-5']);
    // The workload account was read with the role's session, not harborpilot's own credentials.
    const pods = cloud.eks.kube('apps', STAGING, 'us-west-2').audit.filter((a) => a.url.includes('/pods'));
    expect(pods.length).toBeGreaterThan(0);
    expect(pods.every((a) => a.accessKeyId.startsWith('ASIA'))).toBe(true);
  });

  it('deletes nothing when one target cannot be read, naming it', async () => {
    const prod = {
      account: PROD,
      name: 'prod',
      regions: ['eu-west-1'],
      role: 'harborpilot',
      externalId: 'wrong',
    };
    cloud = await createLocalCloud({ port: 0, speed: 0, world: world([staging, prod]) });
    const [run] = await cloud.router.runSchedule('pruneImages');
    expect(run?.status).toBe('failed');
    expect(run?.error).toContain('in-use set incomplete, nothing deleted');
    expect(run?.error).toContain(`prod (${PROD}) eu-west-1`);
    expect(run?.error).toContain(`could not assume arn:aws:iam::${PROD}:role/harborpilot: AccessDenied`);
    expect(await tags()).toEqual(['sha-1', 'sha-2', 'sha-3', 'sha-4', 'sha-5']);
  });
});
