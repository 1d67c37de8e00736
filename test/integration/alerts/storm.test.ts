/**
 * Issue 7's storm through the local cloud, over real HTTP: 1 000 `ECS Task State Change` STOPPED events
 * (image pull failures) for 20 services in 5 simulated minutes, every tenth delivered twice, routed by the
 * serverless.yml rules to alertTaskFailures, whose one-minute flush schedule runs on the simulated clock.
 * The SES account is in the sandbox (1 message a second): the emails are read back at GET /_aws/ses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import imagePull from '../../../events/ecs-task-image-pull.json';
import type { CloudEvent } from '../../../local/bus';
import { createLocalCloud, type LocalCloud } from '../../../local/cloud';
import { ACCOUNT, REGION } from '../../support/cloud';

const SERVICES = 20;
const EVENTS = 1000;
const MIN = 60_000;
let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await createLocalCloud({
    port: 0,
    speed: 0,
    world: {
      clock: { start: '2026-11-25T10:00:00Z' },
      ses: { identities: ['example.com'] },
      config: { alerts: { from: 'alerts@example.com', to: ['ops@example.com'], windowMinutes: 10 } },
    },
  });
});
afterAll(() => cloud.stop());

function publishStopped(i: number): CloudEvent {
  const service = `svc-${String(i % SERVICES).padStart(2, '0')}`;
  const taskArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/prod/${service}-${String(i).padStart(4, '0')}`;
  return cloud.bus.publish({
    source: 'aws.ecs',
    detailType: 'ECS Task State Change',
    account: ACCOUNT,
    region: REGION,
    resources: [taskArn],
    detail: {
      ...imagePull.detail,
      clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`,
      taskArn,
      group: `service:${service}`,
      stoppedAt: cloud.clock.now().toISOString(),
    },
  });
}

interface SesMessage {
  Subject: string;
  Timestamp: string;
  Destination: { ToAddresses: string[] };
  Body: { text_part: string | null; html_part: string | null };
}

describe('storm through the local cloud', () => {
  it('1000 STOPPED events for 20 services in 5 minutes: at most one email per service per window, counts right, nothing lost', async () => {
    const started = performance.now();
    // 5 minutes: every 6 s a batch of 20 (one per service); the flush schedule fires at every minute.
    for (let i = 0; i < EVENTS; i += SERVICES) {
      for (let j = i; j < i + SERVICES; j++) {
        const event = publishStopped(j);
        if (j % 10 === 0) cloud.bus.publishEvent(event); // EventBridge delivers at least once
      }
      await cloud.router.waitForIdle();
      await cloud.clock.advance(6_000);
      await cloud.router.waitForIdle();
    }
    // Let the windows close: a quarter of an hour of flushes.
    for (let m = 0; m < 15; m++) {
      await cloud.clock.advance(MIN);
      await cloud.router.waitForIdle();
    }
    const elapsedMs = performance.now() - started;

    const invocations = cloud.router.invocations().filter((i) => i.functionName === 'alertTaskFailures');
    expect(invocations.filter((i) => i.status === 'failed')).toEqual([]);
    expect(cloud.router.deadLetters()).toEqual([]);

    const res = await fetch(`${cloud.endpoint}/_aws/ses`);
    const { messages } = (await res.json()) as { messages: SesMessage[] };
    const seen = new Map<string, { at: number; count: number }[]>();
    for (const m of messages) {
      expect(m.Destination.ToAddresses).toEqual(['ops@example.com']);
      expect(m.Body.html_part).toContain('<!DOCTYPE html>');
      const lines = [
        ...(m.Body.text_part ?? '').matchAll(/^- (svc-\d+) in prod: (\d+) tasks? failed — image pull$/gm),
      ];
      const single = /\] (svc-\d+) in prod: (\d+) tasks? failed — image pull$/.exec(m.Subject);
      const mentions = lines.length > 0 ? lines : single ? [single] : [];
      expect(mentions.length).toBeGreaterThan(0);
      expect(new Set(mentions.map((x) => x[1])).size).toBe(mentions.length); // a service once per email
      for (const [, service, count] of mentions) {
        seen.set(service as string, [
          ...(seen.get(service as string) ?? []),
          { at: Date.parse(m.Timestamp), count: Number(count) },
        ]);
      }
    }
    expect(seen.size).toBe(SERVICES);
    for (const [, emails] of seen) {
      expect(emails.reduce((n, e) => n + e.count, 0)).toBe(EVENTS / SERVICES); // nothing lost, nothing twice
      for (let k = 1; k < emails.length; k++)
        expect(
          (emails[k] as { at: number }).at - (emails[k - 1] as { at: number }).at,
        ).toBeGreaterThanOrEqual(10 * MIN);
    }
    console.log(
      `storm (local cloud): ${EVENTS} events + ${EVENTS / 10} duplicate deliveries → ${invocations.length} invocations, ` +
        `${messages.length} SES messages (${[...seen.values()][0]?.length} mentions per service: ` +
        `${[...seen.values()][0]?.map((e) => e.count).join(' + ')}), ${Math.round(elapsedMs)} ms real`,
    );
  }, 300_000);
});
