import { describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv } from '../../../shared/config';
import { targetLabel, targetsOf, WorkloadScopes } from '../../../shared/targets';
import { ecsWorkloadId, formatWorkloadId, parseWorkloadId } from '../../../shared/workload';

const config = (targets: unknown) => configFromEnv({ HARBORPILOT_CONFIG: JSON.stringify({ targets }) });

describe('targets', () => {
  it('none configured: the home target only, as before', () => {
    expect(targetsOf(configFromEnv({}), 'eu-west-1')).toEqual([{ home: true, region: 'eu-west-1' }]);
  });

  it('each configured account in each of its regions, the role name made an ARN in that account', () => {
    const targets = targetsOf(
      config([
        {
          account: '111111111111',
          name: 'staging',
          regions: ['us-east-1', 'us-west-2'],
          role: 'harborpilot',
          externalId: 'hp-7f3a',
        },
        {
          account: '222222222222',
          regions: ['eu-west-1'],
          role: 'arn:aws:iam::222222222222:role/ops/harborpilot',
        },
      ]),
      'us-east-1',
    );
    expect(targets.map(targetLabel)).toEqual([
      'us-east-1 (home)',
      'staging (111111111111) us-east-1',
      'staging (111111111111) us-west-2',
      '222222222222 eu-west-1',
    ]);
    expect(targets[2]).toMatchObject({
      roleArn: 'arn:aws:iam::111111111111:role/harborpilot',
      externalId: 'hp-7f3a',
    });
    expect(targets[3]).toMatchObject({ roleArn: 'arn:aws:iam::222222222222:role/ops/harborpilot' });
  });

  it.each([
    [
      [{ account: '1111', regions: ['us-east-1'], role: 'r' }],
      /targets\.0\.account: expected a 12-digit account id/,
    ],
    [[{ account: '111111111111', regions: [], role: 'r' }], /targets\.0\.regions/],
    [
      [{ account: '111111111111', regions: ['mars-1'], role: 'r' }],
      /targets\.0\.regions\.0: expected a region/,
    ],
    [
      [{ account: '111111111111', regions: ['us-east-1'], role: 'arn:aws:iam::222222222222:role/r' }],
      /targets\.0\.role: role ARN is in account 222222222222, not 111111111111/,
    ],
    [
      [{ account: '111111111111', regions: ['us-east-1'], role: 'no spaces' }],
      /targets\.0\.role: expected a role name/,
    ],
    [
      [{ account: '111111111111', regions: ['us-east-1', 'us-east-1'], role: 'r' }],
      /region us-east-1 listed twice/,
    ],
    [
      [
        { account: '111111111111', regions: ['us-east-1'], role: 'r' },
        { account: '111111111111', regions: ['us-west-2'], role: 'r' },
      ],
      /targets\.1\.account: account 111111111111 listed twice/,
    ],
    [
      [{ account: '111111111111', regions: ['us-east-1'], role: 'r', externalID: 'x' }],
      /Unrecognized key: "externalID"/,
    ],
  ])('a wrong target fails naming the field (%j)', (targets, message) => {
    expect(() => config(targets)).toThrow(ConfigError);
    expect(() => config(targets)).toThrow(message);
  });
});

describe('workload ids across targets', () => {
  const scopes = new WorkloadScopes(
    targetsOf(
      config([{ account: '111111111111', name: 'staging', regions: ['us-west-2'], role: 'harborpilot' }]),
      'us-east-1',
    ),
  );

  it('a service in another target is named with its account and region; the home target as before', () => {
    const foreign = ecsWorkloadId('arn:aws:ecs:us-west-2:111111111111:service/prod/api', scopes);
    expect(foreign && formatWorkloadId(foreign)).toBe('111111111111/us-west-2/ecs/prod/api');
    const home = ecsWorkloadId('arn:aws:ecs:us-east-1:000000000000:service/prod/api', scopes);
    expect(home && formatWorkloadId(home)).toBe('ecs/prod/api');
    // The same account in a region it is not a target in is not that target.
    const other = ecsWorkloadId('arn:aws:ecs:eu-west-1:111111111111:service/prod/api', scopes);
    expect(other && formatWorkloadId(other)).toBe('ecs/prod/api');
    expect(scopes.accountName('111111111111')).toBe('staging');
  });

  it('parses the qualified form back, and rejects a bad region after an account', () => {
    const id = parseWorkloadId('111111111111/us-west-2/eks/c/ns/Deployment/web');
    expect(id).toEqual({
      platform: 'eks',
      cluster: 'c',
      namespace: 'ns',
      kind: 'Deployment',
      name: 'web',
      scope: { accountId: '111111111111', region: 'us-west-2' },
    });
    expect(formatWorkloadId(id)).toBe('111111111111/us-west-2/eks/c/ns/deployment/web');
    expect(() => parseWorkloadId('111111111111/prod/ecs/c/s')).toThrow(
      /"prod" after the account is not a region/,
    );
  });
});
