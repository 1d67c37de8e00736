/**
 * `harborpilot plan prune`: what pruneImages would delete now and why, and why every other image stays,
 * from pruneImages's own gather (same repositories, rules, in-use sources) and pure plan. Read-only: no
 * BatchDeleteImage, no email, no state written. An in-use source that cannot be read is an error, not a plan.
 */
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { EKSClient } from '@aws-sdk/client-eks';
import type { Config } from '../../shared/config';
import { gatherPrunePlan } from '../../shared/ecr/prune';
import type { PrunePlan } from '../../shared/ecr/prune-model';
import { formatBytes } from '../../shared/ecr/report';
import type { EksConnector } from '../../shared/eks/connect';
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
}

export interface PlanPruneResult {
  plan: PrunePlan;
  inUseRefs: number;
  /** Repositories a `harborpilot:prune` tag takes out of pruning. */
  skipped: number;
}

export async function planPruneNow(deps: PlanPruneDeps): Promise<PlanPruneResult> {
  const { plan, inUseRefs, skipped } = await gatherPrunePlan(deps, deps.now ?? new Date(), deps.progress);
  return { plan, inUseRefs, skipped };
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
