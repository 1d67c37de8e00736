/**
 * Alert on change only (pure): compares what the recipients were last told with what is wrong now. A
 * finding that persists is not repeated; one that appears, gets worse or better, or clears is told once.
 * Info findings are in the report and the log, never in an email: they only matter next to a shortage.
 */
import type { Finding, Severity } from './model';
import { SEVERITY_RANK } from './model';

export type AlertSeverity = Exclude<Severity, 'info'>;

/** What was last emailed about one finding key (kept short: it lives in one DynamoDB item). */
export interface Notified {
  severity: AlertSeverity;
  cluster: string;
  subject: string;
  title: string;
  /** Another target's finding: its label (the home target's have none). */
  target?: string | undefined;
}

export type Told = Record<string, Notified>;

export type ChangeKind = 'new' | 'worse' | 'better' | 'cleared';

export interface Change {
  change: ChangeKind;
  key: string;
  cluster: string;
  subject: string;
  title: string;
  /** Now; absent when cleared. */
  severity?: AlertSeverity;
  previous?: AlertSeverity;
  detail?: string;
  /** Another target's finding: its label (the home target's have none). */
  target?: string;
}

export interface Notification {
  changes: Change[];
  /** Findings that were already told and are unchanged: listed in the email for context, not as news. */
  open: Finding[];
  /** What the recipients will have been told once the email goes. */
  next: Told;
}

const TITLE_MAX = 160;
const clip = (s: string) => (s.length > TITLE_MAX ? `${s.slice(0, TITLE_MAX - 1)}…` : s);
const alerting = (f: Finding): f is Finding & { severity: AlertSeverity } => f.severity !== 'info';

export function planNotification(
  told: Told,
  findings: Finding[],
  /**
   * Told findings this run did not look at (a turn of a capacity pass reads some clusters only): they are neither
   * repeated nor reported cleared, and stay told until a turn that reads their cluster says otherwise.
   */
  unread: (key: string) => boolean = () => false,
): Notification {
  const next: Told = {};
  const changes: Change[] = [];
  const open: Finding[] = [];
  for (const f of findings.filter(alerting)) {
    const target = f.target !== undefined ? { target: f.target } : {};
    next[f.key] = {
      severity: f.severity,
      cluster: f.cluster,
      subject: f.subject,
      title: clip(f.title),
      ...target,
    };
    const before = told[f.key];
    const base = {
      key: f.key,
      cluster: f.cluster,
      subject: f.subject,
      title: f.title,
      detail: f.detail,
      ...target,
    };
    if (!before) changes.push({ ...base, change: 'new', severity: f.severity });
    else if (before.severity !== f.severity) {
      const change = SEVERITY_RANK[f.severity] > SEVERITY_RANK[before.severity] ? 'worse' : 'better';
      changes.push({ ...base, change, severity: f.severity, previous: before.severity });
    } else open.push(f);
  }
  for (const [key, before] of Object.entries(told).sort(([a], [b]) => a.localeCompare(b))) {
    if (next[key]) continue;
    if (unread(key)) {
      next[key] = before;
      continue;
    }
    changes.push({
      change: 'cleared',
      key,
      cluster: before.cluster,
      subject: before.subject,
      title: before.title,
      previous: before.severity,
      ...(before.target !== undefined ? { target: before.target } : {}),
    });
  }
  return { changes, open, next };
}
