/**
 * ECR private image replication in the local cloud, through the AWS SDK: a registry's replication configuration
 * (API and world), a push that appears in each destination after the simulated delay with its digest and tag, and
 * the destination's `ECR Replication Action` event in the shape the ECR user guide documents.
 */
import {
  DescribeImageReplicationStatusCommand,
  DescribeImagesCommand,
  DescribeRegistryCommand,
  ECRClient,
  PutReplicationConfigurationCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../local/cloud';

const HUB = '000000000000';
const PROD = '111111111111';

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await createLocalCloud({
    speed: 0,
    startRouter: false,
    world: {
      accounts: [{ accountId: PROD, accessKeys: ['prod'] }],
      ecr: {
        repositories: [{ name: 'shop/old', images: [{ tag: 'v1' }] }],
        // From the world: the prod account's registry replicates everything to eu-central-1.
        replication: [{ accountId: PROD, rules: [{ destinations: [{ region: 'eu-central-1' }] }] }],
      },
    },
  });
});
afterAll(() => cloud?.stop());

const ecr = (region = 'us-east-1', key = 'test') =>
  new ECRClient({
    endpoint: cloud.endpoint,
    region,
    credentials: { accessKeyId: key, secretAccessKey: 'x' },
    maxAttempts: 1,
  });

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('ECR replication', () => {
  it('replicates a matching push to each destination after the delay, with the same digest and tag and its event', async () => {
    const config = {
      rules: [
        {
          destinations: [
            { region: 'eu-west-1', registryId: HUB },
            { region: 'us-east-1', registryId: PROD },
          ],
          repositoryFilters: [{ filter: 'shop/', filterType: 'PREFIX_MATCH' as const }],
        },
      ],
    };
    const put = await ecr().send(
      new PutReplicationConfigurationCommand({ replicationConfiguration: config }),
    );
    expect(put.replicationConfiguration).toEqual(config);
    expect(await ecr().send(new DescribeRegistryCommand({}))).toMatchObject({
      registryId: HUB,
      replicationConfiguration: config,
    });

    const pushed = cloud.ecr.pushImage({
      repositoryName: 'shop/api',
      tag: 'v2',
      platforms: ['linux/amd64', 'linux/arm64'],
    });
    cloud.ecr.pushImage({ repositoryName: 'tools/ci', tag: 'v1' }); // no rule matches it
    const status = () =>
      ecr().send(
        new DescribeImageReplicationStatusCommand({
          repositoryName: 'shop/api',
          imageId: { imageTag: 'v2' },
        }),
      );
    expect((await status()).replicationStatuses).toEqual([
      { region: 'eu-west-1', registryId: HUB, status: 'IN_PROGRESS' },
      { region: 'us-east-1', registryId: PROD, status: 'IN_PROGRESS' },
    ]);
    // Nothing there before the delay; the world's images are not replicated (pushed before the configuration).
    await expect(
      ecr('eu-west-1').send(new DescribeImagesCommand({ repositoryName: 'shop/api' })),
    ).rejects.toMatchObject({ name: 'RepositoryNotFoundException' });

    await cloud.clock.advance(10_000);
    await settle();
    expect((await status()).replicationStatuses?.map((s) => s.status)).toEqual(['COMPLETE', 'COMPLETE']);
    for (const [region, key] of [
      ['eu-west-1', 'test'],
      ['us-east-1', 'prod'],
    ] as const) {
      const images = await ecr(region, key).send(
        new DescribeImagesCommand({ repositoryName: 'shop/api', imageIds: [{ imageTag: 'v2' }] }),
      );
      expect(images.imageDetails?.[0]).toMatchObject({ imageDigest: pushed.digest, imageTags: ['v2'] });
    }
    await expect(
      ecr('eu-west-1').send(new DescribeImagesCommand({ repositoryName: 'tools/ci' })),
    ).rejects.toMatchObject({
      name: 'RepositoryNotFoundException',
    });

    const replicated = cloud.bus.history.filter((e) => e['detail-type'] === 'ECR Replication Action');
    const index = replicated.find(
      (e) => e.region === 'eu-west-1' && e.detail['image-digest'] === pushed.digest,
    );
    expect(index).toMatchObject({
      version: '0',
      source: 'aws.ecr',
      account: HUB,
      region: 'eu-west-1',
      resources: [`arn:aws:ecr:eu-west-1:${HUB}:repository/shop/api`],
      detail: {
        result: 'SUCCESS',
        'repository-name': 'shop/api',
        'image-digest': pushed.digest,
        'source-account': HUB,
        'action-type': 'REPLICATE',
        'source-region': 'us-east-1',
        'image-tag': 'v2',
      },
    });
    expect(
      replicated.find((e) => e.account === PROD && e.detail['image-digest'] === pushed.digest),
    ).toBeDefined();
    // The replica gets no `ECR Image Action` of its own: AWS documents none.
    expect(
      cloud.bus.history.filter((e) => e['detail-type'] === 'ECR Image Action' && e.region === 'eu-west-1'),
    ).toEqual([]);
  });

  it('replicates as the world declares, and refuses the source registry as its own destination', async () => {
    expect(
      (await ecr('us-east-1', 'prod').send(new DescribeRegistryCommand({}))).replicationConfiguration,
    ).toEqual({
      rules: [{ destinations: [{ region: 'eu-central-1', registryId: PROD }] }],
    });
    const pushed = cloud.ecr.pushImage({ repositoryName: 'billing', tag: 'v7', accountId: PROD });
    await cloud.clock.advance(10_000);
    await settle();
    const images = await ecr('eu-central-1', 'prod').send(
      new DescribeImagesCommand({ repositoryName: 'billing' }),
    );
    expect(images.imageDetails?.map((i) => [i.imageDigest, i.imageTags])).toEqual([[pushed.digest, ['v7']]]);

    await expect(
      ecr().send(
        new PutReplicationConfigurationCommand({
          replicationConfiguration: { rules: [{ destinations: [{ region: 'us-east-1', registryId: HUB }] }] },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });
});
