/**
 * The AWS CLI against the local cloud, as a user types it: v1 (`aws` on PATH) and Debian's v2 (/usr/bin/aws), each
 * skipped only when it is not installed (aws-cli-v1.test.ts and aws-cli-v2.test.ts run this suite). Every ECS, ECR,
 * SES v2 and EKS operation a user needs to build a world by hand, with the error codes the CLI prints. About 100 s
 * a CLI: each call starts one.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import { digestOf, manifest, onPath } from '../../support/cloud';

const run = promisify(execFile);

export const CLIS = {
  v1: { name: 'v1 (aws on PATH)', path: onPath('aws') },
  v2: { name: 'v2 (/usr/bin/aws)', path: existsSync('/usr/bin/aws') ? '/usr/bin/aws' : undefined },
};

/**
 * Every test of one CLI, over a local cloud of its own. One file per CLI (aws-cli-v1.test.ts, aws-cli-v2.test.ts)
 * so that the two, each a minute or more of CLI start-ups, run side by side.
 */
export function awsCliSuite({ name, path }: { name: string; path: string | undefined }): void {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await createLocalCloud({
      speed: 0,
      startRouter: false,
      world: {
        accounts: [{ accountId: '111111111111', accessKeys: ['staging'] }],
        ecr: { repositories: [{ name: 'shop/api', images: [{ tag: 'v1' }] }] },
        ecs: { clusters: [{ name: 'shop', containerInstances: [{ kind: 'EC2', cpu: 1024, memory: 2048 }] }] },
        eks: {
          clusters: [
            {
              name: 'shop-eks',
              nodegroups: [{ name: 'general', minSize: 1, maxSize: 3, desiredSize: 2 }],
              fargateProfiles: [{ name: 'batch', selectors: [{ namespace: 'batch' }] }],
            },
          ],
        },
        ses: { identities: ['example.com'] },
      },
    });
  });
  afterAll(() => cloud?.stop());

  describe(`AWS CLI ${name}`, () => {
    const aws = async (args: string[], accessKey = 'test', extraEnv: Record<string, string> = {}) => {
      try {
        const { stdout } = await run(
          path as string,
          ['--endpoint-url', cloud.endpoint, '--output', 'json', ...args],
          {
            env: {
              PATH: process.env.PATH ?? '',
              HOME: process.env.HOME ?? '/tmp',
              AWS_ACCESS_KEY_ID: accessKey,
              AWS_SECRET_ACCESS_KEY: 'test',
              AWS_DEFAULT_REGION: 'us-east-1',
              AWS_PAGER: '',
              AWS_CONFIG_FILE: '/dev/null',
              AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
              ...extraEnv,
            },
            timeout: 20_000,
          },
        );
        return { code: 0, out: JSON.parse(stdout || '{}') as Record<string, unknown>, err: '' };
      } catch (e) {
        const err = e as { code?: number; stderr?: string };
        return { code: err.code ?? -1, out: {}, err: err.stderr ?? '' };
      }
    };

    it.skipIf(!path)('sts get-caller-identity names the account of the access key', async () => {
      expect((await aws(['sts', 'get-caller-identity'])).out).toMatchObject({ Account: '000000000000' });
      expect((await aws(['sts', 'get-caller-identity'], 'staging')).out).toMatchObject({
        Account: '111111111111',
      });
    });

    it.skipIf(!path)('dynamodb list-tables shows the state table', async () => {
      expect((await aws(['dynamodb', 'list-tables'])).out).toEqual({ TableNames: [cloud.config.stateTable] });
    });

    it.skipIf(!path)('prints AWS error codes the way it would for AWS', async () => {
      const missing = await aws(['ecr', 'describe-repositories', '--repository-names', 'nope']);
      expect(missing.code).not.toBe(0);
      expect(missing.err).toMatch(
        /\(RepositoryNotFoundException\) when calling the DescribeRepositories operation/,
      );

      cloud.faults.add({ kind: 'throttle', service: 'sts', rate: 1 });
      cloud.faults.add({ kind: 'throttle', service: 'ecs', operation: 'ListClusters', rate: 1 });
      try {
        const throttled = await aws(['sts', 'get-caller-identity'], 'test', { AWS_MAX_ATTEMPTS: '1' });
        expect(throttled.code).not.toBe(0);
        expect(throttled.err).toMatch(/\(Throttling\)/);
        const ecs = await aws(['ecs', 'list-clusters'], 'test', { AWS_MAX_ATTEMPTS: '1' });
        expect(ecs.err).toMatch(/\(ThrottlingException\) when calling the ListClusters operation/);
      } finally {
        cloud.faults.clear();
      }

      const eleven = Array.from({ length: 11 }, () => ({
        Source: 'cli.test',
        DetailType: 'Ping',
        Detail: '{}',
      }));
      const tooMany = await aws(['events', 'put-events', '--entries', JSON.stringify(eleven)]);
      expect(tooMany.err).toMatch(/\(ValidationException\) when calling the PutEvents operation/);
    });

    it.skipIf(!path)('events put-events reaches the bus', async () => {
      const res = await aws([
        'events',
        'put-events',
        '--entries',
        JSON.stringify([{ Source: 'cli.test', DetailType: 'Ping', Detail: '{"n":1}' }]),
      ]);
      expect(res.out).toMatchObject({ FailedEntryCount: 0 });
      const id = (res.out.Entries as { EventId: string }[])[0]?.EventId;
      expect(cloud.bus.history.find((e) => e.id === id)?.detail).toEqual({ n: 1 });
    });

    // Every operation a user needs to build a world by hand, as typed at a shell; names carry the CLI's
    // major version so v1 and v2 do not meet in the shared cloud.
    const v = path?.includes('/usr/bin/') ? 'v2' : 'v1';
    const ok = async (args: string[]) => {
      const res = await aws(args);
      expect(res.err, `aws ${args.slice(0, 2).join(' ')}`).toBe('');
      // biome-ignore lint/suspicious/noExplicitAny: CLI output is JSON whose shape each assertion checks
      return res.out as Record<string, any>;
    };
    const fails = async (args: string[], code: string) => {
      const res = await aws(args);
      expect(res.code, `aws ${args.slice(0, 2).join(' ')} should fail`).not.toBe(0);
      expect(res.err).toContain(`(${code}) when calling the`);
    };

    it.skipIf(!path)(
      'ECS: clusters, task definitions, services, tasks, container instances',
      async () => {
        const cluster = `c-${v}`;
        expect((await ok(['ecs', 'create-cluster', '--cluster-name', cluster])).cluster).toMatchObject({
          clusterName: cluster,
          status: 'ACTIVE',
        });
        expect((await ok(['ecs', 'describe-clusters', '--clusters', cluster, 'nope'])).failures).toEqual([
          { arn: expect.stringContaining('cluster/nope'), reason: 'MISSING' },
        ]);
        expect((await ok(['ecs', 'list-clusters'])).clusterArns).toContain(
          `arn:aws:ecs:us-east-1:000000000000:cluster/${cluster}`,
        );
        const fargate = ['--requires-compatibilities', 'FARGATE', '--network-mode', 'awsvpc', '--cpu', '256'];
        const td = await ok([
          'ecs',
          'register-task-definition',
          '--family',
          `web-${v}`,
          ...fargate,
          '--memory',
          '512',
          '--container-definitions',
          JSON.stringify([{ name: 'web', image: 'nginx:1.27', essential: true }]),
        ]);
        expect(td.taskDefinition).toMatchObject({ family: `web-${v}`, revision: 1, status: 'ACTIVE' });
        expect(
          (await ok(['ecs', 'describe-task-definition', '--task-definition', `web-${v}`])).taskDefinition,
        ).toMatchObject({ revision: 1 });
        expect(
          (await ok(['ecs', 'list-task-definitions', '--family-prefix', `web-${v}`])).taskDefinitionArns,
        ).toEqual([td.taskDefinition.taskDefinitionArn]);
        const net = ['--network-configuration', 'awsvpcConfiguration={subnets=[subnet-1]}'];
        const created = await ok([
          'ecs',
          'create-service',
          '--cluster',
          cluster,
          '--service-name',
          'web',
          '--task-definition',
          `web-${v}`,
          '--desired-count',
          '1',
          '--launch-type',
          'FARGATE',
          ...net,
        ]);
        expect(created.service.deployments).toMatchObject([
          { status: 'PRIMARY', rolloutState: 'IN_PROGRESS' },
        ]);
        await ok(['ecs', 'update-service', '--cluster', cluster, '--service', 'web', '--desired-count', '2']);
        expect((await ok(['ecs', 'list-services', '--cluster', cluster])).serviceArns).toHaveLength(1);
        const run = await ok([
          'ecs',
          'run-task',
          '--cluster',
          cluster,
          '--task-definition',
          `web-${v}`,
          '--launch-type',
          'FARGATE',
          ...net,
        ]);
        const taskArn = run.tasks[0].taskArn as string;
        expect(run.tasks[0]).toMatchObject({ lastStatus: 'PROVISIONING', launchType: 'FARGATE' });
        await cloud.clock.advance(10_000);
        const described = await ok(['ecs', 'describe-services', '--cluster', cluster, '--services', 'web']);
        expect(described.services[0]).toMatchObject({ desiredCount: 2, runningCount: 2 });
        expect((await ok(['ecs', 'list-tasks', '--cluster', cluster])).taskArns).toHaveLength(3);
        expect(
          (await ok(['ecs', 'describe-tasks', '--cluster', cluster, '--tasks', taskArn])).tasks[0],
        ).toMatchObject({
          lastStatus: 'RUNNING',
          containers: [{ imageDigest: expect.stringMatching(/^sha256:/) }],
        });
        await ok(['ecs', 'stop-task', '--cluster', cluster, '--task', taskArn, '--reason', 'done']);
        await cloud.clock.advance(10_000);
        expect(
          (await ok(['ecs', 'describe-tasks', '--cluster', cluster, '--tasks', taskArn])).tasks[0],
        ).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'done' });
        await fails(
          ['ecs', 'describe-services', '--cluster', 'nope', '--services', 'web'],
          'ClusterNotFoundException',
        );
        await fails(
          ['ecs', 'update-service', '--cluster', cluster, '--service', 'nope'],
          'ServiceNotFoundException',
        );
        await ok(['ecs', 'delete-service', '--cluster', cluster, '--service', 'web', '--force']);
        await cloud.clock.advance(10_000);
        await ok(['ecs', 'deregister-task-definition', '--task-definition', `web-${v}:1`]);
        expect((await ok(['ecs', 'delete-cluster', '--cluster', cluster])).cluster).toMatchObject({
          status: 'INACTIVE',
        });

        const instances = (await ok(['ecs', 'list-container-instances', '--cluster', 'shop']))
          .containerInstanceArns;
        const [instance] = (
          await ok([
            'ecs',
            'describe-container-instances',
            '--cluster',
            'shop',
            '--container-instances',
            ...instances,
          ])
        ).containerInstances;
        expect(instance.remainingResources).toEqual(
          expect.arrayContaining([expect.objectContaining({ name: 'MEMORY', integerValue: 2048 })]),
        );
      },
      120_000,
    );

    it.skipIf(!path)(
      'ECR: repositories, put-image, describe, list, get and delete images',
      async () => {
        const repo = `app-${v}`;
        expect((await ok(['ecr', 'create-repository', '--repository-name', repo])).repository).toMatchObject({
          repositoryName: repo,
          repositoryUri: `000000000000.dkr.ecr.us-east-1.amazonaws.com/${repo}`,
        });
        expect(
          (await ok(['ecr', 'describe-repositories', '--repository-names', repo])).repositories,
        ).toHaveLength(1);
        const put = (body: string) =>
          ok([
            'ecr',
            'put-image',
            '--repository-name',
            repo,
            '--image-tag',
            'latest',
            '--image-manifest',
            body,
          ]);
        const first = await put(manifest(`a-${v}`));
        expect(first.image.imageId.imageDigest).toBe(digestOf(manifest(`a-${v}`)));
        await put(manifest(`b-${v}`)); // moves `latest`; the first image stays, untagged
        const listed = (await ok(['ecr', 'list-images', '--repository-name', repo])).imageIds;
        expect(listed).toEqual(
          expect.arrayContaining([
            { imageDigest: digestOf(manifest(`a-${v}`)) },
            { imageDigest: digestOf(manifest(`b-${v}`)), imageTag: 'latest' },
          ]),
        );
        const details = (await ok(['ecr', 'describe-images', '--repository-name', repo])).imageDetails;
        const tagsOf = (seed: string) =>
          details.find((d: { imageDigest: string }) => d.imageDigest === digestOf(manifest(seed)))?.imageTags;
        expect([tagsOf(`a-${v}`), tagsOf(`b-${v}`)]).toEqual([undefined, ['latest']]);
        const got = await ok([
          'ecr',
          'batch-get-image',
          '--repository-name',
          repo,
          '--image-ids',
          'imageTag=latest',
        ]);
        expect(got.images[0].imageManifest).toBe(manifest(`b-${v}`));
        await fails(
          ['ecr', 'describe-images', '--repository-name', repo, '--image-ids', 'imageTag=nope'],
          'ImageNotFoundException',
        );
        const deleted = await ok([
          'ecr',
          'batch-delete-image',
          '--repository-name',
          repo,
          '--image-ids',
          'imageTag=latest',
          'imageTag=nope',
        ]);
        expect(deleted.imageIds).toEqual([{ imageDigest: digestOf(manifest(`b-${v}`)), imageTag: 'latest' }]);
        expect(deleted.failures).toEqual([
          {
            imageId: { imageTag: 'nope' },
            failureCode: 'ImageNotFound',
            failureReason: 'Requested image not found',
          },
        ]);
        await ok(['ecr', 'delete-repository', '--repository-name', repo, '--force']);
        await fails(
          ['ecr', 'describe-repositories', '--repository-names', repo],
          'RepositoryNotFoundException',
        );
      },
      120_000,
    );

    it.skipIf(!path)(
      'SES v2: identities, get-account, send-email, MessageRejected',
      async () => {
        const me = `me-${v}@corp.test`;
        await ok(['sesv2', 'create-email-identity', '--email-identity', me]);
        expect(await ok(['sesv2', 'get-email-identity', '--email-identity', me])).toMatchObject({
          IdentityType: 'EMAIL_ADDRESS',
          VerifiedForSendingStatus: true,
        });
        const identities = (await ok(['sesv2', 'list-email-identities'])).EmailIdentities;
        expect(identities.map((i: { IdentityName: string }) => i.IdentityName)).toEqual(
          expect.arrayContaining(['example.com', me]),
        );
        expect(await ok(['sesv2', 'get-account'])).toMatchObject({
          ProductionAccessEnabled: false,
          SendQuota: { Max24HourSend: 200, MaxSendRate: 1 },
        });
        const content = 'Simple={Subject={Data=hello},Body={Text={Data=hi}}}';
        const sent = await ok([
          'sesv2',
          'send-email',
          '--from-email-address',
          me,
          '--destination',
          'ToAddresses=oncall@example.com',
          '--content',
          content,
        ]);
        expect(cloud.ses.messages({ id: sent.MessageId })).toMatchObject([{ Source: me, Subject: 'hello' }]);
        await fails(
          [
            'sesv2',
            'send-email',
            '--from-email-address',
            me,
            '--destination',
            'ToAddresses=x@elsewhere.test',
            '--content',
            content,
          ],
          'MessageRejected',
        );
        await ok(['sesv2', 'delete-email-identity', '--email-identity', me]);
        await fails(['sesv2', 'get-email-identity', '--email-identity', me], 'NotFoundException');
      },
      120_000,
    );

    it.skipIf(!path)(
      'EKS clusters, node groups, Fargate profiles; DynamoDB items',
      async () => {
        expect((await ok(['eks', 'list-clusters'])).clusters).toEqual(['shop-eks']);
        expect((await ok(['eks', 'describe-cluster', '--name', 'shop-eks'])).cluster).toMatchObject({
          name: 'shop-eks',
          status: 'ACTIVE',
        });
        expect((await ok(['eks', 'list-nodegroups', '--cluster-name', 'shop-eks'])).nodegroups).toEqual([
          'general',
        ]);
        expect(
          (
            await ok([
              'eks',
              'describe-nodegroup',
              '--cluster-name',
              'shop-eks',
              '--nodegroup-name',
              'general',
            ])
          ).nodegroup,
        ).toMatchObject({ scalingConfig: { minSize: 1, maxSize: 3, desiredSize: 2 } });
        expect(
          (await ok(['eks', 'list-fargate-profiles', '--cluster-name', 'shop-eks'])).fargateProfileNames,
        ).toEqual(['batch']);
        await fails(['eks', 'describe-cluster', '--name', 'nope'], 'ResourceNotFoundException');

        const table = cloud.config.stateTable;
        const key = JSON.stringify({ id: { S: `cli-${v}` } });
        await ok([
          'dynamodb',
          'put-item',
          '--table-name',
          table,
          '--item',
          JSON.stringify({ id: { S: `cli-${v}` }, n: { N: '1' } }),
        ]);
        expect((await ok(['dynamodb', 'get-item', '--table-name', table, '--key', key])).Item).toEqual({
          id: { S: `cli-${v}` },
          n: { N: '1' },
        });
        await fails(
          [
            'dynamodb',
            'put-item',
            '--table-name',
            table,
            '--item',
            key,
            '--condition-expression',
            'attribute_not_exists(id)',
          ],
          'ConditionalCheckFailedException',
        );
      },
      120_000,
    );
  });
}
