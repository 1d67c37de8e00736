import { Logger } from '@aws-lambda-powertools/logger';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import imagePull from '../../../events/ecs-task-image-pull.json';
import oom from '../../../events/ecs-task-oom.json';
import userStop from '../../../events/ecs-task-user-stop.json';
import scheduled from '../../../events/scheduled.json';
import { makeHandler } from '../../../functions/alertTaskFailures';
import { AlertSendError, type AlertSummary } from '../../../shared/alert-task-failures/handler';
import { configFromEnv } from '../../../shared/config';
import { EventValidationError } from '../../../shared/errors';
import { createStateTable, startStateTable, type TestTable } from '../../support/dynalite';

const sesMock = mockClient(SESv2Client);
let table: TestTable;
beforeAll(async () => {
  table = await startStateTable();
});
afterAll(() => table.stop());
beforeEach(() => {
  sesMock.reset();
  sesMock.on(SendEmailCommand).callsFake(() => ({ MessageId: `msg-${sesMock.calls().length}` }));
});

const T0 = Date.parse('2026-11-25T10:00:00Z');
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
let run = 0;

/** A handler over a fresh state table and cluster per test, so tests do not see each other's windows. */
async function setup(alerts: Record<string, unknown> = {}) {
  run += 1;
  const tableName = `state-${run}`;
  await createStateTable(table.client, tableName);
  const cluster = `arn:aws:ecs:us-east-1:000000000000:cluster/t${run}`;
  const sleeps: number[] = [];
  const config = configFromEnv({
    HARBORPILOT_CONFIG: JSON.stringify({
      stateTable: tableName,
      alerts: { from: 'alerts@example.com', to: ['ops@example.com'], ...alerts },
    }),
  });
  const handler = makeHandler({
    config,
    dynamodb: table.client,
    ses: new SESv2Client({ region: 'us-east-1' }),
    logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  /** A task of `service` stopped by `sample`'s failure at `at`. */
  const stopped = (at: number, service = 'api-service', task = `${at}`, version = 5, sample = imagePull) => {
    const taskArn = `${cluster.replace(':cluster/', ':task/')}/${service}-${task}`;
    return {
      ...sample,
      id: `evt-${run}-${service}-${task}-${version}`,
      time: iso(at),
      resources: [taskArn],
      detail: {
        ...sample.detail,
        clusterArn: cluster,
        taskArn,
        group: `service:${service}`,
        version,
        stoppedAt: iso(at),
      },
    };
  };
  const flush = (at: number) =>
    handler({ ...scheduled, id: `flush-${run}-${at}`, time: iso(at) }) as Promise<
      AlertSummary & { trigger: 'flush' }
    >;
  return { handler, stopped, flush, sleeps, tableName, cluster: cluster.split('/')[1] as string };
}

const sent = () =>
  sesMock.commandCalls(SendEmailCommand).map((c) => {
    const i = c.args[0].input;
    return {
      to: i.Destination?.ToAddresses ?? [],
      subject: i.Content?.Simple?.Subject?.Data ?? '',
      text: i.Content?.Simple?.Body?.Text?.Data ?? '',
      html: i.Content?.Simple?.Body?.Html?.Data ?? '',
    };
  });

describe('alertTaskFailures handler', () => {
  it('an image pull failure becomes one email at the next flush, with HTML and text from config', async () => {
    const { handler, stopped, flush, cluster } = await setup();
    await handler(stopped(T0 + 5_000));
    expect(sent()).toHaveLength(0); // events only count; the schedule sends
    await flush(T0 + MIN);
    const [email, ...more] = sent();
    expect(more).toHaveLength(0);
    expect(email?.subject).toBe(`[harborpilot] api-service in ${cluster}: 1 task failed — image pull`);
    expect(email?.to).toEqual(['ops@example.com']);
    expect(email?.html).toContain('CannotPullContainerError');
    expect(email?.text).toContain('CannotPullContainerError');
    expect(sesMock.commandCalls(SendEmailCommand)[0]?.args[0].input.FromEmailAddress).toBe(
      'alerts@example.com',
    );
    await flush(T0 + 2 * MIN);
    expect(sent()).toHaveLength(1); // nothing new: nothing sent
  });

  it('the same delivery three times counts once', async () => {
    const { handler, stopped, flush } = await setup();
    const event = stopped(T0, 'api-service', 'a');
    const results = [await handler(event), await handler(event), await handler({ ...event, id: 'other-id' })];
    expect(results.map((r) => (r as { record?: { result: string } }).record?.result)).toEqual([
      'counted',
      'duplicate',
      'duplicate',
    ]);
    await handler(stopped(T0 + 1_000, 'api-service', 'a', 6)); // the same task's next version is new
    await flush(T0 + MIN);
    expect(sent()[0]?.subject).toMatch(/: 2 tasks failed — image pull$/);
  });

  it('concurrent duplicates and concurrent failures: every failure counted exactly once', async () => {
    const { handler, stopped, flush } = await setup();
    const events = Array.from({ length: 40 }, (_, i) => stopped(T0 + i * 1_000, 'api-service', `c${i}`));
    await Promise.all([...events, ...events.slice(0, 20)].map((e) => handler(e)));
    await flush(T0 + MIN);
    expect(sent().map((e) => e.subject)).toEqual([expect.stringMatching(/: 40 tasks failed — image pull$/)]);
  });

  it('the reasons an email lists are counted over every failure, adding up to How many (not over the 10 shown)', async () => {
    const { handler, stopped, flush } = await setup();
    const why = (tag: string) => ({
      ...imagePull,
      detail: { ...imagePull.detail, stoppedReason: `CannotPullContainerError: shop/api:${tag}: not found` },
    });
    // 41 failures, concurrently, with two reasons: 31 and 10, and a few duplicate deliveries.
    const events = Array.from({ length: 41 }, (_, i) =>
      stopped(T0 + i * 1_000, 'api-service', `r${i}`, 5, why(i % 4 === 0 && i < 40 ? 'v2' : 'v1')),
    );
    await Promise.all([...events, ...events.slice(0, 5)].map((e) => handler(e)));
    await flush(T0 + MIN);
    const [email] = sent();
    expect(email?.text).toMatch(/^How many: +41$/m);
    expect(email?.text).toContain('- CannotPullContainerError: shop/api:v1: not found (x31)');
    expect(email?.text).toContain('- CannotPullContainerError: shop/api:v2: not found (x10)');
    expect(email?.text).toContain('Recent (10 of 41)');
  });

  it('past 20 distinct reasons in a window, the rest count as "other reasons": still adding up', async () => {
    const { handler, stopped, flush } = await setup();
    const why = (tag: string) => ({
      ...imagePull,
      detail: { ...imagePull.detail, stoppedReason: `CannotPullContainerError: shop/api:${tag}: not found` },
    });
    for (let i = 0; i < 25; i++)
      await handler(stopped(T0 + i * 1_000, 'api-service', `u${i}`, 5, why(`t${i}`)));
    await handler(stopped(T0 + 30_000, 'api-service', 'again', 5, why('t3')));
    await flush(T0 + MIN);
    const text = sent()[0]?.text ?? '';
    const listed = [...text.matchAll(/^- (CannotPull.*?|other reasons)(?: \(x(\d+)\))?$/gm)];
    expect(listed).toHaveLength(21);
    expect(text).toContain('- CannotPullContainerError: shop/api:t3: not found (x2)');
    expect(text).toContain('- other reasons (x5)');
    expect(listed.reduce((n, m) => n + Number(m[2] ?? 1), 0)).toBe(26);
  });

  it('a crash loop: one prompt email, then at most one per window, counts adding up to every failure', async () => {
    const { handler, stopped, flush } = await setup({ windowMinutes: 10 });
    const subjects: string[] = [];
    // A failure every 15 s for 25 minutes, a flush every minute (the schedule).
    for (let t = T0; t < T0 + 25 * MIN; t += 15_000) {
      await handler(stopped(t, 'api-service', `loop-${t}`));
      if ((t - T0) % MIN === 45_000) await flush(t + 15_000);
    }
    await flush(T0 + 40 * MIN);
    const emails = sent();
    subjects.push(...emails.map((e) => e.subject));
    const counts = subjects.map((s) => Number(/: (\d+) tasks? failed/.exec(s)?.[1]));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(100);
    expect(counts[0]).toBe(4); // the first minute's failures, at the first flush
    expect(emails.length).toBeLessThanOrEqual(4); // 25 minutes of failures, windows of 10: 0, 10, 20, then the rest
  });

  it('every item of alert state expires (TTL attribute `expiration`, in the future)', async () => {
    const { handler, stopped, flush, tableName } = await setup();
    await handler(stopped(T0, 'api-service', 'ttl'));
    await flush(T0 + MIN);
    await handler(stopped(T0 + 2 * MIN, 'api-service', 'ttl-2'));
    const items = (await table.client.send(new ScanCommand({ TableName: tableName }))).Items ?? [];
    expect(items.map((i) => i.id?.S?.split('#')[1]).sort()).toEqual([
      'key',
      'open',
      'seen',
      'seen',
      'window',
      'window',
    ]);
    // Expiry counts from the events' time; everything outlives a window by far (the seen marks: a day).
    for (const item of items) {
      expect(Number(item.expiration?.N), `${item.id?.S} expires`).toBeGreaterThanOrEqual(
        T0 / 1000 + 24 * 3600,
      );
    }
  });

  it('the window is alerts.windowMinutes: with 3, a crash loop is emailed every 3 minutes', async () => {
    const { handler, stopped, flush } = await setup({ windowMinutes: 3 });
    const emailedAt: number[] = [];
    const flushAndNote = async (at: number) => {
      if ((await flush(at)).emails.length > 0) emailedAt.push((at - T0) / MIN);
    };
    // A failure every 30 s for 10 minutes, a flush every minute.
    for (let t = T0; t < T0 + 10 * MIN; t += 30_000) {
      await handler(stopped(t, 'api-service', `w3-${t}`));
      if ((t - T0) % MIN === 30_000) await flushAndNote(t + 30_000);
    }
    for (const m of [11, 12, 13]) await flushAndNote(T0 + m * MIN);
    expect(emailedAt).toEqual([1, 4, 7, 10]);
    const counts = sent().map((e) => Number(/: (\d+) tasks? failed/.exec(e.subject)?.[1]));
    expect(counts).toEqual([2, 6, 6, 6]);
    expect(sent()[0]?.text).toContain('every 3 minutes');
  });

  it('a user stopping a task sends nothing', async () => {
    const { handler, flush } = await setup();
    const summary = await handler({ ...userStop, id: `user-${run}` });
    expect(summary).toMatchObject({ trigger: 'ecs', classification: { kind: 'not-a-failure' } });
    await flush(T0 + MIN);
    expect(sent().filter((e) => e.subject.includes('nightly-report'))).toHaveLength(0);
  });

  it('a malformed event fails naming the field, and nothing is written or sent', async () => {
    const { handler, tableName } = await setup();
    const before = (await table.client.send(new ScanCommand({ TableName: tableName }))).Count;
    const bad = { ...imagePull, detail: { ...imagePull.detail, clusterArn: 'prod', version: undefined } };
    await expect(handler(bad)).rejects.toThrow(EventValidationError);
    await expect(handler(bad)).rejects.toThrow(/detail\.clusterArn: must be a cluster ARN; detail\.version/);
    expect((await table.client.send(new ScanCommand({ TableName: tableName }))).Count).toBe(before);
    expect(sent()).toHaveLength(0);
  });

  it('SES throttling surfaces as a throw, and the next flush sends the same alert', async () => {
    const { handler, stopped, flush } = await setup();
    await handler(stopped(T0, 'api-service', 'x', 5, oom));
    sesMock
      .on(SendEmailCommand)
      .rejectsOnce(
        Object.assign(new Error('Maximum sending rate exceeded.'), { name: 'TooManyRequestsException' }),
      )
      .resolves({ MessageId: 'after-retry' });
    await expect(flush(T0 + MIN)).rejects.toThrow(
      /SES SendEmail failed for "\[harborpilot\] api-service in t\d+: 1 task failed — out of memory".*Maximum sending rate/,
    );
    const retry = await flush(T0 + 2 * MIN);
    expect(retry.emails).toMatchObject([{ failures: 1, messageIds: ['after-retry'] }]);
    expect(sent()).toHaveLength(2);
  });

  it('MessageRejected is not swallowed either', async () => {
    const { handler, stopped, flush } = await setup();
    await handler(stopped(T0));
    sesMock
      .on(SendEmailCommand)
      .rejects(Object.assign(new Error('Email address is not verified.'), { name: 'MessageRejected' }));
    const error = await flush(T0 + MIN).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AlertSendError);
    expect((error as AlertSendError).recipients).toEqual(['ops@example.com']);
  });

  it('more than 50 recipients: the same email in messages of 50, paced at the SES rate', async () => {
    const to = Array.from({ length: 120 }, (_, i) => `ops${i}@example.com`);
    const { handler, stopped, flush, sleeps } = await setup({ to, maxSendRate: 2 });
    await handler(stopped(T0));
    await flush(T0 + MIN);
    expect(sent().map((e) => e.to.length)).toEqual([50, 50, 20]);
    expect(new Set(sent().flatMap((e) => e.to)).size).toBe(120);
    expect(sleeps).toEqual([500, 500]);
  });

  it('a send that fails on the second 50 recipients is retried from there: the first 50 get it once', async () => {
    const to = Array.from({ length: 120 }, (_, i) => `ops${i}@example.com`);
    const { handler, stopped, flush } = await setup({ to, maxSendRate: 2 });
    await handler(stopped(T0));
    let calls = 0;
    sesMock.on(SendEmailCommand).callsFake(() => {
      calls += 1;
      if (calls === 2)
        throw Object.assign(new Error('Maximum sending rate exceeded.'), { name: 'Throttling' });
      return { MessageId: `msg-${calls}` };
    });
    await expect(flush(T0 + MIN)).rejects.toThrow(/Maximum sending rate/);
    const retry = await flush(T0 + 2 * MIN);
    expect(retry.emails).toMatchObject([{ failures: 1, messageIds: ['msg-3', 'msg-4'] }]);
    // Calls: first 50 (sent), next 50 (failed), then the retry's next 50 and last 20.
    expect(sent().map((e) => e.to.length)).toEqual([50, 50, 50, 20]);
    expect(sent().filter((e) => e.to.includes('ops0@example.com'))).toHaveLength(1);
    expect(sent().filter((e) => e.to.includes('ops50@example.com'))).toHaveLength(2);
    // Once sent, the alert is done: a later flush sends nothing more.
    expect((await flush(T0 + 3 * MIN)).emails).toEqual([]);
  });

  it('a burst across many services becomes a digest listing each with its count', async () => {
    const { handler, stopped, flush } = await setup({ digestAbove: 3 });
    for (const [i, service] of ['a', 'b', 'c', 'd', 'e'].entries()) {
      for (let n = 0; n <= i; n++) await handler(stopped(T0 + n * 1_000, `svc-${service}`, `${n}`));
    }
    const summary = await flush(T0 + MIN);
    expect(summary.emails).toMatchObject([{ alerts: 5, failures: 15 }]);
    const [digest] = sent();
    for (const [i, service] of ['a', 'b', 'c', 'd', 'e'].entries()) {
      expect(digest?.text).toContain(`- svc-${service} in `);
      expect(digest?.text).toMatch(
        new RegExp(`svc-${service} in t\\d+: ${i + 1} tasks? failed — image pull`),
      );
    }
  });

  it('dry run: the email is logged, not sent, and not logged again', async () => {
    const { handler, stopped, flush } = await setup({ dryRun: true });
    await handler(stopped(T0));
    expect((await flush(T0 + MIN)).emails).toHaveLength(1);
    expect((await flush(T0 + 20 * MIN)).emails).toHaveLength(0);
    expect(sent()).toHaveLength(0);
  });
});
