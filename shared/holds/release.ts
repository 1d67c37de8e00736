/**
 * The release schedule's loop, the same for ECS and EKS: every held push of the platform is planned again
 * against the workload as it is now (its gates read afresh). Released: claimed (a conditional delete, so two
 * runs at once apply it once) and applied. Still held: kept. No longer right (already running it, superseded
 * by a newer push, the workload moved since, approval rejected or expired): dropped, with the reason logged.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { errorMessage } from '../errors';
import type { Hold } from '../gates';
import type { PlanGates } from './plan-holds';
import type { HeldItem, HoldsStore } from './store';

export interface Replanned<A> {
  /** The action the plan takes now: the hold is released. */
  action?: A;
  /** The gate that still holds it. */
  hold?: Hold;
  /** Why the held push is no longer right (nothing to do, or it would move the workload backwards). */
  drop?: string;
  gated?: PlanGates;
}

export interface ReleaseSummary {
  released: string[];
  dropped: { workload: string; reason: string }[];
  kept: number;
}

export async function releaseHeld<A>(o: {
  store: HoldsStore;
  logger: Logger;
  now: Date;
  platform: 'ecs' | 'eks';
  dryRun: boolean;
  heldExpiryDays: number;
  replan: (item: HeldItem) => Promise<Replanned<A>>;
  /** Applies the released action; `key` names this held push for the idempotency record. */
  apply: (action: A, key: string, item: HeldItem) => Promise<unknown>;
  failures: { item: string; error: string }[];
}): Promise<ReleaseSummary> {
  const summary: ReleaseSummary = { released: [], dropped: [], kept: 0 };
  const items = (await o.store.listHeld()).filter((i) => i.workload.startsWith(`${o.platform}/`));
  for (const item of items) {
    const { workload } = item;
    try {
      const r = await o.replan(item);
      // A digest that failed on the workload since it was held never will be released: dropped.
      const failed = r.hold?.gate === 'failed-digest' ? r.hold.reason : undefined;
      const drop = r.drop ?? failed ?? (r.hold ? approvalEnded(item, r, o.now) : undefined);
      if (r.hold && !drop) {
        summary.kept++;
        // Approved, now waiting for its window (or frozen meanwhile): the list says what holds it now.
        if (
          !o.dryRun &&
          (r.hold.gate !== item.gate || r.hold.reason !== item.reason) &&
          isStored(r.hold.gate)
        )
          await o.store.putHeld({ ...item, gate: r.hold.gate, reason: r.hold.reason }, o.heldExpiryDays);
        continue;
      }
      if (o.dryRun) {
        o.logger.info(r.action ? 'held push would be released' : 'held push would be dropped', {
          workload,
          drop,
        });
        continue;
      }
      if (!(await o.store.claimHeld(workload, item.version))) {
        o.logger.info('held push already taken by another run', { workload, version: item.version });
        continue;
      }
      if (!r.action) {
        const reason = drop ?? 'nothing to do';
        summary.dropped.push({ workload, reason });
        o.logger.info('held push dropped', { workload, gate: item.gate, reason });
        continue;
      }
      try {
        await o.apply(r.action, `held:${workload}:${item.version}`, item);
      } catch (err) {
        // Back in the table for the next run; the invocation fails naming it.
        await o.store.restoreHeld(item, o.heldExpiryDays);
        throw err;
      }
      summary.released.push(workload);
      o.logger.info('held push released', {
        workload,
        gate: item.gate,
        heldAt: item.heldAt,
        pushes: item.pushes,
      });
    } catch (err) {
      o.logger.error('held push release failed', { workload, error: errorMessage(err) });
      o.failures.push({ item: workload, error: errorMessage(err) });
    }
  }
  return summary;
}

const isStored = (gate: string): gate is HeldItem['gate'] =>
  gate === 'freeze' || gate === 'window' || gate === 'approval' || gate === 'scan';

/** A push held for an approval that was rejected, or that expired undecided, is dropped. */
function approvalEnded<A>(item: HeldItem, r: Replanned<A>, now: Date): string | undefined {
  if (r.hold?.gate !== 'approval' || !item.approvalId) return undefined;
  const a = r.gated?.state.approvals.get(item.approvalId);
  if (!a) return `approval ${item.approvalId} expired`;
  if (a.status === 'rejected') return `approval ${item.approvalId} rejected by ${a.decidedBy ?? '?'}`;
  if (a.status === 'pending' && Date.parse(a.expiresAt) <= now.getTime())
    return `approval ${item.approvalId} expired at ${a.expiresAt}`;
  return undefined;
}
