/**
 * The local cloud's EventBridge + Lambda: reads serverless.yml, matches every event on the bus against each
 * function's patterns, and invokes the handler the way Lambda invokes asynchronously: in an execution
 * environment of its own (a warm worker thread with exactly the function's environment, see ./workers.ts);
 * on a throw (or a timeout), up to two more attempts after 1 and then 2 simulated minutes, as Lambda does,
 * then an on-failure record in the dead-letter list. Schedules fire on the simulated clock, or on demand.
 */
import { randomUUID } from 'node:crypto';
import type { CloudEvent } from '../bus';
import type { TimerId } from '../clock';
import type { LocalCloudCore } from '../types';
import { type FunctionRoute, readServerlessYml, type ScheduleRoute } from './serverless';
import { type LambdaContextData, WorkerPool } from './workers';

export type { FunctionRoute } from './serverless';

export interface RouterOptions {
  /** Path of serverless.yml; its functions, eventBridge patterns and schedules drive the routing. */
  serverlessYml: string;
  /**
   * Environment given to every function on top of serverless.yml's (AWS_ENDPOINT_URL, credentials, what
   * `serverless deploy` would resolve such as HARBORPILOT_CONFIG ...). Read when a function's first execution
   * environment starts, so the caller may fill it in after constructing the router.
   */
  env: Record<string, string>;
  /** One line per finished attempt: function, trigger, attempt, status, milliseconds (the CLI prints them). */
  log?: (line: string) => void;
  /**
   * Attempts of one function running at once (default 10); more wait in the function's queue. A function's
   * `reservedConcurrency` in serverless.yml lowers it further, as on Lambda.
   */
  concurrency?: number;
  /** Stage used in function and rule names (default `dev`). */
  stage?: string;
  /**
   * Where the functions' events come from: the hub's default bus (local/eventbridge). Default: every event
   * published on the cloud's bus.
   */
  subscribe?: (fn: (event: CloudEvent) => void) => () => void;
}

export interface Invocation {
  id: string;
  functionName: string;
  trigger: 'event' | 'schedule' | 'manual';
  eventId: string;
  /** Lambda's awsRequestId: the same for every attempt at one event. */
  requestId: string;
  attempt: number;
  startedAt: string;
  durationMs: number;
  status: 'succeeded' | 'failed';
  error?: string;
  result?: unknown;
  /**
   * The lines the function wrote during the attempt (Powertools' JSON logs, console output), the first 200
   * (64 KiB at most). Kept for the console (GET /_harborpilot/invocations/{id}, the stream); the list endpoint
   * leaves them out.
   */
  logs?: string[];
}

/** An attempt that has started (its module may still be loading) and not finished yet. */
export type RunningInvocation = Omit<Invocation, 'status' | 'error' | 'result'> & { status: 'running' };

/** What the router tells its listeners, as it happens: an attempt starts or ends, an event is given up. */
export type RouterActivity =
  | { type: 'invocation'; invocation: Invocation | RunningInvocation }
  | { type: 'deadLetter'; deadLetter: DeadLetter };

/** The record Lambda sends to an on-failure destination once retries are exhausted. */
export interface DeadLetter {
  version: '1.0';
  timestamp: string;
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: 'RetriesExhausted';
    approximateInvokeCount: number;
  };
  requestPayload: unknown;
  responseContext: { statusCode: 200; executedVersion: '$LATEST'; functionError: 'Unhandled' };
  responsePayload: { errorType: string; errorMessage: string };
}

export class RouterError extends Error {
  constructor(
    readonly functionName: string,
    reason: string,
  ) {
    super(`${functionName}: ${reason}`);
    this.name = 'RouterError';
  }
}

interface Job {
  route: FunctionRoute;
  event: CloudEvent;
  trigger: Invocation['trigger'];
  attempt: number;
  requestId: string;
}

/** Lambda waits about one minute, then two, between asynchronous attempts. */
const RETRY_DELAYS_MS = [60_000, 120_000];
const DEFAULT_CONCURRENCY = 10;
const KEPT_INVOCATIONS = 10_000;
const KEPT_DEAD_LETTERS = 1_000;
/** Log lines kept per attempt: enough for any of harborpilot's functions, bounded for a noisy one. */
const MAX_LOG_LINES = 200;
const MAX_LOG_BYTES = 64 * 1024;
let routers = 0;

export class Router {
  private routes: FunctionRoute[] = [];
  private readonly environments = new WorkerPool();
  private readonly log: Invocation[] = [];
  private readonly dead: DeadLetter[] = [];
  private readonly inFlight = new Map<string, Omit<RunningInvocation, 'durationMs' | 'status'>>();
  private readonly queues = new Map<string, Job[]>();
  private readonly running = new Map<string, number>();
  private readonly timers = new Set<TimerId>();
  private unsubscribe: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  private readonly listeners = new Set<(activity: RouterActivity) => void>();
  private retriesWaiting = 0;
  private readonly generation = ++routers;

  constructor(
    readonly core: LocalCloudCore,
    readonly options: RouterOptions,
  ) {}

  /** The functions read from serverless.yml (after start). */
  functions(): readonly FunctionRoute[] {
    return this.routes;
  }

  async start(): Promise<void> {
    // Bad patterns, schedules or handlers in serverless.yml fail here, loudly, not at the first event.
    this.routes = readServerlessYml(this.options.serverlessYml, { stage: this.options.stage ?? 'dev' });
    const subscribe = this.options.subscribe ?? ((fn) => this.core.bus.subscribe((event) => fn(event)));
    this.unsubscribe = subscribe((event) => this.route(event));
    for (const route of this.routes) for (const schedule of route.schedules) this.arm(route, schedule);
  }

  /** Stops routing and scheduling (pending retries are dropped), then waits for running attempts. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const t of this.timers) this.core.clock.clearTimer(t);
    this.timers.clear();
    this.retriesWaiting = 0;
    await this.waitForIdle();
    await this.environments.close();
  }

  /** Every attempt, oldest first (the last 10 000). */
  invocations(): Invocation[] {
    return [...this.log];
  }

  /**
   * Attempts running now, oldest first: a user who looks right after a push sees redeployEcs at work (its
   * first attempt also loads its module) instead of an empty list.
   */
  runningInvocations(): RunningInvocation[] {
    const now = Date.now();
    return [...this.inFlight.values()].map((i) => ({
      ...i,
      durationMs: now - Date.parse(i.startedAt),
      status: 'running',
    }));
  }

  /** Calls `fn` as attempts start and finish and events go to the dead-letter list; returns the unsubscribe. */
  subscribe(fn: (activity: RouterActivity) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** One attempt, finished or running, with its logs. */
  invocation(id: string): Invocation | RunningInvocation | undefined {
    return this.log.find((i) => i.id === id) ?? this.runningInvocations().find((i) => i.id === id);
  }

  /** On-failure records of events whose retries are exhausted, oldest first (the last 1 000). */
  deadLetters(): DeadLetter[] {
    return [...this.dead];
  }

  /** Attempts queued or running, plus retries waiting for the clock. */
  pending(): number {
    return this.busy() + this.retriesWaiting;
  }

  /**
   * Resolves when no attempt is queued or running. Retries waiting on the simulated clock do not count: with
   * a manual clock, advance it (`clock.advance(60_000)`) and wait again.
   */
  waitForIdle(): Promise<void> {
    if (this.busy() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Fires a function's schedule now, as its rule would; resolves with the first attempt(s) once done. */
  async runSchedule(functionName: string): Promise<Invocation[]> {
    const route = this.find(functionName);
    const schedule = route.schedules[0];
    if (!schedule) throw new RouterError(functionName, 'has no schedule in serverless.yml');
    const event = this.scheduledEvent(schedule);
    this.enqueue({ route, event, trigger: 'manual', attempt: 1, requestId: randomUUID() });
    await this.waitForIdle();
    return this.log.filter((i) => i.eventId === event.id && i.functionName === route.name);
  }

  /** Invokes a function asynchronously with any event, as `aws lambda invoke --invocation-type Event` would. */
  invoke(functionName: string, event: CloudEvent): string {
    const requestId = randomUUID();
    this.enqueue({ route: this.find(functionName), event, trigger: 'manual', attempt: 1, requestId });
    return requestId;
  }

  private find(functionName: string): FunctionRoute {
    const route = this.routes.find((r) => r.name === functionName || r.functionName === functionName);
    if (!route) throw new RouterError(functionName, `no such function in ${this.options.serverlessYml}`);
    return route;
  }

  private busy(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    for (const r of this.running.values()) n += r;
    return n;
  }

  private route(event: CloudEvent): void {
    for (const route of this.routes) {
      if (route.matches(event)) {
        this.enqueue({ route, event, trigger: 'event', attempt: 1, requestId: randomUUID() });
      }
    }
  }

  private arm(route: FunctionRoute, schedule: ScheduleRoute): void {
    const now = this.core.clock.now();
    const delay = schedule.schedule.next(now).getTime() - now.getTime();
    const id = this.core.clock.setTimer(delay, () => {
      this.timers.delete(id);
      this.enqueue({
        route,
        event: this.scheduledEvent(schedule),
        trigger: 'schedule',
        attempt: 1,
        requestId: randomUUID(),
      });
      if (this.unsubscribe) this.arm(route, schedule);
    });
    this.timers.add(id);
  }

  /** The event EventBridge Scheduler-style rules send: source aws.events, detail-type "Scheduled Event". */
  private scheduledEvent(schedule: ScheduleRoute): CloudEvent {
    const { defaultAccountId: account, defaultRegion: region } = this.core;
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account,
      time: this.core.clock
        .now()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
      region,
      resources: [`arn:aws:events:${region}:${account}:rule/${schedule.ruleName}`],
      detail: {},
    };
  }

  private enqueue(job: Job): void {
    const queue = this.queues.get(job.route.name) ?? [];
    queue.push(job);
    this.queues.set(job.route.name, queue);
    this.drain(job.route);
  }

  private limit(route: FunctionRoute): number {
    const limit = this.options.concurrency ?? DEFAULT_CONCURRENCY;
    // reservedConcurrency 0 throttles every invocation on Lambda; locally it would only stall, so run one.
    return Math.max(1, Math.min(limit, route.reservedConcurrency ?? limit));
  }

  private drain(route: FunctionRoute): void {
    const queue = this.queues.get(route.name) ?? [];
    while (queue.length > 0 && (this.running.get(route.name) ?? 0) < this.limit(route)) {
      const job = queue.shift() as Job;
      this.running.set(route.name, (this.running.get(route.name) ?? 0) + 1);
      void this.execute(job).finally(() => {
        this.running.set(route.name, (this.running.get(route.name) ?? 1) - 1);
        this.drain(route);
        if (this.busy() === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  /**
   * The function's whole environment, as Lambda sets it: serverless.yml's (provider, then function), the
   * caller's, then Lambda's reserved variables. Nothing of this process's own environment.
   */
  private environment(route: FunctionRoute): Record<string, string> {
    return {
      ...route.environment,
      ...this.options.env,
      AWS_LAMBDA_FUNCTION_NAME: route.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(route.memorySize),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${route.functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: this.logStream(),
      TZ: 'UTC',
    };
  }

  private logStream(): string {
    return `local/[$LATEST]${this.generation}`;
  }

  private functionArn(route: FunctionRoute): string {
    return `arn:aws:lambda:${this.core.defaultRegion}:${this.core.defaultAccountId}:function:${route.functionName}`;
  }

  private async execute(job: Job): Promise<void> {
    const { route, event } = job;
    const started = performance.now();
    const context: LambdaContextData = {
      functionName: route.functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: this.functionArn(route),
      memoryLimitInMB: String(route.memorySize),
      awsRequestId: job.requestId,
      logGroupName: `/aws/lambda/${route.functionName}`,
      logStreamName: this.logStream(),
      callbackWaitsForEmptyEventLoop: true,
    };
    const base = {
      id: randomUUID(),
      functionName: route.name,
      trigger: job.trigger,
      eventId: event.id,
      requestId: job.requestId,
      attempt: job.attempt,
      startedAt: new Date().toISOString(),
    };
    const logs: string[] = [];
    let logBytes = 0;
    const onLog = (line: string) => {
      if (logs.length >= MAX_LOG_LINES || logBytes + line.length > MAX_LOG_BYTES) return;
      logs.push(line);
      logBytes += line.length;
    };
    this.inFlight.set(base.id, base);
    this.notify({ type: 'invocation', invocation: { ...base, durationMs: 0, status: 'running' } });
    try {
      // Lambda's timeout is wall-clock time: handlers do real I/O against the local cloud.
      const result = await this.environments.invoke(
        {
          name: route.name,
          modulePath: route.modulePath,
          exportName: route.exportName,
          timeoutSeconds: route.timeoutSeconds,
          environment: this.environment(route),
        },
        event,
        context,
        onLog,
      );
      this.record({
        ...base,
        durationMs: Math.round(performance.now() - started),
        status: 'succeeded',
        result,
        logs,
      });
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.record({
        ...base,
        durationMs: Math.round(performance.now() - started),
        status: 'failed',
        error: `${error.name}: ${error.message}`,
        logs,
      });
      this.retryOrDeadLetter(job, error);
    } finally {
      this.inFlight.delete(base.id);
    }
  }

  private retryOrDeadLetter(job: Job, error: Error): void {
    if (job.attempt <= job.route.maximumRetryAttempts) {
      if (!this.unsubscribe) return; // stopped: no more retries
      this.retriesWaiting += 1;
      const id = this.core.clock.setTimer(RETRY_DELAYS_MS[job.attempt - 1] ?? 120_000, () => {
        this.timers.delete(id);
        this.retriesWaiting -= 1;
        this.enqueue({ ...job, attempt: job.attempt + 1 });
      });
      this.timers.add(id);
      return;
    }
    const deadLetter: DeadLetter = {
      version: '1.0',
      timestamp: this.core.clock.now().toISOString(),
      requestContext: {
        requestId: job.requestId,
        functionArn: `${this.functionArn(job.route)}:$LATEST`,
        condition: 'RetriesExhausted',
        approximateInvokeCount: job.attempt,
      },
      requestPayload: job.event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: error.name, errorMessage: error.message },
    };
    this.dead.push(deadLetter);
    this.notify({ type: 'deadLetter', deadLetter });
    if (this.dead.length > KEPT_DEAD_LETTERS) this.dead.splice(0, this.dead.length - KEPT_DEAD_LETTERS);
  }

  private notify(activity: RouterActivity): void {
    for (const fn of this.listeners) {
      try {
        fn(activity);
      } catch (err) {
        // A listener (the console's stream) must never break an invocation's bookkeeping.
        console.error('[harborpilot local] router listener failed:', err);
      }
    }
  }

  private record(inv: Invocation): void {
    this.log.push(inv);
    this.notify({ type: 'invocation', invocation: inv });
    if (this.log.length > KEPT_INVOCATIONS) this.log.splice(0, this.log.length - KEPT_INVOCATIONS);
    this.options.log?.(
      `${inv.functionName} ${inv.trigger} attempt ${inv.attempt}: ${inv.status} in ${inv.durationMs} ms` +
        (inv.error ? ` (${inv.error})` : ''),
    );
  }
}
