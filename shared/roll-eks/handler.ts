/**
 * rollEks: an image pushed to ECR (or a reconcile schedule) → the Deployments, StatefulSets and DaemonSets on
 * EKS that use the repository are patched to the new digest, each under its own policy annotation.
 * parse → gather (per cluster) → settle the rollouts it started before → plan (pure) → patch or dry-run → record
 * and report rollouts.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { EKSClient } from '@aws-sdk/client-eks';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Context } from 'aws-lambda';
import { describePushedImage, livePushes, reconcilePushes } from '../aws/ecr-images';
import { type EksConnector, eksClusterNames, makeEksConnector } from '../aws/eks-connect';
import type { KubeClient } from '../aws/kube';
import type { TargetClient } from '../aws/target-clients';
import type { Config } from '../config';
import { errorMessage, PartialFailureError } from '../errors';
import { eventIdOf } from '../events/envelope';
import type { ImagePush } from '../events/image-push';
import { parsePushTrigger, relevantImages } from '../events/trigger';
import {
  type ApprovalNotice,
  approvalNotice,
  eventNow,
  fromHeldPush,
  isReleaseSchedule,
  keepHolds,
} from '../holds/plan-holds';
import { releaseHeld } from '../holds/release';
import { HoldsStore } from '../holds/store';
import { applySettlement, type SettleDeps } from '../outcomes/apply';
import { type Cause, type DeploymentRecord, isSettled, NOTIFY_ANNOTATION } from '../outcomes/model';
import { eksDeploymentRecord, noticeLevelOf } from '../outcomes/record';
import { type EksObservation, settleEks } from '../outcomes/settle';
import { DeploymentStore, recordId } from '../outcomes/store';
import { noticeScanHolds } from '../scan/notice';
import { ScanRecords } from '../scan/store';
import { stateDocument } from '../state/document';
import { idempotentAction } from '../state/idempotency';
import { targetLabel } from '../targets';
import { eksWorkloadId, formatWorkloadId } from '../workload';
import { gatherWorkloads } from './gather';
import { type ClusterRef, eksPlannedHolds, planRollWithHolds, replanEksHold } from './holds';
import { clusterKey, type RolloutStatus, type Workload, type WorkloadAction, workloadKey } from './model';
import { rolloutStatus } from './rollout';

export interface RollEksDeps {
  eks: EKSClient;
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
   * The EKS client of every target (shared/aws/target-clients.ts), the home target's first; none: `eks` alone.
   * Another target's clusters are reached with its client's credentials (its role): DescribeCluster there, and
   * the Kubernetes token signed with them, which the cluster's access entry for that role admits (docs/eks.md).
   */
  targets?: TargetClient<EKSClient>[];
  /** Default: DescribeCluster + presigned STS token with the EKS client's credentials. */
  connect?: EksConnector;
  /** Real-time wait between rollout checks, and the clock its deadline is read from (tests pass fakes). */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface PatchedWorkload {
  workload: string;
  changes: { container: string; from: string; to: string }[];
  rollout: RolloutStatus;
}

export interface RollSummary {
  /** `release`: the held pushes' schedule. */
  trigger: 'push' | 'reconcile' | 'ignored' | 'release';
  dryRun: boolean;
  clusters: string[];
  workloads: number;
  planned: WorkloadAction[];
  patched: PatchedWorkload[];
  skipped: number;
  /** Workloads a gate holds (frozen, outside a window, awaiting approval or a scan, a failed digest). */
  held: number;
  /** A push whose tag ECR now points elsewhere: nothing done, the newer push's event acts. */
  superseded?: { tag: string; digest: string };
}

const PLURAL = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' } as const;
const POLL_MS = 2000;
/** Time kept back from the Lambda timeout to log and return after waiting for rollouts. */
const LAMBDA_MARGIN_MS = 10_000;

export function workloadPath(w: { kind: keyof typeof PLURAL; namespace: string; name: string }): string {
  return `/apis/apps/v1/namespaces/${w.namespace}/${PLURAL[w.kind]}/${w.name}`;
}

export function makeRollEks(deps: RollEksDeps) {
  const { config, logger } = deps;
  const dryRun = config.eks.dryRun ?? config.dryRun;
  const targets: TargetClient<EKSClient>[] = deps.targets ?? [
    { target: { home: true, region: deps.region }, client: deps.eks },
  ];
  const homeConnect = deps.connect ?? makeEksConnector({ eks: deps.eks });
  // One connector per target: DescribeCluster and tokens with that target's credentials.
  const connectors = new Map(
    targets.map(({ target, client }) => [
      target.home ? '' : `${target.accountId}/${target.region}`,
      target.home ? homeConnect : makeEksConnector({ eks: client }),
    ]),
  );
  const connect = ({ cluster, scope }: ClusterRef) => {
    const connector = connectors.get(scope ? `${scope.accountId}/${scope.region}` : '');
    if (!connector) throw new Error(`no target for ${clusterKey({ cluster, scope })}`);
    return connector(cluster);
  };
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = deps.now ?? Date.now;
  const kubes = new Map<string, KubeClient>();
  const holds = new HoldsStore(stateDocument(deps.dynamodb), config.stateTable);
  const holdsConfig = { defaultPolicy: config.eks.defaultPolicy, holds: config.holds, scan: config.scan };
  const outcomes = new DeploymentStore(stateDocument(deps.dynamodb), config.stateTable);
  const settleDeps: SettleDeps = {
    deployments: outcomes,
    holds,
    failedDigestDays: config.holds.failedDigestDays,
    logger,
  };
  const scanNotices = {
    records: new ScanRecords(stateDocument(deps.dynamodb), config.stateTable),
    ecr: deps.ecr,
    ses: deps.ses,
    alerts: config.alerts,
    logger,
    heldBy: 'rollEks',
  };

  // The action is the whole change (workload, from, to): a duplicate event finds its record and patches nothing,
  // and gets the generation the first patch made.
  const patch = idempotentAction(
    async (action: WorkloadAction) => {
      const kube = kubes.get(clusterKey(action));
      if (!kube) throw new Error(`no connection to ${clusterKey(action)}`);
      const out = await kube.patch<{ metadata?: { generation?: unknown; uid?: unknown } } | undefined>(
        workloadPath(action),
        action.patch,
        'strategic',
      );
      const generation = out?.metadata?.generation;
      const uid = out?.metadata?.uid;
      return {
        workload: workloadKey(action),
        ...(typeof generation === 'number' ? { generation } : {}),
        // A workload deleted and made again starts its generations over: its uid tells the two apart.
        ...(typeof uid === 'string' ? { uid } : {}),
      };
    },
    { client: deps.dynamodb, tableName: config.stateTable },
    'rollEks',
  );

  /**
   * The rollout a patch started, recorded to be settled (here, as rollouts are watched or read later) and told by
   * the notices. A record that cannot be written fails the invocation after the rest; the retry patches nothing
   * and writes it.
   */
  async function recordRollout(
    action: WorkloadAction,
    patched: { generation?: number; uid?: string },
    context: { cause: Cause; pushes: readonly ImagePush[]; now: Date },
    failures: { item: string; error: string }[],
  ): Promise<DeploymentRecord | undefined> {
    const key = workloadKey(action);
    try {
      const { level, problem } = noticeLevelOf(action.notify, config.notices.level);
      if (problem) failures.push({ item: key, error: `annotation ${NOTIFY_ANNOTATION}: ${problem}` });
      if (patched.generation === undefined) {
        logger.warn('rollout not recorded: the patch answered no generation', { workload: key });
        return undefined;
      }
      const record = eksDeploymentRecord(action, patched.generation, patched.uid, {
        ...context,
        notify: level,
        startedAt: context.now,
      });
      await outcomes.record(record);
      return record;
    } catch (err) {
      logger.error('rollout record failed', { workload: key, error: errorMessage(err) });
      failures.push({ item: key, error: `patched, but not recorded: ${errorMessage(err)}` });
      return undefined;
    }
  }

  /** Settles a recorded rollout that has ended; failures are the invocation's. */
  async function settle(
    record: DeploymentRecord,
    observed: EksObservation | 'gone',
    at: Date,
    failures: { item: string; error: string }[],
  ): Promise<void> {
    const s = settleEks(record, observed, at);
    if (!s) return;
    try {
      await applySettlement(settleDeps, record, s);
    } catch (err) {
      failures.push({ item: record.workload, error: `rollout not settled: ${errorMessage(err)}` });
    }
  }

  /**
   * The open rollouts of the workloads just read, settled from what they show now (before planning: a rollout
   * that failed holds its digest in this very plan). One GetItem of the open index, and a batch of records.
   */
  async function settleRead(
    workloads: readonly Workload[],
    at: Date,
    failures: { item: string; error: string }[],
  ): Promise<void> {
    const rolled = workloads.filter((w) => w.rolled !== undefined);
    if (rolled.length === 0) return;
    try {
      const byId = new Map(rolled.map((w) => [formatWorkloadId(eksWorkloadId(w)), w]));
      const { deployments: ids } = await outcomes.open();
      const open = (
        await outcomes.records(
          ids.filter((id) => [...byId.keys()].some((w) => id.startsWith(recordId(w, '')))),
        )
      ).filter((r) => !isSettled(r));
      for (const r of open) {
        const w = byId.get(r.workload);
        if (!w) continue;
        const images = Object.fromEntries(w.containers.map((c) => [c.name, c.image]));
        await settle(r, { images, rollout: w.rollout }, at, failures);
      }
    } catch (err) {
      failures.push({ item: 'rollout records', error: errorMessage(err) });
    }
  }

  async function waitForRollout(
    action: WorkloadAction,
    deadline: number,
  ): Promise<{ status: RolloutStatus; images: Record<string, string> }> {
    const kube = kubes.get(clusterKey(action)) as KubeClient;
    for (;;) {
      const object = await kube.get(workloadPath(action));
      const status = rolloutStatus(action.kind, object);
      if (status.state !== 'progressing' || now() + POLL_MS > deadline)
        return { status, images: imagesOf(object) };
      await sleep(POLL_MS);
    }
  }

  /** The release schedule: held pushes whose gates let them through now are patched, each exactly once. */
  async function release(event: unknown): Promise<RollSummary> {
    const summary: RollSummary = {
      trigger: 'release',
      dryRun,
      clusters: [],
      workloads: 0,
      planned: [],
      patched: [],
      skipped: 0,
      held: 0,
    };
    const at = eventNow(event);
    const failures: { item: string; error: string }[] = [];
    const connectOnce = async (ref: ClusterRef) => {
      const known = kubes.get(clusterKey(ref));
      if (known) return known;
      const kube = await connect(ref);
      kubes.set(clusterKey(ref), kube);
      return kube;
    };
    const released = await releaseHeld<WorkloadAction>({
      store: holds,
      logger,
      now: at,
      platform: 'eks',
      dryRun,
      heldExpiryDays: config.holds.heldExpiryDays,
      replan: (item) =>
        replanEksHold({ ecr: deps.ecr, store: holds, connect: connectOnce }, holdsConfig, item, at),
      apply: async (action, _key, item) => {
        summary.planned.push(action);
        const patched = await patch(action);
        const cause: Cause = { kind: 'release', eventId: eventIdOf(event) };
        await recordRollout(
          action,
          patched,
          { cause, pushes: item.pushes.map(fromHeldPush), now: at },
          failures,
        );
        const changes = action.changes.map((c) => ({
          container: c.containerName,
          from: c.fromImage,
          to: c.toImage,
        }));
        // Patched: the rollout is followed by the next reconcile's report, not waited for here (every minute).
        summary.patched.push({
          workload: workloadKey(action),
          changes,
          rollout: { state: 'progressing', message: 'patched' },
        });
        logger.info('workload patched', { workload: workloadKey(action), changes });
      },
      failures,
    });
    summary.workloads = released.released.length + released.dropped.length + released.kept;
    summary.held = released.kept;
    summary.skipped = released.dropped.length;
    return finish(summary, failures);
  }

  return async function roll(event: unknown, context?: Context): Promise<RollSummary> {
    if (context) patch.registerLambdaContext(context);
    if (isReleaseSchedule(event)) return release(event);
    const trigger = parsePushTrigger(event);
    const summary: RollSummary = {
      trigger: trigger.kind,
      dryRun,
      clusters: [],
      workloads: 0,
      planned: [],
      patched: [],
      skipped: 0,
      held: 0,
    };
    if (trigger.kind === 'ignored') {
      logger.info('event ignored', { reason: trigger.reason, eventId: trigger.eventId });
      return summary;
    }
    // rollEks pins the digest in the image it sets (repo:tag@sha256:…): a push the tag has moved on from (a late
    // delivery, a Lambda retry after a newer push) would move workloads back to the older digest. The newer
    // push's own event moves them. The same call reads the image's scan, which the scan gate judges.
    let triggerPushes: ImagePush[] = [];
    if (trigger.kind === 'push') {
      const otherTags = trigger.scan?.otherTags ?? [];
      const pushedNow = await describePushedImage(deps.ecrIn?.(trigger.push.repository.region) ?? deps.ecr, {
        ...trigger.push,
        tags: [trigger.push.tag, ...otherTags],
      });
      const live = livePushes(trigger.push, otherTags, pushedNow);
      if (live.superseded) {
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
      triggerPushes = live.pushes;
    }

    // gather: one cluster that cannot be read does not stop the others.
    const failures: { item: string; error: string }[] = [];
    const isRelevantImage = relevantImages(trigger, deps.region);
    const workloads: Workload[] = [];
    // Every target's clusters (docs/organisation.md); one target or cluster failing does not stop the others.
    for (const { target, client } of targets) {
      const scope = target.home ? undefined : { accountId: target.accountId, region: target.region };
      let names: string[];
      try {
        names = await eksClusterNames(client, config.eks.clusters);
      } catch (err) {
        failures.push({ item: targetLabel(target), error: errorMessage(err, { name: false }) });
        continue;
      }
      for (const cluster of names) {
        const ref = { cluster, scope };
        summary.clusters.push(clusterKey(ref));
        try {
          const kube = await connect(ref);
          kubes.set(clusterKey(ref), kube);
          workloads.push(
            ...(await gatherWorkloads(kube, { namespaces: config.eks.namespaces, isRelevantImage, scope })),
          );
        } catch (err) {
          failures.push({ item: `cluster ${clusterKey(ref)}`, error: errorMessage(err) });
        }
      }
    }
    summary.workloads = workloads.length;
    const at = eventNow(event);
    await settleRead(workloads, at, failures);
    for (const w of workloads) {
      if (w.rolled !== undefined && w.rollout.state === 'failed') {
        logger.error('rollout failed', {
          workload: workloadKey(w),
          images: w.rolled,
          detail: w.rollout.message,
        });
      }
    }

    const { pushes, failures: unreadable } =
      trigger.kind === 'push'
        ? { pushes: triggerPushes, failures: [] }
        : await reconcilePushes(
            deps.ecr,
            workloads.flatMap((w) => w.containers.map((c) => c.image)),
            isRelevantImage,
          );
    failures.push(...unreadable);

    // plan
    const { plan, gated } = await planRollWithHolds(holds, holdsConfig, workloads, pushes, at);
    summary.planned = plan.actions;
    summary.skipped = plan.skips.length;
    summary.held = plan.holds.length;
    logger.info('roll plan', {
      trigger: trigger.kind,
      eventId: trigger.eventId,
      // A scan that ended (ECR Image Scan) is the push it held, planned again.
      ...(trigger.kind === 'push' && trigger.scan ? { scanEnded: trigger.scan.status } : {}),
      dryRun,
      clusters: summary.clusters,
      workloadsRead: workloads.length,
      actions: plan.actions.map((a) => ({
        workload: workloadKey(a),
        changes: a.changes.map((c) => ({
          container: c.containerName,
          from: c.fromImage,
          to: c.toImage,
          fromDigest: c.fromDigest,
          reason: c.reason,
        })),
      })),
      skips: plan.skips.map((s) => ({ workload: workloadKey(s), reason: s.reason })),
      holds: plan.holds.map((h) => ({ workload: workloadKey(h), gate: h.hold.gate, reason: h.hold.reason })),
      errors: plan.errors,
    });
    failures.push(...plan.errors.map((e) => ({ item: workloadKey(e), error: e.error })), ...gated.problems);
    if (dryRun) return finish(summary, failures);
    await keepHolds(
      holds,
      config.holds,
      eksPlannedHolds(plan),
      pushes,
      gated,
      at,
      logger,
      approvalNotice(deps.notifyApproval, failures),
    );
    failures.push(...(await noticeScanHolds(scanNotices, eksPlannedHolds(plan), gated, at, trigger.eventId)));

    // Patch every workload first, then watch all rollouts at once under one deadline: waiting for each in turn
    // could outlast the Lambda timeout. A failed rollout is reported, not retried: the patch is done.
    const applied: { action: WorkloadAction; record?: DeploymentRecord }[] = [];
    const cause: Cause = { kind: trigger.kind, eventId: trigger.eventId };
    for (const action of plan.actions) {
      try {
        const record = await recordRollout(action, await patch(action), { cause, pushes, now: at }, failures);
        applied.push({ action, ...(record ? { record } : {}) });
      } catch (err) {
        logger.error('workload patch failed', { workload: workloadKey(action), error: errorMessage(err) });
        failures.push({ item: workloadKey(action), error: errorMessage(err) });
      }
    }
    const budgetMs = Math.min(
      config.eks.rolloutWaitSeconds * 1000,
      context ? context.getRemainingTimeInMillis() - LAMBDA_MARGIN_MS : Number.POSITIVE_INFINITY,
    );
    const started = now();
    const deadline = started + Math.max(0, budgetMs);
    await Promise.all(
      applied.map(async ({ action, record }) => {
        const key = workloadKey(action);
        const changes = action.changes.map((c) => ({
          container: c.containerName,
          from: c.fromImage,
          to: c.toImage,
        }));
        try {
          const { status: rollout, images } = await waitForRollout(action, deadline);
          summary.patched.push({ workload: key, changes, rollout });
          // Watched to its end: settled now (a rollout still progressing is settled by a later run that reads it).
          if (record)
            await settle(record, { images, rollout }, new Date(at.getTime() + (now() - started)), failures);
          const line = { workload: key, changes, rollout: rollout.state, detail: rollout.message };
          if (rollout.state === 'failed') logger.error('rollout failed', line);
          else logger.info(rollout.state === 'complete' ? 'rollout complete' : 'rollout progressing', line);
        } catch (err) {
          // Patched, but its status could not be read: say so, and let the retry (which patches nothing) look again.
          summary.patched.push({
            workload: key,
            changes,
            rollout: { state: 'unknown', message: errorMessage(err) },
          });
          logger.error('rollout status unreadable', { workload: key, error: errorMessage(err) });
          failures.push({ item: key, error: `patched, rollout status unreadable: ${errorMessage(err)}` });
        }
      }),
    );
    return finish(summary, failures);
  };
}

/** Container images of a Kubernetes workload object (containers and init containers), by name. */
function imagesOf(object: unknown): Record<string, string> {
  const spec = (object as { spec?: { template?: { spec?: Record<string, unknown> } } } | undefined)?.spec
    ?.template?.spec;
  const out: Record<string, string> = {};
  for (const list of [spec?.containers, spec?.initContainers])
    if (Array.isArray(list))
      for (const c of list as { name?: unknown; image?: unknown }[])
        if (typeof c.name === 'string' && typeof c.image === 'string') out[c.name] = c.image;
  return out;
}

/** Any failure fails the invocation, after the rest was done, so Lambda retries and the DLQ sees it. */
function finish(summary: RollSummary, failures: { item: string; error: string }[]): RollSummary {
  if (failures.length > 0) throw new PartialFailureError('rollEks', failures, summary.patched.length);
  return summary;
}
