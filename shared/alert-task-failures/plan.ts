/**
 * When emails go, and how many: pure functions of the stored windows and a clock.
 *
 * The rule: a key (cluster, service or family, class) gets at most one email per window length. A key's
 * first failure is emailed at the next flush (the schedule runs every minute); failures after that wait
 * until a full window has passed since that key's last email, and then go out as one email with their
 * count. A crash loop is one prompt email, then one email per window while it lasts, each with the count of
 * its own window; the counts add up to every failure, and none is counted twice.
 *
 * One problem, one email: a service's deployment failure, rollback and "cannot start tasks" reports
 * (CONTEXT_CLASSES) are consequences of its failing tasks. While a task-failure window of the same service
 * is open, or its last task-failure email is less than a window old, they wait for that service's next
 * task-failure email and go out inside it as context; they are emailed alone only when no task failure of
 * the service turns up to carry them.
 */
import {
  ALERT_CLASSES,
  type AlertClass,
  type AlertGroup,
  alertKey,
  CONTEXT_CLASSES,
  sameService,
  TASK_FAILURE_CLASSES,
} from './model';
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
  const pending = windows.filter((w) => w.sentAt === undefined && w.count > 0);
  const isContext = (w: AlertWindow) => w.group.kind === 'service' && CONTEXT_CLASSES.includes(w.alertClass);
  // Task failures first: the context windows of a service follow its task-failure windows.
  const hosts = new Map<AlertWindow, number>();
  for (const w of pending.filter((x) => !isContext(x))) {
    const dueAt = ownDueAt(w, keys, nowMs, windowMs);
    if (TASK_FAILURE_CLASSES.includes(w.alertClass)) hosts.set(w, dueAt);
    push(plan, w, dueAt, nowMs);
  }
  for (const w of pending.filter(isContext)) {
    if (w.closedAt !== undefined) {
      push(plan, w, ownDueAt(w, keys, nowMs, windowMs), nowMs);
      continue;
    }
    const hostDue = [...hosts].filter(([h]) => sameService(h.group, w.group)).map(([, dueAt]) => dueAt);
    // No open task failure: the service's last task-failure email, if recent, may still get company.
    const recentEmail = TASK_FAILURE_CLASSES.map((c) => keys.get(alertKey(w.group, c))?.lastEmailAt)
      .filter((t): t is number => t !== undefined && nowMs < t + windowMs)
      .map((t) => t + windowMs);
    const dueAt =
      hostDue.length > 0
        ? Math.min(...hostDue)
        : recentEmail.length > 0
          ? Math.max(...recentEmail)
          : undefined;
    push(plan, w, dueAt ?? ownDueAt(w, keys, nowMs, windowMs), nowMs);
  }
  return plan;
}

function ownDueAt(w: AlertWindow, keys: Map<string, KeyState>, nowMs: number, windowMs: number): number {
  // Claimed by another flush: its email is on its way, unless that flush died.
  if (w.closedAt !== undefined) return w.closedAt + CLAIM_TIMEOUT_MS;
  const last = keys.get(w.key)?.lastEmailAt;
  return last === undefined ? nowMs : last + windowMs;
}

function push(plan: FlushPlan, window: AlertWindow, dueAt: number, nowMs: number) {
  if (nowMs >= dueAt) plan.due.push(window);
  else plan.waiting.push({ window, dueAt });
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
  /** Every occurrence's reason and how often, over all its windows, most frequent first. */
  reasonCounts: [string, number][];
  /** Occurrences counted without their reason (past the store's distinct-reason limit, or before it counted them). */
  otherReasons: number;
  windows: AlertWindow[];
  /** The same service's deployment and service-action alerts, carried by this task-failure alert. */
  context: Alert[];
}

/** Every window an alert answers for, its context's included: all are claimed and marked sent together. */
export function alertWindows(alert: Alert): AlertWindow[] {
  return [...alert.windows, ...alert.context.flatMap(alertWindows)];
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
  const merged = [...byKey.values()].map(mergeWindows).sort(byWhere);
  const alerts = foldContext(merged);
  if (alerts.length <= options.digestAbove) return alerts.map((alert) => ({ kind: 'alert', alert }));
  const emails: Email[] = [];
  for (let i = 0; i < alerts.length; i += options.digestSize) {
    emails.push({ kind: 'digest', alerts: alerts.slice(i, i + options.digestSize) });
  }
  return emails;
}

/**
 * Moves each context alert into the task-failure alert of its service (the one with the most failures, if
 * several kinds failed); context with no such alert in this flush stays an alert of its own.
 */
function foldContext(alerts: Alert[]): Alert[] {
  const hosts = alerts
    .filter((a) => TASK_FAILURE_CLASSES.includes(a.alertClass))
    .sort((a, b) => b.count - a.count || classOrder(a) - classOrder(b));
  const top: Alert[] = [];
  for (const a of alerts) {
    const host = CONTEXT_CLASSES.includes(a.alertClass)
      ? hosts.find((h) => sameService(h.group, a.group))
      : undefined;
    if (host) host.context.push(a);
    else top.push(a);
  }
  return top;
}

const classOrder = (a: Alert) => ALERT_CLASSES.indexOf(a.alertClass);

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
    reasonCounts: sumReasons(sorted.flatMap((w) => w.reasonCounts)),
    // A window stored before reasons were counted has a count and no reasons: those stay visible as "other".
    otherReasons: sorted.reduce(
      (n, w) =>
        n +
        w.otherReasons +
        Math.max(0, w.count - w.otherReasons - w.reasonCounts.reduce((m, [, c]) => m + c, 0)),
      0,
    ),
    windows: sorted,
    context: [],
  };
}

function sumReasons(counts: [string, number][]): [string, number][] {
  const sums = new Map<string, number>();
  for (const [reason, n] of counts) sums.set(reason, (sums.get(reason) ?? 0) + n);
  return [...sums].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

const byWhere = (a: Alert, b: Alert) =>
  a.group.clusterName.localeCompare(b.group.clusterName) ||
  a.group.name.localeCompare(b.group.name) ||
  a.alertClass.localeCompare(b.alertClass);
