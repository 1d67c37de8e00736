import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../../bus';
import { SimClock } from '../../../clock';
import { Router } from '../../../router';
import { ServerlessYmlError } from '../../../router/serverless';
import type { LocalCloudCore } from '../../../types';

let dir: string;

const SERVERLESS_YML = `service: t
provider:
  name: aws
  timeout: 30
  memorySize: 512
  environment:
    ROUTER_TEST_LOG_LEVEL: DEBUG
functions:
  onPush:
    handler: fns/ok.handler
    destinations:
      onFailure:
        type: sqs
        arn: !GetAtt Dlq.Arn
    events:
      - eventBridge:
          pattern: { source: [aws.ecr], detail: { result: [SUCCESS] } }
          deadLetterQueueArn: !GetAtt Dlq.Arn
  alwaysFails:
    handler: fns/fail.handler
    events:
      - eventBridge:
          pattern: { source: [test.fail] }
  flaky:
    handler: fns/flaky.handler
    events:
      - eventBridge:
          pattern: { source: [test.flaky] }
  hourly:
    handler: fns/echo.handler
    events:
      - schedule:
          rate: rate(1 hour)
          name: \${self:service}-\${sls:stage}-hourly-rule
  slow:
    handler: fns/slow.handler
    timeout: 0.1
    maximumRetryAttempts: 0
    events:
      - eventBridge:
          pattern: { source: [test.slow] }
  envy:
    handler: fns/envy.handler
    memorySize: 256
    environment:
      ROUTER_TEST_GREETING: hello
      ROUTER_TEST_UNRESOLVED: \${env:NOPE}
    events:
      - eventBridge:
          pattern: { source: [test.env] }
  otherEnv:
    handler: fns/other-env.handler
    events:
      - eventBridge:
          pattern: { source: [test.other-env] }
  crashy:
    handler: fns/crashy.handler
    maximumRetryAttempts: 1
    events:
      - eventBridge:
          pattern: { source: [test.crash] }
  badInit:
    handler: fns/bad-init.handler
    maximumRetryAttempts: 1
    events:
      - eventBridge:
          pattern: { source: [test.init] }
  serial:
    handler: fns/serial.handler
    reservedConcurrency: 1
    events:
      - eventBridge:
          pattern: { source: [test.serial] }
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'router-'));
  await writeFile(join(dir, 'serverless.yml'), SERVERLESS_YML);
  // An ESM project, as harborpilot is: the handler modules load as ES modules in their workers.
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
  await mkdir(join(dir, 'fns'));
  const modules: Record<string, string> = {
    'ok.ts': 'export const handler = async (e: { id: string }) => ({ seen: e.id });',
    'echo.ts':
      'export const handler = async (e: unknown, c: { functionName: string; getRemainingTimeInMillis(): number }) => ({ event: e, functionName: c.functionName, remaining: c.getRemainingTimeInMillis() });',
    'fail.ts': "export const handler = async () => { throw new TypeError('boom'); };",
    'flaky.ts':
      "let n = 0;\nexport const handler = async () => { n += 1; if (n === 1) throw new Error('first try fails'); return n; };",
    'envy.ts':
      'const atLoad = process.env.ROUTER_TEST_GREETING;\nexport const handler = async () => ({ atLoad, atRun: process.env.ROUTER_TEST_GREETING ?? null, shared: process.env.ROUTER_TEST_SHARED, unresolved: process.env.ROUTER_TEST_UNRESOLVED ?? null, parentOnly: process.env.ROUTER_TEST_PARENT_ONLY ?? null, logLevel: process.env.ROUTER_TEST_LOG_LEVEL, lambdaName: process.env.AWS_LAMBDA_FUNCTION_NAME, memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE });',
    'other-env.ts':
      'export const handler = async () => ({ greeting: process.env.ROUTER_TEST_GREETING ?? null, shared: process.env.ROUTER_TEST_SHARED, logLevel: process.env.ROUTER_TEST_LOG_LEVEL, lambdaName: process.env.AWS_LAMBDA_FUNCTION_NAME, memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE });',
    'crashy.ts':
      "import { existsSync, writeFileSync } from 'node:fs';\nlet calls = 0;\n// Crashes its worker once per marker file: the retry finds the marker and succeeds.\nexport const handler = async (e: { detail: { crashOnce?: string } }) => { calls += 1; const m = e.detail.crashOnce; if (m && !existsSync(m)) { writeFileSync(m, ''); process.exit(3); } return { calls }; };",
    'bad-init.ts':
      "class ConfigError extends Error { name = 'ConfigError'; }\nthrow new ConfigError('bad config at cold start');\nexport const handler = async () => 1;",
    'slow.ts': 'export const handler = () => new Promise((r) => setTimeout(r, 2000).unref());',
    'serial.ts':
      'let now = 0; let most = 0;\nexport const handler = async () => { now += 1; most = Math.max(most, now); await new Promise((r) => setTimeout(r, 20)); now -= 1; return most; };',
  };
  for (const [file, code] of Object.entries(modules)) await writeFile(join(dir, 'fns', file), `${code}\n`);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function setup(file = join(dir, 'serverless.yml')) {
  const clock = new SimClock(new Date('2026-11-25T00:00:00Z'), 0);
  const bus = new EventBus(clock);
  const core = { clock, bus, defaultAccountId: '000000000000', defaultRegion: 'us-east-1' } as LocalCloudCore;
  const lines: string[] = [];
  const env = { ROUTER_TEST_SHARED: 'from the cloud' };
  const router = new Router(core, { serverlessYml: file, env, log: (l) => lines.push(l) });
  return { clock, bus, router, lines };
}
const publish = (bus: EventBus, source: string, detail: Record<string, unknown> = {}) =>
  bus.publish({ source, detailType: 'Test', detail, account: '000000000000', region: 'us-east-1' });
/** Lets bus deliveries and queued attempts run, optionally moving the simulated clock in between. */
const settle = async (clock: SimClock, router: Router, ms = 0) => {
  await new Promise((r) => setTimeout(r, 10));
  await router.waitForIdle();
  if (ms) await clock.advance(ms);
  await new Promise((r) => setTimeout(r, 10));
  await router.waitForIdle();
};
const attempts = (router: Router, fn: string) =>
  router
    .invocations()
    .filter((i) => i.functionName === fn)
    .map((i) => [i.attempt, i.status]);

describe('router', () => {
  it('invokes only the functions whose pattern matches', async () => {
    const { bus, clock, router, lines } = setup();
    await router.start();
    const event = publish(bus, 'aws.ecr', { result: 'SUCCESS' });
    publish(bus, 'aws.ecr', { result: 'FAILURE' });
    publish(bus, 'aws.ecs', { result: 'SUCCESS' });
    await settle(clock, router);
    expect(router.invocations().map((i) => [i.functionName, i.trigger, i.status, i.result])).toEqual([
      ['onPush', 'event', 'succeeded', { seen: event.id }],
    ]);
    expect(lines).toEqual([expect.stringMatching(/^onPush event attempt 1: succeeded in \d+ ms$/)]);
    await router.stop();
  });

  it('retries a throwing handler twice, a minute then two apart, then dead-letters it', async () => {
    const { bus, clock, router } = setup();
    await router.start();
    const event = publish(bus, 'test.fail');
    await settle(clock, router);
    expect(attempts(router, 'alwaysFails')).toEqual([[1, 'failed']]);
    await settle(clock, router, 59_000);
    expect(attempts(router, 'alwaysFails')).toHaveLength(1);
    await settle(clock, router, 1_000);
    expect(attempts(router, 'alwaysFails')).toHaveLength(2);
    await settle(clock, router, 119_000);
    expect(attempts(router, 'alwaysFails')).toHaveLength(2);
    await settle(clock, router, 1_000);
    expect(attempts(router, 'alwaysFails')).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'failed'],
    ]);
    const [first, , last] = router.invocations();
    expect(last?.requestId).toBe(first?.requestId);
    expect(last?.error).toBe('TypeError: boom');
    expect(router.deadLetters()).toEqual([
      {
        version: '1.0',
        timestamp: '2026-11-25T00:03:00.000Z',
        requestContext: {
          requestId: first?.requestId,
          functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:t-dev-alwaysFails:$LATEST',
          condition: 'RetriesExhausted',
          approximateInvokeCount: 3,
        },
        requestPayload: event,
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        responsePayload: { errorType: 'TypeError', errorMessage: 'boom' },
      },
    ]);
    await router.stop();
  });

  it('a retry that succeeds is recorded as attempt 2 and nothing is dead-lettered', async () => {
    const { bus, clock, router } = setup();
    await router.start();
    publish(bus, 'test.flaky');
    await settle(clock, router, 60_000);
    expect(attempts(router, 'flaky')).toEqual([
      [1, 'failed'],
      [2, 'succeeded'],
    ]);
    expect(router.deadLetters()).toEqual([]);
    await settle(clock, router, 600_000);
    expect(attempts(router, 'flaky')).toHaveLength(2);
    await router.stop();
  });

  it("stops a handler at the function's timeout, and honours maximumRetryAttempts: 0", async () => {
    const { bus, clock, router } = setup();
    await router.start();
    publish(bus, 'test.slow');
    await settle(clock, router);
    expect(attempts(router, 'slow')).toEqual([[1, 'failed']]);
    expect(
      router.deadLetters().map((d) => [d.requestContext.approximateInvokeCount, d.responsePayload]),
    ).toEqual([
      [
        1,
        {
          errorType: 'Sandbox.Timedout',
          errorMessage: expect.stringMatching(/Task timed out after 0.10 seconds$/),
        },
      ],
    ]);
    await router.stop();
  });

  it('runs at most reservedConcurrency attempts of a function at once; the rest wait their turn', async () => {
    const { bus, clock, router } = setup();
    await router.start();
    for (let i = 0; i < 5; i++) publish(bus, 'test.serial');
    await settle(clock, router);
    const serial = router.invocations().filter((i) => i.functionName === 'serial');
    expect(serial.map((i) => i.status)).toEqual(Array(5).fill('succeeded'));
    expect(Math.max(...serial.map((i) => i.result as number))).toBe(1);
    await router.stop();
  });

  it('fires schedules on the simulated clock with the Scheduled Event envelope, and on demand', async () => {
    const { clock, router } = setup();
    await router.start();
    await settle(clock, router, 59 * 60_000);
    expect(router.invocations()).toEqual([]);
    await settle(clock, router, 60_000);
    await settle(clock, router, 2 * 3_600_000);
    const scheduled = router.invocations().filter((i) => i.functionName === 'hourly');
    expect(scheduled.map((i) => i.trigger)).toEqual(['schedule', 'schedule', 'schedule']);
    expect(scheduled[0]?.result).toEqual({
      event: {
        version: '0',
        id: expect.any(String),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: '000000000000',
        time: '2026-11-25T01:00:00Z',
        region: 'us-east-1',
        resources: ['arn:aws:events:us-east-1:000000000000:rule/t-dev-hourly-rule'],
        detail: {},
      },
      functionName: 't-dev-hourly',
      remaining: expect.any(Number),
    });
    expect((scheduled[0]?.result as { remaining: number } | undefined)?.remaining).toBeGreaterThan(29_000);
    const manual = await router.runSchedule('hourly');
    expect(manual).toEqual([expect.objectContaining({ trigger: 'manual', status: 'succeeded', attempt: 1 })]);
    await expect(router.runSchedule('onPush')).rejects.toThrow(/has no schedule/);
    await expect(router.runSchedule('nope')).rejects.toThrow(/no such function/);
    await router.stop();
    await settle(clock, router, 5 * 3_600_000);
    expect(router.invocations().filter((i) => i.trigger === 'schedule')).toHaveLength(3);
  });

  it("gives each function the cloud's environment and its own, at load and at run, and nothing else", async () => {
    const { bus, clock, router } = setup();
    await router.start();
    process.env.ROUTER_TEST_PARENT_ONLY = 'the router process';
    publish(bus, 'test.env');
    publish(bus, 'test.other-env');
    await settle(clock, router);
    delete process.env.ROUTER_TEST_PARENT_ONLY;
    const result = (fn: string) => router.invocations().find((i) => i.functionName === fn)?.result;
    // Its own environment stays for the whole life of its execution environment, as on Lambda (the router
    // used to put it in place only while the module loaded).
    expect(result('envy')).toEqual({
      atLoad: 'hello',
      atRun: 'hello',
      shared: 'from the cloud',
      unresolved: null,
      parentOnly: null,
      logLevel: 'DEBUG',
      lambdaName: 't-dev-envy',
      memory: '256',
    });
    // Another function never sees envy's variables, and gets provider.environment and its own memory size.
    expect(result('otherEnv')).toEqual({
      greeting: null,
      shared: 'from the cloud',
      logLevel: 'DEBUG',
      lambdaName: 't-dev-otherEnv',
      memory: '512',
    });
    await router.stop();
  });

  it('runs each function in a worker of its own: a crash ends that worker, the next attempt gets a new one', async () => {
    const { bus, clock, router } = setup();
    await router.start();
    publish(bus, 'test.crash', { crashOnce: join(dir, `crashed-${Date.now()}`) });
    await settle(clock, router);
    expect(router.invocations().map((i) => [i.functionName, i.status, i.error])).toEqual([
      [
        'crashy',
        'failed',
        expect.stringMatching(/^Runtime\.ExitError: RequestId: .* Runtime exited with error: exit status 3$/),
      ],
    ]);
    // The retry runs in a fresh worker (its module state starts over) and succeeds.
    await settle(clock, router, 60_000);
    expect(router.invocations().map((i) => [i.attempt, i.status, i.result])).toEqual([
      [1, 'failed', undefined],
      [2, 'succeeded', { calls: 1 }],
    ]);
    // A warm worker keeps its module state between invocations, as a warm Lambda container does.
    publish(bus, 'test.crash');
    await settle(clock, router);
    expect(router.invocations().at(-1)?.result).toEqual({ calls: 2 });
    await router.stop();
  });

  it('keeps module scope per local cloud: a second router starts its functions cold', async () => {
    for (const expected of [1, 1]) {
      const { bus, clock, router } = setup();
      await router.start();
      publish(bus, 'test.crash');
      await settle(clock, router);
      expect(router.invocations().map((i) => i.result)).toEqual([{ calls: expected }]);
      await router.stop();
    }
  });

  it('reports a handler module that throws while loading as an init error, and loads it again next time', async () => {
    const { bus, clock, router } = setup();
    await router.start();
    publish(bus, 'test.init');
    await settle(clock, router);
    expect(router.invocations().map((i) => i.error)).toEqual(['ConfigError: bad config at cold start']);
    await settle(clock, router, 60_000);
    expect(router.invocations().map((i) => i.error)).toHaveLength(2);
    await router.stop();
  });

  it('invoke() runs any function with any event, as an asynchronous Lambda invoke', async () => {
    const { clock, router } = setup();
    await router.start();
    const event = { ...publishShape(), id: 'manual-1' };
    router.invoke('onPush', event);
    await settle(clock, router);
    expect(router.invocations().map((i) => [i.functionName, i.trigger, i.result])).toEqual([
      ['onPush', 'manual', { seen: 'manual-1' }],
    ]);
    await router.stop();
  });

  it('refuses to start on a bad pattern or schedule, naming the function, the field and the rule', async () => {
    const bad = join(dir, 'bad.yml');
    await writeFile(
      bad,
      'service: t\nfunctions:\n  f:\n    handler: fns/ok.handler\n    events:\n      - eventBridge:\n          pattern: { detail: { n: [{ numeric: [">", "5"] }] } }\n',
    );
    await expect(setup(bad).router.start()).rejects.toThrow(
      /functions\.f: events\[0\]\.eventBridge\.pattern \(rule t-dev-f-rule-1\): Event pattern is not valid\. Reason: Value of > must be numeric \(at detail\.n\)$/,
    );
    // A pattern AWS refuses although it looks harmless: the rule serverless would create is named, as
    // `serverless deploy` would fail on it (the second event of f: rule-2).
    await writeFile(
      bad,
      'service: t\nfunctions:\n  f:\n    handler: fns/ok.handler\n    events:\n      - schedule: rate(1 hour)\n      - eventBridge:\n          pattern: { source: [aws.ecr], resources: [] }\n',
    );
    await expect(setup(bad).router.start()).rejects.toThrow(
      /^[^:]*bad\.yml: functions\.f: events\[1\]\.eventBridge\.pattern \(rule t-dev-f-rule-2\): Event pattern is not valid\. Reason: Empty arrays are not allowed \(at resources\)$/,
    );
    await writeFile(
      bad,
      'service: t\nfunctions:\n  f:\n    handler: fns/ok.handler\n    events:\n      - schedule: cron(0 3 * * * *)\n',
    );
    await expect(setup(bad).router.start()).rejects.toThrow(ServerlessYmlError);
    await expect(setup(bad).router.start()).rejects.toThrow(/one of day-of-month and day-of-week/);
  });
});

function publishShape() {
  return {
    version: '0' as const,
    id: 'x',
    'detail-type': 'Test',
    source: 'aws.ecr',
    account: '000000000000',
    time: '2026-11-25T00:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: {},
  };
}
