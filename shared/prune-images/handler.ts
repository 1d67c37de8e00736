/**
 * pruneImages: a schedule → old ECR images that nothing uses are deleted (or, by default, only planned).
 * parse → gather (in-use set first, from every source; then the images) → plan (pure) → delete or dry-run
 * → report (log and SES email). Any in-use source failing stops the run before anything is deleted.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { EKSClient } from '@aws-sdk/client-eks';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Context } from 'aws-lambda';
import pLimit from 'p-limit';
import { type EksConnector, makeEksConnector } from '../aws/eks-connect';
import { invocationBudget, type ReadBudget } from '../aws/read-budget';
import type { Config } from '../config';
import { recipientChunks, sendEmail } from '../email/send';
import { PartialFailureError } from '../errors';
import { parseEvent } from '../events/envelope';
import { ScheduledEvent } from '../events/schedule';
import { type DeleteResult, deleteImages } from './delete';
import { ecsInUseSource } from './in-use/ecs';
import { eksInUseSource } from './in-use/eks';
import { collectInUse, type InUseSource } from './in-use/model';
import { resolveInUse } from './in-use/resolve';
import type { PrunePlan, RepositoryImages } from './model';
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
  config: Config;
  logger: Logger;
  /** The function's region: the registry it prunes. */
  region: string;
  eks: EKSClient;
  /** How EKS clusters' Kubernetes APIs are reached; default: DescribeCluster + an EKS token (shared/aws/eks-connect.ts). */
  connect?: EksConnector;
  now?: () => Date;
}

/**
 * Every place an image may run, read before anything is deleted: ECS (tasks, deployments, recent task
 * definition revisions) and EKS (pods and workload templates in every cluster in scope). `harborpilot plan
 * prune` reads the same sources.
 */
export function pruneInUseSources(
  deps: Pick<PruneImagesDeps, 'ecs' | 'eks' | 'config' | 'connect'>,
): InUseSource[] {
  const { config } = deps;
  return [
    ecsInUseSource(deps.ecs, {
      clusters: config.ecs.clusters,
      keepTaskDefinitionRevisions: config.prune.keepTaskDefinitionRevisions,
    }),
    eksInUseSource({
      eks: deps.eks,
      connect: deps.connect ?? makeEksConnector({ eks: deps.eks }),
      clusters: config.eks.clusters,
    }),
  ];
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
  deps: Pick<PruneImagesDeps, 'ecr' | 'ecs' | 'eks' | 'config' | 'region' | 'connect'>,
  now: Date,
  progress?: (line: string) => void,
  /** The account's ECS reads the in-use scan may take (ecs.maxReadsPerSecond), and its deadline. */
  budget: ReadBudget = invocationBudget(deps.config.ecs.maxReadsPerSecond, undefined),
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
  const refs = await budget.during(() =>
    collectInUse(pruneInUseSources({ ...deps, ecs: budget.pace(deps.ecs) })),
  );
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
  return {
    plan: planPrune(repositoryImages, resolveInUse(refs, repositoryImages), now),
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

  return async function prune(event: unknown, context?: Context): Promise<PruneSummary> {
    const e = parseEvent(ScheduledEvent, event, 'Scheduled Event');
    const budget = invocationBudget(config.ecs.maxReadsPerSecond, context);
    const {
      plan,
      repositories: byName,
      inUseRefs,
      skipped,
    } = await gatherPrunePlan(reading, now(), undefined, budget);
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
  };
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
