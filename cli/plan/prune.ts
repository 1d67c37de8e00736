/**
 * `harborpilot plan prune`: what pruneImages would delete now and why, and why every other image stays,
 * from pruneImages's own gather (same repositories, rules, in-use sources) and pure plan. Read-only: no
 * BatchDeleteImage, no email, no state written. An in-use source that cannot be read is an error, not a plan.
 */
import { DescribeRepositoriesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { EKSClient } from '@aws-sdk/client-eks';
import type { EksConnector } from '../../shared/aws/eks-connect';
import type { TargetClient } from '../../shared/aws/target-clients';
import type { Config } from '../../shared/config';
import { gatherPrunePlan } from '../../shared/prune-images/handler';
import type { PrunePlan } from '../../shared/prune-images/model';
import { formatBytes } from '../../shared/prune-images/report';
import { repositoryMatcher } from '../../shared/prune-images/rules';
import { shortDigest, table } from './table';

export interface PlanPruneDeps {
  ecr: ECRClient;
  ecs: ECSClient;
  eks: EKSClient;
  connect: EksConnector;
  config: Config;
  region: string;
  now?: Date;
  progress?: (line: string) => void;
  /** `--repository`: plan only these (each must exist); empty or absent: every repository pruning covers. */
  repositories?: readonly string[];
  /** Every target's clients (docs/organisation.md): the in-use set is read in each. */
  targets?: { ecs: TargetClient<ECSClient>[]; eks: TargetClient<EKSClient>[] };
}

export interface PlanPruneResult {
  plan: PrunePlan;
  inUseRefs: number;
  /** Repositories a `harborpilot:prune` tag takes out of pruning. */
  skipped: number;
  /** `--repository` names pruning does not cover, and why. */
  notPruned: { repositoryName: string; why: string }[];
}

export class RepositoryNotFoundError extends Error {
  constructor(readonly repositoryNames: string[]) {
    super(`no ECR repository named ${repositoryNames.join(', ')} in this account and region`);
    this.name = 'RepositoryNotFoundError';
  }
}

const OUTSIDE = 'outside prune.repositories in the config';
const OPTED_OUT = 'its harborpilot:prune tag turns pruning off';

export async function planPruneNow(deps: PlanPruneDeps): Promise<PlanPruneResult> {
  const now = deps.now ?? new Date();
  const names = [...new Set(deps.repositories ?? [])];
  if (names.length === 0) {
    const { plan, inUseRefs, skipped } = await gatherPrunePlan(deps, now, deps.progress);
    return { plan, inUseRefs, skipped, notPruned: [] };
  }
  await requireRepositories(deps.ecr, names);
  // Narrowing prune.repositories to the named ones (ECR names hold no glob characters) makes pruneImages's
  // own gather read only those; a plan is per repository, so each is the one the full run would make.
  const covered = repositoryMatcher(deps.config.prune.repositories);
  const inScope = names.filter((n) => covered(n));
  const notPruned = names
    .filter((n) => !covered(n))
    .map((repositoryName) => ({ repositoryName, why: OUTSIDE }));
  if (inScope.length === 0) {
    return { plan: { now, repositories: [], totals: EMPTY_TOTALS }, inUseRefs: 0, skipped: 0, notPruned };
  }
  const config = { ...deps.config, prune: { ...deps.config.prune, repositories: inScope } };
  const { plan, inUseRefs, skipped } = await gatherPrunePlan({ ...deps, config }, now, deps.progress);
  const planned = new Set(plan.repositories.map((rp) => rp.repository.repositoryName));
  for (const repositoryName of inScope)
    if (!planned.has(repositoryName)) notPruned.push({ repositoryName, why: OPTED_OUT });
  return { plan, inUseRefs, skipped, notPruned };
}

const EMPTY_TOTALS = { images: 0, kept: 0, deleted: 0, bytesFreed: 0 };

/** A misspelt --repository must not read as "nothing to delete". */
async function requireRepositories(ecr: ECRClient, names: string[]): Promise<void> {
  const missing: string[] = [];
  for (const name of names) {
    try {
      const out = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }));
      if (!out.repositories?.some((r) => r.repositoryName === name)) missing.push(name);
    } catch (err) {
      if ((err as Error).name !== 'RepositoryNotFoundException') throw err;
      missing.push(name);
    }
  }
  if (missing.length > 0) throw new RepositoryNotFoundError(missing);
}

const tagsOf = (tags: readonly string[]) => (tags.length > 0 ? tags.join(',') : '<untagged>');
const day = (d: Date) => d.toISOString().slice(0, 10);

/** Per repository: each image with what would happen to it and why. */
export function formatPruneTable(result: PlanPruneResult, options: { kept?: boolean } = {}): string {
  const { plan } = result;
  const mode = plan.repositories.length === 0 ? 'no repository to prune' : '';
  const out = [
    `prune plan: ${plan.totals.deleted} of ${plan.totals.images} image(s) would be deleted, ` +
      `${formatBytes(plan.totals.bytesFreed)} freed, in ${plan.repositories.length} repositor${plan.repositories.length === 1 ? 'y' : 'ies'}` +
      ` (${result.inUseRefs} in-use references read${result.skipped ? `, ${result.skipped} repositories opted out` : ''})`,
  ];
  if (mode) out.push('', mode);
  for (const n of result.notPruned) out.push('', `${n.repositoryName}: not pruned, ${n.why}`);
  for (const rp of plan.repositories) {
    out.push(
      '',
      `${rp.repository.repositoryName}: ${rp.deleted.length} would delete (${formatBytes(rp.bytesFreed)}), ${rp.kept.length} kept`,
    );
    const rows: string[][] = rp.deleted.map((x) => [
      shortDigest(x.image.digest),
      tagsOf(x.image.tags),
      day(x.image.pushedAt),
      'delete',
      x.why,
    ]);
    if (options.kept !== false)
      for (const k of rp.kept)
        rows.push([
          shortDigest(k.image.digest),
          tagsOf(k.image.tags),
          day(k.image.pushedAt),
          'keep',
          k.reasons.map((r) => `${r.rule}: ${r.detail}`).join('; '),
        ]);
    if (rows.length > 0) out.push(table(['DIGEST', 'TAGS', 'PUSHED', 'ACTION', 'WHY'], rows));
  }
  return out.join('\n');
}
