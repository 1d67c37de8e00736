/**
 * The ECS read budget (issue 15, item 4): a scan never starts more than ecs.maxReadsPerSecond calls in any
 * second, stops before the time kept back for planning and applying, and leaves calls outside a scan alone.
 * A fake clock: no real sleeps.
 */
import { DescribeServicesCommand, ECSClient, ListServicesCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultReserveMs, ReadBudget, ScanDeadlineError } from '../../../shared/aws/read-budget';

const ecsMock = mockClient(ECSClient);
beforeEach(() => {
  vi.useFakeTimers();
  ecsMock.reset();
  ecsMock.on(DescribeServicesCommand).resolves({ services: [] });
  ecsMock.on(ListServicesCommand).resolves({ serviceArns: [] });
});
afterEach(() => vi.useRealTimers());

/** Start times (fake ms since the scan began) of every call that reached ECS. */
function recordStarts(): number[] {
  const starts: number[] = [];
  const t0 = Date.now();
  ecsMock.on(DescribeServicesCommand).callsFake(() => {
    starts.push(Date.now() - t0);
    return { services: [] };
  });
  return starts;
}

/** The most calls that started within any one-second window. */
function busiestSecond(starts: number[]): number {
  return Math.max(...starts.map((s) => starts.filter((t) => t >= s && t < s + 1000).length));
}

describe('ReadBudget', () => {
  it('paces a scan at readsPerSecond in every one-second window', async () => {
    const starts = recordStarts();
    const budget = new ReadBudget({ readsPerSecond: 5 });
    const ecs = budget.pace(new ECSClient({ region: 'us-east-1' }));
    const scan = budget.during(() =>
      Promise.all(
        Array.from({ length: 23 }, () => ecs.send(new DescribeServicesCommand({ services: ['x'] }))),
      ),
    );
    await vi.advanceTimersByTimeAsync(10_000);
    await scan;
    expect(starts).toHaveLength(23);
    expect(busiestSecond(starts)).toBe(5);
    // 23 reads at 5 a second: the last starts in the fifth second, not before.
    expect(Math.max(...starts)).toBeGreaterThanOrEqual(4000);
    expect(Math.max(...starts)).toBeLessThan(5000);
  });

  it('stops the scan with ScanDeadlineError once only the reserve is left, and no read starts inside it', async () => {
    const starts = recordStarts();
    const deadline = Date.now() + 60_000;
    const budget = new ReadBudget({
      readsPerSecond: 5,
      remainingMs: () => deadline - Date.now(),
      reserveMs: 30_000,
    });
    const ecs = budget.pace(new ECSClient({ region: 'us-east-1' }));
    const scan = budget.during(async () => {
      for (;;) await ecs.send(new DescribeServicesCommand({ services: ['x'] }));
    });
    const outcome = scan.catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(60_000);
    const err = await outcome;
    expect(err).toBeInstanceOf(ScanDeadlineError);
    expect(String(err)).toContain('ecs.maxReadsPerSecond 5');
    // 30 s of scanning at 5 a second, then nothing: the last 30 s are for planning and applying.
    expect(starts.length).toBeGreaterThanOrEqual(145);
    expect(starts.length).toBeLessThanOrEqual(151);
    expect(Math.max(...starts)).toBeLessThanOrEqual(30_000);
  });

  it('leaves calls outside a scan unpaced and unstopped (apply after the scan)', async () => {
    const starts = recordStarts();
    const budget = new ReadBudget({ readsPerSecond: 1, remainingMs: () => 0, reserveMs: 20_000 });
    const ecs = budget.pace(new ECSClient({ region: 'us-east-1' }));
    await Promise.all(
      Array.from({ length: 10 }, () => ecs.send(new DescribeServicesCommand({ services: ['x'] }))),
    );
    expect(starts).toEqual(Array(10).fill(0));
    await expect(budget.during(() => ecs.send(new ListServicesCommand({})))).rejects.toBeInstanceOf(
      ScanDeadlineError,
    );
  });

  it('keeps back a quarter of the invocation, at least 20 s', () => {
    expect(defaultReserveMs(120_000)).toBe(30_000);
    expect(defaultReserveMs(600_000)).toBe(150_000);
    expect(defaultReserveMs(30_000)).toBe(20_000);
  });
});
