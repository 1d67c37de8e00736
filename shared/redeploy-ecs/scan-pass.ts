/**
 * The full scan of an account and Region, within the account's ECS read budget. Read through a paced client
 * (shared/aws/read-budget.ts), a fleet of a few hundred services is read in one invocation and the fleet index
 * rebuilt from it, as before; a bigger one is read over several invocations, a turn each, whole clusters at a
 * time, with the clusters still to read kept in the state table (FleetIndex.pass). Each turn's services are
 * planned and moved by the turn that read them, so every service is reconciled once a pass.
 */
import type { ECSClient } from '@aws-sdk/client-ecs';
import { listClusterArns } from '../aws/ecs';
import type { FleetIndex, ScanPass } from './fleet-index';
import { type GatherOptions, type GatherResult, gatherServices } from './gather';

export interface ScanTurn extends GatherResult {
  /**
   * `rebuilt` / `not rebuilt`: the whole fleet was read in this invocation and the index replaced (or, after a
   * failure, left as it was). `pass continues` / `pass complete`: a turn of a pass over several invocations.
   */
  index: 'rebuilt' | 'not rebuilt' | 'pass continues' | 'pass complete';
  /** The pass this turn belongs to, as saved after it (absent for a scan done in one invocation). */
  pass?: ScanPass;
}

/** No cluster could be read whole in one invocation: saving the pass would only repeat this turn forever. */
export class ScanStalledError extends Error {
  constructor(clusters: readonly string[], readsPerSecond: number) {
    super(
      `no cluster could be read completely within one invocation at ecs.maxReadsPerSecond ${readsPerSecond} ` +
        `(${clusters.length} to read, first ${clusters.slice(0, 3).join(', ')}): a cluster with more services than ` +
        'one invocation reads at that pace needs a higher ecs.maxReadsPerSecond or a longer function timeout',
    );
    this.name = 'ScanStalledError';
  }
}

export async function scanTurn(
  /** A client paced by the read budget, which stops the scan when the invocation runs out of time. */
  ecs: ECSClient,
  fleetIndex: FleetIndex,
  scope: { accountId: string; region: string },
  options: GatherOptions & { readsPerSecond: number; now?: () => number },
): Promise<ScanTurn> {
  const pass = await fleetIndex.pass(scope.accountId, scope.region);
  const clusterArns = pass?.remaining ?? (await listClusterArns(ecs, options.clusters));
  const scan = await gatherServices(ecs, { ...options, clusterArns });
  if (!pass && scan.unfinished.length === 0) {
    // Only a scan that read every cluster may replace the index: a partial one would drop services.
    if (scan.failures.length > 0) return { ...scan, index: 'not rebuilt' };
    await fleetIndex.rebuild(scope.accountId, scope.region, scan.services);
    return { ...scan, index: 'rebuilt' };
  }
  if (clusterArns.length > 0 && scan.unfinished.length === clusterArns.length) {
    throw new ScanStalledError(clusterArns, options.readsPerSecond);
  }
  const next: ScanPass = {
    remaining: scan.unfinished,
    startedAt: pass?.startedAt ?? new Date((options.now ?? Date.now)()).toISOString(),
    turns: (pass?.turns ?? 0) + 1,
    failed: (pass?.failed ?? false) || scan.failures.length > 0,
  };
  await fleetIndex.passTurn(scope.accountId, scope.region, scan.services, next);
  return { ...scan, index: next.remaining.length > 0 ? 'pass continues' : 'pass complete', pass: next };
}
