/**
 * Fault injection: what tests, benchmarks and demos use to make the local cloud misbehave the way
 * AWS does on a bad day. The same specs come from world files (`faults:`) and from the admin API
 * (`POST /_harborpilot/faults`). The HTTP layer consults `latencyMs` and `shouldThrottle` before a
 * backend runs; ECR consults `pullFailure`; ECS consults `containerFault`.
 */
import picomatch from 'picomatch';
import * as z from 'zod';
import { bucketSpec, RATE_LIMITED_SERVICES, TokenBuckets } from './rate-limits';
import type { Faults } from './types';

/** Services as the HTTP layer names them (the SigV4 signing names, `events` for EventBridge). */
export const THROTTLE_SERVICES = ['ecs', 'ecr', 'eks', 'ses', 'sts', 'dynamodb', 'events', '*'] as const;

const ThrottleFault = z
  .object({
    kind: z.literal('throttle'),
    /** `*` throttles every service. */
    service: z.enum(THROTTLE_SERVICES),
    /** One operation (e.g. `DescribeServices`); every operation of the service when absent. */
    operation: z.string().min(1).optional(),
    /**
     * Fraction of the matching calls that fail, 0..1, spread evenly and deterministically: the first
     * matching call is throttled, then one call in every 1/rate (0.5 → calls 1, 3, 5 ...). A rate
     * below 1 lets the SDK's retries get through, as on AWS.
     */
    rate: z.number().min(0).max(1).default(1),
    /** The fault ends after throttling this many calls; without it, it lasts until removed. */
    count: z.number().int().positive().optional(),
  })
  .strict();

const RateLimitsFault = z
  .object({
    kind: z.literal('rateLimits'),
    /**
     * AWS's own API rate quotas (token buckets per account, Region and action category, see
     * local/rate-limits.ts): `*` for every service that has them (ECS and ECR).
     */
    service: z.enum([...RATE_LIMITED_SERVICES, '*']).default('*'),
    /** Multiplies every bucket's burst and refill rate (0.1: a tenth of AWS's quota). */
    scale: z.number().positive().max(1000).default(1),
  })
  .strict();

const LatencyFault = z
  .object({
    kind: z.literal('latency'),
    /** Real milliseconds added to every API call (admin calls are not slowed). */
    ms: z.number().int().min(0).max(60_000),
  })
  .strict();

const PULL_ERROR = 'CannotPullContainerError';

const PullFailureFault = z
  .object({
    kind: z.literal('pullFailure'),
    /** Repository name or glob (`shop/*`). */
    repository: z.string().min(1),
    /** Only pulls of this image digest fail (a broken build); absent: every pull of the repository. */
    digest: z.string().min(1).optional(),
    /** Reason the tasks report; `CannotPullContainerError: ` is prefixed when missing. */
    reason: z.string().min(1).default('failed to resolve ref: not found'),
  })
  .strict();

const ContainerExitFault = z
  .object({
    kind: z.literal('containerExit'),
    /** Task definition family (or glob) whose containers exit. */
    family: z.string().min(1),
    exitCode: z.number().int().min(0).max(255).default(1),
    /** Simulated milliseconds after the container starts running. */
    afterMs: z.number().int().min(0).default(0),
  })
  .strict();

const ContainerOomFault = z
  .object({
    kind: z.literal('containerOom'),
    family: z.string().min(1),
    afterMs: z.number().int().min(0).default(0),
  })
  .strict();

const RemoveCapacityFault = z
  .object({
    kind: z.literal('removeCapacity'),
    /** Cluster name or ARN. */
    cluster: z.string().min(1),
    /** Which capacity goes: container instances of this launch type (default: every kind). */
    launchType: z.enum(['EC2', 'EXTERNAL', 'FARGATE']).optional(),
    /** How many container instances go (default: all that match). */
    count: z.number().int().positive().optional(),
    accountId: z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
    region: z.string().min(1).optional(),
  })
  .strict();

export const FaultSpecSchema = z.discriminatedUnion('kind', [
  ThrottleFault,
  RateLimitsFault,
  LatencyFault,
  PullFailureFault,
  ContainerExitFault,
  ContainerOomFault,
  RemoveCapacityFault,
]);
export type FaultSpec = z.infer<typeof FaultSpecSchema>;
export type FaultSpecInput = z.input<typeof FaultSpecSchema>;
export type RemoveCapacitySpec = z.infer<typeof RemoveCapacityFault>;

/** A standing fault as the admin API lists it. */
export type ActiveFault = Exclude<FaultSpec, RemoveCapacitySpec> & {
  id: string;
  /** Throttle and rateLimits faults: matching calls seen and calls throttled so far. */
  calls?: number;
  throttled?: number;
};

/**
 * What the ECS backend may offer so `removeCapacity` works (optional: without it the fault is
 * refused with 501). Takes capacity away at once: returns what was removed, for the caller to show.
 */
export interface CapacityRemover {
  removeCapacity(input: {
    accountId: string;
    region: string;
    cluster: string;
    launchType?: 'EC2' | 'EXTERNAL' | 'FARGATE';
    count?: number;
  }): unknown;
}

export class FaultError extends Error {
  constructor(
    message: string,
    /** HTTP status for the admin API. */
    readonly status: number,
  ) {
    super(message);
    this.name = 'FaultError';
  }
}

export class LocalFaults implements Faults {
  private active: ActiveFault[] = [];
  private nextId = 1;
  private readonly buckets: TokenBuckets;

  constructor(
    private readonly defaults: {
      accountId: string;
      region: string;
      /** Milliseconds the rate-limit buckets refill by: the simulated clock's (default: real time). */
      now?: () => number;
    },
    /** Set once the ECS backend exists; consulted only for removeCapacity. */
    public capacity: Partial<CapacityRemover> | undefined = undefined,
  ) {
    this.buckets = new TokenBuckets(defaults.now ?? Date.now);
  }

  get latencyMs(): number {
    return this.active.reduce((max, f) => (f.kind === 'latency' ? Math.max(max, f.ms) : max), 0);
  }

  shouldThrottle(
    service: string,
    operation: string,
    where: { accountId: string; region: string } = this.defaults,
  ): boolean {
    let throttle = false;
    for (const f of this.active) {
      if (f.kind === 'rateLimits') {
        if (f.service !== '*' && f.service !== service) continue;
        const spec = bucketSpec(service, operation);
        if (!spec) continue;
        f.calls = (f.calls ?? 0) + 1;
        if (!this.buckets.take(where, service, spec, f.scale)) {
          f.throttled = (f.throttled ?? 0) + 1;
          throttle = true;
        }
        continue;
      }
      if (f.kind !== 'throttle') continue;
      if (f.service !== '*' && f.service !== service) continue;
      if (f.operation !== undefined && f.operation !== operation) continue;
      const calls = (f.calls ?? 0) + 1;
      f.calls = calls;
      // Deterministic spread: throttle when ceil(calls × rate) steps up, so the first call fails.
      if (Math.ceil(calls * f.rate - 1e-9) > Math.ceil((calls - 1) * f.rate - 1e-9)) {
        f.throttled = (f.throttled ?? 0) + 1;
        throttle = true;
      }
    }
    this.active = this.active.filter(
      (f) => !(f.kind === 'throttle' && f.count && (f.throttled ?? 0) >= f.count),
    );
    return throttle;
  }

  pullFailure(repositoryName: string, digest?: string): string | undefined {
    for (const f of this.active) {
      // Prefixed here, not by each consumer, so a task stopped by any path (a deployment's pinned pull, a later
      // pull, RunTask) reports what ECS reports and alertTaskFailures classifies it as an image pull.
      // A fault on one digest fails only the pulls that know they get it (a rollback to another digest pulls).
      if (
        f.kind === 'pullFailure' &&
        globMatch(f.repository, repositoryName) &&
        (f.digest === undefined || f.digest === digest)
      ) {
        return f.reason.startsWith(PULL_ERROR) ? f.reason : `${PULL_ERROR}: ${f.reason}`;
      }
    }
    return undefined;
  }

  containerFault(family: string) {
    for (const f of this.active) {
      if (f.kind === 'containerExit' && globMatch(f.family, family)) {
        return { kind: 'exit' as const, exitCode: f.exitCode, afterMs: f.afterMs };
      }
      if (f.kind === 'containerOom' && globMatch(f.family, family)) {
        return { kind: 'oom' as const, afterMs: f.afterMs };
      }
    }
    return undefined;
  }

  list(): ActiveFault[] {
    return this.active.map((f) => ({ ...f }));
  }

  /**
   * Validates and applies one spec. Standing faults are listed until removed; removeCapacity acts at
   * once (through the ECS backend) and returns what it removed.
   */
  add(input: unknown): { fault: ActiveFault } | { removed: unknown } {
    const parsed = FaultSpecSchema.safeParse(input);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(fault)'}: ${i.message}`);
      throw new FaultError(`invalid fault: ${problems.join('; ')}`, 400);
    }
    const spec = parsed.data;
    if (spec.kind === 'removeCapacity') {
      const remover = this.capacity?.removeCapacity;
      if (!remover) throw new FaultError('removeCapacity: the ECS backend does not support it yet', 501);
      return {
        removed: remover.call(this.capacity, {
          cluster: spec.cluster,
          accountId: spec.accountId ?? this.defaults.accountId,
          region: spec.region ?? this.defaults.region,
          ...(spec.launchType ? { launchType: spec.launchType } : {}),
          ...(spec.count !== undefined ? { count: spec.count } : {}),
        }),
      };
    }
    const fault: ActiveFault = { ...spec, id: `fault-${this.nextId++}` };
    this.active.push(fault);
    return { fault: { ...fault } };
  }

  remove(id: string): boolean {
    const before = this.active.length;
    this.active = this.active.filter((f) => f.id !== id);
    if (!this.active.some((f) => f.kind === 'rateLimits')) this.buckets.reset();
    return this.active.length < before;
  }

  clear(): number {
    const n = this.active.length;
    this.active = [];
    this.buckets.reset();
    return n;
  }
}

function globMatch(pattern: string, value: string): boolean {
  return pattern === value || picomatch.isMatch(value, pattern);
}
