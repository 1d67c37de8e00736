/**
 * checkCapacity's scan over several invocations (docs/capacity.md): each turn reads as many whole ECS clusters as
 * its read budget allows, starting where the last one stopped, and reports on what it read; the cursor, the
 * clusters the pass started with and the Fargate vCPU read so far are carried in the state table.
 */
import { advancePass, listedNames, type Pass } from '../state/scan-pass';
import * as z from '../zod';
import type { CapacityTurnState } from './handler';

export const CapacityCarry = z.object({
  /** Names of the ECS clusters listed when the pass began: findings about them stay told until read again. */
  clusters: z.array(z.string()),
  /** Fargate On-Demand vCPU of each cluster read so far (ARN → vCPU). */
  fargate: z.record(z.string(), z.number()),
});
export type CapacityCarry = z.infer<typeof CapacityCarry>;
export type CapacityPass = Pass<CapacityCarry>;

export const CAPACITY_PASS_ID = 'capacity#pass';

const nameOf = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

export interface CapacityTurn {
  /** The pass after this turn; absent when the whole account was read in this one invocation (no pass). */
  next?: CapacityPass;
  /** Clusters this turn read (names). */
  read: string[];
  /**
   * Told findings this turn did not look at: ECS findings of the pass's clusters it did not read (read in an
   * earlier turn or still to read), and the account's Fargate quota until the turn that completes the pass.
   */
  unread: (key: string) => boolean;
  /** Account Fargate On-Demand vCPU, summed over the pass, on the turn that completes it. */
  fargateOnDemandVcpu?: number;
}

/** Finding keys are `ecs:<cluster name>:…` (ECS cluster names have no colon); the Fargate quota's is this one. */
const FARGATE_KEY = 'ecs:account:fargate-vcpu-quota';

export function capacityTurn(
  pass: CapacityPass | undefined,
  state: CapacityTurnState,
  turn: { eventId: string; nowMs: number },
): CapacityTurn {
  const read = state.ecs.map((c) => c.clusterName);
  if (!pass && state.unfinished.length === 0) return { read, unread: () => false };
  const readNames = new Set(read);
  const carry: CapacityCarry = {
    clusters: pass?.carry?.clusters ?? [...read, ...state.unfinished.map(nameOf)],
    fargate: { ...pass?.carry?.fargate, ...state.fargateVcpuByCluster },
  };
  const next = advancePass(pass, { ...turn, unfinished: state.unfinished, failed: false, carry });
  const complete = next.remaining.length === 0;
  const fargateOnDemandVcpu =
    complete && state.fargateVcpuByCluster
      ? Object.values(carry.fargate).reduce((a, b) => a + b, 0)
      : undefined;
  const passClusters = new Set(carry.clusters);
  const unread = (key: string) => {
    if (key === FARGATE_KEY)
      return state.fargateVcpuByCluster !== undefined && fargateOnDemandVcpu === undefined;
    const [source, cluster = ''] = key.split(':');
    return source === 'ecs' && passClusters.has(cluster) && !readNames.has(cluster);
  };
  return { next, read, unread, ...(fargateOnDemandVcpu !== undefined ? { fargateOnDemandVcpu } : {}) };
}

/** One sentence for the email and the log: which clusters this turn covered and how many remain. */
export function coverageOf(t: CapacityTurn): string | undefined {
  if (!t.next) return undefined;
  const shown = listedNames(t.read);
  const remaining = t.next.remaining.length;
  return (
    `Turn ${t.next.turns} of a scan pass started ${t.next.startedAt} covered ${t.read.length} ECS cluster(s)` +
    `${t.read.length ? ` (${shown})` : ''}; ` +
    (remaining > 0 ? `${remaining} remain in the pass.` : 'the pass is complete.')
  );
}
