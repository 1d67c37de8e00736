import { Logger } from '@aws-lambda-powertools/logger';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListServicesCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import pushEvent from '../../../events/ecr-image-push.json';
import scheduled from '../../../events/scheduled.json';
import { EventValidationError, PartialFailureError } from '../../../shared/errors';
import type { Digest } from '../../../shared/image-ref';
import {
  ACCOUNT,
  digest,
  type FakeFleetOptions,
  type FakeService,
  fakeFleet,
  REG,
  REGION,
  redeployEcsOverFakes,
} from '../../fixtures/fake-ecs-fleet';
import { createStateTable, startStateTable, type TestTable } from '../../support/dynalite';

const ecrMock = mockClient(ECRClient);
/** ECS answers throttled calls with this error name (there is no modelled class for it). */
const throttling = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
let table: TestTable;
beforeAll(async () => {
  table = await startStateTable();
});
afterAll(() => table.stop());
beforeEach(() => {
  ecrMock.reset();
  // No tag found: a push proceeds (the superseded check needs ECR to name another digest).
  ecrMock.on(DescribeImagesCommand).resolves({ imageDetails: [] });
});

const FLEET: FakeService[] = [
  {
    cluster: 'prod',
    name: 'api-ec2',
    image: `${REG}/shop/api:latest`,
    launchType: 'EC2',
    runningDigest: digest('1'),
  },
  {
    cluster: 'prod',
    name: 'api-fargate',
    image: `${REG}/shop/api:latest`,
    launchType: 'FARGATE',
    runningDigest: digest('1'),
  },
  {
    cluster: 'edge',
    name: 'api-anywhere',
    image: `${REG}/shop/api:latest`,
    launchType: 'EXTERNAL',
    runningDigest: digest('1'),
  },
  {
    cluster: 'edge',
    name: 'api-spot',
    image: `${REG}/shop/api:latest`,
    capacityProvider: 'FARGATE_SPOT',
    runningDigest: digest('1'),
  },
  {
    cluster: 'prod',
    name: 'api-frozen',
    image: `${REG}/shop/api:latest`,
    policy: 'never',
    runningDigest: digest('1'),
  },
  {
    cluster: 'prod',
    name: 'worker',
    image: `${REG}/shop/worker:1.2.3`,
    policy: 'minor',
    runningDigest: digest('7'),
  },
  { cluster: 'prod', name: 'web', image: `${REG}/shop/web:latest`, runningDigest: digest('8') },
];

let runs = 0;
async function setup(
  fleet: FakeService[],
  config: Record<string, unknown> = {},
  logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
  fleetOptions: FakeFleetOptions = {},
) {
  const { ecs, taskDefinitions } = fakeFleet(fleet, fleetOptions);
  runs += 1;
  // A fresh state table per test: idempotency records and the task definitions read before (the fake fleets
  // reuse revision ARNs with other contents, which real ECS never does) stay within their test.
  const tableName = `redeploy-${runs}`;
  await createStateTable(table.client, tableName);
  /** A new Lambda container over the same state table and fleet: a cold start. */
  const coldStart = () => redeployEcsOverFakes({ tableName, dynamodb: table.client, config, logger });
  return { ecs, taskDefinitions, redeploy: coldStart(), coldStart };
}

function push(
  tag: string | undefined,
  repositoryName = 'shop/api',
  d = digest('2'),
  id = `evt-${runs}-${tag}-${d.slice(7, 9)}`,
) {
  const detail: Record<string, unknown> = {
    ...pushEvent.detail,
    'repository-name': repositoryName,
    'image-digest': d,
  };
  if (tag) detail['image-tag'] = tag;
  else delete detail['image-tag'];
  return { ...pushEvent, id, account: ACCOUNT, region: REGION, detail };
}

const updatedServices = (ecs: ReturnType<typeof fakeFleet>['ecs']) =>
  ecs.commandCalls(UpdateServiceCommand).map((c) => String(c.args[0].input.service).split('/').pop());

describe('redeployEcs handler', () => {
  it('a push of the running tag redeploys every service using the repository, on every launch type and cluster', async () => {
    const { ecs, redeploy } = await setup(FLEET);
    const summary = await redeploy(push('latest'));
    expect(updatedServices(ecs).sort()).toEqual(['api-anywhere', 'api-ec2', 'api-fargate', 'api-spot']);
    for (const call of ecs.commandCalls(UpdateServiceCommand))
      expect(call.args[0].input.forceNewDeployment).toBe(true);
    expect(summary.deployed).toHaveLength(4);
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
  });

  it('a push the tag has moved on from (a late delivery, a retry after a newer push) is superseded: nothing moves', async () => {
    const { ecs, redeploy } = await setup(FLEET);
    // ECR: digest 2 was pushed to shop/api:latest, then digest 3 a minute later; the event of digest 2 comes now.
    const images = [
      { imageDigest: digest('2'), imageTags: [], imagePushedAt: new Date('2026-11-25T10:00:00Z') },
      { imageDigest: digest('3'), imageTags: ['latest'], imagePushedAt: new Date('2026-11-25T10:01:00Z') },
    ];
    ecrMock.on(DescribeImagesCommand).callsFake((input) => ({
      imageDetails: images.filter((i) =>
        (input.imageIds ?? []).some(
          (id: { imageTag?: string; imageDigest?: string }) =>
            id.imageDigest === i.imageDigest ||
            (id.imageTag !== undefined && i.imageTags.includes(id.imageTag)),
        ),
      ),
    }));
    const late = await redeploy(push('latest', 'shop/api', digest('2')));
    expect(late.superseded).toEqual({ tag: 'latest', digest: digest('3') });
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
    expect(ecs.commandCalls(DescribeServicesCommand)).toHaveLength(0);
    // The newer push's own event moves the services.
    const current = await redeploy(push('latest', 'shop/api', digest('3')));
    expect(current.superseded).toBeUndefined();
    expect(updatedServices(ecs).sort()).toEqual(['api-anywhere', 'api-ec2', 'api-fargate', 'api-spot']);
    // A tag moved back to an older image (a re-tag, its own push event) does not supersede the newer push.
    images[0] = { ...images[0], imageTags: ['latest'] } as (typeof images)[number];
    images[1] = { ...images[1], imageTags: [] } as (typeof images)[number];
    expect(
      (await redeploy(push('latest', 'shop/api', digest('3'), 'evt-after-retag'))).superseded,
    ).toBeUndefined();
  });

  it('the same event delivered three times starts one deployment per service', async () => {
    // The duplicates arrive while the new PRIMARY deployment has no task reporting a digest yet (fleet.ts).
    const { ecs, redeploy } = await setup(FLEET.slice(0, 2));
    const event = push('latest', 'shop/api', digest('3'));
    await redeploy(event);
    await redeploy(event);
    await redeploy(event);
    expect(updatedServices(ecs).sort()).toEqual(['api-ec2', 'api-fargate']);
  });

  it('a push of a digest the primary deployment already runs starts nothing', async () => {
    const { ecs, redeploy } = await setup(FLEET);
    const summary = await redeploy(push('latest', 'shop/api', digest('1')));
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
    expect(summary.skipped).toBeGreaterThanOrEqual(4);
  });

  it('each task definition revision is described once, ever: not again warm, nor after a cold start', async () => {
    const { ecs, redeploy, coldStart } = await setup(FLEET);
    const describes = () => ecs.commandCalls(DescribeTaskDefinitionCommand).length;
    await redeploy(push('latest', 'shop/api', digest('3')));
    const first = describes();
    expect(first).toBe(new Set(FLEET.map((s) => s.name)).size);
    await redeploy(push('latest', 'shop/api', digest('4'))); // the same container, warm
    expect(describes()).toBe(first);
    const cold = coldStart(); // a new container: its memory is empty, the state table is not
    await cold(push('latest', 'shop/api', digest('5')));
    expect(describes()).toBe(first);
  });

  it('semver policy: registers a revision with the new tag, copies everything else, moves the service', async () => {
    const { ecs, redeploy } = await setup(FLEET);
    await redeploy(push('1.3.0', 'shop/worker', digest('9')));
    const registered = ecs.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input;
    expect(registered).toMatchObject({
      family: 'worker',
      cpu: '256',
      memory: '512',
      networkMode: 'awsvpc',
      containerDefinitions: [{ name: 'app', image: `${REG}/shop/worker:1.3.0`, essential: true }],
    });
    expect(registered).not.toHaveProperty('revision');
    expect(registered).not.toHaveProperty('status');
    expect(registered).not.toHaveProperty('compatibilities');
    const update = ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input;
    expect(update).toMatchObject({ taskDefinition: expect.stringMatching(/task-definition\/worker:2$/) });
    expect(update?.forceNewDeployment).toBeUndefined();
    // Gather and apply share one description of each task definition (with its tags, copied to the revision).
    const described = ecs
      .commandCalls(DescribeTaskDefinitionCommand)
      .map((c) => c.args[0].input.taskDefinition);
    expect(described.filter((d) => String(d).includes('/worker'))).toHaveLength(1);
    expect(new Set(described).size).toBe(described.length);
  });

  it('semver policy: a major bump is left alone under minor', async () => {
    const { ecs, redeploy } = await setup(FLEET);
    await redeploy(push('2.0.0', 'shop/worker'));
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('a retry after the revision was registered reuses it instead of registering another', async () => {
    const { ecs, redeploy } = await setup(FLEET);
    let failOnce = true;
    ecs.on(UpdateServiceCommand).callsFake((input) => {
      if (failOnce) {
        failOnce = false;
        throw throttling();
      }
      return { service: { serviceArn: input.service, deployments: [] } };
    });
    const event = push('1.4.0', 'shop/worker', digest('a'));
    await expect(redeploy(event)).rejects.toThrow(PartialFailureError);
    await redeploy(event);
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(1);
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(2);
  });

  it('one service failing does not stop the others, and the invocation still fails naming it', async () => {
    const { ecs, redeploy } = await setup(FLEET.slice(0, 4));
    ecs.on(UpdateServiceCommand).callsFake((input) => {
      if (String(input.service).endsWith('/api-ec2')) throw throttling();
      return { service: { serviceArn: input.service, deployments: [] } };
    });
    const error = await redeploy(push('latest', 'shop/api', digest('4'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartialFailureError);
    expect((error as Error).message).toMatch(/api-ec2: ThrottlingException: Rate exceeded/);
    expect((error as PartialFailureError).succeeded).toBe(3);
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(4);
  });

  it('the log line of a failed update names the service (Powertools drops a top-level `service` key)', async () => {
    vi.stubEnv('POWERTOOLS_DEV', 'true'); // the logger then writes through the global console
    const lines: Record<string, unknown>[] = [];
    // Other libraries warn in plain text on the same console: only the logger's JSON lines are kept.
    const capture = (line: unknown) => {
      if (typeof line === 'string' && line.startsWith('{')) lines.push(JSON.parse(line));
    };
    const spies = [vi.spyOn(console, 'info'), vi.spyOn(console, 'warn'), vi.spyOn(console, 'error')];
    for (const spy of spies) spy.mockImplementation(capture);
    try {
      const { ecs, redeploy } = await setup(
        FLEET.slice(0, 2),
        {},
        new Logger({ serviceName: 'redeployEcs' }),
      );
      ecs.on(UpdateServiceCommand).callsFake((input) => {
        if (String(input.service).endsWith('/api-ec2')) throw throttling();
        return { service: { serviceArn: input.service, deployments: [] } };
      });
      await redeploy(push('latest', 'shop/api', digest('f'))).catch(() => undefined);
    } finally {
      for (const spy of spies) spy.mockRestore();
      vi.unstubAllEnvs();
    }
    expect(lines.find((l) => l.message === 'service update failed')).toMatchObject({
      serviceArn: expect.stringMatching(/service\/prod\/api-ec2$/),
      error: expect.stringMatching(/ThrottlingException/),
    });
    expect(lines.find((l) => l.message === 'service updated')).toMatchObject({
      serviceArn: expect.stringMatching(/service\/prod\/api-fargate$/),
    });
    expect(lines.filter((l) => String(l.message).includes('reserved key'))).toEqual([]);
  });

  it('an unknown policy tag fails that service only', async () => {
    const { ecs, redeploy } = await setup([
      ...FLEET.slice(0, 2),
      { cluster: 'prod', name: 'api-typo', image: `${REG}/shop/api:latest`, policy: 'mayor' },
    ]);
    const error = await redeploy(push('latest', 'shop/api', digest('5'))).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /api-typo: tag harborpilot:policy: invalid update policy "mayor"/,
    );
    expect(updatedServices(ecs).sort()).toEqual(['api-ec2', 'api-fargate']);
  });

  it('services deployed by CodeDeploy or another tool (EXTERNAL) are skipped with the reason, the others move', async () => {
    const { ecs, redeploy } = await setup([
      ...FLEET.slice(0, 2),
      {
        cluster: 'prod',
        name: 'api-bluegreen',
        image: `${REG}/shop/api:latest`,
        deploymentController: 'CODE_DEPLOY',
      },
      {
        cluster: 'prod',
        name: 'api-tasksets',
        image: `${REG}/shop/api:latest`,
        deploymentController: 'EXTERNAL',
      },
    ]);
    const summary = await redeploy(push('latest', 'shop/api', digest('5')));
    expect(updatedServices(ecs).sort()).toEqual(['api-ec2', 'api-fargate']);
    expect(summary.skipped).toBe(2);
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
    const { planRedeploy } = await import('../../../shared/redeploy-ecs/plan');
    const plan = planRedeploy(
      [
        {
          clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/prod',
          serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/prod/api-bluegreen',
          serviceName: 'api-bluegreen',
          capacity: 'FARGATE',
          taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/api-bluegreen:1',
          containers: [{ containerName: 'app', image: `${REG}/shop/api:latest` }],
          runningDigests: { app: digest('1') as Digest },
          deploymentController: 'CODE_DEPLOY',
        },
      ],
      [
        {
          repository: { accountId: '123456789012', region: 'us-east-1', repositoryName: 'shop/api' },
          tag: 'latest',
          digest: digest('5') as Digest,
        },
      ],
      'force',
    );
    expect(plan.actions).toEqual([]);
    expect(plan.skips[0]?.reason).toMatch(
      /^deployment controller CODE_DEPLOY: ECS cannot start its deployments .*deploy it through AWS CodeDeploy; it would have moved app to .*shop\/api:latest \(sha256:5+\)$/,
    );
  });

  it('a malformed event is a clear error and changes nothing', async () => {
    const { ecs, redeploy } = await setup(FLEET);
    const bad = push('latest');
    for (const digestValue of ['not-a-digest', 'sha256:', 'SHA256:ABC', 'sha256:abc def']) {
      (bad.detail as Record<string, unknown>)['image-digest'] = digestValue;
      await expect(redeploy(bad)).rejects.toThrow(EventValidationError);
      await expect(redeploy(bad)).rejects.toThrow(
        /malformed ECR Image Action event: detail\.image-digest: must be a digest, algorithm:encoded/,
      );
    }
    await expect(redeploy({ hello: 'world' })).rejects.toThrow(/detail-type/);
    expect(ecs.calls()).toHaveLength(0);
  });

  it("AWS's own sample ECR Image Action event (ECR user guide, a 60-character digest) is accepted, not a failure", async () => {
    const { ecs, redeploy } = await setup(FLEET);
    // Verbatim from the ECR user guide's "Event for a completed image push".
    const sample = {
      version: '0',
      id: '13cde686-328b-6117-af20-0e5566167482',
      'detail-type': 'ECR Image Action',
      source: 'aws.ecr',
      account: '123456789012',
      time: '2019-11-16T01:54:34Z',
      region: 'us-west-2',
      resources: [],
      detail: {
        result: 'SUCCESS',
        'repository-name': 'my-repository-name',
        'image-digest': 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234',
        'action-type': 'PUSH',
        'image-tag': 'latest',
      },
    };
    const summary = await redeploy(sample);
    expect(summary.deployed).toEqual([]);
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('a push whose digest uses another algorithm (sha512) redeploys like any other', async () => {
    const { ecs, redeploy } = await setup(FLEET);
    const summary = await redeploy(push('latest', 'shop/api', `sha512:${'ab'.repeat(64)}` as never));
    expect(updatedServices(ecs).sort()).toEqual(['api-anywhere', 'api-ec2', 'api-fargate', 'api-spot']);
    expect(summary.deployed).toHaveLength(4);
  });

  it('dry-run plans and logs but changes nothing', async () => {
    const { ecs, redeploy } = await setup(FLEET, { ecs: { dryRun: true } });
    const summary = await redeploy(push('latest', 'shop/api', digest('6')));
    expect(summary.dryRun).toBe(true);
    expect(summary.planned.map((a) => a.serviceName).sort()).toEqual([
      'api-anywhere',
      'api-ec2',
      'api-fargate',
      'api-spot',
    ]);
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
  });

  it('an untagged push (multi-arch child, attestation) starts nothing and reads nothing', async () => {
    const { ecs, redeploy } = await setup(FLEET);
    await redeploy(push(undefined));
    expect(ecs.calls()).toHaveLength(0);
  });

  it('stays within API limits: pages of 100, DescribeServices by 10, each task definition described once', async () => {
    const many: FakeService[] = Array.from({ length: 23 }, (_, i) => ({
      cluster: 'big',
      name: `svc-${i}`,
      image: `${REG}/shop/api:latest`,
      runningDigest: digest('1'),
    }));
    const { ecs, redeploy } = await setup(many);
    await redeploy(push('latest', 'shop/api', digest('b')));
    for (const c of ecs.commandCalls(ListServicesCommand)) expect(c.args[0].input.maxResults).toBe(100);
    const describes = ecs.commandCalls(DescribeServicesCommand);
    expect(describes.map((c) => c.args[0].input.services?.length)).toEqual([10, 10, 3]);
    const described = ecs
      .commandCalls(DescribeTaskDefinitionCommand)
      .map((c) => c.args[0].input.taskDefinition);
    expect(new Set(described).size).toBe(described.length);
    expect(updatedServices(ecs)).toHaveLength(23);
  });

  it('reconcile: a scheduled run moves services to what their policies allow among the repository tags', async () => {
    const { ecs, redeploy } = await setup(FLEET);
    ecrMock.on(DescribeImagesCommand).callsFake((input) => {
      const images: Record<string, { imageDigest: string; imageTags: string[]; imagePushedAt: Date }[]> = {
        'shop/api': [{ imageDigest: digest('1'), imageTags: ['latest'], imagePushedAt: new Date(1) }],
        'shop/worker': [
          { imageDigest: digest('7'), imageTags: ['1.2.3'], imagePushedAt: new Date(1) },
          { imageDigest: digest('c'), imageTags: ['1.5.0'], imagePushedAt: new Date(2) },
          { imageDigest: digest('d'), imageTags: ['2.0.0'], imagePushedAt: new Date(3) },
        ],
        'shop/web': [{ imageDigest: digest('e'), imageTags: ['latest'], imagePushedAt: new Date(4) }],
      };
      return { imageDetails: images[String(input.repositoryName)] ?? [] };
    });
    await redeploy({ ...scheduled, id: `sched-${runs}`, account: ACCOUNT, region: REGION });
    // api runs the digest `latest` points at; worker moves within minor; web's latest moved.
    expect(updatedServices(ecs).sort()).toEqual(['web', 'worker']);
    expect(
      ecs.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input.containerDefinitions?.[0]?.image,
    ).toBe(`${REG}/shop/worker:1.5.0`);
    expect(ecrMock.commandCalls(DescribeImagesCommand)).toHaveLength(3);
  });

  it('a reconcile during the rollout a push started does not force a second deployment', async () => {
    const { ecs, redeploy } = await setup(FLEET.slice(0, 1));
    const pushedAt = new Date(Date.now() - 60_000);
    await redeploy({ ...push('latest', 'shop/api', digest('4')), time: pushedAt.toISOString() });
    expect(updatedServices(ecs)).toEqual(['api-ec2']);
    // The new PRIMARY has no task reporting a digest yet (fleet.ts); the schedule fires now.
    ecrMock.on(DescribeImagesCommand).resolves({
      imageDetails: [{ imageDigest: digest('4'), imageTags: ['latest'], imagePushedAt: pushedAt }],
    });
    const summary = await redeploy({
      ...scheduled,
      id: `sched-rollout-${runs}`,
      account: ACCOUNT,
      region: REGION,
    });
    expect(updatedServices(ecs)).toEqual(['api-ec2']);
    expect(summary.deployed).toEqual([]);
  });

  it('a reconcile when the clock has not moved since the push (deployment created at the push time) does not deploy the digest again', async () => {
    // The local cloud with --speed 0, or a push and its deployment within one clock tick: createdAt is not
    // after pushedAt, so only what the PRIMARY deployment pinned can tell that it already runs the push.
    const pushedAt = new Date(Date.now() + 60_000);
    const { ecs, redeploy } = await setup(FLEET.slice(0, 1), {}, undefined, {
      resolveDigest: () => digest('8'),
    });
    await redeploy({ ...push('latest', 'shop/api', digest('8')), time: pushedAt.toISOString() });
    expect(updatedServices(ecs)).toEqual(['api-ec2']);
    ecrMock.on(DescribeImagesCommand).resolves({
      imageDetails: [{ imageDigest: digest('8'), imageTags: ['latest'], imagePushedAt: pushedAt }],
    });
    const summary = await redeploy({
      ...scheduled,
      id: `sched-still-${runs}`,
      account: ACCOUNT,
      region: REGION,
    });
    expect(updatedServices(ecs)).toEqual(['api-ec2']);
    expect(summary.deployed).toEqual([]);
    expect(summary.skipped).toBe(1);
  });

  it('a reconcile after a newer push still deploys it while the PRIMARY pinned the older digest', async () => {
    const pushedAt = new Date(Date.now() + 60_000);
    const { ecs, redeploy } = await setup(FLEET.slice(0, 1), {}, undefined, {
      resolveDigest: () => digest('8'),
    });
    await redeploy({ ...push('latest', 'shop/api', digest('8')), time: pushedAt.toISOString() });
    ecrMock.on(DescribeImagesCommand).resolves({
      imageDetails: [{ imageDigest: digest('9'), imageTags: ['latest'], imagePushedAt: pushedAt }],
    });
    await redeploy({ ...scheduled, id: `sched-newer-${runs}`, account: ACCOUNT, region: REGION });
    expect(updatedServices(ecs)).toEqual(['api-ec2', 'api-ec2']);
  });

  it('reconcile reads only its own account’s repositories: another account’s image is not its to move', async () => {
    const foreign = '999999999999.dkr.ecr.us-east-1.amazonaws.com/shared/base:latest';
    const { ecs, redeploy } = await setup([...FLEET, { cluster: 'prod', name: 'base', image: foreign }]);
    ecrMock.on(DescribeImagesCommand).callsFake((input) => {
      // As IAM answers: the role may describe images of its own account only.
      if (input.registryId !== ACCOUNT)
        throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
      return { imageDetails: [] };
    });
    await redeploy({ ...scheduled, id: `sched-foreign-${runs}`, account: ACCOUNT, region: REGION });
    expect(ecrMock.commandCalls(DescribeImagesCommand).map((c) => c.args[0].input.registryId)).not.toContain(
      '999999999999',
    );
    expect(updatedServices(ecs)).toEqual([]);
  });
});
