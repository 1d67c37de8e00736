/**
 * Rollbacks that stick: a digest whose deployment harborpilot started failed or was rolled back on a workload is
 * remembered there (`failed#<workload>`), and the failed-digest gate holds any change of that workload to it, push
 * or reconcile alike, until a different digest is deployed there. Pure over the state read before planning.
 */

import type { Gate } from '../gates';
import { formatWorkloadId } from '../workload';
import * as z from '../zod';

export const failedId = (workload: string) => `failed#${workload}`;

/** One failed digest of a workload: which container ran it, how it ended and why, and what deployed it. */
export const FailedDigest = z.object({
  container: z.string(),
  /** The image the deployment set (`repo:tag`, or `repo:tag@sha256:…`). */
  image: z.string(),
  outcome: z.enum(['failed', 'rolled-back']),
  reason: z.string(),
  /** When it was settled as failed (ISO). */
  at: z.string(),
  /** The ECS deployment id or Kubernetes generation that ran it. */
  deployment: z.string(),
  /** The push that caused the deployment: `shop/api:latest pushed at …`. */
  push: z.optional(z.string()),
});
export type FailedDigest = z.infer<typeof FailedDigest>;

export const FailedDigests = z.object({
  workload: z.string(),
  /** By digest. */
  digests: z.record(z.string(), FailedDigest),
});
export type FailedDigests = z.infer<typeof FailedDigests>;

const describe = (digest: string, f: FailedDigest) =>
  `${digest} ${f.outcome === 'rolled-back' ? 'was rolled back' : 'failed'} here at ${f.at}` +
  ` (deployment ${f.deployment} of ${f.container}${f.push ? `, ${f.push}` : ''}): ${f.reason}`;

/**
 * Holds a change that would put a failed digest back on the workload. Another digest passes: a fix pushed since
 * deploys as usual, and once deployed clears the record.
 */
export function failedDigestGate(failed: ReadonlyMap<string, FailedDigests> | undefined): Gate {
  return ({ workload, changes }) => {
    const known = failed?.get(formatWorkloadId(workload));
    if (!known) return undefined;
    for (const c of changes) {
      const f = known.digests[c.toDigest];
      if (f)
        return {
          gate: 'failed-digest',
          reason: `${describe(c.toDigest, f)}; a different digest deploys`,
        };
    }
    return undefined;
  };
}
