/**
 * The local cloud's EventBridge + Lambda: reads serverless.yml, matches every event on the bus against each
 * function's patterns, and invokes the handler in-process the way Lambda invokes asynchronously: on a
 * throw, two more attempts (after 1 and 2 simulated minutes, as Lambda does), then an on-failure record
 * in the dead-letter list. Schedules fire on the simulated clock, or on demand.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { resetConfigCache } from '../../shared/config';
import type { CloudEvent } from '../bus';
import type { LocalCloudCore } from '../types';
import { matchesPattern } from './pattern';
import { type FunctionRoute, nextFire, readServerlessYml } from './serverless';

export interface RouterOptions {
  /** Path of serverless.yml; its functions, eventBridge patterns and schedules drive the routing. */
  serverlessYml: string;
  /** Environment given to every handler (AWS_ENDPOINT_URL, credentials, HARBORPILOT_CONFIG ...). */
  env: Record<string, string>;
  /** One line per finished invocation (the CLI prints them). */
  log?: (line: string) => void;
  /** Invocations of one function running at once; more wait in its queue (like reserved concurrency). */
  concurrency?: number;
}

export interface Invocation {
  id: string;
  functionName: string;
  trigger: 'event' | 'schedule' | 'manual';
  eventId: string;
  attempt: number;
  startedAt: string;
  durationMs: number;
  status: 'succeeded' | 'failed';
  error?: string;
  result?: unknown;
}

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

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

interface Job {
  route: FunctionRoute;
  event: CloudEvent;
  trigger: Invocation['trigger'];
  attempt: number;
  requestId: string;
}

/** Lambda waits about one minute, then two, between asynchronous attempts. */
const RETRY_DELAYS_MS = [60_000, 120_000];
let generation = 0;

export class Router {
  private routes: FunctionRoute[] = [];
  private readonly handlers = new Map<string, Promise<Handler>>();
  private readonly log: Invocation[] = [];
  private readonly dead: DeadLetter[] = [];
  private readonly queues = new Map<string, Job[]>();
  private readonly running = new Map<string, number>();
  private readonly timers: number[] = [];
  private unsubscribe: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  private pendingRetries = 0;
  private readonly generation = ++generation;

  constructor(
    readonly core: LocalCloudCore,
    readonly options: RouterOptions,
  ) {}

  functions(): readonly FunctionRoute[] {
    return this.routes;
  }

  async start(): Promise<void> {
    this.routes = readServerlessYml(this.options.serverlessYml);
    // Every function runs in this process: one environment, set before any handler module loads.
    Object.assign(process.env, this.options.env);
    resetConfigCache();
    this.unsubscribe = this.core.bus.subscribe((event) => this.route(event));
    for (const route of this.routes)
      for (const expression of route.schedules) this.schedule(route, expression);
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    for (const t of this.timers) this.core.clock.clearTimer(t);
    await this.waitForIdle();
  }

  invocations(): Invocation[] {
    return [...this.log];
  }

  deadLetters(): DeadLetter[] {
    return [...this.dead];
  }

  /** Invocations queued, running, or waiting for a retry. */
  pending(): number {
    let n = this.pendingRetries;
    for (const q of this.queues.values()) n += q.length;
    for (const r of this.running.values()) n += r;
    return n;
  }

  /** Resolves when nothing is queued or running (retries waiting on the clock do not count). */
  waitForIdle(): Promise<void> {
    if (this.pending() - this.pendingRetries === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Fires a function's schedule now, as the rule would; resolves with the invocation(s) once done. */
  async runSchedule(functionName: string): Promise<Invocation[]> {
    const route = this.routes.find((r) => r.name === functionName);
    if (!route) throw new Error(`no function ${functionName} in ${this.options.serverlessYml}`);
    if (route.schedules.length === 0) throw new Error(`function ${functionName} has no schedule`);
    const event = this.scheduledEvent(route);
    const before = this.log.length;
    this.enqueue({ route, event, trigger: 'manual', attempt: 1, requestId: randomUUID() });
    await this.waitForIdle();
    return this.log.slice(before).filter((i) => i.eventId === event.id);
  }

  /** Invokes a function with any event, as `aws lambda invoke --invocation-type Event` would. */
  invoke(functionName: string, event: CloudEvent): void {
    const route = this.routes.find((r) => r.name === functionName);
    if (!route) throw new Error(`no function ${functionName}`);
    this.enqueue({ route, event, trigger: 'manual', attempt: 1, requestId: randomUUID() });
  }

  private route(event: CloudEvent): void {
    for (const route of this.routes) {
      if (route.patterns.some((p) => matchesPattern(p, event))) {
        this.enqueue({ route, event, trigger: 'event', attempt: 1, requestId: randomUUID() });
      }
    }
  }

  private schedule(route: FunctionRoute, expression: string): void {
    const arm = () => {
      const delay = nextFire(expression, this.core.clock.now()).getTime() - this.core.clock.nowMs();
      this.timers.push(
        this.core.clock.setTimer(delay, () => {
          this.enqueue({
            route,
            event: this.scheduledEvent(route),
            trigger: 'schedule',
            attempt: 1,
            requestId: randomUUID(),
          });
          arm();
        }),
      );
    };
    arm();
  }

  private scheduledEvent(route: FunctionRoute): CloudEvent {
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
      resources: [`arn:aws:events:${region}:${account}:rule/harborpilot-dev-${route.name}-schedule`],
      detail: {},
    };
  }

  private enqueue(job: Job): void {
    const queue = this.queues.get(job.route.name) ?? [];
    queue.push(job);
    this.queues.set(job.route.name, queue);
    this.drain(job.route.name);
  }

  private drain(name: string): void {
    const limit = this.options.concurrency ?? 10;
    const queue = this.queues.get(name) ?? [];
    while (queue.length > 0 && (this.running.get(name) ?? 0) < limit) {
      const job = queue.shift() as Job;
      this.running.set(name, (this.running.get(name) ?? 0) + 1);
      void this.execute(job).finally(() => {
        this.running.set(name, (this.running.get(name) ?? 1) - 1);
        this.drain(name);
        if (this.pending() - this.pendingRetries === 0) {
          for (const w of this.idleWaiters.splice(0)) w();
        }
      });
    }
  }

  private handler(route: FunctionRoute): Promise<Handler> {
    let h = this.handlers.get(route.name);
    if (!h) {
      // A query per router: a new local cloud (new endpoint) gets handler modules, and clients, of its own.
      const url = `${pathToFileURL(route.modulePath).href}?cloud=${this.generation}`;
      h = import(url).then((mod: Record<string, unknown>) => {
        const fn = mod[route.exportName];
        if (typeof fn !== 'function')
          throw new Error(`${route.modulePath} exports no function ${route.exportName}`);
        return fn as Handler;
      });
      this.handlers.set(route.name, h);
    }
    return h;
  }

  private async execute(job: Job): Promise<void> {
    const { route, event } = job;
    const started = performance.now();
    const startedAt = new Date().toISOString();
    const functionArn = `arn:aws:lambda:${this.core.defaultRegion}:${this.core.defaultAccountId}:function:harborpilot-dev-${route.name}`;
    const context = {
      functionName: `harborpilot-dev-${route.name}`,
      functionVersion: '$LATEST',
      invokedFunctionArn: functionArn,
      memoryLimitInMB: '256',
      awsRequestId: job.requestId,
      logGroupName: `/aws/lambda/harborpilot-dev-${route.name}`,
      logStreamName: 'local',
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => 120_000,
    };
    const base = {
      id: randomUUID(),
      functionName: route.name,
      trigger: job.trigger,
      eventId: event.id,
      attempt: job.attempt,
      startedAt,
    };
    try {
      const result = await (await this.handler(route))(event, context);
      const inv: Invocation = {
        ...base,
        durationMs: Math.round(performance.now() - started),
        status: 'succeeded',
        result,
      };
      this.record(inv);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.record({
        ...base,
        durationMs: Math.round(performance.now() - started),
        status: 'failed',
        error: `${error.name}: ${error.message}`,
      });
      if (job.attempt <= route.maximumRetryAttempts) {
        this.pendingRetries += 1;
        const delay = RETRY_DELAYS_MS[job.attempt - 1] ?? 120_000;
        this.timers.push(
          this.core.clock.setTimer(delay, () => {
            this.pendingRetries -= 1;
            this.enqueue({ ...job, attempt: job.attempt + 1 });
          }),
        );
      } else {
        this.dead.push({
          version: '1.0',
          timestamp: this.core.clock.now().toISOString(),
          requestContext: {
            requestId: job.requestId,
            functionArn: `${functionArn}:$LATEST`,
            condition: 'RetriesExhausted',
            approximateInvokeCount: job.attempt,
          },
          requestPayload: event,
          responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
          responsePayload: { errorType: error.name, errorMessage: error.message },
        });
      }
    }
  }

  private record(inv: Invocation): void {
    this.log.push(inv);
    if (this.log.length > 10_000) this.log.splice(0, this.log.length - 10_000);
    this.options.log?.(
      `${inv.functionName} ${inv.trigger} attempt ${inv.attempt}: ${inv.status} in ${inv.durationMs} ms${inv.error ? ` — ${inv.error}` : ''}`,
    );
  }
}
