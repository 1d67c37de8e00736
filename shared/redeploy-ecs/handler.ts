/**
 * redeployEcs: an image pushed to ECR (or a reconcile schedule) → the ECS services that use the repository
 * move to it, each under its own update policy. parse → gather → plan → apply or dry-run → report.
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Context } from 'aws-lambda';
import { describePushedImage, livePushes, reconcilePushes } from '../aws/ecr-images';
import { serviceArnParts } from '../aws/ecs';
import { invocationBudget } from '../aws/read-budget';
import { TaskDefinitionCache, taskDefinitionMemory } from '../aws/task-definitions';
import { StateTableTaskDefinitions } from '../aws/task-definitions-table';
import type { Config } from '../config';
import { errorMessage, PartialFailureError } from '../errors';
import { EcsDeploymentStateChangeEvent } from '../events/ecs';
import { eventIdOf, parseEvent } from '../events/envelope';
import type { ImagePush } from '../events/image-push';
import { type PushTrigger, parsePushTrigger, relevantImages } from '../events/trigger';
import {
  type ApprovalNotice,
  approvalNotice,
  eventNow,
  fromHeldPush,
  isReleaseSchedule,
  keepHolds,
} from '../holds/plan-holds';
import { releaseHeld } from '../holds/release';
import { HoldsStore, prefetchHolds } from '../holds/store';
import { type Cause, NOTIFY_TAG } from '../outcomes/model';
import { ecsDeploymentRecord, noticeLevelOf } from '../outcomes/record';
import { DeploymentStore } from '../outcomes/store';
import { noticeScanHolds } from '../scan/notice';
import { ScanRecords } from '../scan/store';
import { stateDocument } from '../state/document';
import { idempotentAction } from '../state/idempotency';
import { ecsWorkloadId, formatWorkloadId } from '../workload';
import { type ActionResult, applyServiceAction } from './apply';
import { FleetIndex } from './fleet-index';
import { describeOneService, type GatherResult, gatherIndexedServices } from './gather';
import { ecsPlannedHolds, planRedeployWithHolds, replanEcsHold } from './holds';
import type { ServiceAction } from './model';
import { type ScanTurn, scanTurn } from './scan-pass';

export interface RedeployEcsDeps {
  ecs: ECSClient;
  ecr: ECRClient;
  dynamodb: DynamoDBClient;
  config: Config;
  logger: Logger;
  /** Told of each approval requested (the deployment notices' email hooks in here); logged either way. */
  notifyApproval?: ApprovalNotice;
  /** Sends the scan gate's email (to alerts.to); none: the email is logged. */
  ses?: SESv2Client;
  /** The function's own region: reconcile reads ECR repositories there. */
  region: string;
  /** Every push scans the fleet, as before the fleet index (the bench's baseline); never set in Lambda. */
  withoutFleetIndex?: boolean;
}

export type Trigger = PushTrigger;

export interface RedeploySummary {
  /** `index`: an ECS deployment event that updated the fleet index; `release`: the held pushes' schedule. */
  trigger: Trigger['kind'] | 'index' | 'release';
  dryRun: boolean;
  services: number;
  /**
   * How the services were found: from the fleet index (`partial` while a scan pass is still writing it), or by
   * a full scan that rebuilt it (or could not), or by one turn of a scan pass over several invocations.
   */
  index?: 'used' | 'partial' | ScanTurn['index'];
  /** A push whose tag ECR now points elsewhere: nothing done, the newer push's event acts. */
  superseded?: { tag: string; digest: string };
  /** A scan pass over several invocations: how many so far, and the clusters it has still to read. */
  pass?: { turns: number; clustersRemaining: number };
  deployed: (ActionResult & { type: ServiceAction['type'] })[];
  planned: ServiceAction[];
  skipped: number;
  /** Services a gate holds (frozen, outside a window, awaiting approval or a scan, a failed digest). */
  held: number;
}

export function makeRedeployEcs(deps: RedeployEcsDeps) {
  const { config, logger } = deps;
  const dryRun = config.ecs.dryRun ?? config.dryRun;
  const fleetIndex = new FleetIndex(deps.dynamodb, config.stateTable);
  const holds = new HoldsStore(stateDocument(deps.dynamodb), config.stateTable);
  const holdsConfig = { defaultPolicy: config.ecs.defaultPolicy, holds: config.holds, scan: config.scan };
  const outcomes = new DeploymentStore(stateDocument(deps.dynamodb), config.stateTable);

  /**
   * The deployment an action started, recorded for trackDeployments to settle and the notices to tell. A record
   * that cannot be written fails the invocation (after the rest): the retry finds the deployment done and writes it.
   */
  async function recordDeployment(
    action: ServiceAction,
    result: ActionResult,
    context: { cause: Cause; pushes: readonly ImagePush[]; now: Date },
    failures: { item: string; error: string }[],
  ): Promise<void> {
    try {
      const { level, problem } = noticeLevelOf(action.notify, config.notices.level);
      if (problem) failures.push({ item: action.serviceArn, error: `tag ${NOTIFY_TAG}: ${problem}` });
      const record = ecsDeploymentRecord(action, result, {
        ...context,
        notify: level,
        startedAt: result.deploymentCreatedAt ? new Date(result.deploymentCreatedAt) : context.now,
      });
      if (!record) {
        logger.warn('deployment not recorded: UpdateService named no PRIMARY deployment', {
          serviceArn: action.serviceArn,
        });
        return;
      }
      await outcomes.record(record);
    } catch (err) {
      logger.error('deployment record failed', { serviceArn: action.serviceArn, error: errorMessage(err) });
      failures.push({ item: action.serviceArn, error: `deployed, but not recorded: ${errorMessage(err)}` });
    }
  }
  const scanNotices = {
    records: new ScanRecords(stateDocument(deps.dynamodb), config.stateTable),
    ecr: deps.ecr,
    ses: deps.ses,
    alerts: config.alerts,
    logger,
    heldBy: 'redeployEcs',
  };

  /** An ECS deployment started: its service may run a new task definition, so its index entries follow. */
  async function updateIndex(event: unknown): Promise<RedeploySummary> {
    const e = parseEvent(EcsDeploymentStateChangeEvent, event, 'ECS Deployment State Change');
    const summary: RedeploySummary = {
      trigger: 'index',
      dryRun,
      services: 0,
      deployed: [],
      planned: [],
      skipped: 0,
      held: 0,
    };
    const serviceArn = e.resources[0];
    if (e.detail.eventName !== 'SERVICE_DEPLOYMENT_IN_PROGRESS' || !serviceArn) return summary;
    // A cluster outside ecs.clusters is not ours to index (and the role may not describe its services).
    if (!inClusters(serviceArn, config.ecs.clusters)) {
      logger.info('fleet index: service outside ecs.clusters ignored', { serviceArn, eventId: e.id });
      return summary;
    }
    const taskDefinitions = new TaskDefinitionCache(deps.ecs, taskDefinitionOptions);
    const service = await describeOneService(deps.ecs, serviceArn, taskDefinitions);
    await taskDefinitions.save();
    await fleetIndex.updateService(serviceArn, service);
    summary.services = service ? 1 : 0;
    logger.info('fleet index updated', { serviceArn, eventId: e.id, gone: service === undefined });
    return summary;
  }

  // Task definition revisions never change: kept while the container is warm and in the state table.
  const taskDefinitionOptions = {
    memory: taskDefinitionMemory(),
    store: new StateTableTaskDefinitions(deps.dynamodb, config.stateTable),
    includeTags: true,
  };
  // One record per (event, service, target images): a duplicate or retried event finds it, even while the
  // deployment it started has no task reporting a digest yet (so the running digest is no part of the key).
  // Another event for the same digest is caught by the digest comparison in the plan instead.
  const apply = idempotentAction(
    ({
      action,
      taskDefinitions,
    }: {
      eventId: string;
      action: ServiceAction;
      taskDefinitions: TaskDefinitionCache;
    }) => applyServiceAction(deps.ecs, action, taskDefinitions),
    { client: deps.dynamodb, tableName: config.stateTable },
    'redeployEcs',
    ({ eventId, action }) => ({
      eventId,
      type: action.type,
      serviceArn: action.serviceArn,
      taskDefinitionArn: action.taskDefinitionArn,
      changes: action.changes.map((c) => ({
        container: c.containerName,
        image: c.toImage,
        digest: c.toDigest,
      })),
    }),
  );

  /** The release schedule: held pushes whose gates let them through now are applied, each exactly once. */
  async function release(event: unknown): Promise<RedeploySummary> {
    const summary: RedeploySummary = {
      trigger: 'release',
      dryRun,
      services: 0,
      deployed: [],
      planned: [],
      skipped: 0,
      held: 0,
    };
    const now = eventNow(event);
    const taskDefinitions = new TaskDefinitionCache(deps.ecs, taskDefinitionOptions);
    const failures: { item: string; error: string }[] = [];
    const released = await releaseHeld<ServiceAction>({
      store: holds,
      logger,
      now,
      platform: 'ecs',
      dryRun,
      heldExpiryDays: config.holds.heldExpiryDays,
      replan: (item) => replanEcsHold({ ...deps, store: holds, taskDefinitions }, holdsConfig, item, now),
      apply: async (action, key, item) => {
        summary.planned.push(action);
        const result = await apply({ eventId: key, action, taskDefinitions });
        summary.deployed.push({ ...result, type: action.type });
        logger.info('service updated', { type: action.type, ...result });
        const cause: Cause = { kind: 'release', eventId: eventIdOf(event) };
        await recordDeployment(
          action,
          result,
          { cause, pushes: item.pushes.map(fromHeldPush), now },
          failures,
        );
      },
      failures,
    });
    summary.services = released.released.length + released.dropped.length + released.kept;
    summary.held = released.kept;
    summary.skipped = released.dropped.length;
    if (failures.length > 0) throw new PartialFailureError('redeployEcs', failures, summary.deployed.length);
    return summary;
  }

  return async function redeploy(event: unknown, context?: Context): Promise<RedeploySummary> {
    if (context) apply.registerLambdaContext(context);
    if ((event as { 'detail-type'?: unknown } | null)?.['detail-type'] === 'ECS Deployment State Change') {
      return updateIndex(event);
    }
    if (isReleaseSchedule(event)) return release(event);
    const trigger = parsePushTrigger(event);
    const summary: RedeploySummary = {
      trigger: trigger.kind,
      dryRun,
      services: 0,
      deployed: [],
      planned: [],
      skipped: 0,
      held: 0,
    };
    if (trigger.kind === 'ignored') {
      logger.info('event ignored', { reason: trigger.reason, eventId: trigger.eventId });
      return summary;
    }

    // gather
    const isRelevantImage = relevantImages(trigger, deps.region);
    // A full scan's reads are paced (below); the same client serves the rest of the invocation unpaced.
    const budget = invocationBudget(config.ecs.maxReadsPerSecond, context);
    const pacedClient = budget.pace(deps.ecs);
    // One description of each task definition, ever: gather and apply alike (apply reads tags fresh).
    const taskDefinitions = new TaskDefinitionCache(pacedClient, taskDefinitionOptions);
    const scope =
      trigger.kind === 'push'
        ? { accountId: trigger.push.repository.accountId, region: deps.region }
        : { accountId: trigger.account, region: deps.region };
    // A push reads only the services the fleet index names for its repository; without an index (a new
    // install, an expired one) it scans every cluster, and that scan builds the index.
    // The tag is read at the same time as the index: a push the tag has moved on from (a late delivery, a
    // Lambda retry after a newer push) is superseded, and the newer push's own event moves the services. Acting
    // on it would pin an older digest where a task definition pins digests. The same call reads the image's
    // scan, which the scan gate judges.
    const [indexed, pushedNow] = await Promise.all([
      trigger.kind === 'push' && !deps.withoutFleetIndex
        ? fleetIndex.lookup(trigger.push.repository, scope)
        : undefined,
      trigger.kind === 'push'
        ? describePushedImage(deps.ecr, {
            ...trigger.push,
            tags: [trigger.push.tag, ...(trigger.scan?.otherTags ?? [])],
          })
        : undefined,
    ]);
    const live =
      trigger.kind === 'push' && pushedNow
        ? livePushes(trigger.push, trigger.scan?.otherTags ?? [], pushedNow)
        : undefined;
    if (trigger.kind === 'push' && live?.superseded) {
      summary.superseded = live.superseded;
      logger.info('push superseded: a newer push moved the tag on', {
        eventId: trigger.eventId,
        repository: trigger.push.repository.repositoryName,
        tag: live.superseded.tag,
        pushed: trigger.push.digest,
        now: live.superseded.digest,
      });
      return summary;
    }
    const options = { clusters: config.ecs.clusters, isRelevantImage, taskDefinitions };
    let gathered: GatherResult;
    // The gates' freezes and failed digests of the indexed candidates, read beside their confirmation.
    let gateStore: Pick<HoldsStore, 'read'> = holds;
    if (indexed) {
      gateStore = prefetchHolds(
        holds,
        indexed.services.flatMap((s) => {
          const id = ecsWorkloadId(s.serviceArn);
          return id ? [formatWorkloadId(id)] : [];
        }),
      );
      const confirmed = await gatherIndexedServices(deps.ecs, indexed.services, options);
      gathered = confirmed;
      summary.index = indexed.partial ? 'partial' : 'used';
      // Entries the confirmation found stale are fixed: a deleted service, one that left the repository.
      for (const arn of confirmed.gone) await fleetIndex.updateService(arn, undefined);
      for (const s of confirmed.services) {
        if (!s.containers.some((c) => isRelevantImage(c.image)))
          await fleetIndex.updateService(s.serviceArn, s);
      }
    } else {
      // The full scan takes the account's ECS reads at ecs.maxReadsPerSecond, and stops in time to plan and
      // apply what it read; the clusters it had no time for are the next invocation's (a pass).
      const readsPerSecond = config.ecs.maxReadsPerSecond;
      const turn = await budget.during(() =>
        scanTurn(pacedClient, fleetIndex, scope, { ...options, readsPerSecond }),
      );
      gathered = turn;
      summary.index = turn.index;
      if (turn.pass) {
        summary.pass = { turns: turn.pass.turns, clustersRemaining: turn.pass.remaining.length };
        logger.info('fleet scan pass', {
          eventId: trigger.eventId,
          readsPerSecond,
          turn: turn.pass.turns,
          servicesRead: turn.services.length,
          clustersRemaining: turn.pass.remaining.length,
          passStartedAt: turn.pass.startedAt,
        });
      }
    }
    const failures = [...gathered.failures];
    summary.services = gathered.services.length;

    const { pushes, failures: unreadable } =
      trigger.kind === 'push'
        ? { pushes: live?.pushes ?? [trigger.push], failures: [] }
        : await reconcilePushes(
            deps.ecr,
            gathered.services.flatMap((s) => s.containers.map((c) => c.image)),
            isRelevantImage,
          );
    failures.push(...unreadable);

    // plan
    // Every service is read (counts, reconcile); a push plans only those on its repository.
    const services =
      trigger.kind === 'push'
        ? gathered.services.filter((s) => s.containers.some((c) => isRelevantImage(c.image)))
        : gathered.services;
    const now = eventNow(event);
    const { plan, gated } = await planRedeployWithHolds(gateStore, holdsConfig, services, pushes, now);
    summary.planned = plan.actions;
    summary.skipped = plan.skips.length;
    summary.held = plan.holds.length;
    logger.info('redeploy plan', {
      trigger: trigger.kind,
      eventId: trigger.eventId,
      // A scan that ended (ECR Image Scan) is the push it held, planned again.
      ...(trigger.kind === 'push' && trigger.scan ? { scanEnded: trigger.scan.status } : {}),
      dryRun,
      servicesRead: gathered.services.length,
      actions: plan.actions.map((a) => ({
        type: a.type,
        service: a.serviceArn,
        changes: a.changes.map((c) => ({
          container: c.containerName,
          from: c.fromImage,
          to: c.toImage,
          toDigest: c.toDigest,
          reason: c.reason,
        })),
      })),
      skips: plan.skips,
      holds: plan.holds.map((h) => ({ service: h.serviceArn, gate: h.hold.gate, reason: h.hold.reason })),
      errors: plan.errors,
    });
    failures.push(...plan.errors.map((e) => ({ item: e.serviceArn, error: e.error })), ...gated.problems);
    if (!dryRun)
      await keepHolds(
        holds,
        config.holds,
        ecsPlannedHolds(plan),
        pushes,
        gated,
        now,
        logger,
        approvalNotice(deps.notifyApproval, failures),
      );
    if (!dryRun)
      failures.push(
        ...(await noticeScanHolds(scanNotices, ecsPlannedHolds(plan), gated, now, trigger.eventId)),
      );

    // apply (one failing service does not stop the others)
    if (!dryRun) {
      for (const action of plan.actions) {
        try {
          const result = await apply({ eventId: trigger.eventId, action, taskDefinitions });
          summary.deployed.push({ ...result, type: action.type });
          // `serviceArn`, not `service`: Powertools reserves `service` (its own name) and drops the key.
          logger.info('service updated', { type: action.type, ...result });
          const cause: Cause = { kind: trigger.kind, eventId: trigger.eventId };
          await recordDeployment(action, result, { cause, pushes, now }, failures);
        } catch (err) {
          logger.error('service update failed', { serviceArn: action.serviceArn, error: errorMessage(err) });
          failures.push({ item: action.serviceArn, error: errorMessage(err) });
        }
      }
    }

    // report: any failure makes the invocation fail, so Lambda retries and the DLQ sees it.
    if (failures.length > 0) {
      throw new PartialFailureError('redeployEcs', failures, summary.deployed.length);
    }
    return summary;
  };
}

/** Whether a service ARN is in one of the configured clusters (a name, or a cluster ARN); all when none are. */
export function inClusters(serviceArn: string, clusters: readonly string[]): boolean {
  if (clusters.length === 0) return true;
  const arn = serviceArnParts(serviceArn);
  if (!arn) return false;
  const { partition, region, accountId, cluster } = arn;
  return clusters.some(
    (c) => c === cluster || c === `arn:${partition}:ecs:${region}:${accountId}:cluster/${cluster}`,
  );
}
