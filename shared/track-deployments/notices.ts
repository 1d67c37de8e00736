/**
 * The deployment notices trackDeployments sends on its schedule: the pushes named in the open index are read with
 * their records, the due notices planned (shared/outcomes/notices.ts), each claimed once (a conditional update, so
 * two runs or a duplicate delivery send it once), rendered and sent through SES, or logged in a dry run.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Config } from '../config';
import { EmailSendError, recipientChunks, sendEmail } from '../email/send';
import { errorMessage } from '../errors';
import { planNotices } from '../outcomes/notices';
import { renderNotice } from '../outcomes/render';
import type { DeploymentStore } from '../outcomes/store';

export class NoticeSendError extends EmailSendError {
  override readonly name = 'NoticeSendError';
}

export interface NoticeRun {
  sent: { eventId: string; kind: string; subject: string; deployments: number; messageIds: string[] }[];
  /** Pushes done without an email: nothing to tell at their workloads' levels. */
  closed: number;
  waiting: number;
}

export async function sendNotices(
  deps: {
    deployments: DeploymentStore;
    ses: SESv2Client;
    config: Config;
    logger: Logger;
    sleep?: (ms: number) => Promise<void>;
  },
  eventIds: readonly string[],
  now: Date,
  failures: { item: string; error: string }[],
): Promise<NoticeRun> {
  const run: NoticeRun = { sent: [], closed: 0, waiting: 0 };
  if (eventIds.length === 0) return run;
  const { config, logger, deployments } = deps;
  const groups = await deployments.groups(eventIds);
  const gone = eventIds.filter((id) => !groups.some((g) => g.eventId === id && g.notice !== 'done'));
  if (gone.length > 0) await deployments.forget({ pushes: gone });
  const records = new Map(
    (await deployments.records(groups.flatMap((g) => g.deployments))).map((r) => [r.recordId, r]),
  );
  const plan = planNotices(groups, records, now, { slowMinutes: config.notices.slowMinutes });
  run.waiting = plan.waiting;
  for (const c of plan.close) {
    if (await deployments.claimNotice(c.eventId, c.from, c.to, now.toISOString())) run.closed++;
  }

  const dryRun = config.notices.dryRun ?? config.dryRun;
  const to = config.notices.to.length > 0 ? config.notices.to : config.alerts.to;
  const chunks = recipientChunks(to);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const paceMs = Math.ceil(1000 / config.alerts.maxSendRate);
  let sends = 0;
  for (const n of plan.send) {
    if (!(await deployments.claimNotice(n.eventId, n.from, n.to, now.toISOString()))) {
      logger.info('deployment notice already sent by another run', { eventId: n.eventId, kind: n.kind });
      continue;
    }
    const email = renderNotice(n, now);
    const messageIds: string[] = [];
    if (dryRun || chunks.length === 0) {
      logger.warn(
        dryRun ? 'dry run: deployment notice not sent' : 'no recipients: deployment notice not sent',
        {
          eventId: n.eventId,
          subject: email.subject,
          ...(dryRun ? { text: email.text } : {}),
        },
      );
    } else {
      try {
        for (const chunk of chunks) {
          if (sends++ > 0) await sleep(paceMs); // SES counts every message against the account's rate
          const id = await sendEmail(deps.ses, config.alerts.from, chunk, email);
          if (id) messageIds.push(id);
        }
      } catch (err) {
        // Given back for the next run; the invocation fails naming it, after the other notices.
        await deployments.unclaimNotice(n.eventId, n.from);
        const error = new NoticeSendError(email.subject, to, err);
        logger.error('deployment notice failed', { eventId: n.eventId, error: errorMessage(error) });
        failures.push({ item: `notice ${n.eventId}`, error: errorMessage(error) });
        continue;
      }
    }
    run.sent.push({
      eventId: n.eventId,
      kind: n.kind,
      subject: email.subject,
      deployments: n.told.length,
      messageIds,
    });
    logger.info('deployment notice sent', {
      eventId: n.eventId,
      kind: n.kind,
      subject: email.subject,
      deployments: n.told.length,
      messageIds,
      dryRun,
    });
  }
  return run;
}
