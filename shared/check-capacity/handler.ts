/**
 * checkCapacity: schedule → gather (ECS, EKS, Kubernetes) → plan (pure) → report (structured log, EMF
 * metrics) → hysteresis (what changed since the last email, committed conditionally) → SES email.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { EKSClient } from '@aws-sdk/client-eks';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Context } from 'aws-lambda';
import pLimit from 'p-limit';
import { eksClusterNames } from '../aws/eks-connect';
import type { KubeConnector } from '../aws/kube';
import { invocationBudget, type ReadBudget } from '../aws/read-budget';
import {
  TaskDefinitionCache,
  type TaskDefinitionCacheOptions,
  taskDefinitionMemory,
} from '../aws/task-definitions';
import { StateTableTaskDefinitions } from '../aws/task-definitions-table';
import type { Config } from '../config';
import { EmailSendError, recipientChunks, sendEmail } from '../email/send';
import { errorMessage, PartialFailureError } from '../errors';
import { parseEvent } from '../events/envelope';
import { ScheduledEvent } from '../events/schedule';
import { ScanStalledError } from '../redeploy-ecs/scan-pass';
import { PassCursor } from '../state/scan-pass';
import { type Target, targetLabel } from '../targets';
import { gatherEcs } from './gather-ecs';
import { gatherEks } from './gather-eks';
import { planNotification } from './hysteresis';
import { headroomMetrics, type MetricPublisher } from './metrics';
import type { CapacityState, EksClusterState, Finding, Severity } from './model';
import {
  CAPACITY_PASS_ID,
  CapacityCarry,
  type CapacityPass,
  type CapacityTurn,
  capacityTurn,
  coverageOf,
} from './pass';
import { planCapacity, sortFindings } from './plan';
import { renderCapacityEmail } from './render';
import { CapacityStore } from './store';
import { keyPrefix, qualifyFindings, type TargetTurn, unreadAcross, unreadableFinding } from './targets';

/** One target's clients (docs/organisation.md): the home target's are the function's own. */
export interface CapacityTargetClients {
  target: Target;
  ecs: ECSClient;
  eks: EKSClient;
  /** Its EKS clusters' Kubernetes API, through its EKS client's credentials. */
  kube: KubeConnector;
}

export interface CheckCapacityDeps {
  config: Config;
  ecs: ECSClient;
  eks: EKSClient;
  ses: SESv2Client;
  dynamodb: DynamoDBClient;
  logger: Logger;
  metrics: MetricPublisher;
  /** Kubernetes API of an EKS cluster (makeEksConnector of shared/aws/eks-connect.ts: DescribeCluster + EKS token). */
  kube: KubeConnector;
  /**
   * Every target's clients, the home target's first (its clients `ecs`, `eks`, `kube`); none: the home target
   * alone. Each is read with its own clients and read budget; one that cannot be read does not stop the others.
   */
  targets?: CapacityTargetClients[];
  /** The function's region: names the home target in an email that covers others (`us-east-1 (home)`). */
  region?: string;
}

export interface CapacitySummary {
  at: string;
  findings: Record<Severity, number>;
  /** Findings that appeared, changed severity or cleared since the last email. */
  changes: number;
  email?: { subject: string; recipients: number; messageIds: string[]; sent: boolean };
  /** Another run committed the same changes first: it sends the email, this one does not. */
  superseded?: boolean;
  /** A turn of a scan pass over several invocations (a fleet too big to read in one at ecs.maxReadsPerSecond). */
  pass?: { turn: number; startedAt: string; clustersRead: string[]; remaining: number; complete: boolean };
  /** This schedule event already made its turn of the pass (a duplicate delivery): nothing was read again. */
  duplicate?: boolean;
  /** With targets configured: what each target's turn found, or why it could not be read. */
  targets?: CapacityTargetSummary[];
}

export interface CapacityTargetSummary {
  target: string;
  findings: Record<Severity, number>;
  pass?: CapacitySummary['pass'];
  /** This schedule event already made its turn of this target's pass: not read again. */
  duplicate?: boolean;
  /** The target could not be read (its role cannot be assumed, ECS or EKS refusing): AWS's words. */
  error?: string;
}

export class CapacityEmailError extends EmailSendError {
  override readonly name = 'CapacityEmailError';
}

/**
 * Read-only: ECS clusters, EKS node groups, nodes and pods, as `capacity.watch` says. checkCapacity plans from
 * it; `harborpilot plan capacity` prints the same report.
 */
export async function gatherCapacity(
  deps: Pick<CheckCapacityDeps, 'config' | 'ecs' | 'eks' | 'kube'>,
  nowMs: number,
  /** Revisions read before (memory and state table); the plan CLI reads without. */
  taskDefinitions?: TaskDefinitionCacheOptions,
  /** The account's ECS reads the scan may take (ecs.maxReadsPerSecond), and its deadline. */
  budget: ReadBudget = invocationBudget(deps.config.ecs.maxReadsPerSecond, undefined),
  /**
   * A turn of a pass (checkCapacity): read these clusters (all when absent) and leave those the invocation has
   * no time for in `unfinished`. Without it (the plan CLI) running out of time fails the scan.
   */
  turn?: { clusterArns?: readonly string[] },
): Promise<CapacityTurnState> {
  const { config } = deps;
  const ecsClient = budget.pace(deps.ecs);
  const { capacity } = config;
  const quota = capacity.fargateVcpuQuota;
  const gatherEksClusters = async (): Promise<EksClusterState[]> => {
    const names = await eksClusterNames(deps.eks, config.eks.clusters);
    return gatherEks(deps.eks, deps.kube, names);
  };
  const [ecs, eks] = await Promise.all([
    capacity.watch.includes('ecs')
      ? budget.during(() =>
          gatherEcs(ecsClient, {
            clusters: config.ecs.clusters,
            fargate: quota !== undefined,
            taskDefinitions: new TaskDefinitionCache(ecsClient, taskDefinitions),
            ...(turn
              ? { partial: true, ...(turn.clusterArns ? { clusterArns: turn.clusterArns } : {}) }
              : {}),
          }),
        )
      : undefined,
    capacity.watch.includes('eks') ? gatherEksClusters() : [],
  ]);
  return {
    nowMs,
    ecs: ecs?.clusters ?? [],
    eks,
    ...(quota !== undefined && ecs?.fargateOnDemandVcpu !== undefined
      ? { fargate: { onDemandVcpu: ecs.fargateOnDemandVcpu, quotaVcpu: quota } }
      : {}),
    unfinished: ecs?.unfinished ?? [],
    ...(ecs?.fargateVcpuByCluster ? { fargateVcpuByCluster: ecs.fargateVcpuByCluster } : {}),
  };
}

/** What one invocation read: the capacity state of the clusters it read, and what it left for the next. */
export interface CapacityTurnState extends CapacityState {
  /** ECS cluster ARNs the invocation had no time left for. */
  unfinished: string[];
  fargateVcpuByCluster?: Record<string, number>;
}

const MAX_COMMIT_ATTEMPTS = 3;
/** At most this many targets are read at once; each has its own account's ECS read budget. */
const TARGET_CONCURRENCY = 4;

/** One target's turn in an invocation. */
interface TargetRun {
  clients: CapacityTargetClients;
  cursor: PassCursor<CapacityCarry>;
  saved?: CapacityPass;
  turn?: CapacityTurn;
  findings: Finding[];
  duplicate?: boolean;
  error?: string;
}

const severities = (findings: readonly Finding[]): Record<Severity, number> => {
  const counts: Record<Severity, number> = { info: 0, warning: 0, critical: 0 };
  for (const f of findings) counts[f.severity]++;
  return counts;
};

export function makeCheckCapacity(deps: CheckCapacityDeps) {
  const { config, logger } = deps;
  const capacity = config.capacity;
  const dryRun = capacity.dryRun ?? config.dryRun;
  const store = new CapacityStore(deps.dynamodb, config.stateTable);
  const targets: CapacityTargetClients[] = deps.targets ?? [
    { target: { home: true, region: deps.region ?? '' }, ecs: deps.ecs, eks: deps.eks, kube: deps.kube },
  ];
  const several = targets.length > 1;
  const home = targets.find((t) => t.target.home)?.target;
  const homeLabel = home ? targetLabel(home) : 'home';
  // Each target's pass under its own id; the home target's as before targets existed.
  const cursors = new Map(
    targets.map((t) => [
      t,
      new PassCursor(
        deps.dynamodb,
        config.stateTable,
        t.target.home ? CAPACITY_PASS_ID : `${CAPACITY_PASS_ID}#${t.target.accountId}#${t.target.region}`,
        CapacityCarry,
      ),
    ]),
  );
  // Task definition revisions never change: kept while the container is warm and in the state table.
  const taskDefinitions = {
    memory: taskDefinitionMemory(),
    store: new StateTableTaskDefinitions(deps.dynamodb, config.stateTable),
  };

  async function send(subject: string, html: string, text: string): Promise<string[]> {
    const ids: string[] = [];
    for (const to of recipientChunks(config.alerts.to)) {
      try {
        const id = await sendEmail(deps.ses, config.alerts.from, to, { subject, html, text });
        if (id) ids.push(id);
      } catch (err) {
        throw new CapacityEmailError(subject, to, err);
      }
    }
    return ids;
  }

  async function notify(
    report: { at: string; findings: Finding[] },
    nowMs: number,
    unread: (key: string) => boolean = () => false,
    coverage?: string,
  ): Promise<CapacitySummary> {
    const summary: CapacitySummary = { at: report.at, findings: severities(report.findings), changes: 0 };

    for (let attempt = 1; attempt <= MAX_COMMIT_ATTEMPTS; attempt++) {
      const state = await store.read();
      // A late run (a schedule delivered or retried after a newer run told the team) must not undo what the
      // newer report said: its findings are older than what was told.
      if (state.reportAt !== undefined && report.at < state.reportAt) {
        summary.superseded = true;
        logger.info('capacity report older than the one last told; no email from this one', {
          reportAt: report.at,
          toldAt: state.reportAt,
        });
        return summary;
      }
      const n = planNotification(state.told, report.findings, unread);
      summary.changes = n.changes.length;
      if (n.changes.length === 0) {
        await store.refresh(state, nowMs);
        return summary;
      }
      // Commit first: of two runs that see the same change only the one that commits sends.
      if (!(await store.commit(state.version, n.next, nowMs, report.at))) continue;
      const email = renderCapacityEmail(n, report.at, coverage, homeLabel);
      const recipients = config.alerts.to.length;
      if (dryRun || recipients === 0) {
        logger.warn(
          dryRun ? 'dry run: capacity email not sent' : 'alerts.to is empty: capacity email not sent',
          {
            subject: email.subject,
            ...(dryRun ? { text: email.text } : {}),
          },
        );
        summary.email = { subject: email.subject, recipients, messageIds: [], sent: false };
        return summary;
      }
      try {
        const messageIds = await send(email.subject, email.html, email.text);
        summary.email = { subject: email.subject, recipients, messageIds, sent: true };
        logger.info('capacity email sent', { subject: email.subject, changes: n.changes.length, messageIds });
        return summary;
      } catch (err) {
        // Un-tell, so the retry (or the next schedule) sees the same changes and sends them.
        await store.revert(state.version + 1, state, nowMs);
        logger.error('capacity email failed', { subject: email.subject, error: errorMessage(err) });
        throw err;
      }
    }
    summary.superseded = true;
    logger.info('capacity changes committed by a concurrent run; no email from this one');
    return summary;
  }

  /** Reads and plans one target: its findings (keyed as its own) and its turn of its pass. */
  async function readTarget(
    run: TargetRun,
    scheduled: { id: string },
    nowMs: number,
    context: Context | undefined,
  ): Promise<void> {
    const { target } = run.clients;
    const saved = await run.cursor.read();
    if (saved) run.saved = saved;
    // A completed pass stays saved (remaining empty) until the next begins, so that a late duplicate of the
    // event that completed it is known too.
    const pass = saved && saved.remaining.length > 0 ? saved : undefined;
    if (saved?.lastEventId === scheduled.id) {
      logger.info('duplicate schedule delivery: this event already made its turn of the capacity pass', {
        eventId: scheduled.id,
        turn: saved.turns,
        ...(several ? { target: targetLabel(target) } : {}),
      });
      run.duplicate = true;
      return;
    }
    // Each account has its own ECS read rate: a budget per target, the invocation's deadline for all.
    const budget = invocationBudget(config.ecs.maxReadsPerSecond, context);
    const state = await gatherCapacity(
      { config, ecs: run.clients.ecs, eks: run.clients.eks, kube: run.clients.kube },
      nowMs,
      taskDefinitions,
      budget,
      { ...(pass ? { clusterArns: pass.remaining } : {}) },
    );
    if (state.ecs.length === 0 && state.unfinished.length > 0) {
      // Saving the pass would only repeat this turn forever.
      throw new ScanStalledError(state.unfinished, config.ecs.maxReadsPerSecond);
    }
    const turn = capacityTurn(pass, state, { eventId: scheduled.id, nowMs });
    run.turn = turn;
    const quota = capacity.fargateVcpuQuota;
    const report = planCapacity(
      turn.fargateOnDemandVcpu !== undefined && quota !== undefined
        ? { ...state, fargate: { onDemandVcpu: turn.fargateOnDemandVcpu, quotaVcpu: quota } }
        : state,
      capacity,
    );
    run.findings = qualifyFindings(target, report.findings);
    const coverage = coverageOf(turn);
    logger.info('capacity report', {
      eventId: scheduled.id,
      ...(several ? { target: targetLabel(target) } : {}),
      report,
      ...(coverage ? { coverage } : {}),
    });
    const points = headroomMetrics(report);
    // Another target's metrics carry its account and region; the home target's dimensions are as before.
    deps.metrics.publish(
      target.home
        ? points
        : points.map((p) => ({
            ...p,
            dimensions: { ...p.dimensions, Account: target.accountId, Region: target.region },
          })),
    );
  }

  return async function checkCapacity(event: unknown, context?: Context): Promise<CapacitySummary> {
    const scheduled = parseEvent(ScheduledEvent, event, 'Scheduled Event');
    const nowMs = Date.parse(scheduled.time);
    const runs: TargetRun[] = targets.map((clients) => ({
      clients,
      cursor: cursors.get(clients) as PassCursor<CapacityCarry>,
      findings: [],
    }));
    const limit = pLimit(TARGET_CONCURRENCY);
    await Promise.all(
      runs.map((run) =>
        limit(async () => {
          try {
            await readTarget(run, scheduled, nowMs, context);
          } catch (err) {
            // One target alone (the home target, as before targets existed): the run fails as it is, no email.
            if (!several) throw err;
            // Only this target is not read (a role that cannot be assumed, ECS refusing): the others are
            // reported, its told findings stay told, and the invocation fails at the end naming it.
            run.error = errorMessage(err, { name: false });
            run.findings = [unreadableFinding(run.clients.target, run.error)];
            logger.error('target could not be read', {
              target: targetLabel(run.clients.target),
              error: run.error,
            });
          }
        }),
      ),
    );
    if (runs.every((r) => r.duplicate)) {
      return {
        at: new Date(nowMs).toISOString(),
        findings: { info: 0, warning: 0, critical: 0 },
        changes: 0,
        duplicate: true,
      };
    }

    const turns = new Map<string, TargetTurn>(
      runs.map((r) => [
        keyPrefix(r.clients.target),
        r.turn ? { read: true, unread: r.turn.unread } : { read: false },
      ]),
    );
    const coverage = runs
      .flatMap((r) => {
        const c = r.turn && coverageOf(r.turn);
        if (!c) return [];
        return [several ? `${targetLabel(r.clients.target)}: ${c}` : c];
      })
      .join(' ');
    const findings = sortFindings(runs.flatMap((r) => r.findings));
    const summary = await notify(
      { at: new Date(nowMs).toISOString(), findings },
      nowMs,
      unreadAcross(turns),
      coverage || undefined,
    );

    // Saved after the report, so a retry (the email failed) reads and reports the same clusters again.
    const passOf = async (run: TargetRun): Promise<CapacitySummary['pass']> => {
      const turn = run.turn;
      if (!turn?.next) return undefined;
      const complete = turn.next.remaining.length === 0;
      if (!(await run.cursor.save(run.saved, turn.next)))
        logger.info('capacity pass advanced by a concurrent run; this turn does not move it', {
          ...(several ? { target: targetLabel(run.clients.target) } : {}),
        });
      return {
        turn: turn.next.turns,
        startedAt: turn.next.startedAt,
        clustersRead: turn.read,
        remaining: turn.next.remaining.length,
        complete,
      };
    };
    const passes = new Map<TargetRun, CapacitySummary['pass']>();
    for (const run of runs) passes.set(run, await passOf(run));
    const homePass = passes.get(runs[0] as TargetRun);
    if (homePass && runs[0]?.clients.target.home) summary.pass = homePass;
    if (several) {
      summary.targets = runs.map((r) => {
        const pass = passes.get(r);
        return {
          target: targetLabel(r.clients.target),
          findings: severities(r.error ? [] : r.findings),
          ...(pass ? { pass } : {}),
          ...(r.duplicate ? { duplicate: true } : {}),
          ...(r.error ? { error: r.error } : {}),
        };
      });
    }
    const failures = runs
      .filter((r) => r.error !== undefined)
      .map((r) => ({ item: targetLabel(r.clients.target), error: r.error as string }));
    if (failures.length > 0) {
      logger.info('capacity summary', { summary });
      throw new PartialFailureError('checkCapacity', failures, runs.length - failures.length);
    }
    return summary;
  };
}
