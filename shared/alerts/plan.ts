/**
 * When emails go, and how many: pure functions of the stored windows and a clock.
 *
 * The rule: a key (cluster, service or family, class) gets at most one email per window length. A key's
 * first failure is emailed at the next flush (the schedule runs every minute); failures after that wait
 * until a full window has passed since that key's last email, and then go out as one email with their
 * count. A crash loop is one prompt email, then one email per window while it lasts, each with the count of
 * its own window; the counts add up to every failure, and none is counted twice.
 */
import type { AlertClass, AlertGroup } from './model';
import type { AlertWindow, KeyState, Sample } from './store';

/** A claim older than this belonged to a flush that died before sending: take it over. */
export const CLAIM_TIMEOUT_MS = 5 * 60_000;

export interface FlushPlan {
  /** Windows to claim and email now. */
  due: AlertWindow[];
  /** Windows that keep collecting, with when they become due. */
  waiting: { window: AlertWindow; dueAt: number }[];
}

export function planFlush(
  windows: AlertWindow[],
  keys: Map<string, KeyState>,
  nowMs: number,
  windowMs: number,
): FlushPlan {
  const plan: FlushPlan = { due: [], waiting: [] };
  for (const w of windows) {
    if (w.sentAt !== undefined || w.count === 0) continue;
    if (w.closedAt !== undefined) {
      // Claimed by another flush: its email is on its way, unless that flush died.
      if (nowMs - w.closedAt >= CLAIM_TIMEOUT_MS) plan.due.push(w);
      else plan.waiting.push({ window: w, dueAt: w.closedAt + CLAIM_TIMEOUT_MS });
      continue;
    }
    const last = keys.get(w.key)?.lastEmailAt;
    const dueAt = last === undefined ? nowMs : last + windowMs;
    if (nowMs >= dueAt) plan.due.push(w);
    else plan.waiting.push({ window: w, dueAt });
  }
  return plan;
}

/** What one email says about one key: the windows claimed for it, merged. */
export interface Alert {
  key: string;
  group: AlertGroup;
  alertClass: AlertClass;
  count: number;
  firstSeen: string;
  lastSeen: string;
  exitCodes: number[];
  imageDigests: string[];
  samples: Sample[];
  windows: AlertWindow[];
}

export type Email = { kind: 'alert'; alert: Alert } | { kind: 'digest'; alerts: Alert[] };

export interface EmailPlanOptions {
  /** More alerts than this in one flush are combined into digests, so a burst never outruns SES. */
  digestAbove: number;
  /** Alerts listed in one digest email. */
  digestSize: number;
}

/** Merges windows of the same key (a released claim and its successor), then decides single or digest. */
export function planEmails(claimed: AlertWindow[], options: EmailPlanOptions): Email[] {
  const byKey = new Map<string, AlertWindow[]>();
  for (const w of claimed) byKey.set(w.key, [...(byKey.get(w.key) ?? []), w]);
  const alerts = [...byKey.values()].map(mergeWindows).sort(byWhere);
  if (alerts.length <= options.digestAbove) return alerts.map((alert) => ({ kind: 'alert', alert }));
  const emails: Email[] = [];
  for (let i = 0; i < alerts.length; i += options.digestSize) {
    emails.push({ kind: 'digest', alerts: alerts.slice(i, i + options.digestSize) });
  }
  return emails;
}

function mergeWindows(windows: AlertWindow[]): Alert {
  const sorted = [...windows].sort((a, b) => a.seq - b.seq);
  const first = sorted[0] as AlertWindow;
  // ISO times: string order is time order.
  const times = (pick: (w: AlertWindow) => string) => sorted.map(pick).sort();
  const min = (xs: string[]) => xs[0] as string;
  const max = (xs: string[]) => xs.at(-1) as string;
  return {
    key: first.key,
    group: first.group,
    alertClass: first.alertClass,
    count: sorted.reduce((n, w) => n + w.count, 0),
    firstSeen: min(times((w) => w.firstSeen)),
    lastSeen: max(times((w) => w.lastSeen)),
    exitCodes: [...new Set(sorted.flatMap((w) => w.exitCodes))].sort((a, b) => a - b),
    imageDigests: [...new Set(sorted.flatMap((w) => w.imageDigests))].sort(),
    samples: sorted.flatMap((w) => w.samples).slice(0, 10),
    windows: sorted,
  };
}

const byWhere = (a: Alert, b: Alert) =>
  a.group.clusterName.localeCompare(b.group.clusterName) ||
  a.group.name.localeCompare(b.group.name) ||
  a.alertClass.localeCompare(b.alertClass);

/** SES takes at most 50 recipients a message: the same email goes to each chunk. */
export function recipientChunks(to: string[], size = 50): string[][] {
  const chunks: string[][] = [];
  for (let i = 0; i < to.length; i += size) chunks.push(to.slice(i, i + size));
  return chunks;
}
