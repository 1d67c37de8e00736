/**
 * Issue 7's storm through the local cloud, over real HTTP: 1 000 `ECS Task State Change` STOPPED events
 * (image pull failures) for 20 services in 5 simulated minutes, every tenth delivered twice, routed by the
 * serverless.yml rules to alertTaskFailures, whose one-minute flush schedule runs on the simulated clock.
 * The SES account is in the sandbox (1 message a second): the emails are read back at GET /_aws/ses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import { runStorm, type SesMessage, stormMentions } from '../../support/storm';

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

describe('storm through the local cloud', () => {
  it('1000 STOPPED events for 20 services in 5 minutes: at most one email per service per window, counts right, nothing lost', async () => {
    const { wallMs: elapsedMs } = await runStorm(cloud, EVENTS, SERVICES);

    const invocations = cloud.router.invocations().filter((i) => i.functionName === 'alertTaskFailures');
    expect(invocations.filter((i) => i.status === 'failed')).toEqual([]);
    expect(cloud.router.deadLetters()).toEqual([]);

    const res = await fetch(`${cloud.endpoint}/_aws/ses`);
    const { messages } = (await res.json()) as { messages: SesMessage[] };
    const seen = new Map<string, { at: number; count: number }[]>();
    for (const m of messages) {
      expect(m.Destination.ToAddresses).toEqual(['ops@example.com']);
      expect(m.Body.html_part).toContain('<!DOCTYPE html>');
      const mentions = stormMentions(m);
      expect(mentions.length).toBeGreaterThan(0);
      expect(new Set(mentions.map((x) => x.service)).size).toBe(mentions.length); // a service once per email
      for (const { service, count } of mentions) {
        seen.set(service, [...(seen.get(service) ?? []), { at: Date.parse(m.Timestamp), count }]);
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
