/**
 * Deployment notice emails: subject, HTML and text, from a planned notice alone (pure). One email per push: per
 * workload, from → to (tag and digest), how long it took, the outcome and why, and the push that caused it.
 * Names, tags, images and reasons come from the user's cloud: HTML-escaped in the HTML part, control characters
 * stripped from the subject, as the alert emails do.
 */
import { when } from '../alert-task-failures/render';
import { escapeHtml, oneLine, type RenderedEmail } from '../email/render';
import type { HeldPush } from '../holds/store';
import { parseImageRef } from '../image-ref';
import { type DeploymentRecord, type DeploymentState, isFailure } from './model';
import type { PlannedNotice } from './notices';

const LABEL: Record<DeploymentState, string> = {
  completed: 'deployed',
  failed: 'failed',
  'rolled-back': 'rolled back',
  stopped: 'replaced before it finished',
  unknown: 'outcome unknown',
  'in-progress': 'still in progress',
};
const COLOUR: Record<DeploymentState, string> = {
  completed: '#16a34a',
  failed: '#dc2626',
  'rolled-back': '#dc2626',
  stopped: '#6b7280',
  unknown: '#d97706',
  'in-progress': '#d97706',
};

/** `1 h 5 min`, `3 min 20 s`, `45 s`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  return m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${Math.floor(m / 60)} h`;
}

/** `sha256:1a2b3c4d5e6f`: enough of a digest to tell images apart at a glance (the text part has them whole). */
const short = (digest: string | undefined) =>
  digest ? digest.slice(0, digest.indexOf(':') + 13) : undefined;

/** `shop/api:latest`: the repository and tag without the registry host. */
function shortImage(image: string): string {
  try {
    const ref = parseImageRef(image);
    return `${ref.repository}${ref.tag ? `:${ref.tag}` : ''}`;
  } catch {
    return image;
  }
}

const pushName = (p: HeldPush) => `${p.repository.repositoryName}${p.tag !== undefined ? `:${p.tag}` : ''}`;

/** The pushes behind a notice, each once. */
function pushesOf(n: PlannedNotice): HeldPush[] {
  const seen = new Map<string, HeldPush>();
  for (const r of n.all) for (const p of r.pushes) seen.set(`${pushName(p)}@${p.digest}`, p);
  return [...seen.values()];
}

/** What caused the deployments, for the subject: `shop/api:latest`, `the reconcile`, `released shop/api:latest`. */
function causeName(n: PlannedNotice): string {
  const names = [...new Set(pushesOf(n).map(pushName))];
  const named =
    names.length === 0
      ? ''
      : names.length === 1
        ? (names[0] as string)
        : `${names[0]} and ${names.length - 1} more`;
  if (n.cause.kind === 'reconcile') return named ? `the reconcile (${named})` : 'the reconcile';
  if (n.cause.kind === 'release') return `released ${named || 'held push'}`;
  return named || 'a push';
}

function counts(records: readonly DeploymentRecord[]): string {
  const by = new Map<DeploymentState, number>();
  for (const r of records) by.set(r.state, (by.get(r.state) ?? 0) + 1);
  const order: DeploymentState[] = [
    'rolled-back',
    'failed',
    'unknown',
    'in-progress',
    'stopped',
    'completed',
  ];
  return order
    .filter((s) => by.has(s))
    .map((s) => `${by.get(s)} ${LABEL[s]}`)
    .join(', ');
}

const took = (r: DeploymentRecord, now: Date) =>
  r.settledAt
    ? duration(Date.parse(r.settledAt) - Date.parse(r.startedAt))
    : `${duration(now.getTime() - Date.parse(r.startedAt))} so far`;

const change = (c: DeploymentRecord['changes'][number], full: boolean) => {
  const digest = (d: string | undefined) => (d ? ` (${full ? d : short(d)})` : '');
  return {
    container: c.container,
    from: `${shortImage(c.fromImage)}${digest(c.fromDigest)}`,
    to: `${shortImage(c.toImage)}${digest(c.toDigest)}`,
  };
};

export function renderNotice(n: PlannedNotice, now: Date): RenderedEmail {
  const failed = n.all.some((r) => isFailure(r.state));
  const open = n.all.filter((r) => r.state === 'in-progress').length;
  const what = causeName(n);
  const headline =
    n.kind === 'slow'
      ? `${what}: ${open} deployment${open === 1 ? '' : 's'} still in progress after ${duration(
          now.getTime() - Date.parse(n.all[0]?.startedAt ?? now.toISOString()),
        )}`
      : `${what}: ${counts(n.all)}${n.kind === 'follow-up' ? ' (follow-up)' : ''}`;
  const colour = failed ? '#dc2626' : n.kind === 'slow' ? '#d97706' : '#16a34a';
  return {
    subject: oneLine(`[harborpilot] ${headline}`),
    html: page(headline, htmlBody(n, now), colour),
    text: textBody(headline, n, now),
  };
}

const td = 'padding:6px 12px 6px 0;vertical-align:top;border-bottom:1px solid #e5e7eb';
const mono = 'font-family:SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;word-break:break-all';
const monoLine = 'font-family:SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;white-space:nowrap';

function causeLines(n: PlannedNotice): string[] {
  const pushes = pushesOf(n).map(
    (p) => `${pushName(p)} → ${p.digest}${p.pushedAt ? `, pushed ${when(p.pushedAt)}` : ''}`,
  );
  const by =
    n.cause.kind === 'push'
      ? 'Push'
      : n.cause.kind === 'reconcile'
        ? 'Reconcile run (a push its event missed)'
        : 'Released held push';
  return [`${by} ${n.cause.eventId}`, ...pushes];
}

function htmlBody(n: PlannedNotice, now: Date): string {
  const intro =
    n.kind === 'slow'
      ? 'Some deployments this push started are still in progress; another email follows when they end.'
      : n.kind === 'follow-up'
        ? 'The deployments that were still in progress have ended.'
        : `Every deployment this push started has ended: ${counts(n.all)}.`;
  const rows = n.told
    .map((r) => {
      const changes = r.changes
        .map((c) => {
          const x = change(c, false);
          // From and to on lines of their own: an image and its digest never break in the middle.
          return (
            `<div style="margin-bottom:4px"><b>${escapeHtml(x.container)}</b><br>` +
            `<span style="${monoLine}">${escapeHtml(x.from)}</span><br>` +
            `<span style="${monoLine}">→ ${escapeHtml(x.to)}</span></div>`
          );
        })
        .join('');
      return (
        `<tr><td style="${td}"><div style="font-weight:600">${escapeHtml(r.workload)}</div>` +
        `<div style="color:#6b7280;font-size:12px">${escapeHtml(r.platform === 'ecs' ? `ECS deployment ${r.ref}` : `Kubernetes ${r.ref}`)}, started ${escapeHtml(when(r.startedAt))}</div></td>` +
        `<td style="${td}">${changes}</td>` +
        `<td style="${td};white-space:nowrap">${escapeHtml(took(r, now))}</td>` +
        `<td style="${td}"><span style="color:${COLOUR[r.state]};font-weight:600">${escapeHtml(LABEL[r.state])}</span>` +
        `${r.reason && r.state !== 'completed' ? `<div style="font-size:12px">${escapeHtml(r.reason)}</div>` : ''}</td></tr>`
      );
    })
    .join('');
  const hidden = n.all.length - n.told.length;
  return (
    `<p style="margin:0 0 12px">${escapeHtml(intro)}</p>` +
    `<p style="margin:0 0 16px;color:#374151">${causeLines(n)
      .map((l, i) => (i === 0 ? escapeHtml(l) : `<span style="${mono}">${escapeHtml(l)}</span>`))
      .join('<br>')}</p>` +
    '<table cellspacing="0" cellpadding="0" width="100%" style="border-collapse:collapse;font-size:13px">' +
    `<tr><th align="left" style="${td};color:#6b7280;font-weight:normal">Workload</th><th align="left" style="${td};color:#6b7280;font-weight:normal">From → to</th>` +
    `<th align="left" style="${td};color:#6b7280;font-weight:normal">Took</th><th align="left" style="${td};color:#6b7280;font-weight:normal">Outcome</th></tr>` +
    `${rows}</table>` +
    (hidden > 0
      ? `<p style="margin:12px 0 0;color:#6b7280">${hidden} other deployment${hidden === 1 ? '' : 's'} of this push not shown (their notify level).</p>`
      : '') +
    (n.told.some((r) => isFailure(r.state))
      ? '<p style="margin:12px 0 0;font-size:13px">A digest that failed or was rolled back is not deployed to that workload again on its own (push or reconcile) until another digest is deployed there.</p>'
      : '')
  );
}

function textBody(headline: string, n: PlannedNotice, now: Date): string {
  const rows = n.told.map((r) =>
    [
      `- ${r.workload}: ${LABEL[r.state]} after ${took(r, now)} (${r.platform === 'ecs' ? `ECS deployment ${r.ref}` : `Kubernetes ${r.ref}`}, started ${when(r.startedAt)})`,
      ...r.changes.map((c) => {
        const x = change(c, true);
        return `    ${x.container}: ${x.from} -> ${x.to}`;
      }),
      ...(r.reason && r.state !== 'completed' ? [`    why: ${r.reason}`] : []),
    ].join('\n'),
  );
  const hidden = n.all.length - n.told.length;
  return [
    headline,
    '',
    ...causeLines(n),
    '',
    ...rows,
    ...(hidden > 0 ? ['', `${hidden} other deployment(s) of this push not shown (their notify level).`] : []),
    '',
    'harborpilot sends one notice per push (notices.level, tag harborpilot:notify, annotation harborpilot.io/notify).',
    '',
  ].join('\n');
}

function page(title: string, body: string, colour: string): string {
  return (
    `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
    '<body style="margin:0;padding:24px;background:#f3f4f6;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#111827">' +
    `<div style="max-width:860px;margin:0 auto;background:#fff;border-radius:8px;padding:24px;border-top:4px solid ${colour}">` +
    `<h1 style="font-size:20px;margin:0 0 16px">${escapeHtml(title)}</h1>${body}` +
    '<p style="margin:24px 0 0;color:#6b7280;font-size:12px">harborpilot sends one notice per push (notices.level, tag harborpilot:notify, annotation harborpilot.io/notify).</p>' +
    '</div></body></html>'
  );
}
