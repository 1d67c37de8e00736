import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient, RegisterTaskDefinitionCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { formatPlanTable, PlanUsageError, planPush } from '../../../cli/plan';
import { configFromEnv } from '../../../shared/config';
import { digest, fakeFleet, REG, REGION } from '../ecs/fleet';

const ecrMock = mockClient(ECRClient);
beforeEach(() => ecrMock.reset());

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
const deps = () => ({
  ecs: new ECSClient({ region: REGION }),
  ecr: new ECRClient({ region: REGION }),
  config: configFromEnv({}),
});

describe('harborpilot plan push', () => {
  it('lists what would move and why the rest stays, calling no write API', async () => {
    const { ecs } = fleet();
    ecrMock
      .on(DescribeImagesCommand)
      .resolves({ imageDetails: [{ imageDigest: digest('2'), imageTags: ['latest'] }] });
    const result = await planPush(`${REG}/shop/api:latest`, deps());
    expect(result.digest).toBe(digest('2'));
    expect(result.services).toBe(2);
    const table = formatPlanTable(result);
    expect(table).toMatch(/1 of 2 service\(s\) would move/);
    expect(table).toMatch(/prod\/api\s+force-new-deployment\s+app: tag latest was pushed again/);
    expect(table).toMatch(/prod\/api-frozen\s+skip\s+app: policy is never/);
    expect(table).not.toMatch(/web/);
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
  });

  it('a given digest is planned as is; the running digest means nothing to do', async () => {
    fleet();
    const result = await planPush(`${REG}/shop/api:latest@${digest('1')}`, deps());
    expect(result.plan.actions).toEqual([]);
    expect(ecrMock.calls()).toHaveLength(0);
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
