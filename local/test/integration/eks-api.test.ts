/** The EKS control-plane API of the local cloud, driven by the real SDK over HTTP. */
import {
  CreateClusterCommand,
  CreateFargateProfileCommand,
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  EKSClient,
  InvalidParameterException,
  ListClustersCommand,
  ListFargateProfilesCommand,
  ListNodegroupsCommand,
  ResourceNotFoundException,
  UpdateNodegroupConfigCommand,
} from '@aws-sdk/client-eks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../cloud';
import { clientConfig } from '../support';

let cloud: LocalCloud;
let eks: EKSClient;
beforeAll(async () => {
  cloud = await createLocalCloud({
    port: 0,
    speed: 0,
    startRouter: false,
    world: {
      eks: {
        clusters: [
          {
            name: 'shop-eks',
            nodegroups: [
              { name: 'general', minSize: 1, maxSize: 3, desiredSize: 3 },
              {
                name: 'spot',
                healthIssues: [{ code: 'AsgInstanceLaunchFailures', message: 'no Spot capacity' }],
              },
            ],
            fargateProfiles: [{ name: 'batch', selectors: [{ namespace: 'batch' }] }],
          },
        ],
      },
    },
  });
  eks = new EKSClient(clientConfig(cloud));
});
afterAll(() => cloud.stop());

describe('local EKS API', () => {
  it('lists and describes the world clusters, node groups and Fargate profiles', async () => {
    expect((await eks.send(new ListClustersCommand({}))).clusters).toEqual(['shop-eks']);
    const { cluster } = await eks.send(new DescribeClusterCommand({ name: 'shop-eks' }));
    expect(cluster).toMatchObject({
      name: 'shop-eks',
      status: 'ACTIVE',
      arn: 'arn:aws:eks:us-east-1:000000000000:cluster/shop-eks',
    });
    expect(cluster?.createdAt).toBeInstanceOf(Date);
    expect((await eks.send(new ListNodegroupsCommand({ clusterName: 'shop-eks' }))).nodegroups).toEqual([
      'general',
      'spot',
    ]);
    const { nodegroup } = await eks.send(
      new DescribeNodegroupCommand({ clusterName: 'shop-eks', nodegroupName: 'general' }),
    );
    expect(nodegroup?.scalingConfig).toEqual({ minSize: 1, maxSize: 3, desiredSize: 3 });
    const spot = await eks.send(
      new DescribeNodegroupCommand({ clusterName: 'shop-eks', nodegroupName: 'spot' }),
    );
    expect(spot.nodegroup?.status).toBe('DEGRADED');
    expect(spot.nodegroup?.health?.issues?.[0]?.code).toBe('AsgInstanceLaunchFailures');
    expect(
      (await eks.send(new ListFargateProfilesCommand({ clusterName: 'shop-eks' }))).fargateProfileNames,
    ).toEqual(['batch']);
  });

  it('scales a node group within its bounds and refuses to go beyond', async () => {
    await eks.send(
      new UpdateNodegroupConfigCommand({
        clusterName: 'shop-eks',
        nodegroupName: 'general',
        scalingConfig: { desiredSize: 1 },
      }),
    );
    const { nodegroup } = await eks.send(
      new DescribeNodegroupCommand({ clusterName: 'shop-eks', nodegroupName: 'general' }),
    );
    expect(nodegroup?.scalingConfig?.desiredSize).toBe(1);
    await expect(
      eks.send(
        new UpdateNodegroupConfigCommand({
          clusterName: 'shop-eks',
          nodegroupName: 'general',
          scalingConfig: { desiredSize: 9 },
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it('creates clusters and profiles, and answers unknown names as EKS does', async () => {
    await eks.send(
      new CreateClusterCommand({
        name: 'edge',
        roleArn: 'arn:aws:iam::000000000000:role/eks',
        resourcesVpcConfig: {},
      }),
    );
    await eks.send(
      new CreateFargateProfileCommand({
        clusterName: 'edge',
        fargateProfileName: 'fp',
        selectors: [{ namespace: 'default' }],
        podExecutionRoleArn: 'arn:aws:iam::000000000000:role/p',
      }),
    );
    expect((await eks.send(new ListClustersCommand({}))).clusters).toEqual(['edge', 'shop-eks']);
    await expect(eks.send(new DescribeClusterCommand({ name: 'nope' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });
});
