/**
 * What a user sees of the functions over HTTP: an event put on the bus with PutEvents invokes the functions whose
 * pattern matches, `GET /_harborpilot/invocations` lists every attempt with its result or error, a function that
 * keeps throwing is retried twice (a simulated minute, then two) and lands in `GET /_harborpilot/dlq`, and
 * schedules run on the simulated clock or on demand.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../cloud';

const SERVERLESS_YML = `service: admin-test
provider:
  name: aws
functions:
  echo:
    handler: fns/echo.handler
    events:
      - eventBridge:
          pattern: { source: [com.example.shop], detail: { version: [{ prefix: "1." }] } }
  broken:
    handler: fns/broken.handler
    events:
      - eventBridge:
          pattern: { source: [com.example.shop], detail-type: [Release] }
  slow:
    handler: fns/slow.handler
    events:
      - eventBridge:
          pattern: { source: [com.example.slow] }
  tick:
    handler: fns/echo.handler
    events:
      - schedule: rate(1 hour)
`;

type Invocation = {
  functionName: string;
  trigger: string;
  eventId: string;
  attempt: number;
  status: string;
  result?: unknown;
  error?: { name?: string; message?: string };
};

let dir: string;
let cloud: LocalCloud;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'admin-invocations-'));
  await writeFile(join(dir, 'serverless.yml'), SERVERLESS_YML);
  // An ESM project, as harborpilot is: the handler modules load as ES modules in their workers.
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
  await mkdir(join(dir, 'fns'));
  await writeFile(
    join(dir, 'fns', 'echo.ts'),
    'export const handler = async (e: { source: string; detail: unknown }) => ({ source: e.source, detail: e.detail });\n',
  );
  await writeFile(
    join(dir, 'fns', 'broken.ts'),
    "export const handler = async () => { throw new RangeError('release notes missing'); };\n",
  );
  await writeFile(
    join(dir, 'fns', 'slow.ts'),
    "export const handler = () => new Promise((r) => setTimeout(() => r('done'), 400));\n",
  );
  cloud = await createLocalCloud({
    port: 0,
    speed: 0,
    empty: true,
    serverlessYml: join(dir, 'serverless.yml'),
  });
});
afterAll(async () => {
  await cloud?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${cloud.endpoint}/_harborpilot/${path}`, {
    method,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  expect(res.status, `${method} ${path}`).toBeLessThan(300);
  return (await res.json()) as T;
}

const invocations = async (fn: string) =>
  (await admin<{ invocations: Invocation[] }>('GET', `invocations?function=${fn}`)).invocations;
const finished = async (fn: string) => (await invocations(fn)).filter((i) => i.status !== 'running');

/** Polls in real time: invocations run asynchronously after the bus or the clock moves. */
async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** PutEvents over the wire, as the SDK sends it; the event's id. */
async function putEvent(source: string, detailType: string, detail: unknown): Promise<string | undefined> {
  const put = await fetch(cloud.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AWSEvents.PutEvents',
      authorization:
        'AWS4-HMAC-SHA256 Credential=test/20261125/us-east-1/events/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify({
      Entries: [{ Source: source, DetailType: detailType, Detail: JSON.stringify(detail) }],
    }),
  });
  return ((await put.json()) as { Entries: { EventId: string }[] }).Entries[0]?.EventId;
}

describe('admin API: invocations and dead letters', () => {
  it('lists each invocation with its result, retries a throwing function twice, then dead-letters it', async () => {
    const eventId = await putEvent('com.example.shop', 'Release', { version: '1.2.3' });

    const echoed = await eventually(
      () => finished('echo'),
      (l) => l.length === 1,
    );
    expect(echoed).toEqual([
      expect.objectContaining({
        functionName: 'echo',
        trigger: 'event',
        eventId,
        attempt: 1,
        status: 'succeeded',
        result: { source: 'com.example.shop', detail: { version: '1.2.3' } },
      }),
    ]);

    await eventually(
      () => finished('broken'),
      (l) => l.length === 1,
    );
    await admin('POST', 'clock/advance', { ms: 60_000 });
    await eventually(
      () => finished('broken'),
      (l) => l.length === 2,
    );
    expect((await admin<{ deadLetters: unknown[] }>('GET', 'dlq')).deadLetters).toEqual([]);
    await admin('POST', 'clock/advance', { ms: 120_000 });
    const broken = await eventually(
      () => finished('broken'),
      (l) => l.length === 3,
    );
    expect(broken.map((i) => [i.attempt, i.status, i.eventId])).toEqual([
      [1, 'failed', eventId],
      [2, 'failed', eventId],
      [3, 'failed', eventId],
    ]);
    expect(JSON.stringify(broken[0]?.error)).toContain('release notes missing');

    const { deadLetters } = await eventually(
      () => admin<{ deadLetters: Record<string, Record<string, unknown>>[] }>('GET', 'dlq'),
      (d) => d.deadLetters.length === 1,
    );
    expect(deadLetters[0]).toMatchObject({
      requestContext: {
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
        functionArn: expect.stringContaining(':function:admin-test-dev-broken'),
      },
      requestPayload: { id: eventId, source: 'com.example.shop', 'detail-type': 'Release' },
      responsePayload: { errorType: 'RangeError', errorMessage: 'release notes missing' },
    });
  });

  it('lists an attempt that is still running, with status running, until it finishes', async () => {
    const eventId = await putEvent('com.example.slow', 'Test', {});
    const running = await eventually(
      () => invocations('slow'),
      (l) => l.length > 0,
    );
    expect(running).toEqual([
      expect.objectContaining({ functionName: 'slow', eventId, attempt: 1, status: 'running' }),
    ]);
    const done = await eventually(
      () => invocations('slow'),
      (l) => l[0]?.status === 'succeeded',
    );
    expect(done).toEqual([expect.objectContaining({ eventId, status: 'succeeded', result: 'done' })]);
  });

  it('runs a schedule on demand and when the simulated clock reaches it', async () => {
    const manual = await admin<{ invocations: Invocation[] }>('POST', 'schedules/tick');
    expect(manual.invocations).toEqual([
      expect.objectContaining({
        functionName: 'tick',
        trigger: 'manual',
        status: 'succeeded',
        result: { source: 'aws.events', detail: {} },
      }),
    ]);
    await admin('POST', 'clock/advance', { ms: 3_600_000 });
    const ticks = await eventually(
      () => invocations('tick'),
      (l) => l.some((i) => i.trigger === 'schedule'),
    );
    expect(ticks.map((i) => i.trigger)).toContain('schedule');
  });
});
