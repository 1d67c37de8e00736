/**
 * harborpilot's share of the account's ECS read budget. ECS throttles every API per account and Region with
 * token buckets that every caller shares (the console, Terraform, the customer's pipelines): a scan of the
 * whole fleet at full speed would take all of it. Full scans (reconcile, the in-use set of pruneImages,
 * checkCapacity) send their reads through a ReadBudget's client, at most `ecs.maxReadsPerSecond` in any second, and stop
 * cleanly (ScanDeadlineError) when the invocation has no time left, instead of timing out half-way.
 *
 * The push path through the fleet index is not paced: it makes a handful of reads, and its first UpdateService
 * should come within half a second of the push.
 */
import type { ECSClient } from '@aws-sdk/client-ecs';
import pThrottle from 'p-throttle';

/** The scan ran out of invocation time at its pace: the caller stops (and continues in the next invocation). */
export class ScanDeadlineError extends Error {
  constructor(readonly readsPerSecond: number) {
    super(`ECS scan out of invocation time at ecs.maxReadsPerSecond ${readsPerSecond}`);
    this.name = 'ScanDeadlineError';
  }
}

export interface ReadBudgetOptions {
  /** At most this many ECS calls start in any one second (a sliding window, not per calendar second). */
  readsPerSecond: number;
  /** Milliseconds the invocation has left (Lambda's `context.getRemainingTimeInMillis`); unbounded without. */
  remainingMs?: () => number;
  /** Time kept back for what follows the scan (plan, apply, state writes): no read starts inside it. */
  reserveMs?: number;
}

/** Time kept back by default: a quarter of the Lambda timeout at 120 s, and never less than 20 s. */
export function defaultReserveMs(timeoutMs: number): number {
  return Math.max(20_000, Math.floor(timeoutMs / 4));
}

/**
 * One invocation's budget. `pace` gives the client that scanning code and what follows it share (one task
 * definition cache over it, for instance); its calls wait their turn only while a scan runs (`during`), so
 * planning and applying after the scan are neither paced nor stopped by the time kept back for them.
 */
export class ReadBudget {
  private scanning = false;
  private readonly turn: () => Promise<void>;

  constructor(options: ReadBudgetOptions) {
    const { readsPerSecond, remainingMs, reserveMs = 0 } = options;
    // strict: no window ever holds more than the limit (the default windowing allows twice at its edges). The
    // window is 2% longer than a second: timers fire a few ms late, and a late call must not land in the next
    // caller's second.
    const throttle = pThrottle({
      limit: Math.max(1, Math.floor(readsPerSecond)),
      interval: 1020,
      strict: true,
    });
    this.turn = throttle(async () => {
      if (remainingMs && remainingMs() < reserveMs) throw new ScanDeadlineError(readsPerSecond);
    });
  }

  /** Runs a scan: every call through a paced client waits its turn until it ends. */
  async during<T>(scan: () => Promise<T>): Promise<T> {
    this.scanning = true;
    try {
      return await scan();
    } finally {
      this.scanning = false;
    }
  }

  /** The same client, whose `send` waits its turn in the budget while a scan runs. */
  pace(ecs: ECSClient): ECSClient {
    const send = async (...args: Parameters<ECSClient['send']>) => {
      if (this.scanning) await this.turn();
      // biome-ignore lint/suspicious/noExplicitAny: send's overloads cannot be spread back through the type system
      return (ecs.send as (...a: any[]) => Promise<unknown>)(...args);
    };
    return new Proxy(ecs, {
      get: (target, property) => (property === 'send' ? send : Reflect.get(target, property, target)),
    });
  }
}

/** A budget for a Lambda invocation: its remaining time from the context, with the default reserve. */
export function invocationBudget(
  readsPerSecond: number,
  context: { getRemainingTimeInMillis(): number } | undefined,
): ReadBudget {
  if (!context) return new ReadBudget({ readsPerSecond });
  const remainingMs = () => context.getRemainingTimeInMillis();
  return new ReadBudget({ readsPerSecond, remainingMs, reserveMs: defaultReserveMs(remainingMs()) });
}
