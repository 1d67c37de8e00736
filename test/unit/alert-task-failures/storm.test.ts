/**
 * The storm of issue 7, in process: 1 000 STOPPED events for 20 services in 5 minutes, delivered
 * concurrently (some twice), with the flush schedule running every minute. The state table is a real
 * DynamoDB API (dynalite over HTTP), so conditional writes race as they would on AWS.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import imagePull from '../../../events/ecs-task-image-pull.json';
import scheduled from '../../../events/scheduled.json';
import { makeHandler } from '../../../functions/alertTaskFailures';
import { configFromEnv } from '../../../shared/config';
import { startStateTable, type TestTable } from '../../support/dynalite';

const sesMock = mockClient(SESv2Client);
let table: TestTable;
beforeAll(async () => {
  table = await startStateTable('storm-state');
});
afterAll(() => table.stop());

const T0 = Date.parse('2026-11-25T10:00:00Z');
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
const CLUSTER = 'arn:aws:ecs:us-east-1:000000000000:cluster/prod';

function stopped(i: number) {
  const service = `svc-${String(i % 20).padStart(2, '0')}`;
  const at = T0 + Math.floor((i * 5 * MIN) / 1000);
  const taskArn = `arn:aws:ecs:us-east-1:000000000000:task/prod/${service}-${i}`;
  return {
    ...imagePull,
    id: `storm-${i}`,
    time: iso(at).replace('.000Z', 'Z'),
    resources: [taskArn],
    detail: {
      ...imagePull.detail,
      clusterArn: CLUSTER,
      taskArn,
      group: `service:${service}`,
      stoppedAt: iso(at),
    },
  };
}

describe('storm: 1 000 STOPPED events, 20 services, 5 minutes', () => {
  it('at most one email per service and class per window, counts right, nothing lost, nothing twice', async () => {
    sesMock.reset();
    let clock = T0;
    const sentAt: number[] = [];
    sesMock.on(SendEmailCommand).callsFake(() => {
      sentAt.push(clock);
      return { MessageId: `m${sentAt.length}` };
    });
    const handler = makeHandler({
      config: configFromEnv({
        HARBORPILOT_CONFIG: JSON.stringify({
          stateTable: table.tableName,
          // Digests off, so every service's email can be checked on its own.
          alerts: { to: ['ops@example.com'], windowMinutes: 10, digestAbove: 100 },
        }),
      }),
      dynamodb: table.client,
      ses: new SESv2Client({ region: 'us-east-1' }),
      logger: new Logger({ serviceName: 'storm', logLevel: 'SILENT' }),
      sleep: async () => {},
    });
    const flushAt = (ms: number) => {
      clock = ms;
      return handler({ ...scheduled, id: `flush-${ms}`, time: iso(ms).replace('.000Z', 'Z') });
    };

    const started = performance.now();
    const events = Array.from({ length: 1000 }, (_, i) => stopped(i));
    // Minute by minute: that minute's events 10 at a time, every 10th delivered twice, then the schedule.
    for (let minute = 0; minute < 5; minute++) {
      const batch = events.filter(
        (e) => Date.parse(e.time) < T0 + (minute + 1) * MIN && Date.parse(e.time) >= T0 + minute * MIN,
      );
      const deliveries = [...batch, ...batch.filter((_, i) => i % 10 === 0)];
      for (let i = 0; i < deliveries.length; i += 10)
        await Promise.all(deliveries.slice(i, i + 10).map((e) => handler(e)));
      await flushAt(T0 + (minute + 1) * MIN);
    }
    for (let minute = 6; minute <= 16; minute++) await flushAt(T0 + minute * MIN);
    const elapsed = performance.now() - started;

    const emails = sesMock.commandCalls(SendEmailCommand).map((c) => ({
      subject: c.args[0].input.Content?.Simple?.Subject?.Data ?? '',
    }));
    const perService = new Map<string, number[]>();
    const timesPerService = new Map<string, number[]>();
    for (const [i, { subject }] of emails.entries()) {
      const m = /\] (svc-\d+) in prod: (\d+) tasks? failed — image pull$/.exec(subject);
      if (!m) throw new Error(`unexpected subject ${subject}`);
      perService.set(m[1] as string, [...(perService.get(m[1] as string) ?? []), Number(m[2])]);
      timesPerService.set(m[1] as string, [
        ...(timesPerService.get(m[1] as string) ?? []),
        sentAt[i] as number,
      ]);
    }
    expect(perService.size).toBe(20);
    for (const [, counts] of perService) {
      // One prompt email at the first flush, one with the rest a window later: never two in one window.
      expect(counts.length).toBe(2);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(50);
    }
    for (const [, times] of timesPerService) expect(times.map((t) => (t - T0) / MIN)).toEqual([1, 11]);
    expect([...perService.values()].flat().reduce((a, b) => a + b, 0)).toBe(1000);
    console.log(
      `storm: ${events.length} events (+${events.length / 10} duplicate deliveries), ${emails.length} emails, ` +
        `first-flush counts ${[...perService.values()].map((c) => c[0]).join('/')} , ${Math.round(elapsed)} ms`,
    );
  }, 180_000);
});
