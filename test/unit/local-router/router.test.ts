import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../../local/bus';
import { SimClock } from '../../../local/clock';
import { Router } from '../../../local/router';
import { nextFire, readServerlessYml } from '../../../local/router/serverless';
import type { LocalCloudCore } from '../../../local/types';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'router-'));
  await writeFile(
    join(dir, 'serverless.yml'),
    `service: t
functions:
  onPush:
    handler: fns/ok.handler
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
  nightly:
    handler: fns/ok.handler
    events:
      - schedule: rate(1 hour)
`,
  );
  await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'fns')));
  await writeFile(
    join(dir, 'fns/ok.ts'),
    'export const handler = async (e: { id: string }) => ({ seen: e.id });\n',
  );
  await writeFile(
    join(dir, 'fns/fail.ts'),
    "export const handler = async () => { throw new TypeError('boom'); };\n",
  );
  await writeFile(
    join(dir, 'fns/flaky.ts'),
    "let n = 0;\nexport const handler = async () => { n += 1; if (n === 1) throw new Error('first try fails'); return n; };\n",
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function setup() {
  const clock = new SimClock(new Date('2026-11-25T00:00:00Z'), 0);
  const bus = new EventBus(clock);
  const core = {
    clock,
    bus,
    defaultAccountId: '000000000000',
    defaultRegion: 'us-east-1',
  } as unknown as LocalCloudCore;
  const router = new Router(core, { serverlessYml: join(dir, 'serverless.yml'), env: {} });
  return { clock, bus, router };
}
const publish = (bus: EventBus, source: string, detail: Record<string, unknown> = {}) =>
  bus.publish({ source, detailType: 'Test', detail, account: '000000000000', region: 'us-east-1' });
const settle = async (clock: SimClock, router: Router, ms = 0) => {
  await new Promise((r) => setTimeout(r, 20));
  await router.waitForIdle();
  if (ms) await clock.advance(ms);
  await new Promise((r) => setTimeout(r, 20));
  await router.waitForIdle();
};

describe('router', () => {
  it('invokes only the functions whose pattern matches', async () => {
    const { bus, clock, router } = setup();
    await router.start();
    const event = publish(bus, 'aws.ecr', { result: 'SUCCESS' });
    publish(bus, 'aws.ecr', { result: 'FAILURE' });
    await settle(clock, router);
    expect(router.invocations().map((i) => [i.functionName, i.status, i.result])).toEqual([
      ['onPush', 'succeeded', { seen: event.id }],
    ]);
    await router.stop();
  });

  it('retries a throwing handler twice, a minute then two apart, then dead-letters it', async () => {
    const { bus, clock, router } = setup();
    await router.start();
    const event = publish(bus, 'test.fail');
    await settle(clock, router);
    expect(router.invocations()).toHaveLength(1);
    await settle(clock, router, 59_000);
    expect(router.invocations()).toHaveLength(1);
    await settle(clock, router, 1_000);
    expect(router.invocations()).toHaveLength(2);
    await settle(clock, router, 120_000);
    expect(router.invocations().map((i) => [i.attempt, i.status])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'failed'],
    ]);
    expect(router.deadLetters()).toEqual([
      expect.objectContaining({
        requestContext: expect.objectContaining({ condition: 'RetriesExhausted', approximateInvokeCount: 3 }),
        requestPayload: event,
        responsePayload: { errorType: 'TypeError', errorMessage: 'boom' },
      }),
    ]);
    await router.stop();
  });

  it('a retry that succeeds is recorded as attempt 2 and nothing is dead-lettered', async () => {
    const { bus, clock, router } = setup();
    await router.start();
    publish(bus, 'test.flaky');
    await settle(clock, router, 60_000);
    expect(router.invocations().map((i) => [i.attempt, i.status])).toEqual([
      [1, 'failed'],
      [2, 'succeeded'],
    ]);
    expect(router.deadLetters()).toEqual([]);
    await router.stop();
  });

  it('fires schedules on the simulated clock and on demand', async () => {
    const { clock, router } = setup();
    await router.start();
    await settle(clock, router, 3 * 3_600_000);
    const scheduled = router.invocations().filter((i) => i.functionName === 'nightly');
    expect(scheduled.map((i) => i.trigger)).toEqual(['schedule', 'schedule', 'schedule']);
    const manual = await router.runSchedule('nightly');
    expect(manual).toEqual([expect.objectContaining({ trigger: 'manual', status: 'succeeded' })]);
    await expect(router.runSchedule('onPush')).rejects.toThrow(/has no schedule/);
    await router.stop();
  });

  it("reads the repository's serverless.yml: redeployEcs on ECR pushes and on a schedule", () => {
    const routes = readServerlessYml('serverless.yml');
    const redeploy = routes.find((r) => r.name === 'redeployEcs');
    expect(redeploy?.modulePath).toMatch(/functions\/redeployEcs\.ts$/);
    expect(redeploy?.patterns[0]).toMatchObject({
      source: ['aws.ecr'],
      detail: { 'action-type': ['PUSH'], result: ['SUCCESS'] },
    });
    expect(redeploy?.schedules).toEqual(['rate(15 minutes)']);
  });

  it.each([
    ['rate(15 minutes)', '2026-11-25T10:00:00Z', '2026-11-25T10:15:00Z'],
    ['rate(1 day)', '2026-11-25T10:00:00Z', '2026-11-26T10:00:00Z'],
    ['cron(0 3 * * ? *)', '2026-11-25T10:00:00Z', '2026-11-26T03:00:00Z'],
    ['cron(0/15 * * * ? *)', '2026-11-25T10:07:00Z', '2026-11-25T10:15:00Z'],
    ['cron(30 9 ? * 2-6 *)', '2026-11-28T10:00:00Z', '2026-11-30T09:30:00Z'],
  ])('%s after %s fires at %s', (expression, from, expected) => {
    expect(nextFire(expression, new Date(from)).toISOString()).toBe(new Date(expected).toISOString());
  });
});
