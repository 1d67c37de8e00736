/**
 * Gates: reasons a change that a workload's update policy allows must not happen now (the workload is frozen,
 * outside its maintenance window, awaiting approval, its image is held by a scan, the digest was rolled back
 * there before). Each gate is pure over state gathered before planning; the plans of redeployEcs and rollEks
 * ask every gate about every change they would make, and a workload that any gate holds is a hold, not an
 * action, carrying the action it would have taken so it can be kept and applied once released.
 */
import type { Digest } from './image-ref';
import type { WorkloadId } from './workload';

export type GateName = 'freeze' | 'window' | 'approval' | 'scan' | 'failed-digest';

export interface GateChange {
  containerName: string;
  fromImage: string;
  toImage: string;
  fromDigest?: Digest;
  toDigest: Digest;
}

export interface GateCandidate {
  workload: WorkloadId;
  changes: readonly GateChange[];
}

export interface Hold {
  gate: GateName;
  /** Human words, as logs, emails and `harborpilot plan push` show them. */
  reason: string;
  /** A hold that ends by itself (a scan still running): not kept as a held push; the event that ends it acts. */
  transient?: boolean;
}

export type Gate = (candidate: GateCandidate) => Hold | undefined;

/** The first gate that holds the change, in the order given (the most telling first). */
export function firstHold(gates: readonly Gate[], candidate: GateCandidate): Hold | undefined {
  for (const gate of gates) {
    const hold = gate(candidate);
    if (hold) return hold;
  }
  return undefined;
}
