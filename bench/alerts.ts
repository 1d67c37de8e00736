/**
 * The alert storm of issue 7, as test/integration/alerts/storm.test.ts drives it, timed: 1 000 `ECS Task State
 * Change` STOPPED events (image pull failures) for 20 services over 5 simulated minutes, every tenth
 * delivered twice, routed by serverless.yml to alertTaskFailures, whose one-minute flush runs on the
 * simulated clock; then a quarter of an hour for the windows to close. SES is in the sandbox.
 */
import imagePull from '../events/ecs-task-image-pull.json';
import type { CloudEvent } from '../local/bus';
import { createLocalCloud } from '../local/cloud';
import { type Figure, figure } from './figures';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const MINUTE = 60_000;

export interface AlertsBenchOptions {
  services?: number;
  events?: number;
  progress?: (line: string) => void;
}

export class AlertsBenchError extends Error {
  constructor(
    message: string,
    readonly context: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AlertsBenchError';
  }
}

interface SesMessage {
  Subject: string;
  Body: { text_part: string | null };
}

/** `svc-NN in prod: K tasks failed` mentions in an email (a digest lists several, a single one is the subject). */
function mentions(m: SesMessage): { service: string; count: number }[] {
  const lines = [...(m.Body.text_part ?? '').matchAll(/^- (svc-\d+) in prod: (\d+) tasks? failed/gm)];
  const single = /\] (svc-\d+) in prod: (\d+) tasks? failed/.exec(m.Subject);
  const found = lines.length > 0 ? lines : single ? [single] : [];
  return found.map((x) => ({ service: x[1] as string, count: Number(x[2]) }));
}

export async function runAlertsBench(options: AlertsBenchOptions = {}) {
  const services = options.services ?? 20;
  const events = options.events ?? 1000;
  const log = options.progress ?? (() => {});
  const cloud = await createLocalCloud({
    port: 0,
    speed: 0,
    world: {
      clock: { start: '2026-11-25T10:00:00Z' },
      ses: { identities: ['example.com'] },
      config: { alerts: { from: 'alerts@example.com', to: ['ops@example.com'], windowMinutes: 10 } },
    },
    // 1 100 invocations' JSON logs would bury the table; the figures come from the router and SES.
    functionEnv: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
  });
  try {
    const publishStopped = (i: number): CloudEvent => {
      const service = `svc-${String(i % services).padStart(2, '0')}`;
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
    };

    log(`alerts: ${events} STOPPED events for ${services} services, every tenth twice`);
    const started = performance.now();
    let duplicates = 0;
    // 5 simulated minutes: a batch of one event per service every 6 s; the flush schedule fires each minute.
    for (let i = 0; i < events; i += services) {
      for (let j = i; j < Math.min(events, i + services); j++) {
        const event = publishStopped(j);
        if (j % 10 === 0) {
          cloud.bus.publishEvent(event); // EventBridge delivers at least once
          duplicates++;
        }
      }
      await cloud.router.waitForIdle();
      await cloud.clock.advance(6_000);
      await cloud.router.waitForIdle();
    }
    for (let m = 0; m < 15; m++) {
      await cloud.clock.advance(MINUTE);
      await cloud.router.waitForIdle();
    }
    const wallMs = performance.now() - started;

    const invocations = cloud.router.invocations().filter((i) => i.functionName === 'alertTaskFailures');
    const failed = invocations.filter((i) => i.status === 'failed').length;
    const res = await fetch(`${cloud.endpoint}/_aws/ses`);
    const { messages } = (await res.json()) as { messages: SesMessage[] };
    const counted = messages.flatMap(mentions).reduce((n, m) => n + m.count, 0);
    if (failed > 0 || counted !== events) {
      throw new AlertsBenchError(
        `storm miscounted: ${counted} of ${events} events in emails, ${failed} failed`,
        {
          failed,
          counted,
          deadLetters: cloud.router.deadLetters().length,
        },
      );
    }
    const bySchedule = invocations.filter((i) => i.trigger === 'schedule').length;
    const figures: Figure[] = [
      figure({
        bench: 'alerts',
        metric: 'events delivered',
        value: events + duplicates,
        unit: '',
        note: `${events} STOPPED + ${duplicates} duplicate deliveries, ${services} services, 5 simulated min`,
      }),
      figure({
        bench: 'alerts',
        metric: 'invocations',
        value: invocations.length,
        unit: '',
        note: `${invocations.length - bySchedule} by event, ${bySchedule} by the 1-min flush schedule; ${failed} failed`,
      }),
      figure({
        bench: 'alerts',
        metric: 'emails sent',
        value: messages.length,
        unit: '',
        note: 'SES sandbox (1/s); at most one per service per 10-min window',
      }),
      figure({
        bench: 'alerts',
        metric: 'events counted in emails',
        value: counted,
        unit: '',
        note: `must equal ${events}: duplicates not counted twice, nothing lost`,
      }),
      figure({
        bench: 'alerts',
        metric: 'storm wall time',
        value: Math.round(wallMs),
        unit: 'ms',
        note: 'real time for 20 simulated minutes (clock stepped by hand, 0 ms latency)',
      }),
    ];
    return {
      figures,
      details: {
        events,
        duplicates,
        services,
        invocations: invocations.length,
        scheduleInvocations: bySchedule,
        emails: messages.length,
        counted,
        wallMs: Math.round(wallMs),
      },
    };
  } finally {
    await cloud.stop();
  }
}
