/**
 * pruneImages: a schedule → old ECR images that nothing uses are deleted (or, by default, only planned).
 * parse → gather (in-use set first, from every source; then the images) → plan (pure) → delete or dry-run
 * → report (log and SES email). Any in-use source failing stops the run before anything is deleted. When the ECS
 * clusters cannot all be read in one invocation at the read budget, the in-use scan is a pass over several
 * (pass.ts): the turn that completes it plans and deletes.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { EKSClient } from '@aws-sdk/client-eks';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Context } from 'aws-lambda';
import pLimit from 'p-limit';
import { listClusterArns } from '../aws/ecs';
import { type EksConnector, makeEksConnector } from '../aws/eks-connect';
import { invocationBudget, type ReadBudget } from '../aws/read-budget';
import { type TargetClient, targetForArn } from '../aws/target-clients';
import type { Config } from '../config';
import { recipientChunks, sendEmail } from '../email/send';
import { errorMessage, PartialFailureError } from '../errors';
import { parseEvent } from '../events/envelope';
import { ScheduledEvent } from '../events/schedule';
import { ScanStalledError } from '../redeploy-ecs/scan-pass';
import { advancePass, PassCursor } from '../state/scan-pass';
import { clustersIn, type Target, targetLabel, WorkloadScopes } from '../targets';
import { type DeleteResult, deleteImages } from './delete';
import { collectEcsClusters, ecsInUseSource } from './in-use/ecs';
import { eksInUseSource } from './in-use/eks';
import { collectInUse, type InUseRef, type InUseSource, InUseSourceError } from './in-use/model';
import { resolveInUse } from './in-use/resolve';
import type { PrunePlan, RepositoryImages } from './model';
import {
  isContinueSchedule,
  PassParts,
  PRUNE_PASS_ID,
  PruneCarry,
  type PrunePass,
  PrunePassFailedError,
  passCoverage,
  passInProgress,
  sincePassBegan,
} from './pass';
import { planPrune } from './plan';
import {
  describeAllImages,
  listRepositories,
  type Repository,
  readIndexChildren,
  repositoryTags,
} from './read';
import { renderPruneEmail } from './report';
import { repositoryMatcher, rulesFor } from './rules';

/** ECR read APIs throttle per account and region; a few repositories at a time. */
const CONCURRENCY = 4;

export interface PruneImagesDeps {
  ecr: ECRClient;
  ecs: ECSClient;
  ses: SESv2Client;
  /**
   * The state table: the cursor and in-use parts of a pass over several invocations. Without it (tests, the
   * bench) a scan that runs out of invocation time fails, as a single run does.
   */
  dynamodb?: DynamoDBClient;
  config: Config;
  logger: Logger;
  /** The function's region: the registry it prunes. */
  region: string;
  eks: EKSClient;
  /** How EKS clusters' Kubernetes APIs are reached; default: DescribeCluster + an EKS token (shared/aws/eks-connect.ts). */
  connect?: EksConnector;
  now?: () => Date;
  /**
   * Every target's ECS and EKS clients (docs/organisation.md), the home target's first: the in-use set is the
   * union over all of them, and any one that cannot be read means nothing is deleted. None: `ecs` and `eks`.
   */
  targets?: { ecs: TargetClient<ECSClient>[]; eks: TargetClient<EKSClient>[] };
}

type InUseDeps = Pick<PruneImagesDeps, 'ecs' | 'eks' | 'config' | 'connect' | 'targets' | 'region'>;

/** The targets' ECS clients: the configured ones, or the home target alone. */
function ecsTargets(deps: InUseDeps): TargetClient<ECSClient>[] {
  return deps.targets?.ecs ?? [{ target: { home: true, region: deps.region }, client: deps.ecs }];
}

/** The targets' EKS connectors: the home target's is `connect` (when given); the others use their own client. */
function eksTargets(deps: InUseDeps): { target: Target; eks: EKSClient; connect: EksConnector }[] {
  const home = deps.connect ?? makeEksConnector({ eks: deps.eks });
  const targets = deps.targets?.eks ?? [{ target: { home: true, region: deps.region }, client: deps.eks }];
  return targets.map(({ target, client }) => ({
    target,
    eks: client,
    connect: target.home ? home : makeEksConnector({ eks: client }),
  }));
}

/** Names a source by its target when there are several: `ecs staging (111111111111) us-west-2`. */
const sourceName = (kind: string, target: Target, several: boolean) =>
  several ? `${kind} ${targetLabel(target)}` : kind;

/**
 * The ECS clusters of every target a prune pass reads: the configured ones in each target (names in every target,
 * ARNs in their own), or every cluster of each; another target's as ARNs, so each turn reads it with its client.
 */
export async function listTargetClusters(deps: InUseDeps, ecs = ecsTargets(deps)): Promise<string[]> {
  const scopes = new WorkloadScopes(ecs.map((t) => t.target));
  const lists = await Promise.all(
    ecs.map(async ({ target, client }) => {
      const own = clustersIn(target, deps.config.ecs.clusters, scopes);
      if (!own) return [];
      try {
        const listed = await listClusterArns(client, own);
        return target.home
          ? listed
          : listed.map((c) =>
              c.startsWith('arn:') ? c : `arn:aws:ecs:${target.region}:${target.accountId}:cluster/${c}`,
            );
      } catch (err) {
        throw new Error(`${targetLabel(target)}: ${errorMessage(err, { name: false })}`, { cause: err });
      }
    }),
  );
  return lists.flat();
}

/**
 * Every place an image may run, read before anything is deleted: ECS (tasks, deployments, recent task
 * definition revisions) and EKS (pods and workload templates in every cluster in scope). `harborpilot plan
 * prune` reads the same sources.
 */
export function pruneInUseSources(
  deps: InUseDeps,
  /** Wraps each target's ECS client (the read budget's pacing). */
  pace: (ecs: ECSClient) => ECSClient = (ecs) => ecs,
): InUseSource[] {
  const { config } = deps;
  const targets = ecsTargets(deps);
  const scopes = new WorkloadScopes(targets.map((t) => t.target));
  return [
    ...targets.flatMap(({ target, client }) => {
      const clusters = clustersIn(target, config.ecs.clusters, scopes);
      if (!clusters) return [];
      const source = ecsInUseSource(pace(client), {
        clusters,
        keepTaskDefinitionRevisions: config.prune.keepTaskDefinitionRevisions,
      });
      return [{ ...source, name: sourceName('ecs', target, targets.length > 1) }];
    }),
    ...otherInUseSources(deps),
  ];
}

/** The sources besides ECS (read whole on the turn that completes a pass: they are not paced). */
export function otherInUseSources(deps: InUseDeps): InUseSource[] {
  const targets = eksTargets(deps);
  return targets.map(({ target, eks, connect }) => {
    const source = eksInUseSource({ eks, connect, clusters: deps.config.eks.clusters });
    return { ...source, name: sourceName('eks', target, targets.length > 1) };
  });
}

export interface PruneSummary {
  dryRun: boolean;
  repositories: number;
  images: number;
  planned: number;
  deleted: number;
  alreadyGone: number;
  bytesFreed: number;
  failures: number;
  emailed: boolean;
  /** A pass over several invocations: this turn's place in it (absent when one invocation read everything). */
  pass?: { turn: number; startedAt: string; clustersRead: number; remaining: number; complete: boolean };
  /** This event already made its turn (a duplicate delivery): nothing was read or deleted. */
  duplicate?: true;
  /** A continuation run with no pass in progress: nothing to do. */
  idle?: true;
}

export interface PruneGather {
  plan: PrunePlan;
  /** The repositories the plan covers, by name (deletion needs their registry ids). */
  repositories: Map<string, Repository>;
  inUseRefs: number;
  /** Repositories excluded by a `harborpilot:prune` tag. */
  skipped: number;
}

/**
 * Read-only: which repositories under which rules, the in-use set (complete or an error), every image, and
 * the pure plan. pruneImages deletes from it; `harborpilot plan prune` prints it.
 */
export async function gatherPrunePlan(
  deps: Pick<PruneImagesDeps, 'ecr' | 'ecs' | 'eks' | 'config' | 'region' | 'connect' | 'targets'>,
  now: Date,
  progress?: (line: string) => void,
  /** The account's ECS reads the in-use scan may take (ecs.maxReadsPerSecond), and its deadline. */
  budget: ReadBudget = invocationBudget(deps.config.ecs.maxReadsPerSecond, undefined),
  /**
   * The in-use set a pass gathered over several turns (then it is not read here), and when the pass began:
   * images pushed or pulled since are kept.
   */
  pass?: { refs: InUseRef[]; startedAt: Date },
): Promise<PruneGather> {
  const { config } = deps;
  const limit = pLimit(CONCURRENCY);

  // gather: which repositories, under which rules (a bad repository tag throws here, before any delete)
  const repos = await listRepositories(deps.ecr, repositoryMatcher(config.prune.repositories));
  const settings = await Promise.all(
    repos.map((repo) =>
      limit(async () => ({
        repo,
        ...rulesFor(config.prune, repo.repositoryName, await repositoryTags(deps.ecr, repo)),
      })),
    ),
  );
  const targets = settings.filter((s) => s.enabled);
  progress?.(`${targets.length} of ${repos.length} repositories to prune; reading what runs...`);

  // gather: the in-use set, complete or not at all (out of time at the read budget: an error, nothing deleted)
  const refs =
    pass?.refs ??
    (await budget.during(() => collectInUse(pruneInUseSources(deps, (ecs) => budget.pace(ecs)))));
  progress?.(`${refs.length} image references in use; reading images...`);

  // gather: every image of every target repository, with the children of its indexes
  const byName = new Map<string, Repository>();
  let read = 0;
  const repositoryImages: RepositoryImages[] = await Promise.all(
    targets.map((t) =>
      limit(async () => {
        byName.set(t.repo.repositoryName, t.repo);
        const images = await readIndexChildren(deps.ecr, t.repo, await describeAllImages(deps.ecr, t.repo));
        read += 1;
        progress?.(`read ${read}/${targets.length} repositories`);
        return {
          repository: {
            accountId: t.repo.registryId,
            region: deps.region,
            repositoryName: t.repo.repositoryName,
          },
          rules: t.rules,
          images,
        };
      }),
    ),
  );

  // plan
  const inUse = pass ? [...refs, ...sincePassBegan(repositoryImages, pass.startedAt)] : refs;
  return {
    plan: planPrune(repositoryImages, resolveInUse(inUse, repositoryImages), now),
    repositories: byName,
    inUseRefs: refs.length,
    skipped: settings.length - targets.length,
  };
}

export function makePruneImages(deps: PruneImagesDeps) {
  const { config, logger } = deps;
  const dryRun = config.prune.dryRun;
  const now = deps.now ?? (() => new Date());
  // One connector per container: cluster endpoints and EKS tokens are reused by warm invocations.
  const reading = { ...deps, connect: deps.connect ?? makeEksConnector({ eks: deps.eks }) };
  const cursor = deps.dynamodb
    ? new PassCursor(deps.dynamodb, config.stateTable, PRUNE_PASS_ID, PruneCarry, () => now().getTime())
    : undefined;
  const parts = deps.dynamodb ? new PassParts(deps.dynamodb, config.stateTable) : undefined;

  /** Plans from the in-use set (read now, or gathered by a pass), deletes unless dry run, reports. */
  async function pruneWith(
    e: ScheduledEvent,
    budget: ReadBudget,
    pass?: { refs: InUseRef[]; startedAt: Date },
  ): Promise<PruneSummary> {
    const {
      plan,
      repositories: byName,
      inUseRefs,
      skipped,
    } = await gatherPrunePlan(reading, now(), undefined, budget, pass);
    logPlan(logger, plan, { dryRun, eventId: e.id, inUseRefs, skipped });

    const summary: PruneSummary = {
      dryRun,
      repositories: plan.repositories.length,
      images: plan.totals.images,
      planned: plan.totals.deleted,
      deleted: 0,
      alreadyGone: 0,
      bytesFreed: plan.totals.bytesFreed,
      failures: 0,
      emailed: false,
    };

    // apply: repository by repository; a failing image does not stop the others
    const results: DeleteResult[] = [];
    if (!dryRun) {
      for (const rp of plan.repositories) {
        const repo = byName.get(rp.repository.repositoryName);
        if (!repo || rp.deleted.length === 0) continue;
        const result = await deleteImages(deps.ecr, repo, rp.deleted);
        results.push(result);
        logger.info('images deleted', {
          repository: result.repositoryName,
          deleted: result.deleted.length,
          alreadyGone: result.alreadyGone.length,
          failures: result.failures,
        });
      }
      summary.deleted = results.reduce((n, r) => n + r.deleted.length, 0);
      summary.alreadyGone = results.reduce((n, r) => n + r.alreadyGone.length, 0);
    }
    const failures = results.flatMap((r) =>
      r.failures.map((f) => ({ item: `${r.repositoryName}@${f.digest}`, error: `${f.code}: ${f.reason}` })),
    );
    summary.failures = failures.length;

    // report: an email when there is something to read (a plan with deletions, deletions, failures)
    if (plan.totals.deleted > 0 || failures.length > 0) {
      summary.emailed = await sendReport(deps, plan, {
        dryRun,
        accountId: e.account,
        region: deps.region,
        results,
      });
    }
    if (failures.length > 0) throw new PartialFailureError('pruneImages', failures, summary.deleted);
    return summary;
  }

  const nothing = (): PruneSummary => ({
    dryRun,
    repositories: 0,
    images: 0,
    planned: 0,
    deleted: 0,
    alreadyGone: 0,
    bytesFreed: 0,
    failures: 0,
    emailed: false,
  });

  return async function prune(event: unknown, context?: Context): Promise<PruneSummary> {
    const e = parseEvent(ScheduledEvent, event, 'Scheduled Event');
    const budget = invocationBudget(config.ecs.maxReadsPerSecond, context);
    if (!cursor || !parts) return pruneWith(e, budget);

    const nowMs = now().getTime();
    const saved = await cursor.read();
    if (saved?.lastEventId === e.id) {
      // A retry of a turn that failed fails again, so Lambda's retries and the dead-letter queue see it.
      if (saved.failed) throw new PrunePassFailedError(saved.carry?.error ?? 'unknown');
      logger.info('duplicate schedule delivery: this event already made its turn of the prune pass', {
        eventId: e.id,
        turn: saved.turns,
      });
      return { ...nothing(), duplicate: true };
    }
    const pass = passInProgress(saved, nowMs);
    if (!pass && isContinueSchedule(event)) {
      logger.info('no prune pass in progress: nothing to continue', { eventId: e.id });
      return { ...nothing(), idle: true };
    }

    // gather: this turn's ECS clusters, whole ones only (paced; those without time left wait for the next turn)
    let turn: Awaited<ReturnType<typeof collectEcsClusters>>;
    try {
      turn = await budget.during(async () => {
        const targets = ecsTargets(reading).map((t) => ({ ...t, client: budget.pace(t.client) }));
        const clusters = pass?.remaining ?? (await listTargetClusters(reading, targets));
        // Each target's clusters with its own client (a cluster ARN names its account and region).
        const scopes = new WorkloadScopes(targets.map((t) => t.target));
        const byTarget = new Map<TargetClient<ECSClient>, string[]>();
        for (const c of clusters) {
          const t = targetForArn(targets, scopes, c);
          byTarget.set(t, [...(byTarget.get(t) ?? []), c]);
        }
        const out: Awaited<ReturnType<typeof collectEcsClusters>> = { refs: [], read: [], unfinished: [] };
        for (const [t, own] of byTarget) {
          try {
            const one = await collectEcsClusters(
              t.client,
              own,
              {
                clusters: clustersIn(t.target, config.ecs.clusters, scopes) ?? [],
                keepTaskDefinitionRevisions: config.prune.keepTaskDefinitionRevisions,
              },
              { partial: true },
            );
            out.refs.push(...one.refs);
            out.read.push(...one.read);
            out.unfinished.push(...one.unfinished);
          } catch (err) {
            throw targets.length > 1
              ? new Error(`${targetLabel(t.target)}: ${errorMessage(err, { name: false })}`, { cause: err })
              : err;
          }
        }
        return out;
      });
    } catch (err) {
      const failed = new InUseSourceError([{ source: 'ecs', error: errorMessage(err) }]);
      // A read that failed ends the pass: nothing is deleted on a partial in-use set.
      if (pass) await failPass(saved, pass, e.id, nowMs, failed.message);
      throw failed;
    }
    if (turn.read.length === 0 && turn.unfinished.length > 0)
      throw new ScanStalledError(turn.unfinished, config.ecs.maxReadsPerSecond);

    // Everything read in one invocation, no pass begun: a single run, as without a state table.
    if (!pass && turn.unfinished.length === 0) {
      const eks = await collectInUse(otherInUseSources(reading));
      return pruneWith(e, budget, { refs: [...turn.refs, ...eks], startedAt: new Date(nowMs) });
    }

    // The last turn keeps its own references in memory; the others store theirs for it.
    const written = turn.unfinished.length > 0 ? await parts.write(turn.refs, nowMs) : [];
    const next = advancePass(pass, {
      eventId: e.id,
      nowMs,
      unfinished: turn.unfinished,
      failed: false,
      carry: {
        parts: [...(pass?.carry?.parts ?? []), ...written],
      },
    });
    const coverage = passCoverage(next, turn.read);
    const place = {
      turn: next.turns,
      startedAt: next.startedAt,
      clustersRead: turn.read.length,
      remaining: next.remaining.length,
      complete: next.remaining.length === 0,
    };
    logger.info('prune pass turn', { eventId: e.id, coverage, ...place });
    if (!place.complete) {
      if (!(await cursor.save(saved, next)))
        logger.info('prune pass advanced by another run; this turn does not move it', { eventId: e.id });
      return { ...nothing(), pass: place };
    }

    // The last turn: every cluster read. Read the other sources now, then plan and delete. The cursor is saved
    // after, so a retry (a delete or the email failed) completes the pass again rather than skipping it.
    const stored = await parts.read(next.carry?.parts ?? []);
    const eks = await collectInUse(otherInUseSources(reading));
    const summary = await pruneWith(e, budget, {
      refs: [...stored, ...turn.refs, ...eks],
      startedAt: new Date(next.startedAt),
    });
    await cursor.save(saved, next);
    return { ...summary, pass: place };
  };

  /** Marks the pass failed (nothing will be deleted from it), keeping why for the retries of this event. */
  async function failPass(
    saved: PrunePass | undefined,
    pass: PrunePass,
    eventId: string,
    nowMs: number,
    error: string,
  ): Promise<void> {
    const failed = advancePass(pass, {
      eventId,
      nowMs,
      unfinished: [],
      failed: true,
      carry: { parts: pass.carry?.parts ?? [], error },
    });
    if (!(await cursor?.save(saved, failed)))
      logger.warn('prune pass moved by another run before it failed', {});
    logger.error('prune pass failed: nothing deleted; the next daily run begins a new pass', { error });
  }
}

function logPlan(
  logger: Logger,
  plan: PrunePlan,
  extra: { dryRun: boolean; eventId: string; inUseRefs: number; skipped: number },
) {
  logger.info('prune plan', { ...extra, totals: plan.totals, repositories: plan.repositories.length });
  for (const rp of plan.repositories) {
    logger.info('prune plan for repository', {
      repository: rp.repository.repositoryName,
      rules: rp.rules,
      bytesFreed: rp.bytesFreed,
      deleted: rp.deleted.map((x) => ({
        digest: x.image.digest,
        tags: x.image.tags,
        wave: x.wave,
        why: x.why,
      })),
      kept: rp.kept.map((k) => ({ digest: k.image.digest, tags: k.image.tags, reasons: k.reasons })),
    });
  }
}

async function sendReport(
  deps: PruneImagesDeps,
  plan: PrunePlan,
  opts: Parameters<typeof renderPruneEmail>[1],
): Promise<boolean> {
  const { alerts } = deps.config;
  if (alerts.to.length === 0) {
    deps.logger.warn('no alerts.to recipients configured: prune report not emailed');
    return false;
  }
  const email = renderPruneEmail(plan, opts);
  for (const to of recipientChunks(alerts.to)) await sendEmail(deps.ses, alerts.from, to, email);
  return true;
}
