/**
 * The alert storm of issue 7, timed, driven by test/support/storm.ts exactly as the storm test drives it:
 * 1 000 `ECS Task State Change` STOPPED events (image pull failures) for 20 services over 5 simulated minutes,
 * every tenth delivered twice, routed by serverless.yml to alertTaskFailures, whose one-minute flush runs on
 * the simulated clock; then a quarter of an hour for the windows to close. SES is in the sandbox.
 */
import { createLocalCloud } from '../cli/local/cloud';
import { runStorm, type SesMessage, stormMentions } from '../test/support/storm';
import { type Figure, figure } from './figures';

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
    log(`alerts: ${events} STOPPED events for ${services} services, every tenth twice`);
    const { duplicates, wallMs } = await runStorm(cloud, events, services);

    const invocations = cloud.router.invocations().filter((i) => i.functionName === 'alertTaskFailures');
    const failed = invocations.filter((i) => i.status === 'failed').length;
    const res = await fetch(`${cloud.endpoint}/_aws/ses`);
    const { messages } = (await res.json()) as { messages: SesMessage[] };
    const counted = messages.flatMap(stormMentions).reduce((n, m) => n + m.count, 0);
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
