/** AWS's API rate quotas in the local cloud: token buckets per account, Region and action category. */
import { describe, expect, it } from 'vitest';
import { LocalFaults } from '../../faults';
import { bucketSpec } from '../../rate-limits';

const here = { accountId: '000000000000', region: 'us-east-1' };

function setup(spec: Record<string, unknown> = { kind: 'rateLimits' }) {
  let now = Date.parse('2026-11-25T09:00:00Z');
  const faults = new LocalFaults({ ...here, now: () => now });
  faults.add(spec);
  /** How many of n calls in a row get through. */
  const passed = (n: number, operation: string, service = 'ecs', where = here) =>
    Array.from({ length: n }, () => faults.shouldThrottle(service, operation, where)).filter((t) => !t)
      .length;
  return { faults, passed, advance: (ms: number) => (now += ms) };
}

describe('AWS rate limits (rateLimits fault)', () => {
  it('knows AWS categories: DescribeServices and ListServices share the Service read bucket (100, 20/s)', () => {
    expect(bucketSpec('ecs', 'DescribeServices')).toEqual({
      category: 'Service read actions',
      burst: 100,
      refillPerSecond: 20,
    });
    expect(bucketSpec('ecs', 'ListServices')).toBe(bucketSpec('ecs', 'DescribeServices'));
    expect(bucketSpec('ecs', 'UpdateService')).toMatchObject({ burst: 50, refillPerSecond: 5 });
    expect(bucketSpec('ecs', 'DescribeTaskDefinition')).toMatchObject({ burst: 50, refillPerSecond: 20 });
    expect(bucketSpec('ecr', 'BatchGetImage')).toMatchObject({ burst: 2000, refillPerSecond: 2000 });
    // ECR publishes no rate for DescribeImages: not throttled.
    expect(bucketSpec('ecr', 'DescribeImages')).toBeUndefined();
  });

  it('lets a burst through, throttles the rest of that second, then refills at the sustained rate', () => {
    const { passed, advance, faults } = setup();
    expect(passed(60, 'DescribeServices') + passed(60, 'ListServices')).toBe(100);
    expect(passed(5, 'DescribeServices')).toBe(0);
    advance(1000);
    expect(passed(30, 'ListServices')).toBe(20);
    advance(500);
    expect(passed(30, 'DescribeServices')).toBe(10);
    advance(60_000); // never more than the burst, however long the quiet
    expect(passed(200, 'DescribeServices')).toBe(100);
    expect(faults.list()[0]).toMatchObject({ kind: 'rateLimits', calls: 385, throttled: 385 - 230 });
  });

  it('keeps categories, accounts and Regions apart', () => {
    const { passed } = setup();
    expect(passed(150, 'DescribeServices')).toBe(100);
    expect(passed(150, 'DescribeTasks')).toBe(100);
    expect(passed(80, 'DescribeTaskDefinition')).toBe(50);
    expect(passed(150, 'DescribeServices', 'ecs', { ...here, region: 'eu-west-1' })).toBe(100);
    expect(passed(150, 'DescribeServices', 'ecs', { ...here, accountId: '111111111111' })).toBe(100);
  });

  it('throttles only the named service, never actions without a published rate, and scales quotas', () => {
    const { passed } = setup({ kind: 'rateLimits', service: 'ecr', scale: 0.01 });
    expect(passed(30, 'BatchGetImage', 'ecr')).toBe(20);
    expect(passed(500, 'DescribeImages', 'ecr')).toBe(500);
    expect(passed(500, 'DescribeServices', 'ecs')).toBe(500);
  });

  it('is off by default and forgets its buckets once removed', () => {
    let now = 0;
    const faults = new LocalFaults({ ...here, now: () => now });
    expect(
      Array.from({ length: 500 }, () => faults.shouldThrottle('ecs', 'UpdateService')).some(Boolean),
    ).toBe(false);
    const added = faults.add({ kind: 'rateLimits', service: 'ecs' });
    const id = 'fault' in added ? added.fault.id : '';
    const through = () =>
      Array.from({ length: 60 }, () => faults.shouldThrottle('ecs', 'UpdateService')).filter((t) => !t)
        .length;
    expect(through()).toBe(50);
    faults.remove(id);
    faults.add({ kind: 'rateLimits', service: 'ecs' });
    now += 1; // no time to refill: a fresh bucket all the same
    expect(through()).toBe(50);
  });

  it('rejects a bad spec naming the field', () => {
    const faults = new LocalFaults(here);
    expect(() => faults.add({ kind: 'rateLimits', service: 'ses' })).toThrow(/service:/);
    expect(() => faults.add({ kind: 'rateLimits', scale: 0 })).toThrow(/scale:/);
  });
});
