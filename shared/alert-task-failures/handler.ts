/**
 * alertTaskFailures: ECS events → classified failures counted in per-key windows (DynamoDB); a schedule
 * flushes the windows that are due into paced SES emails. parse → classify → record, or parse → gather
 * (open windows) → plan (due, emails) → claim → send → mark sent.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Config } from '../config';
import { EmailSendError, recipientChunks, sendEmail } from '../email/send';
import { EventValidationError, errorMessage } from '../errors';
import {
  EcsDeploymentStateChangeEvent,
  type EcsEvent,
  EcsServiceActionEvent,
  EcsTaskStateChangeEvent,
} from '../events/ecs';
import { parseEvent } from '../events/envelope';
import { ScheduledEvent } from '../events/schedule';
import { classify } from './classify';
import type { Classification } from './model';
import { alertWindows, type Email, planEmails, planFlush } from './plan';
import { accountNamer, render } from './render';
import { AlertStore, type AlertWindow, type RecordResult } from './store';

export interface AlertTaskFailuresDeps {
  dynamodb: DynamoDBClient;
  ses: SESv2Client;
  config: Config;
  logger: Logger;
  /** Waits between SES sends; tests pass a fake. */
  sleep?: (ms: number) => Promise<void>;
}

export type Trigger = { kind: 'ecs'; event: EcsEvent } | { kind: 'flush'; nowMs: number; eventId: string };

export type AlertSummary =
  | { trigger: 'ecs'; classification: Classification; record?: RecordResult }
  | {
      trigger: 'flush';
      dryRun: boolean;
      due: number;
      waiting: number;
      emails: {
        subject: string;
        recipients: number;
        alerts: number;
        failures: number;
        messageIds: string[];
      }[];
    };

const ECS_SCHEMAS = {
  'ECS Task State Change': EcsTaskStateChangeEvent,
  'ECS Deployment State Change': EcsDeploymentStateChangeEvent,
  'ECS Service Action': EcsServiceActionEvent,
} as const;

export function parseTrigger(event: unknown): Trigger {
  const e = (event ?? {}) as { source?: unknown; 'detail-type'?: unknown };
  if (e.source === 'aws.events') {
    const s = parseEvent(ScheduledEvent, event, 'Scheduled Event');
    return { kind: 'flush', nowMs: Date.parse(s.time), eventId: s.id };
  }
  const detailType = e['detail-type'];
  if (typeof detailType === 'string' && detailType in ECS_SCHEMAS) {
    const schema = ECS_SCHEMAS[detailType as keyof typeof ECS_SCHEMAS];
    return { kind: 'ecs', event: parseEvent(schema, event, detailType) as EcsEvent };
  }
  throw new EventValidationError('alertTaskFailures', [
    `detail-type: expected ${Object.keys(ECS_SCHEMAS).join(', ')} or a Scheduled Event, got ${JSON.stringify(detailType)}`,
  ]);
}

export class AlertSendError extends EmailSendError {
  override readonly name = 'AlertSendError';
}

export function makeAlertTaskFailures(deps: AlertTaskFailuresDeps) {
  const { config, logger } = deps;
  const alerts = config.alerts;
  const dryRun = alerts.dryRun ?? config.dryRun;
  const store = new AlertStore(deps.dynamodb, config.stateTable);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const paceMs = Math.ceil(1000 / alerts.maxSendRate);
  const windowMs = alerts.windowMinutes * 60_000;
  // Events forwarded from workload accounts: their emails name the account (docs/organisation.md).
  const accountOf = accountNamer(config.targets);

  async function onEcsEvent(event: EcsEvent): Promise<AlertSummary> {
    const classification = classify(event);
    if (classification.kind === 'not-a-failure') {
      logger.info('not a failure', { eventId: event.id, reason: classification.reason });
      return { trigger: 'ecs', classification };
    }
    const occ = classification.occurrence;
    const record = await store.record(occ, Date.parse(event.time));
    logger.info(record.result === 'counted' ? 'failure counted' : 'duplicate delivery ignored', {
      eventId: event.id,
      alertClass: occ.alertClass,
      cluster: occ.group.clusterName,
      account: occ.group.accountId,
      region: occ.group.region,
      // Not `service`: Powertools reserves that key for the logger's own service name and drops ours.
      ...(occ.group.kind === 'service' ? { ecsService: occ.group.name } : { taskFamily: occ.group.name }),
      resource: occ.resourceArn,
      ...record,
    });
    return { trigger: 'ecs', classification, record };
  }

  async function flush(nowMs: number, eventId: string): Promise<AlertSummary> {
    const { windows, keys } = await store.openWindows();
    const plan = planFlush(windows, keys, nowMs, windowMs);
    const claimed: AlertWindow[] = [];
    for (const w of plan.due) {
      const c = await store.claim(w, nowMs);
      if (c) claimed.push(c);
    }
    const emails = planEmails(claimed, { digestAbove: alerts.digestAbove, digestSize: 50 });
    const summary: AlertSummary = {
      trigger: 'flush',
      dryRun,
      due: plan.due.length,
      waiting: plan.waiting.length,
      emails: [],
    };
    const chunks = recipientChunks(alerts.to);
    let sends = 0;
    for (const [i, email] of emails.entries()) {
      const rendered = render(email, {
        windowMinutes: alerts.windowMinutes,
        ...(accountOf ? { accountOf } : {}),
      });
      const windowsOf = windowsIn(email);
      const failures = windowsOf.reduce((n, w) => n + w.count, 0);
      const messageIds: string[] = [];
      if (dryRun || chunks.length === 0) {
        logger.warn(dryRun ? 'dry run: alert email not sent' : 'alerts.to is empty: alert email not sent', {
          subject: rendered.subject,
          failures,
          // The dry run is how a team previews its emails; without recipients the subject says enough.
          ...(dryRun ? { text: rendered.text } : {}),
        });
      } else {
        // Chunks every window of this email already got before a failed send (a retry starts after them).
        const done = Math.min(...windowsOf.map((w) => w.chunksSent ?? 0));
        for (const [j, to] of chunks.entries()) {
          if (j < done) continue;
          if (sends++ > 0) await sleep(paceMs); // SES counts every message against the account's rate
          try {
            const id = await sendEmail(deps.ses, alerts.from, to, rendered);
            if (id) messageIds.push(id);
            // Only between chunks: the last one is recorded by markSent, so one chunk costs no extra write.
            if (j < chunks.length - 1) await store.markChunksSent(windowsOf, j + 1);
          } catch (err) {
            // Give back every claim not yet sent, so the next flush sends it, then fail loudly.
            const unsent = emails.slice(i).flatMap(windowsIn);
            for (const w of unsent) await store.release(w);
            logger.error('alert email failed', {
              subject: rendered.subject,
              error: errorMessage(err),
              eventId,
            });
            throw new AlertSendError(rendered.subject, to, err);
          }
        }
      }
      await store.markSent(windowsOf, nowMs);
      summary.emails.push({
        subject: rendered.subject,
        recipients: alerts.to.length,
        alerts: email.kind === 'alert' ? 1 : email.alerts.length,
        failures,
        messageIds,
      });
      logger.info('alert email sent', { subject: rendered.subject, failures, messageIds, dryRun });
    }
    logger.info('alert flush', {
      eventId,
      due: summary.due,
      waiting: summary.waiting,
      emails: emails.length,
    });
    return summary;
  }

  return async function alertTaskFailures(event: unknown): Promise<AlertSummary> {
    const trigger = parseTrigger(event);
    return trigger.kind === 'flush' ? flush(trigger.nowMs, trigger.eventId) : onEcsEvent(trigger.event);
  };
}

function windowsIn(email: Email): AlertWindow[] {
  return email.kind === 'alert' ? alertWindows(email.alert) : email.alerts.flatMap(alertWindows);
}
