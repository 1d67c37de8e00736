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
import pLimit from 'p-limit';
import { describePushedImage, livePushes, reconcilePushes } from '../aws/ecr-images';
import { serviceArnParts } from '../aws/ecs';
import { invocationBudget } from '../aws/read-budget';
import { type TargetClient, targetForArn } from '../aws/target-clients';
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
import { clustersIn, type Target, targetLabel, WorkloadScopes } from '../targets';
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
  /** The ECR client of another region of the function's account (a replica's); none: `ecr` everywhere. */
  ecrIn?: (region: string) => ECRClient;
  /**
   * The ECS client of every target (shared/aws/target-clients.ts), the home target's first; none: `ecs` in
   * `region`, the one account harborpilot is deployed to.
   */
  targets?: TargetClient<ECSClient>[];
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
  /** With targets configured: what each target read and did, or why it could not. */
  targets?: TargetSummary[];
  deployed: (ActionResult & { type: ServiceAction['type'] })[];
  planned: ServiceAction[];
  skipped: number;
  /** Services a gate holds (frozen, outside a window, awaiting approval or a scan, a failed digest). */
  held: number;
}

export interface TargetSummary {
  target: string;
  services: number;
  deployed: number;
  held: number;
  index?: RedeploySummary['index'];
  /** The target could not be read or acted in (a role that cannot be assumed, ECS refusing): what went wrong. */
  error?: string;
}

/** At most this many targets are read at once; each has its own account's ECS budget. */
const TARGET_CONCURRENCY = 8;

export function makeRedeployEcs(deps: RedeployEcsDeps) {
  const { config, logger } = deps;
  const dryRun = config.ecs.dryRun ?? config.dryRun;
  const targets: TargetClient<ECSClient>[] = deps.targets ?? [
    { target: { home: true, region: deps.region }, client: deps.ecs },
  ];
  const scopes = new WorkloadScopes(targets.map((t) => t.target));
  // Each target's fleet index under its own keys; the home target's as before targets existed.
  const fleetIndexes = new Map(
    targets.map(({ target }) => [
      target,
      new FleetIndex(deps.dynamodb, config.stateTable, Date.now, target.home ? undefined : target),
    ]),
  );
  const indexOf = (target: Target) => fleetIndexes.get(target) as FleetIndex;
  /** The target a service is in, by its ARN's account and Region: another target's, or else the home target. */
  const targetOf = (serviceArn: string) => targetForArn(targets, scopes, serviceArn);
  const holds = new HoldsStore(stateDocument(deps.dynamodb), config.stateTable);
  const holdsConfig = {
    defaultPolicy: config.ecs.defaultPolicy,
    holds: config.holds,
    scan: config.scan,
    scopes,
  };
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
        scopes,
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
    // A workload account's event (forwarded to harborpilot's bus) is read and indexed in that target.
    const { target, client } = targetOf(serviceArn);
    const taskDefinitions = new TaskDefinitionCache(client, taskDefinitionOptions);
    const service = await describeOneService(client, serviceArn, taskDefinitions);
    await taskDefinitions.save();
    await indexOf(target).updateService(serviceArn, service);
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
    }) => applyServiceAction(targetOf(action.serviceArn).client, action, taskDefinitions),
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
    // One task definition cache per target: a held service is read and moved with its own target's client.
    const caches = new Map<Target, TaskDefinitionCache>();
    const cacheOf = ({ target, client }: TargetClient<ECSClient>) => {
      let cache = caches.get(target);
      if (!cache) {
        cache = new TaskDefinitionCache(client, taskDefinitionOptions);
        caches.set(target, cache);
      }
      return cache;
    };
    const failures: { item: string; error: string }[] = [];
    const released = await releaseHeld<ServiceAction>({
      store: holds,
      logger,
      now,
      platform: 'ecs',
      dryRun,
      heldExpiryDays: config.holds.heldExpiryDays,
      replan: (item) => {
        const target = targetOf(String((item.action as Partial<ServiceAction>).serviceArn ?? ''));
        return replanEcsHold(
          { ...deps, ecs: target.client, store: holds, taskDefinitions: cacheOf(target) },
          holdsConfig,
          item,
          now,
        );
      },
      apply: async (action, key, item) => {
        summary.planned.push(action);
        const taskDefinitions = cacheOf(targetOf(action.serviceArn));
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

  /** One target's part of a push or a reconcile: its services found, planned, held or moved. */
  async function redeployIn(
    { target, client }: TargetClient<ECSClient>,
    run: TargetRun,
    o: {
      trigger: Exclude<Trigger, { kind: 'ignored' }>;
      event: unknown;
      context: Context | undefined;
      isRelevantImage: (image: string) => boolean;
      live: Promise<ReturnType<typeof livePushes>> | undefined;
    },
  ): Promise<void> {
    const { trigger, event, context, isRelevantImage } = o;
    const fleetIndex = indexOf(target);
    const labels = targets.length > 1 ? { target: targetLabel(target) } : {};
    const clusters = clustersIn(target, config.ecs.clusters, scopes);
    if (!clusters) {
      logger.info('no configured cluster in this target', { ...labels, clusters: config.ecs.clusters });
      return;
    }
    // A full scan's reads are paced (below) within this target's account's budget; the same client serves the
    // rest of the invocation unpaced.
    const budget = invocationBudget(config.ecs.maxReadsPerSecond, context);
    const pacedClient = budget.pace(client);
    // One description of each task definition, ever: gather and apply alike (apply reads tags fresh).
    const taskDefinitions = new TaskDefinitionCache(pacedClient, taskDefinitionOptions);
    const scope = target.home
      ? {
          accountId: trigger.kind === 'push' ? trigger.push.repository.accountId : trigger.account,
          region: deps.region,
        }
      : { accountId: target.accountId, region: target.region };
    // A push reads only the services the fleet index names for its repository; without an index (a new
    // install, an expired one) it scans every cluster, and that scan builds the index.
    const [indexed, live] = await Promise.all([
      trigger.kind === 'push' && !deps.withoutFleetIndex
        ? fleetIndex.lookup(trigger.push.repository, scope)
        : undefined,
      o.live,
    ]);
    if (live?.superseded) throw new SupersededPush(live.superseded);
    const options = {
      clusters,
      isRelevantImage,
      taskDefinitions,
    };
    let gathered: GatherResult;
    // The gates' freezes and failed digests of the indexed candidates, read beside their confirmation.
    let gateStore: Pick<HoldsStore, 'read'> = holds;
    if (indexed) {
      gateStore = prefetchHolds(
        holds,
        indexed.services.flatMap((s) => {
          const id = ecsWorkloadId(s.serviceArn, scopes);
          return id ? [formatWorkloadId(id)] : [];
        }),
      );
      const confirmed = await gatherIndexedServices(client, indexed.services, options);
      gathered = confirmed;
      run.index = indexed.partial ? 'partial' : 'used';
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
      run.index = turn.index;
      if (turn.pass) {
        run.pass = { turns: turn.pass.turns, clustersRemaining: turn.pass.remaining.length };
        logger.info('fleet scan pass', {
          ...labels,
          eventId: trigger.eventId,
          readsPerSecond,
          turn: turn.pass.turns,
          servicesRead: turn.services.length,
          clustersRemaining: turn.pass.remaining.length,
          passStartedAt: turn.pass.startedAt,
        });
      }
    }
    const failures = run.failures;
    failures.push(...gathered.failures);
    run.services = gathered.services.length;

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
    run.planned.push(...plan.actions);
    run.skipped = plan.skips.length;
    run.held = plan.holds.length;
    logger.info('redeploy plan', {
      ...labels,
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
        ecsPlannedHolds(plan, scopes),
        pushes,
        gated,
        now,
        logger,
        approvalNotice(deps.notifyApproval, failures),
      );
    if (!dryRun)
      failures.push(
        ...(await noticeScanHolds(scanNotices, ecsPlannedHolds(plan, scopes), gated, now, trigger.eventId)),
      );

    // apply (one failing service does not stop the others)
    if (!dryRun) {
      for (const action of plan.actions) {
        try {
          const result = await apply({ eventId: trigger.eventId, action, taskDefinitions });
          run.deployed.push({ ...result, type: action.type });
          // `serviceArn`, not `service`: Powertools reserves `service` (its own name) and drops the key.
          logger.info('service updated', { ...labels, type: action.type, ...result });
          const cause: Cause = { kind: trigger.kind, eventId: trigger.eventId };
          await recordDeployment(action, result, { cause, pushes, now }, failures);
        } catch (err) {
          logger.error('service update failed', { serviceArn: action.serviceArn, error: errorMessage(err) });
          failures.push({ item: action.serviceArn, error: errorMessage(err) });
        }
      }
    }
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
    // The tag is read once, in the registry, at the same time as each target's index: a push the tag has moved
    // on from (a late delivery, a Lambda retry after a newer push) is superseded, and the newer push's own event
    // moves the services. Acting on it would pin an older digest where a task definition pins digests. The same
    // call reads the image's scan, which the scan gate judges.
    const live =
      trigger.kind === 'push'
        ? describePushedImage(deps.ecrIn?.(trigger.push.repository.region) ?? deps.ecr, {
            ...trigger.push,
            tags: [trigger.push.tag, ...(trigger.scan?.otherTags ?? [])],
          }).then(
            (now) => livePushes(trigger.push, trigger.scan?.otherTags ?? [], now),
            (err: unknown) => {
              throw new PushReadError(err);
            },
          )
        : undefined;
    // Every target awaits it; this handler only keeps a rejection from counting as unhandled meanwhile.
    live?.catch(() => undefined);

    const failures: { item: string; error: string }[] = [];
    const runs = new Map<TargetClient<ECSClient>, TargetRun>();
    const limit = pLimit(TARGET_CONCURRENCY);
    await Promise.all(
      targets.map((t) =>
        limit(async () => {
          const run = newRun();
          runs.set(t, run);
          try {
            await redeployIn(t, run, { trigger, event, context, isRelevantImage, live });
          } catch (err) {
            // Only this target stops (a role that cannot be assumed, ECS refusing): the others go on, and the
            // invocation fails at the end naming it.
            if (err instanceof SupersededPush || err instanceof PushReadError) throw err;
            run.error = errorMessage(err, { name: false });
            logger.error('target failed', { target: targetLabel(t.target), error: run.error });
            run.failures.push({ item: targetLabel(t.target), error: run.error });
          }
        }),
      ),
    ).catch((err: unknown) => {
      // The pushed image could not be read in the registry: no target can act, the invocation fails as it is.
      if (err instanceof PushReadError) throw err.cause;
      if (!(err instanceof SupersededPush)) throw err;
      summary.superseded = err.superseded;
      logger.info('push superseded: a newer push moved the tag on', {
        eventId: trigger.eventId,
        repository: trigger.kind === 'push' ? trigger.push.repository.repositoryName : undefined,
        tag: err.superseded.tag,
        pushed: trigger.kind === 'push' ? trigger.push.digest : undefined,
        now: err.superseded.digest,
      });
    });
    if (summary.superseded) return summary;

    for (const [t, run] of runs) {
      summary.services += run.services;
      summary.deployed.push(...run.deployed);
      summary.planned.push(...run.planned);
      summary.skipped += run.skipped;
      summary.held += run.held;
      failures.push(...run.failures);
      if (t.target.home) {
        if (run.index) summary.index = run.index;
        if (run.pass) summary.pass = run.pass;
      }
    }
    if (targets.length > 1) {
      summary.targets = [...runs].map(([t, run]) => ({
        target: targetLabel(t.target),
        services: run.services,
        deployed: run.deployed.length,
        held: run.held,
        ...(run.index ? { index: run.index } : {}),
        ...(run.error ? { error: run.error } : {}),
      }));
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

/** What one target read and did in an invocation. */
interface TargetRun {
  services: number;
  deployed: (ActionResult & { type: ServiceAction['type'] })[];
  planned: ServiceAction[];
  skipped: number;
  held: number;
  index?: RedeploySummary['index'];
  pass?: RedeploySummary['pass'];
  failures: { item: string; error: string }[];
  error?: string;
}

const newRun = (): TargetRun => ({
  services: 0,
  deployed: [],
  planned: [],
  skipped: 0,
  held: 0,
  failures: [],
});

/** ECR could not say what the pushed tag points at now: the push is not handled anywhere (Lambda retries it). */
class PushReadError extends Error {
  constructor(override readonly cause: unknown) {
    super(errorMessage(cause));
  }
}

/** The tag moved on since the push: nothing is done in any target (the newer push's event acts). */
class SupersededPush extends Error {
  constructor(readonly superseded: { tag: string; digest: string }) {
    super(`superseded by ${superseded.digest}`);
  }
}
