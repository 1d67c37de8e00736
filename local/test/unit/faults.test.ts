import { describe, expect, it } from 'vitest';
import { FaultError, LocalFaults } from '../../faults';

const defaults = { accountId: '000000000000', region: 'us-east-1' };

function pattern(faults: LocalFaults, n: number, service = 'ecs', operation = 'DescribeServices'): string {
  return Array.from({ length: n }, () => (faults.shouldThrottle(service, operation) ? 'T' : '.')).join('');
}

describe('faults', () => {
  it.each([
    [1, 'TTTTTT'],
    [0.5, 'T.T.T.'],
    [0.25, 'T...T...'],
    [1 / 3, 'T..T..'],
    [0, '......'],
  ])('throttles a rate of %s of the calls, evenly, starting with the first', (rate, expected) => {
    const faults = new LocalFaults(defaults);
    faults.add({ kind: 'throttle', service: 'ecs', rate });
    expect(pattern(faults, expected.length)).toBe(expected);
  });

  it('throttles only the named service and operation', () => {
    const faults = new LocalFaults(defaults);
    faults.add({ kind: 'throttle', service: 'ecs', operation: 'DescribeServices' });
    expect(faults.shouldThrottle('ecs', 'ListServices')).toBe(false);
    expect(faults.shouldThrottle('ecr', 'DescribeServices')).toBe(false);
    expect(faults.shouldThrottle('ecs', 'DescribeServices')).toBe(true);
  });

  it('ends a throttle after `count` throttled calls', () => {
    const faults = new LocalFaults(defaults);
    faults.add({ kind: 'throttle', service: '*', count: 2 });
    expect(pattern(faults, 4)).toBe('TT..');
    expect(faults.list()).toEqual([]);
  });

  it('fails pulls by repository glob, and containers by family', () => {
    const faults = new LocalFaults(defaults);
    faults.add({ kind: 'pullFailure', repository: 'shop/*', reason: 'CannotPullContainerError: denied' });
    faults.add({ kind: 'containerOom', family: 'worker', afterMs: 5000 });
    faults.add({ kind: 'containerExit', family: 'api*', exitCode: 137 });
    expect(faults.pullFailure('shop/api')).toBe('CannotPullContainerError: denied');
    expect(faults.pullFailure('other/api')).toBeUndefined();
    faults.add({ kind: 'pullFailure', repository: 'legacy', reason: 'pull access denied' });
    expect(faults.pullFailure('legacy')).toBe('CannotPullContainerError: pull access denied');
    expect(faults.containerFault('worker')).toEqual({ kind: 'oom', afterMs: 5000 });
    expect(faults.containerFault('api-v2')).toEqual({ kind: 'exit', exitCode: 137, afterMs: 0 });
    expect(faults.containerFault('web')).toBeUndefined();
  });

  it('a pull failure on one digest fails the pulls of that digest only (a broken build)', () => {
    const faults = new LocalFaults(defaults);
    faults.add({ kind: 'pullFailure', repository: 'shop/api', digest: 'sha256:bad', reason: 'broken' });
    expect(faults.pullFailure('shop/api', 'sha256:bad')).toBe('CannotPullContainerError: broken');
    expect(faults.pullFailure('shop/api', 'sha256:good')).toBeUndefined();
    // Resolving a tag (no digest known yet) is not a pull of the broken image.
    expect(faults.pullFailure('shop/api')).toBeUndefined();
  });

  it('takes the largest latency, and forgets faults that are removed', () => {
    const faults = new LocalFaults(defaults);
    const a = faults.add({ kind: 'latency', ms: 50 });
    faults.add({ kind: 'latency', ms: 20 });
    expect(faults.latencyMs).toBe(50);
    expect(faults.remove('fault' in a ? a.fault.id : '')).toBe(true);
    expect(faults.latencyMs).toBe(20);
    expect(faults.clear()).toBe(1);
    expect(faults.latencyMs).toBe(0);
  });

  it('delegates removeCapacity to the ECS backend with the default account and region', () => {
    const seen: unknown[] = [];
    const faults = new LocalFaults(defaults, { removeCapacity: (input) => seen.push(input) && ['ci-1'] });
    expect(faults.add({ kind: 'removeCapacity', cluster: 'prod', launchType: 'EC2', count: 1 })).toEqual({
      removed: ['ci-1'],
    });
    expect(seen).toEqual([{ cluster: 'prod', launchType: 'EC2', count: 1, ...defaults }]);
    expect(faults.list()).toEqual([]);
  });

  it('refuses removeCapacity without an ECS backend that supports it, and invalid specs', () => {
    const faults = new LocalFaults(defaults);
    expect(() => faults.add({ kind: 'removeCapacity', cluster: 'prod' })).toThrow(
      expect.objectContaining({ status: 501 }),
    );
    expect(() => faults.add({ kind: 'latency', ms: -5 })).toThrow(FaultError);
    expect(() => faults.add({ kind: 'latency', ms: -5 })).toThrow(/ms:/);
  });
});
