/**
 * trackDeployments: how the deployments harborpilot started ended. An `ECS Deployment State Change` (completed,
 * failed, rolling back) settles the open records of its service against ECS's service deployments; a schedule
 * settles what events missed, gives up on what never ends, and sends the deployment notices that are due.
 * parse → gather (open records, what ECS says) → settle (pure) → apply → notices → report.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { type TargetClient, targetForArn } from '../aws/target-clients';
import type { Config } from '../config';
import { EventValidationError, errorMessage, PartialFailureError } from '../errors';
import { EcsDeploymentStateChangeEvent } from '../events/ecs';
import { parseEvent } from '../events/envelope';
import { ScheduledEvent } from '../events/schedule';
import { HoldsStore } from '../holds/store';
import { applySettlement, type SettleDeps } from '../outcomes/apply';
import { observeEcs } from '../outcomes/ecs';
import { type DeploymentRecord, isSettled } from '../outcomes/model';
import { giveUp, settleEcs } from '../outcomes/settle';
import { DeploymentStore, recordId } from '../outcomes/store';
import { stateDocument } from '../state/document';
import { WorkloadScopes } from '../targets';
import { ecsWorkloadId, formatWorkloadId } from '../workload';
import { type NoticeRun, sendNotices } from './notices';

export interface TrackDeploymentsDeps {
  ecs: ECSClient;
  /** Every target's ECS client, the home target's first (shared/aws/target-clients.ts); none: `ecs` alone. */
  targets?: TargetClient<ECSClient>[];
  ses: SESv2Client;
  dynamodb: DynamoDBClient;
  config: Config;
  logger: Logger;
  /** Waits between SES sends; tests pass a fake. */
  sleep?: (ms: number) => Promise<void>;
}

export interface TrackSummary {
  trigger: 'ecs' | 'schedule';
  /** Records this run looked at (open ones of the event's service, or every open one). */
  open: number;
  settled: { workload: string; deployment: string; outcome: string }[];
  /** The schedule's deployment notices. */
  notices?: NoticeRun;
}

export function makeTrackDeployments(deps: TrackDeploymentsDeps) {
  const { config, logger } = deps;
  const targets = deps.targets ?? [{ target: { home: true as const, region: '' }, client: deps.ecs }];
  const scopes = new WorkloadScopes(targets.map((t) => t.target));
  const doc = stateDocument(deps.dynamodb);
  const deployments = new DeploymentStore(doc, config.stateTable);
  const settleDeps: SettleDeps = {
    deployments,
    holds: new HoldsStore(doc, config.stateTable),
    failedDigestDays: config.holds.failedDigestDays,
    logger,
  };

  /** The open records among these index names; names of settled or expired records leave the index. */
  async function openRecords(ids: readonly string[]): Promise<DeploymentRecord[]> {
    const records = await deployments.records(ids);
    const open = records.filter((r) => !isSettled(r));
    const stale = ids.filter((id) => !open.some((r) => r.recordId === id));
    if (stale.length > 0) await deployments.forget({ deployments: stale });
    return open;
  }

  /** Settles the ECS records ECS now says have ended; `event` is the ECS event being handled, if any. */
  async function settleEcsRecords(
    records: readonly DeploymentRecord[],
    now: Date,
    summary: TrackSummary,
    failures: { item: string; error: string }[],
    event?: { deploymentId: string; eventName: string; reason?: string; time: string },
  ): Promise<void> {
    // Each target's records are read with its own client (a batch never mixes accounts or Regions).
    const byTarget = new Map<TargetClient<ECSClient>, DeploymentRecord[]>();
    for (const r of records) {
      const t = targetForArn(targets, scopes, r.serviceArn ?? '');
      byTarget.set(t, [...(byTarget.get(t) ?? []), r]);
    }
    const observed: Awaited<ReturnType<typeof observeEcs>> = {
      observations: new Map(),
      found: new Map(),
      failures: [],
    };
    for (const [t, rs] of byTarget) {
      const one = await observeEcs(t.client, rs);
      for (const [k, v] of one.observations) observed.observations.set(k, v);
      for (const [k, v] of one.found) observed.found.set(k, v);
      observed.failures.push(...one.failures);
    }
    failures.push(...observed.failures);
    for (const r of records) {
      if (observed.failures.some((f) => f.item === r.recordId)) continue;
      try {
        const o = { ...(observed.observations.get(r.recordId) ?? {}) };
        if (event && event.deploymentId === r.ref)
          o.event = {
            eventName: event.eventName,
            time: event.time,
            ...(event.reason ? { reason: event.reason } : {}),
          };
        const s = settleEcs(r, o, now);
        if (!s) {
          const found = observed.found.get(r.recordId);
          if (found) await deployments.noteServiceDeployment(r.recordId, found);
          continue;
        }
        if (await applySettlement(settleDeps, r, s))
          summary.settled.push({ workload: r.workload, deployment: r.ref, outcome: s.state });
      } catch (err) {
        logger.error('deployment not settled', {
          workload: r.workload,
          deployment: r.ref,
          error: errorMessage(err),
        });
        failures.push({ item: r.recordId, error: errorMessage(err) });
      }
    }
  }

  async function onDeploymentEvent(event: unknown): Promise<TrackSummary> {
    const e = parseEvent(EcsDeploymentStateChangeEvent, event, 'ECS Deployment State Change');
    const summary: TrackSummary = { trigger: 'ecs', open: 0, settled: [] };
    const workload = ecsWorkloadId(e.resources[0] ?? '', scopes);
    if (!workload) {
      logger.info('event ignored: no service ARN in resources', { eventId: e.id, resources: e.resources });
      return summary;
    }
    // A rollback's event names the new deployment, not the one that failed: every open record of the service is
    // looked at, and ECS's service deployments say which ended how.
    const prefix = recordId(formatWorkloadId(workload), '');
    const { deployments: ids } = await deployments.open();
    const records = await openRecords(ids.filter((id) => id.startsWith(prefix)));
    summary.open = records.length;
    if (records.length === 0) {
      logger.info('no open deployment harborpilot started on this service', {
        eventId: e.id,
        workload: formatWorkloadId(workload),
        eventName: e.detail.eventName,
        deploymentId: e.detail.deploymentId,
      });
      return summary;
    }
    const failures: { item: string; error: string }[] = [];
    await settleEcsRecords(records, new Date(e.time), summary, failures, {
      deploymentId: e.detail.deploymentId,
      eventName: e.detail.eventName,
      time: e.detail.updatedAt,
      ...(e.detail.reason ? { reason: e.detail.reason } : {}),
    });
    logger.info('deployment event handled', {
      eventId: e.id,
      eventName: e.detail.eventName,
      deploymentId: e.detail.deploymentId,
      open: records.length,
      settled: summary.settled,
    });
    if (failures.length > 0)
      throw new PartialFailureError('trackDeployments', failures, summary.settled.length);
    return summary;
  }

  async function onSchedule(event: unknown): Promise<TrackSummary> {
    const e = parseEvent(ScheduledEvent, event, 'Scheduled Event');
    const now = new Date(e.time);
    const summary: TrackSummary = { trigger: 'schedule', open: 0, settled: [] };
    const failures: { item: string; error: string }[] = [];
    const index = await deployments.open();
    const records = await openRecords(index.deployments);
    summary.open = records.length;
    await settleEcsRecords(
      records.filter((r) => r.platform === 'ecs'),
      now,
      summary,
      failures,
    );
    // rollEks settles the rollouts it starts (it reads the workloads); here only those that never end.
    for (const r of records.filter((x) => x.platform === 'eks')) {
      const s = giveUp(r, now);
      if (s && (await applySettlement(settleDeps, r, s)))
        summary.settled.push({ workload: r.workload, deployment: r.ref, outcome: s.state });
    }
    summary.notices = await sendNotices({ ...deps, deployments }, index.pushes, now, failures);
    if (records.length > 0 || index.pushes.length > 0)
      logger.info('deployments tracked', {
        eventId: e.id,
        open: records.length,
        settled: summary.settled,
        notices: summary.notices,
      });
    if (failures.length > 0)
      throw new PartialFailureError('trackDeployments', failures, summary.settled.length);
    return summary;
  }

  return async function trackDeployments(event: unknown): Promise<TrackSummary> {
    const e = (event ?? {}) as { source?: unknown; 'detail-type'?: unknown };
    if (e['detail-type'] === 'ECS Deployment State Change') return onDeploymentEvent(event);
    if (e.source === 'aws.events') return onSchedule(event);
    throw new EventValidationError('trackDeployments', [
      `detail-type: expected ECS Deployment State Change or a Scheduled Event, got ${JSON.stringify(e['detail-type'])}`,
    ]);
  };
}
