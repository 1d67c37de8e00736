/**
 * The capacity email (pure): what changed since the last one, a table per cluster, in HTML and text.
 * Every name in it comes from the user's cloud (cluster, service, node group, pod owner, scheduler
 * messages): escaped in HTML, stripped of control characters in the subject.
 */
import { escapeHtml, oneLine, type RenderedEmail } from '../email/render';
import type { Change, Notification } from './hysteresis';
import type { Finding } from './model';

interface Row {
  /** Another target's label; the home target's rows have none. */
  target?: string;
  cluster: string;
  status: string;
  severity: string;
  subject: string;
  title: string;
  detail: string;
}

const STATUS: Record<Change['change'], string> = {
  new: 'new',
  worse: 'worse',
  better: 'better',
  cleared: 'cleared',
};
const COLOR: Record<string, string> = { critical: '#dc2626', warning: '#d97706', cleared: '#16a34a' };

function rowOf(c: Change): Row {
  const severity =
    c.change === 'cleared' ? 'cleared' : `${c.severity}${c.previous ? ` (was ${c.previous})` : ''}`;
  return {
    ...(c.target !== undefined ? { target: c.target } : {}),
    cluster: c.cluster,
    status: STATUS[c.change],
    severity,
    subject: c.subject,
    title: c.title,
    detail: c.detail ?? '',
  };
}

const openRow = (f: Finding): Row => ({
  ...(f.target !== undefined ? { target: f.target } : {}),
  cluster: f.cluster,
  status: 'still open',
  severity: f.severity,
  subject: f.subject,
  title: f.title,
  detail: f.detail,
});

export function subjectOf(n: Notification): string {
  const news = n.changes.filter((c) => c.change === 'new' || c.change === 'worse');
  const cleared = n.changes.filter((c) => c.change === 'cleared');
  let s: string;
  const first = news[0];
  if (first) {
    const more = n.changes.length - 1;
    s = `${first.severity === 'critical' ? 'shortage' : 'warning'}: ${first.title} (${where(first)})${more > 0 ? `, and ${more} more change(s)` : ''}`;
  } else if (n.open.length === 0 && n.changes.every((c) => c.change === 'cleared')) {
    const one = cleared[0];
    s =
      cleared.length === 1 && one
        ? `all clear: ${one.title} (${where(one)}) is resolved`
        : `all clear: ${cleared.length} findings resolved`;
  } else {
    s = `${n.changes.length} finding(s) better or resolved, ${n.open.length} still open`;
  }
  return oneLine(`[harborpilot] capacity ${s}`);
}

/** `ECS prod`, or `ECS prod in staging (111111111111) us-west-2` for another target's. */
const where = (c: { cluster: string; target?: string }) =>
  c.target !== undefined ? `${c.cluster} in ${c.target}` : c.cluster;

function byCluster(rows: readonly Row[]): Map<string, Row[]> {
  const clusters = new Map<string, Row[]>();
  for (const r of rows) clusters.set(r.cluster, [...(clusters.get(r.cluster) ?? []), r]);
  return new Map([...clusters].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Rows under a heading per target, then per cluster: the home target's first (labelled `homeLabel`), then the
 * others by label. When every row is the home target's there is one group without a heading, as before
 * targets existed.
 */
function byTarget(n: Notification, homeLabel: string): { target?: string; clusters: Map<string, Row[]> }[] {
  const rows = [...n.changes.map(rowOf), ...n.open.map(openRow)];
  if (rows.every((r) => r.target === undefined)) return [{ clusters: byCluster(rows) }];
  const labels = [...new Set(rows.map((r) => r.target).filter((t): t is string => t !== undefined))].sort();
  const home = rows.filter((r) => r.target === undefined);
  return [
    ...(home.length > 0 ? [{ target: homeLabel, clusters: byCluster(home) }] : []),
    ...labels.map((target) => ({ target, clusters: byCluster(rows.filter((r) => r.target === target)) })),
  ];
}

const td = 'padding:4px 10px 4px 0;vertical-align:top;border-bottom:1px solid #e5e7eb;font-size:13px';

export function renderCapacityEmail(
  n: Notification,
  at: string,
  /** A turn of a pass over several invocations: which clusters it read and how many remain (one sentence). */
  coverage?: string,
  /** The home target's heading when the email also covers other targets: `us-east-1 (home)`. */
  homeLabel = 'home',
): RenderedEmail {
  const subject = subjectOf(n);
  const groups = byTarget(n, homeLabel);
  const level = groups.some((g) => g.target !== undefined) ? 3 : 2;
  const tables = groups
    .map(
      (g) =>
        (g.target !== undefined
          ? `<h2 style="font-size:17px;margin:28px 0 4px;border-bottom:2px solid #111827">${escapeHtml(g.target)}</h2>`
          : '') + clusterTables(g.clusters, level),
    )
    .join('');
  const footer =
    'harborpilot emails when a capacity finding appears, changes severity or clears; a finding that persists is not repeated. ' +
    `Checked at ${at}.${coverage ? ` ${coverage}` : ''}`;
  const html =
    `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>` +
    '<body style="margin:0;padding:24px;background:#f3f4f6;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#111827">' +
    '<div style="max-width:860px;margin:0 auto;background:#fff;border-radius:8px;padding:24px">' +
    `<h1 style="font-size:20px;margin:0 0 8px">${escapeHtml(subject.replace(/^\[harborpilot\] /, ''))}</h1>${tables}` +
    `<p style="margin:24px 0 0;color:#6b7280;font-size:12px">${escapeHtml(footer)}</p></div></body></html>`;
  const text = [
    subject,
    '',
    ...groups.flatMap((g) => [
      ...(g.target !== undefined ? [`# ${g.target}`, ''] : []),
      ...[...g.clusters].flatMap(([cluster, rows]) => [
        `== ${cluster}`,
        ...rows.map(
          (r) =>
            `- [${r.status}] ${r.severity}: ${r.subject}: ${r.title}${r.detail ? `\n    ${r.detail}` : ''}`,
        ),
        '',
      ]),
    ]),
    footer,
    '',
  ].join('\n');
  return { subject, html, text };
}

function clusterTables(clusters: Map<string, Row[]>, level: 2 | 3): string {
  return [...clusters]
    .map(([cluster, rows]) => {
      const body = rows
        .map((r) => {
          const color = COLOR[r.severity.split(' ')[0] ?? ''] ?? '#6b7280';
          return (
            `<tr><td style="${td};white-space:nowrap">${escapeHtml(r.status)}</td>` +
            `<td style="${td};white-space:nowrap;color:${color};font-weight:bold">${escapeHtml(r.severity)}</td>` +
            `<td style="${td};font-family:Menlo,Consolas,monospace;font-size:12px">${escapeHtml(r.subject)}</td>` +
            `<td style="${td}"><div>${escapeHtml(r.title)}</div>${r.detail ? `<div style="color:#6b7280">${escapeHtml(r.detail)}</div>` : ''}</td></tr>`
          );
        })
        .join('');
      const head = ['Change', 'Severity', 'Resource', 'What']
        .map((h) => `<th align="left" style="${td};color:#6b7280;font-weight:normal">${h}</th>`)
        .join('');
      return (
        `<h${level} style="font-size:16px;margin:24px 0 8px">${escapeHtml(cluster)}</h${level}>` +
        `<table cellspacing="0" cellpadding="0" style="border-collapse:collapse;width:100%"><tr>${head}</tr>${body}</table>`
      );
    })
    .join('');
}
