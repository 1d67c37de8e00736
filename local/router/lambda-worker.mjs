// One Lambda execution environment: a worker thread that loads one function's handler module (TypeScript,
// through tsx) with the environment the router gave it, then runs one invocation at a time, as a Lambda
// container does. Plain ESM so a Worker can start it without a loader. It knows nothing of any product: the
// module path and export name come from the router.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();

/** @type {{ modulePath: string, exportName: string }} */
const { modulePath, exportName } = workerData;

const toError = (err) =>
  err instanceof Error
    ? { name: err.name, message: err.message, stack: err.stack }
    : { name: 'Error', message: String(err) };

// Every line the function writes (Powertools' JSON logs, console.*) still goes to the process's output as
// before, and is also sent to the router, which keeps it with the attempt that wrote it (the console shows
// it). Module-load logs belong to the first attempt, which waits for the load.
const MAX_LINE = 8 * 1024;
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream);
  let partial = '';
  stream.write = (chunk, ...rest) => {
    const text = partial + (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines)
      if (line !== '') parentPort.postMessage({ type: 'log', line: line.slice(0, MAX_LINE) });
    return write(chunk, ...rest);
  };
}

let handler;
try {
  const mod = await import(modulePath);
  // A module outside an ESM package loads as CommonJS: its exports arrive as the default export.
  handler = mod[exportName] ?? mod.default?.[exportName];
  if (typeof handler !== 'function') {
    parentPort.postMessage({
      type: 'init-error',
      error: { name: 'RouterError', message: `exports no function ${exportName}` },
    });
  } else {
    parentPort.postMessage({ type: 'ready' });
  }
} catch (err) {
  // Lambda's init error: the module threw while loading (a bad config at cold start, a syntax error).
  parentPort.postMessage({ type: 'init-error', error: toError(err) });
}

parentPort.on('message', async (msg) => {
  if (msg.type !== 'invoke') return;
  const { deadline, context } = msg;
  const lambdaContext = {
    ...context,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const result = await handler(msg.event, lambdaContext);
    // Lambda returns the JSON of the result: what cannot be serialised does not reach the caller either.
    parentPort.postMessage({
      type: 'result',
      result: result === undefined ? undefined : JSON.parse(JSON.stringify(result)),
    });
  } catch (err) {
    parentPort.postMessage({ type: 'error', error: toError(err) });
  }
});
