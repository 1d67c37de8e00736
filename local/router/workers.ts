/**
 * Lambda execution environments for the router: each function gets its own warm worker threads, each with
 * exactly that function's environment and its own module scope, running one invocation at a time as a Lambda
 * container does. A pool grows on demand up to the function's concurrency and keeps its workers warm; a
 * worker that times out is terminated (as Lambda ends the sandbox), one that crashes is replaced.
 */
import { Worker } from 'node:worker_threads';

export interface LambdaContextData {
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
}

export interface WorkerFunction {
  name: string;
  modulePath: string;
  exportName: string;
  timeoutSeconds: number;
  /** The whole environment of the function's workers: nothing of the router's process.env leaks in. */
  environment: Record<string, string>;
}

/** An error as the handler threw it, or as Lambda reports a sandbox failure (timeout, crash, init error). */
export class InvocationError extends Error {
  constructor(
    name: string,
    message: string,
    /** Where it came from: only a handler's own throw leaves its environment warm for the next invocation. */
    readonly source: 'handler' | 'init' | 'timeout' | 'exit',
  ) {
    super(message);
    this.name = name;
  }
}

type Reply =
  | { type: 'ready' }
  | { type: 'init-error'; error: { name: string; message: string } }
  | { type: 'result'; result: unknown }
  | { type: 'error'; error: { name: string; message: string } }
  | { type: 'log'; line: string };

const BOOTSTRAP = new URL('./lambda-worker.mjs', import.meta.url);

/** One execution environment: a worker and the promise of its init (the module load). */
class Environment {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  private pending: ((reply: Reply | { type: 'exit'; code: number }) => void) | undefined;
  exited = false;
  /** Where the lines the function writes go: the attempt this environment runs (or loads for). */
  onLog: ((line: string) => void) | undefined;

  constructor(fn: WorkerFunction) {
    this.worker = new Worker(BOOTSTRAP, {
      workerData: { modulePath: new URL(`file://${fn.modulePath}`).href, exportName: fn.exportName },
      env: fn.environment,
      stdout: false,
      stderr: false,
    });
    let settleInit: (err?: Error) => void = () => {};
    this.ready = new Promise<void>((resolve, reject) => {
      settleInit = (err) => (err ? reject(err) : resolve());
    });
    this.worker.on('message', (reply: Reply) => {
      if (reply.type === 'log') this.onLog?.(reply.line);
      else if (reply.type === 'ready') settleInit();
      else if (reply.type === 'init-error') {
        const message =
          reply.error.name === 'RouterError'
            ? `${fn.name}: ${fn.modulePath} ${reply.error.message}`
            : reply.error.message;
        settleInit(new InvocationError(reply.error.name, message, 'init'));
      } else this.pending?.(reply);
    });
    // An uncaught exception in the worker ends it: its 'exit' reports the attempt.
    this.worker.on('error', () => {});
    this.worker.on('exit', (code) => {
      this.exited = true;
      settleInit(
        new InvocationError('Runtime.ExitError', `Runtime exited with error: exit status ${code}`, 'exit'),
      );
      this.pending?.({ type: 'exit', code });
    });
    this.ready.catch(() => {});
  }

  run(event: unknown, context: LambdaContextData, deadline: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pending = (reply) => {
        this.pending = undefined;
        if (reply.type === 'result') resolve(reply.result);
        else if (reply.type === 'error')
          reject(new InvocationError(reply.error.name, reply.error.message, 'handler'));
        else if (reply.type === 'exit')
          reject(
            new InvocationError(
              'Runtime.ExitError',
              `RequestId: ${context.awsRequestId} Error: Runtime exited with error: exit status ${reply.code}`,
              'exit',
            ),
          );
      };
      this.worker.postMessage({ type: 'invoke', event, context, deadline });
    });
  }
}

export class WorkerPool {
  private readonly idle = new Map<string, Environment[]>();
  private readonly all = new Set<Environment>();

  /**
   * Runs one invocation in a warm environment of the function (or a new one: a cold start). As on Lambda, the
   * module load (init) is not part of the invocation's time: the timeout counts from when the handler is
   * called, and an init that takes longer than the timeout fails the attempt. Rejects with the handler's
   * error, `Sandbox.Timedout` past the timeout, or `Runtime.ExitError` when the worker dies.
   */
  async invoke(
    fn: WorkerFunction,
    event: unknown,
    context: LambdaContextData,
    onLog?: (line: string) => void,
  ): Promise<unknown> {
    const env = this.take(fn);
    env.onLog = onLog;
    const timeoutMs = fn.timeoutSeconds * 1000;
    const timedOut = () =>
      new InvocationError(
        'Sandbox.Timedout',
        `RequestId: ${context.awsRequestId} Error: Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`,
        'timeout',
      );
    env.worker.ref();
    try {
      await withTimeout(env.ready, timeoutMs, timedOut);
      const deadline = Date.now() + timeoutMs;
      const result = await withTimeout(env.run(event, context, deadline), timeoutMs, timedOut);
      env.onLog = undefined;
      this.release(fn, env);
      return result;
    } catch (err) {
      // A handler's throw leaves its environment warm. Timed out, crashed, or failed to load: this environment
      // is done, and the next attempt gets a fresh one (a module that failed to load is loaded again).
      env.onLog = undefined;
      if (err instanceof InvocationError && err.source === 'handler') this.release(fn, env);
      else this.discard(env);
      throw err;
    }
  }

  /** Ends every environment (the router stops). */
  async close(): Promise<void> {
    const all = [...this.all];
    this.all.clear();
    this.idle.clear();
    await Promise.all(all.map((e) => e.worker.terminate()));
  }

  private take(fn: WorkerFunction): Environment {
    const warm = this.idle.get(fn.name)?.pop();
    if (warm) return warm;
    const env = new Environment(fn);
    this.all.add(env);
    return env;
  }

  private release(fn: WorkerFunction, env: Environment): void {
    if (!this.all.has(env)) return; // closed meanwhile
    env.worker.unref();
    const idle = this.idle.get(fn.name) ?? [];
    idle.push(env);
    this.idle.set(fn.name, idle);
  }

  private discard(env: Environment): void {
    this.all.delete(env);
    void env.worker.terminate();
  }
}

function withTimeout<T>(work: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
