import { Logger } from '@aws-lambda-powertools/logger';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { EKSClient } from '@aws-sdk/client-eks';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { beforeEach, describe, expect, it } from 'vitest';
import scheduled from '../../../events/scheduled.json';
import { ClusterNotReachableError, type EksConnector } from '../../../shared/aws/eks-connect';
import { parseConfig } from '../../../shared/config';
import { EventValidationError, PartialFailureError } from '../../../shared/errors';
import { makePruneImages } from '../../../shared/prune-images/handler';
import { InUseSourceError } from '../../../shared/prune-images/in-use/model';
import { PruneRuleError } from '../../../shared/prune-images/rules';
import { d, image, NOW, OCI_INDEX, REG } from '../../fixtures/ecr-image-builders';
import { type FakeWorld, fakeCloud } from '../../fixtures/fake-registry';

const logger = new Logger({ serviceName: 'pruneImages', logLevel: 'SILENT' });
const clients = {
  ecr: new ECRClient({ region: 'us-east-1' }),
  ecs: new ECSClient({ region: 'us-east-1' }),
  ses: new SESv2Client({ region: 'us-east-1' }),
  eks: new EKSClient({ region: 'us-east-1' }),
};
/** ECS answers throttled calls with this error name (there is no modelled class for it). */
const throttling = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

let cloud: ReturnType<typeof fakeCloud>;
beforeEach(() => cloud?.reset());

function setup(world: Partial<FakeWorld>, prune: Record<string, unknown> = {}, connect?: EksConnector) {
  cloud = fakeCloud({
    repositories: [],
    clusters: [],
    taskDefinitions: [],
    services: [],
    tasks: [],
    ...world,
  });
  const config = parseConfig(
    {
      prune: { keepLast: 1, keepDays: 7, ...prune },
      alerts: { from: 'harborpilot@example.com', to: ['platform@example.com'] },
    },
    'test',
  );
  return makePruneImages({
    ...clients,
    config,
    logger,
    region: 'us-east-1',
    now: () => NOW,
    ...(connect ? { connect } : {}),
  });
}

/** `count` old tagged images (build-N, older first) and one new one. */
function oldImages(count: number, prefix = 'img') {
  return [
    ...Array.from({ length: count }, (_, i) =>
      image(`${prefix}${i}`, 100 - i / 1000, { tags: [`build-${i}`] }),
    ),
    image(`${prefix}-new`, 1, { tags: ['build-new'] }),
  ];
}

describe('pruneImages handler', () => {
  it('dry run (the default) deletes nothing and emails the plan, kept with reasons and deleted', async () => {
    const prune = setup(
      {
        repositories: [{ name: 'shop/api', images: oldImages(3) }],
        clusters: ['prod'],
        taskDefinitions: [{ family: 'api', revision: 1, images: [`${REG}/shop/api:build-1`] }],
        services: [
          {
            cluster: 'prod',
            name: 'api',
            deployments: [{ id: 'ecs-svc/1', status: 'PRIMARY', taskDefinition: 'api:1', running: 2 }],
          },
        ],
      },
      { dryRun: undefined },
    );
    const summary = await prune(scheduled);
    expect(summary).toMatchObject({ dryRun: true, images: 4, planned: 2, deleted: 0, emailed: true });
    expect(cloud.calls['ecr:BatchDeleteImage']).toBeUndefined();
    const [email] = cloud.emails();
    expect(email?.Content?.Simple?.Subject?.Data).toContain('(dry run)');
    const text = email?.Content?.Simple?.Body?.Text?.Data ?? '';
    expect(text).toContain('shop/api: 2 kept, 2 would delete');
    expect(text).toMatch(/build-1\].*in-use \(ECS service prod\/api PRIMARY deployment ecs-svc\/1/);
    expect(email?.Content?.Simple?.Body?.Html?.Data).toContain('<h3>shop/api');
    expect(email?.Destination?.ToAddresses).toEqual(['platform@example.com']);
  });

  it('deletes in batches of at most 100, an index before its children', async () => {
    const multi = [
      image('child-a', 200),
      image('child-b', 200),
      image('index', 200, {
        tags: ['build-x'],
        mediaType: OCI_INDEX,
        children: [d('child-a'), d('child-b')],
      }),
    ];
    const prune = setup(
      { repositories: [{ name: 'shop/api', images: [...oldImages(250), ...multi] }] },
      { dryRun: false },
    );
    const summary = await prune(scheduled);
    expect(summary).toMatchObject({ dryRun: false, planned: 253, deleted: 253, failures: 0 });
    expect(cloud.deleteCalls.every((c) => c.digests.length <= 100)).toBe(true);
    const indexCall = cloud.deleteCalls.findIndex((c) => c.digests.includes(d('index')));
    const childCall = cloud.deleteCalls.findIndex((c) => c.digests.includes(d('child-a')));
    expect(indexCall).toBeGreaterThanOrEqual(0);
    expect(childCall).toBeGreaterThan(indexCall);
    expect(cloud.repository('shop/api').images.map((i) => i.tags)).toEqual([['build-new']]);
  });

  it('reads per-image failures, reports them by email and fails the invocation after deleting the rest', async () => {
    const prune = setup({ repositories: [{ name: 'shop/api', images: oldImages(5) }] }, { dryRun: false });
    cloud.deleteFailures.set(d('img2'), 'KmsError');
    const err = await prune(scheduled).catch((e) => e);
    expect(err).toBeInstanceOf(PartialFailureError);
    expect(err.message).toContain(`shop/api@${d('img2')}: KmsError`);
    expect(err.succeeded).toBe(4);
    const [email] = cloud.emails();
    expect(email?.Content?.Simple?.Subject?.Data).toContain('1 FAILED');
    expect(email?.Content?.Simple?.Body?.Text?.Data).toContain(`shop/api ${d('img2')}: KmsError`);
  });

  it('a throttled in-use source fails the run naming the source, and nothing is deleted', async () => {
    const prune = setup(
      { repositories: [{ name: 'shop/api', images: oldImages(5) }], clusters: ['prod'] },
      { dryRun: false },
    );
    cloud.ecs.on(ListTasksCommand).rejects(throttling());
    const err = await prune(scheduled).catch((e) => e);
    expect(err).toBeInstanceOf(InUseSourceError);
    expect(err.message).toMatch(/nothing deleted: source ecs failed: .*ListTasks .*Rate exceeded/);
    expect(cloud.calls['ecr:BatchDeleteImage']).toBeUndefined();
    expect(cloud.emails()).toEqual([]);
  });

  it('keeps every digest ECS uses: running tasks, PRIMARY/ACTIVE deployments, pinned revisions, rollback targets', async () => {
    const repo = (n: string) => `${REG}/shop/api${n}`;
    const prune = setup(
      {
        repositories: [
          {
            name: 'shop/api',
            images: [
              image('task-digest', 90), // untagged now: its tag moved, a task still runs it
              image('primary-tag', 90, { tags: ['stable'] }),
              image('active-pinned', 90, { tags: ['build-a'] }),
              image('zero-pinned', 90),
              image('rollback', 90, { tags: ['build-r'] }),
              image('too-old-revision', 90, { tags: ['build-o'] }),
              image('unused', 90, { tags: ['build-u'] }),
              image('newest', 1, { tags: ['latest'] }),
            ],
          },
        ],
        clusters: ['prod'],
        taskDefinitions: [
          { family: 'api', revision: 1, images: [repo(':build-o')] },
          { family: 'api', revision: 2, images: [repo(':build-r')] },
          { family: 'api', revision: 3, images: [repo(`@${d('active-pinned')}`)] },
          { family: 'api', revision: 4, images: [repo(':stable')] },
          { family: 'worker', revision: 1, images: [repo(':latest')] },
        ],
        services: [
          {
            cluster: 'prod',
            name: 'api',
            deployments: [
              { id: 'ecs-svc/new', status: 'PRIMARY', taskDefinition: 'api:4', running: 1 },
              { id: 'ecs-svc/old', status: 'ACTIVE', taskDefinition: 'api:3', running: 1 },
            ],
          },
          {
            cluster: 'prod',
            name: 'worker',
            deployments: [{ id: 'ecs-svc/w', status: 'PRIMARY', taskDefinition: 'worker:1', running: 0 }],
            revisions: [{ taskDefinition: 'worker:1', digests: [d('zero-pinned')] }],
          },
        ],
        tasks: [
          {
            cluster: 'prod',
            id: 't1',
            taskDefinition: 'api:4',
            containers: [{ name: 'app', image: repo(':stable'), imageDigest: d('task-digest') }],
          },
        ],
      },
      { dryRun: false, keepLast: 0, keepTaskDefinitionRevisions: 3 },
    );
    await prune(scheduled);
    const left = cloud.repository('shop/api').images.map((i) => i.digest);
    expect(left.sort()).toEqual(
      ['task-digest', 'primary-tag', 'active-pinned', 'zero-pinned', 'rollback', 'newest'].map(d).sort(),
    );
  });

  it('fails closed when an EKS cluster cannot be read, naming it', async () => {
    const connect: EksConnector = async (cluster) => {
      throw new ClusterNotReachableError(cluster, 'status is CREATING');
    };
    const prune = setup(
      { repositories: [{ name: 'shop/api', images: oldImages(5) }], eksClusters: ['prod-eks'] },
      { dryRun: false },
      connect,
    );
    const err = await prune(scheduled).catch((e) => e);
    expect(err).toBeInstanceOf(InUseSourceError);
    expect(err.message).toContain(
      'source eks failed: EksInUseError: EKS cluster prod-eks: ClusterNotReachableError: EKS cluster prod-eks cannot be reached: status is CREATING',
    );
    expect(cloud.calls['ecr:BatchDeleteImage']).toBeUndefined();
  });

  it('keeps an old digest an EKS pod runs under a tag that has since moved, and what a scaled-to-zero Deployment names', async () => {
    const lists: Record<string, unknown[]> = {
      '/api/v1/pods': [
        {
          metadata: { name: 'api-1', namespace: 'default' },
          spec: { containers: [{ name: 'api', image: `${REG}/shop/api:build-new` }] },
          status: {
            phase: 'Running',
            containerStatuses: [{ name: 'api', imageID: `${REG}/shop/api@${d('img1')}` }],
          },
        },
      ],
      '/apis/apps/v1/deployments': [
        {
          metadata: { name: 'nightly', namespace: 'batch' },
          spec: {
            replicas: 0,
            template: { spec: { containers: [{ name: 'n', image: `${REG}/shop/api:build-2` }] } },
          },
        },
      ],
    };
    const connect: EksConnector = async () =>
      ({ list: async (path: string) => lists[path] ?? [] }) as unknown as Awaited<ReturnType<EksConnector>>;
    const prune = setup(
      { repositories: [{ name: 'shop/api', images: oldImages(3) }], eksClusters: ['prod-eks'] },
      { dryRun: false },
      connect,
    );
    expect(await prune(scheduled)).toMatchObject({ deleted: 1 });
    expect(cloud.repository('shop/api').images.map((i) => i.digest)).toEqual([
      d('img1'),
      d('img2'),
      d('img-new'),
    ]);
  });

  it('is idempotent: a second run right after deletes nothing new, and images already gone are no failure', async () => {
    const prune = setup({ repositories: [{ name: 'shop/api', images: oldImages(5) }] }, { dryRun: false });
    expect((await prune(scheduled)).deleted).toBe(5);
    const second = await prune(scheduled);
    expect(second).toMatchObject({ planned: 0, deleted: 0, failures: 0, emailed: false });
    // a duplicate delivery racing the first: the images vanished between plan and delete
    cloud.deleteFailures.clear();
    const racing = setup({ repositories: [{ name: 'shop/api', images: oldImages(3) }] }, { dryRun: false });
    for (const i of [0, 1, 2]) cloud.deleteFailures.set(d(`img${i}`), 'ImageNotFound');
    expect(await racing(scheduled)).toMatchObject({ deleted: 0, alreadyGone: 3, failures: 0 });
  });

  it('reads per-repository overrides from repository tags, and refuses a bad one before deleting', async () => {
    const prune = setup(
      {
        repositories: [
          { name: 'shop/api', tags: { 'harborpilot:keep-last': '10' }, images: oldImages(5) },
          { name: 'shop/frozen', tags: { 'harborpilot:prune': 'false' }, images: oldImages(5) },
          { name: 'shop/web', images: oldImages(5) },
        ],
      },
      { dryRun: false },
    );
    const summary = await prune(scheduled);
    expect(summary).toMatchObject({ repositories: 2, deleted: 5 });
    expect(cloud.repository('shop/api').images).toHaveLength(6);
    expect(cloud.repository('shop/frozen').images).toHaveLength(6);

    const bad = setup(
      {
        repositories: [
          { name: 'shop/api', tags: { 'harborpilot:keep-last': 'ten' }, images: oldImages(5) },
          { name: 'shop/web', images: oldImages(5) },
        ],
      },
      { dryRun: false },
    );
    await expect(bad(scheduled)).rejects.toThrow(PruneRuleError);
    expect(cloud.calls['ecr:BatchDeleteImage']).toBeUndefined();
  });

  it('prunes only the configured repositories (names or patterns)', async () => {
    const prune = setup(
      {
        repositories: [
          { name: 'shop/api', images: oldImages(2) },
          { name: 'shop/web', images: oldImages(2) },
          { name: 'infra/base', images: oldImages(2) },
        ],
      },
      { dryRun: false, repositories: ['shop/*'] },
    );
    await prune(scheduled);
    expect(cloud.repository('infra/base').images).toHaveLength(3);
    expect(cloud.repository('shop/web').images).toHaveLength(1);
  });

  it('rejects an event that is not a schedule', async () => {
    const prune = setup({});
    await expect(prune({ source: 'aws.ecr' })).rejects.toThrow(EventValidationError);
  });
});
