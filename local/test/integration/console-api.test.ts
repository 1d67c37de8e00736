/**
 * The console's side of the front door, over HTTP: GET / is the console's page while AWS requests to / (awsJson
 * POSTs, STS's presigned GET) still reach their services; the fleet snapshot; the event stream delivers bus
 * events and each attempt as it starts and ends, with the log lines the function wrote (the invocation list
 * stays without them); push, clock speed and views answer as documented.
 */

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../cloud';

const SERVERLESS_YML = `service: console-test
provider:
  name: aws
functions:
  chatty:
    handler: fns/chatty.handler
    events:
      - eventBridge:
          pattern: { source: [com.example.console] }
`;

let dir: string;
let cloud: LocalCloud;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'console-api-'));
  await writeFile(join(dir, 'serverless.yml'), SERVERLESS_YML);
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
  await mkdir(join(dir, 'fns'));
  await writeFile(
    join(dir, 'fns', 'chatty.ts'),
    [
      'export const handler = async (e: { detail: unknown }) => {',
      "  console.log(JSON.stringify({ level: 'INFO', message: 'hello from chatty', detail: e.detail }));",
      "  console.log('a plain line');",
      '  return { ok: true };',
      '};',
    ].join('\n'),
  );
  cloud = await createLocalCloud({
    port: 0,
    speed: 0,
    world: { ecr: { repositories: [{ name: 'shop/api', images: [{ tag: 'latest' }] }] } },
    serverlessYml: join(dir, 'serverless.yml'),
  });
  cloud.views.answer = async () => ({ answer: 42 });
});
afterAll(async () => {
  await cloud?.stop();
  await rm(dir, { recursive: true, force: true });
});

const get = (path: string, init?: RequestInit) => fetch(`${cloud.endpoint}${path}`, init);
const post = (path: string, body: unknown) => get(path, { method: 'POST', body: JSON.stringify(body) });

/** Reads server-sent events from the stream until `done` says so (or 10 s pass). */
function readStream(
  done: (events: { event: string; data: unknown }[]) => boolean,
  onOpen: () => void,
): Promise<{ event: string; data: unknown }[]> {
  return new Promise((resolve, reject) => {
    const events: { event: string; data: unknown }[] = [];
    const req = request(`${cloud.endpoint}/_harborpilot/stream`, (res) => {
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        const blocks = buffer.split('\n\n');
        buffer = blocks.pop() ?? '';
        for (const block of blocks) {
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
          if (event === 'hello') onOpen();
        }
        if (done(events)) {
          clearTimeout(timer);
          req.destroy();
          resolve(events);
        }
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`stream: timed out with ${events.map((e) => e.event).join(', ')}`));
    }, 10_000);
    req.on('error', (err) => {
      if (!req.destroyed) reject(err);
    });
    req.end();
  });
}

describe('the console on the front door', () => {
  it('serves the page at / and its files under /_harborpilot/console/, and nothing else there', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('/_harborpilot/console/app.js');
    const head = await get('/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const script = await get('/_harborpilot/console/app.js');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await get('/_harborpilot/console/nope.js')).status).toBe(404);
    expect((await get('/_harborpilot/console/%2e%2e%2fcloud.ts')).status).toBe(404);
  });

  it('leaves AWS requests to / to their services: awsJson POSTs and STS presigned GETs', async () => {
    const ecr = await fetch(`${cloud.endpoint}/`, {
      method: 'POST',
      headers: {
        'X-Amz-Target': 'AmazonEC2ContainerRegistry_V20150921.DescribeRepositories',
        'Content-Type': 'application/x-amz-json-1.1',
      },
      body: '{}',
    });
    expect(((await ecr.json()) as { repositories: { repositoryName: string }[] }).repositories).toEqual([
      expect.objectContaining({ repositoryName: 'shop/api' }),
    ]);
    const sts = await get('/?Action=GetCallerIdentity&Version=2011-06-15');
    expect(await sts.text()).toContain('<GetCallerIdentityResponse');
  });

  it('streams bus events and each attempt as it starts and ends, with the lines the function wrote', async () => {
    const events = await readStream(
      (seen) =>
        seen.some((e) => e.event === 'invocation' && (e.data as { status: string }).status === 'succeeded'),
      () =>
        cloud.bus.publish({
          source: 'com.example.console',
          detailType: 'Hello',
          detail: { n: 1 },
          account: '000000000000',
          region: 'us-east-1',
        }),
    );
    expect(events[0]?.event).toBe('hello');
    expect(events.find((e) => e.event === 'bus')?.data).toMatchObject({ 'detail-type': 'Hello' });
    const attempts = events
      .filter((e) => e.event === 'invocation')
      .map((e) => e.data as Record<string, unknown>);
    expect(attempts.map((a) => a.status)).toEqual(['running', 'succeeded']);
    const finished = attempts[1] as { id: string; logs: string[] };
    expect(finished.logs).toHaveLength(2);
    expect(JSON.parse(finished.logs[0] as string)).toMatchObject({
      message: 'hello from chatty',
      detail: { n: 1 },
    });
    expect(finished.logs[1]).toBe('a plain line');

    // The list stays as it was (no logs); one attempt by id has them.
    const list = (await (await get('/_harborpilot/invocations')).json()) as { invocations: object[] };
    expect(list.invocations[0]).not.toHaveProperty('logs');
    const one = (await (await get(`/_harborpilot/invocations/${finished.id}`)).json()) as {
      invocation: { logs: string[] };
    };
    expect(one.invocation.logs).toEqual(finished.logs);
    expect((await get('/_harborpilot/invocations/nope')).status).toBe(404);
  });

  it('pushes a rebuilt image (a new digest each time) into an existing repository only', async () => {
    const first = (await (await post('/_harborpilot/push', { repository: 'shop/api' })).json()) as {
      image: { digest: string; tags: string[] };
    };
    const second = (await (
      await post('/_harborpilot/push', { repository: 'shop/api', tag: 'latest' })
    ).json()) as {
      image: { digest: string };
    };
    expect(first.image.tags).toEqual(['latest']);
    expect(second.image.digest).not.toBe(first.image.digest);
    expect(cloud.bus.history.filter((e) => e['detail-type'] === 'ECR Image Action')).toHaveLength(2);
    const missing = await post('/_harborpilot/push', { repository: 'shop/nope' });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe(
      'RepositoryNotFoundException',
    );
    expect((await post('/_harborpilot/push', {})).status).toBe(400);
  });

  it('answers the fleet, the clock speed and the caller’s views', async () => {
    const fleet = (await (await get('/_harborpilot/fleet')).json()) as {
      scopes: { ecr: { name: string; images: { tags: string[]; usedBy: string[] }[] }[] }[];
    };
    expect(fleet.scopes[0]?.ecr[0]?.name).toBe('shop/api');
    // The world's image and the two pushes, newest first; `latest` on the last push.
    const images = fleet.scopes[0]?.ecr[0]?.images ?? [];
    expect(images.map((i) => i.tags)).toEqual([['latest'], [], []]);
    expect(images[0]?.usedBy).toEqual([]);

    const clock = (await (await post('/_harborpilot/clock/speed', { speed: 5 })).json()) as { speed: number };
    expect(clock.speed).toBe(5);
    expect(cloud.clock.speed).toBe(5);
    await post('/_harborpilot/clock/speed', { speed: 0 });
    expect(cloud.clock.speed).toBe(0);
    expect((await post('/_harborpilot/clock/speed', { speed: -1 })).status).toBe(400);

    expect(await (await get('/_harborpilot/views/answer')).json()).toEqual({ answer: 42 });
    expect((await get('/_harborpilot/views/nope')).status).toBe(404);
    const functions = (await (await get('/_harborpilot/functions')).json()) as {
      functions: { name: string }[];
    };
    expect(functions.functions.map((f) => f.name)).toEqual(['chatty']);
  });
});
