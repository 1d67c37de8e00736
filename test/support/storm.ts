/**
 * Issue 7's alert storm through the local cloud, shared by the storm test and `npm run bench`: `events`
 * `ECS Task State Change` STOPPED events (image pull failures) spread over `services` services, one batch per
 * service every 6 simulated seconds (1 000 for 20 services: 5 minutes), every tenth delivered twice; then a
 * quarter of an hour of one-minute flushes for the windows to close.
 */

import type { LocalCloud } from '../../cli/local/cloud';
import imagePull from '../../events/ecs-task-image-pull.json';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const MINUTE = 60_000;

export interface StormRun {
  /** Deliveries of an event already delivered once (EventBridge delivers at least once). */
  duplicates: number;
  /** Real time from the first event until the windows have closed. */
  wallMs: number;
}

export async function runStorm(cloud: LocalCloud, events: number, services: number): Promise<StormRun> {
  const publishStopped = (i: number) => {
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
  const started = performance.now();
  let duplicates = 0;
  for (let i = 0; i < events; i += services) {
    for (let j = i; j < Math.min(events, i + services); j++) {
      const event = publishStopped(j);
      if (j % 10 === 0) {
        cloud.bus.publishEvent(event);
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
  return { duplicates, wallMs: performance.now() - started };
}

/** A message as GET /_aws/ses returns it. */
export interface SesMessage {
  Subject: string;
  Timestamp: string;
  Destination: { ToAddresses: string[] };
  Body: { text_part: string | null; html_part: string | null };
}

/** `svc-NN in prod: K tasks failed — image pull` in an email: a digest lists several, a single alert is its subject. */
export function stormMentions(m: SesMessage): { service: string; count: number }[] {
  const lines = [
    ...(m.Body.text_part ?? '').matchAll(/^- (svc-\d+) in prod: (\d+) tasks? failed — image pull$/gm),
  ];
  const single = /\] (svc-\d+) in prod: (\d+) tasks? failed — image pull$/.exec(m.Subject);
  const found = lines.length > 0 ? lines : single ? [single] : [];
  return found.map((x) => ({ service: x[1] as string, count: Number(x[2]) }));
}
