/**
 * A settlement carried out: a deployment that failed or was rolled back makes its digests failed on the workload
 * (the failed-digest gate), one that completed clears the failed digests it replaced, then the record is
 * settled. In that order, so a run stopped half-way is finished by the retry, which writes the same again.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { FailedDigest } from '../holds/failed-digest';
import type { HoldsStore } from '../holds/store';
import { type DeploymentChange, type DeploymentRecord, isFailure } from './model';
import type { DeploymentStore, Settlement } from './store';

export interface SettleDeps {
  deployments: DeploymentStore;
  holds: HoldsStore;
  /** How long a failed digest is held (holds.failedDigestDays). */
  failedDigestDays: number;
  logger: Logger;
}

/** `shop/api:latest pushed at 2026-…`: the push that brought this container's digest. */
export function pushOf(record: DeploymentRecord, c: DeploymentChange): string | undefined {
  const p = record.pushes.find((x) => x.digest === c.toDigest);
  if (!p) return undefined;
  return `${p.repository.repositoryName}${p.tag !== undefined ? `:${p.tag}` : ''}${p.pushedAt ? ` pushed at ${p.pushedAt}` : ''}`;
}

/** true: this run settled it; false: it was settled already (a duplicate event, another run). */
export async function applySettlement(
  deps: SettleDeps,
  record: DeploymentRecord,
  s: Settlement,
): Promise<boolean> {
  // What ECS confirmed the deployment ran wins over what harborpilot asked for (a tag that moved meanwhile).
  const digestOf = (c: DeploymentChange) => s.deployedDigests?.[c.container] ?? c.toDigest;
  let cleared: string[] = [];
  if (isFailure(s.state)) {
    const failed: Record<string, FailedDigest> = {};
    for (const c of record.changes) {
      const push = pushOf(record, c);
      failed[digestOf(c)] = {
        container: c.container,
        image: c.toImage,
        outcome: s.state === 'rolled-back' ? 'rolled-back' : 'failed',
        reason: s.reason,
        at: s.settledAt,
        deployment: record.ref,
        ...(push ? { push } : {}),
      };
    }
    await deps.holds.markFailed(record.workload, failed, deps.failedDigestDays);
  } else if (s.state === 'completed') {
    cleared = await deps.holds.clearFailed(
      record.workload,
      Object.fromEntries(record.changes.map((c) => [c.container, digestOf(c)])),
    );
  }
  const first = await deps.deployments.settle(record.recordId, s);
  const line = {
    workload: record.workload,
    deployment: record.ref,
    outcome: s.state,
    reason: s.reason,
    startedAt: record.startedAt,
    settledAt: s.settledAt,
    changes: record.changes.map((c) => ({
      container: c.container,
      from: c.fromImage,
      to: c.toImage,
      digest: digestOf(c),
    })),
    ...(cleared.length > 0 ? { failedDigestsCleared: cleared } : {}),
  };
  if (!first) deps.logger.info('deployment already settled', line);
  else if (isFailure(s.state)) deps.logger.warn('deployment settled: digest held as failed', line);
  else deps.logger.info('deployment settled', line);
  return first;
}
