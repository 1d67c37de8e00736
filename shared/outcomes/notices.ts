/**
 * Which deployment notices are due (pure): one per push, once every deployment it started has settled, or once
 * some have been in progress longer than `notices.slowMinutes` (said so, and followed up when they end). Each
 * workload's level (off, failures, all) picks what the email tells; a push with nothing to tell sends nothing.
 */
import { type Cause, type DeploymentRecord, isFailure, isSettled, type PushGroup } from './model';

/** A notice waits this long after the last deployment joined its push: rollEks and redeployEcs both add theirs. */
export const QUIET_MS = 60_000;

export type NoticeKind = 'settled' | 'slow' | 'follow-up';

export interface PlannedNotice {
  eventId: string;
  cause: Cause;
  kind: NoticeKind;
  /** The claim that sends it: the push's notice moves from → to. */
  from: 'pending' | 'slow';
  to: 'slow' | 'done';
  /** The deployments the email tells, oldest first. */
  told: DeploymentRecord[];
  /** Every deployment of the push (the counts in the email). */
  all: DeploymentRecord[];
}

export interface NoticePlan {
  send: PlannedNotice[];
  /** Pushes whose notice is done without an email (nothing to tell at their workloads' levels, or expired). */
  close: { eventId: string; from: 'pending' | 'slow'; to: 'slow' | 'done' }[];
  waiting: number;
}

export function planNotices(
  groups: readonly PushGroup[],
  records: ReadonlyMap<string, DeploymentRecord>,
  now: Date,
  options: { slowMinutes: number; quietMs?: number },
): NoticePlan {
  const plan: NoticePlan = { send: [], close: [], waiting: 0 };
  const quiet = options.quietMs ?? QUIET_MS;
  for (const g of groups) {
    if (g.notice === 'done') continue;
    const all = g.deployments
      .flatMap((id) => {
        const r = records.get(id);
        return r ? [r] : [];
      })
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.workload.localeCompare(b.workload));
    if (all.length === 0) {
      plan.close.push({ eventId: g.eventId, from: g.notice, to: 'done' });
      continue;
    }
    if (now.getTime() - Date.parse(g.lastAt) < quiet) {
      plan.waiting++;
      continue;
    }
    const open = all.filter((r) => !isSettled(r));
    let kind: NoticeKind | undefined;
    if (g.notice === 'pending' && open.length === 0) kind = 'settled';
    else if (g.notice === 'pending' && now.getTime() - Date.parse(g.firstAt) >= options.slowMinutes * 60_000)
      kind = 'slow';
    else if (g.notice === 'slow' && open.length === 0) kind = 'follow-up';
    if (!kind) {
      plan.waiting++;
      continue;
    }
    const to = kind === 'slow' ? 'slow' : 'done';
    // What went wrong first: the reader of a long list sees it without scrolling.
    const told = all
      .filter((r) => tells(r, kind, g.slowAt))
      .sort((a, b) => rank(a) - rank(b) || a.workload.localeCompare(b.workload));
    if (told.length === 0) plan.close.push({ eventId: g.eventId, from: g.notice, to });
    else plan.send.push({ eventId: g.eventId, cause: g.cause, kind, from: g.notice, to, told, all });
  }
  return plan;
}

const rank = (r: DeploymentRecord) =>
  isFailure(r.state) ? 0 : r.state === 'unknown' ? 1 : r.state === 'in-progress' ? 2 : 3;

/** Whether a deployment is in this notice, at its workload's level. */
function tells(r: DeploymentRecord, kind: NoticeKind, slowAt: string | undefined): boolean {
  if (r.notify === 'off') return false;
  // A follow-up tells what ended since the slow notice; the rest was told then.
  if (kind === 'follow-up' && slowAt && r.settledAt && r.settledAt < slowAt) return false;
  if (r.notify === 'all') return true;
  // failures: what failed or was rolled back, what never told how it ended, and what is slow.
  return isFailure(r.state) || r.state === 'unknown' || (kind === 'slow' && !isSettled(r));
}
