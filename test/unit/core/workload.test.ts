import { describe, expect, it } from 'vitest';
import { ecsWorkloadId, eksWorkloadId, formatWorkloadId, parseWorkloadId } from '../../../shared/workload';

describe('workload ids', () => {
  it.each([
    ['ecs/prod/api', { platform: 'ecs', cluster: 'prod', service: 'api' }],
    [
      'eks/shop/default/deployment/web',
      { platform: 'eks', cluster: 'shop', namespace: 'default', kind: 'Deployment', name: 'web' },
    ],
    [
      'eks/shop/payments/StatefulSet/db',
      { platform: 'eks', cluster: 'shop', namespace: 'payments', kind: 'StatefulSet', name: 'db' },
    ],
  ])('parses %s', (value, expected) => {
    expect(parseWorkloadId(value)).toEqual(expected);
  });

  it('formats back to the lower-case form', () => {
    expect(formatWorkloadId(parseWorkloadId('eks/shop/payments/StatefulSet/db'))).toBe(
      'eks/shop/payments/statefulset/db',
    );
  });

  it.each([
    ['ecs/prod', 'an ECS workload has a cluster and a service'],
    ['eks/shop/default/job/x', 'kind "job" is not one of deployment, statefulset, daemonset'],
    ['lambda/x/y', 'platform "lambda" is not ecs or eks'],
    ['ecs//api', 'bad segment ""'],
  ])('refuses %s, naming why', (value, reason) => {
    expect(() => parseWorkloadId(value)).toThrow(reason);
  });

  it('names an ECS service and a Kubernetes workload the same way', () => {
    const ecs = ecsWorkloadId('arn:aws:ecs:eu-west-1:111122223333:service/prod/api');
    expect(ecs && formatWorkloadId(ecs)).toBe('ecs/prod/api');
    expect(
      formatWorkloadId(
        eksWorkloadId({ cluster: 'shop', namespace: 'web', kind: 'DaemonSet', name: 'agent' }),
      ),
    ).toBe('eks/shop/web/daemonset/agent');
    expect(ecsWorkloadId('arn:aws:ecs:eu-west-1:111122223333:service/api')).toBeUndefined();
  });
});
