import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient, RegisterTaskDefinitionCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { formatPlanTable, PlanUsageError, planPush } from '../../../cli/plan';
import { configFromEnv } from '../../../shared/config';
import { digest, fakeFleet, REG, REGION } from '../../fixtures/fake-ecs-fleet';

const ecrMock = mockClient(ECRClient);
const eksMock = mockClient(EKSClient);
beforeEach(() => {
  ecrMock.reset();
  eksMock.reset();
  eksMock.on(ListClustersCommand).resolves({ clusters: ['k8s'] });
});

/** A cluster with two Deployments on shop/api:latest (one frozen) and one on shop/web; pods run digest 1. */
function fakeKube() {
  const methods: string[] = [];
  const deployment = (name: string, image: string, policy?: string) => ({
    metadata: {
      name,
      namespace: 'shop',
      generation: 1,
      ...(policy ? { annotations: { 'harborpilot.io/policy': policy } } : {}),
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { spec: { containers: [{ name: 'app', image }] } },
    },
    status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 },
  });
  const lists: Record<string, unknown[]> = {
    '/apis/apps/v1/deployments': [
      deployment('api', `${REG}/shop/api:latest`),
      deployment('api-frozen', `${REG}/shop/api:latest`, 'never'),
      deployment('web', `${REG}/shop/web:latest`),
    ],
  };
  const kube = {
    cluster: 'k8s',
    list: async (path: string) => {
      methods.push('list');
      if (path.endsWith('/pods'))
        return [
          { status: { containerStatuses: [{ name: 'app', imageID: `${REG}/shop/api@${digest('1')}` }] } },
        ];
      return lists[path] ?? [];
    },
    get: async () => methods.push('get'),
    patch: async () => {
      methods.push('patch');
      throw new Error('plan must not patch');
    },
  };
  return { methods, connect: async () => kube as never };
}

const fleet = () =>
  fakeFleet([
    { cluster: 'prod', name: 'api', image: `${REG}/shop/api:latest`, runningDigest: digest('1') },
    {
      cluster: 'prod',
      name: 'api-frozen',
      image: `${REG}/shop/api:latest`,
      policy: 'never',
      runningDigest: digest('1'),
    },
    { cluster: 'prod', name: 'web', image: `${REG}/shop/web:latest`, runningDigest: digest('1') },
  ]);
const deps = (connect = fakeKube().connect) => ({
  ecs: new ECSClient({ region: REGION }),
  ecr: new ECRClient({ region: REGION }),
  eks: new EKSClient({ region: REGION }),
  connect,
  config: configFromEnv({}),
});

describe('harborpilot plan push', () => {
  it('lists what would move on ECS and EKS and why the rest stays, calling no write API', async () => {
    const { ecs } = fleet();
    const kube = fakeKube();
    ecrMock
      .on(DescribeImagesCommand)
      .resolves({ imageDetails: [{ imageDigest: digest('2'), imageTags: ['latest'] }] });
    const result = await planPush(`${REG}/shop/api:latest`, deps(kube.connect));
    expect(result.digest).toBe(digest('2'));
    expect(result.services).toBe(2);
    expect(result.eks).toMatchObject({ clusters: ['k8s'], workloads: 2 });
    const table = formatPlanTable(result);
    expect(table).toMatch(/1 of 2 ECS service\(s\) and 1 of 2 EKS workload\(s\) would move/);
    expect(table).toMatch(/ECS\s+prod\/api\s+force-new-deployment\s+app: tag latest was pushed again/);
    expect(table).toMatch(/ECS\s+prod\/api-frozen\s+skip\s+app: policy is never/);
    expect(table).toMatch(
      new RegExp(`EKS\\s+k8s/shop/deployment/api\\s+patch\\s+app: .*→ ${REG}/shop/api:latest@${digest('2')}`),
    );
    expect(table).toMatch(/EKS\s+k8s\/shop\/deployment\/api-frozen\s+skip/);
    expect(table).not.toMatch(/web/);
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
    expect(new Set(kube.methods)).toEqual(new Set(['list']));
  });

  it('an EKS cluster that cannot be read is shown as such, and the ECS plan still comes', async () => {
    fleet();
    ecrMock.on(DescribeImagesCommand).resolves({ imageDetails: [] });
    const result = await planPush(
      `${REG}/shop/api:latest@${digest('2')}`,
      deps(async () => {
        throw new Error('EKS cluster k8s cannot be reached: status is CREATING');
      }),
    );
    expect(result.failures).toEqual([
      { item: 'EKS cluster k8s', error: 'EKS cluster k8s cannot be reached: status is CREATING' },
    ]);
    expect(formatPlanTable(result)).toMatch(
      /EKS cluster k8s\s+unreadable\s+EKS cluster k8s cannot be reached/,
    );
    expect(result.plan.actions).toHaveLength(1);
  });

  it('a given digest is planned as is (ECR read only for its scan); the running digest means nothing to do', async () => {
    fleet();
    ecrMock.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: digest('1') }] });
    const result = await planPush(`${REG}/shop/api:latest@${digest('1')}`, deps());
    expect(result.plan.actions).toEqual([]);
    expect(ecrMock.commandCalls(DescribeImagesCommand).map((c) => c.args[0].input.imageIds)).toEqual([
      [{ imageDigest: digest('1') }],
    ]);
  });

  it.each([
    ['nginx:latest', /not an ECR image/],
    [`${REG}/shop/api`, /has no tag/],
    ['Not An Image', /invalid image reference/],
  ])('%s is a usage error', async (image, message) => {
    fleet();
    const error = await planPush(image, deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlanUsageError);
    expect((error as Error).message).toMatch(message);
  });

  it('a tag ECR does not have is a clear error', async () => {
    fleet();
    ecrMock.on(DescribeImagesCommand).resolves({ imageDetails: [] });
    await expect(planPush(`${REG}/shop/api:nope`, deps())).rejects.toThrow(/ECR has no image shop\/api:nope/);
  });
});
