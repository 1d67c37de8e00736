/**
 * Alert emails: subject, HTML and text, from alerts alone (pure). Everything taken from an event (names,
 * reasons, images) is user-controlled: it is HTML-escaped in the HTML part and stripped of control
 * characters in the subject.
 */

import type { Config } from '../config';
import { escapeHtml, oneLine, type RenderedEmail } from '../email/render';
import { type AlertGroup, CLASS_LABELS, countPhrase } from './model';
import type { Alert, Email } from './plan';

export interface RenderOptions {
  windowMinutes: number;
  /**
   * How an alert from a workload account is named: `staging (111111111111), us-west-2`; undefined for the home
   * target's (emails as before targets existed). See accountNamer.
   */
  accountOf?: (group: AlertGroup) => string | undefined;
}

/**
 * Names the account of an event forwarded from a workload account (docs/organisation.md): its envelope's
 * `account` is a configured target's, named as `targets[].name` says. Events of any other account (the home
 * account's own) are named as before.
 */
export function accountNamer(
  targets: Config['targets'],
): ((group: AlertGroup) => string | undefined) | undefined {
  if (targets.length === 0) return undefined;
  const names = new Map(targets.map((t) => [t.account, t.name]));
  return (g) => {
    if (!names.has(g.accountId)) return undefined;
    const name = names.get(g.accountId);
    return `${name ? `${name} (${g.accountId})` : g.accountId}, ${g.region}`;
  };
}

/** `api-service`, or `task family nightly-report` for tasks no service started. */
export function subjectName(alert: Alert): string {
  return alert.group.kind === 'service' ? alert.group.name : `task family ${alert.group.name}`;
}

/** `37 tasks failed — image pull`; deployments and service actions read as themselves. */
export function headline(alert: Alert): string {
  const counted = countPhrase(alert.alertClass, alert.count);
  switch (alert.alertClass) {
    case 'deployment-failed':
    case 'deployment-rollback':
      return counted;
    case 'task-start-impaired':
    case 'placement-failure':
      return `${CLASS_LABELS[alert.alertClass]} (${counted})`;
    default:
      return `${counted} — ${CLASS_LABELS[alert.alertClass]}`;
  }
}

/** `prod`, or `prod (account staging (111111111111), us-west-2)` for a workload account's cluster. */
const clusterOf = (alert: Alert, options: RenderOptions) => {
  const account = options.accountOf?.(alert.group);
  return account ? `${alert.group.clusterName} (account ${account})` : alert.group.clusterName;
};

export function render(email: Email, options: RenderOptions): RenderedEmail {
  const where = (alert: Alert) => `${subjectName(alert)} in ${clusterOf(alert, options)}`;
  const alertHtml = (a: Alert) => alertHtmlOf(a, options);
  const alertText = (a: Alert) => alertTextOf(a, options);
  if (email.kind === 'alert') {
    const a = email.alert;
    return {
      subject: oneLine(`[harborpilot] ${where(a)}: ${headline(a)}`),
      html: page(`${where(a)}: ${headline(a)}`, alertHtml(a), options),
      text: `${where(a)}: ${headline(a)}\n\n${alertText(a)}\n${footerText(options)}`,
    };
  }
  const total = email.alerts.length;
  const first = email.alerts[0];
  const clusters = [...new Set(email.alerts.map((a) => clusterOf(a, options)))].join(', ');
  const subject = first
    ? `[harborpilot] ${total} alerts in ${clusters}: ${where(first)}: ${headline(first)}${total > 1 ? `, and ${total - 1} more` : ''}`
    : '[harborpilot] no alerts';
  const summary = email.alerts.map((a) => `${where(a)}: ${headline(a)}`);
  return {
    subject: oneLine(subject),
    html: page(
      `${total} alerts`,
      `<p style="margin:0 0 16px">Many services failed at once; one digest instead of ${total} emails.</p>` +
        `<ul style="margin:0 0 16px;padding-left:20px">${summary.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>` +
        email.alerts
          .map(
            (a) =>
              `<h2 style="font-size:16px;margin:24px 0 8px">${escapeHtml(where(a))}: ${escapeHtml(headline(a))}</h2>${alertHtml(a)}`,
          )
          .join(''),
      options,
    ),
    text:
      `${total} alerts (one digest instead of ${total} emails)\n\n${summary.map((s) => `- ${s}`).join('\n')}\n\n` +
      email.alerts.map((a) => `== ${where(a)}: ${headline(a)}\n${alertText(a)}`).join('\n') +
      `\n${footerText(options)}`,
  };
}

/** Console URLs, by partition (China and GovCloud have consoles of their own). */
export function consoleBase(arn: string, region: string): string {
  const partition = arn.split(':')[1];
  if (partition === 'aws-cn') return `https://${region}.console.amazonaws.cn`;
  if (partition === 'aws-us-gov') return `https://${region}.console.amazonaws-us-gov.com`;
  return `https://${region}.console.aws.amazon.com`;
}

export function groupUrl(alert: Alert): string {
  const g = alert.group;
  const base = consoleBase(g.clusterArn, g.region);
  const q = `?region=${encodeURIComponent(g.region)}`;
  if (g.kind === 'family') return `${base}/ecs/v2/task-definitions/${encodeURIComponent(g.name)}${q}`;
  const page = alert.alertClass.startsWith('deployment-') ? 'deployments' : 'health';
  return `${base}/ecs/v2/clusters/${encodeURIComponent(g.clusterName)}/services/${encodeURIComponent(g.name)}/${page}${q}`;
}

/** A link for a task ARN (`arn:...:task/CLUSTER/ID`); undefined for deployments and service actions. */
export function taskUrl(alert: Alert, resourceArn: string): string | undefined {
  const m = /:task\/([^/]+)\/([^/]+)$/.exec(resourceArn);
  if (!m) return undefined;
  const base = consoleBase(resourceArn, alert.group.region);
  return `${base}/ecs/v2/clusters/${encodeURIComponent(m[1] ?? '')}/tasks/${encodeURIComponent(m[2] ?? '')}/configuration?region=${encodeURIComponent(alert.group.region)}`;
}

const taskId = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

/**
 * `2026-11-25 10:00:10 UTC`: what a person reads at a glance (ECS's times carry a T and milliseconds). A time
 * that does not parse is shown as the event gave it.
 */
export function when(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `2026-11-25 10:00:10 UTC`, or a span: `2026-11-25 10:00:10 to 10:04:55 UTC` (the date once if it is one day). */
export function span(first: string, last: string): string {
  const [a, b] = [when(first), when(last)];
  if (a === b) return a;
  const sameDay = a.endsWith(' UTC') && b.endsWith(' UTC') && a.slice(0, 10) === b.slice(0, 10);
  return sameDay ? `${a.slice(0, -4)} to ${b.slice(11)}` : `${a} to ${b}`;
}

/** Every occurrence's reason with its count: they add up to the alert's count, "other reasons" included. */
function reasonsOf(a: Alert): [string, number][] {
  return [
    ...a.reasonCounts,
    ...(a.otherReasons > 0 ? [['other reasons', a.otherReasons] as [string, number]] : []),
  ];
}

/**
 * One sentence for the deployment and service events carried by a task-failure alert:
 * `The deployment failed and was rolled back; ECS reports the service cannot start tasks.`
 */
export function contextSummary(a: Alert): string | undefined {
  const has = (c: string) => a.context.some((x) => x.alertClass === c);
  const deployment =
    has('deployment-failed') && has('deployment-rollback')
      ? 'The deployment failed and was rolled back'
      : has('deployment-failed')
        ? 'The deployment failed'
        : has('deployment-rollback')
          ? 'The deployment was rolled back'
          : undefined;
  const impaired = has('task-start-impaired') ? 'ECS reports the service cannot start tasks' : undefined;
  const parts = [deployment, impaired].filter((p): p is string => p !== undefined);
  if (parts.length === 0) return undefined;
  const [first = '', ...rest] = parts;
  return `${[first, ...rest.map((p) => p.charAt(0).toLowerCase() + p.slice(1))].join('; ').replace('; eCS', '; ECS')}.`;
}

/** `2 deployments failed: ECS deployment circuit breaker: task failed to start.` for each context alert. */
function contextLines(a: Alert): string[] {
  return a.context.map((c) => {
    const reasons = reasonsOf(c).map(([r, n]) => (n > 1 ? `${r} (×${n})` : r));
    return `${headline(c)}, ${span(c.firstSeen, c.lastSeen)}${reasons.length ? `: ${reasons.join('; ')}` : ''}`;
  });
}

function facts(a: Alert, options: RenderOptions): [string, string][] {
  const context = contextSummary(a);
  const account = options.accountOf?.(a.group);
  return [
    ...(account ? [['Account', account] as [string, string]] : []),
    ['Cluster', `${a.group.clusterName} (${a.group.accountId}, ${a.group.region})`],
    [a.group.kind === 'service' ? 'Service' : 'Task family', a.group.name],
    ['What', CLASS_LABELS[a.alertClass]],
    ['How many', String(a.count)],
    ...(context ? [['Deployment', context] as [string, string]] : []),
    ['First seen', when(a.firstSeen)],
    ['Last seen', when(a.lastSeen)],
    ...(a.exitCodes.length ? [['Exit codes', a.exitCodes.join(', ')] as [string, string]] : []),
    ...(a.imageDigests.length ? [['Image digests', a.imageDigests.join('\n')] as [string, string]] : []),
  ];
}

const td = 'padding:4px 12px 4px 0;vertical-align:top;border-bottom:1px solid #e5e7eb';
const monoFont = 'font-family:SFMono-Regular,Menlo,Consolas,monospace;font-size:12px';
const mono = `${monoFont};word-break:break-all`;
const monoNoWrap = `${monoFont};white-space:nowrap`;

function alertHtmlOf(a: Alert, options: RenderOptions): string {
  const rows = facts(a, options)
    .map(
      ([k, v]) =>
        `<tr><th align="left" style="${td};color:#6b7280;font-weight:normal;white-space:nowrap">${escapeHtml(k)}</th>` +
        `<td style="${td}${k === 'Image digests' ? `;${mono}` : ''}">${escapeHtml(v).replaceAll('\n', '<br>')}</td></tr>`,
    )
    .join('');
  const reasons = reasonsOf(a)
    .map(([r, n]) => `<li><span style="${mono}">${escapeHtml(r)}</span>${n > 1 ? ` (×${n})` : ''}</li>`)
    .join('');
  // One reason for every sample is already listed above: the rows need not repeat it.
  const oneReason = reasonsOf(a).length === 1;
  const samples = a.samples
    .map((s) => {
      const url = taskUrl(a, s.resourceArn);
      // A task reads as its id on one line, linked to the console; other resources are ARNs that may wrap.
      const link = url
        ? `task <a href="${escapeHtml(url)}" style="color:#2563eb;${monoNoWrap}">${escapeHtml(taskId(s.resourceArn))}</a>`
        : `<span style="${mono}">${escapeHtml(s.resourceArn)}</span>`;
      const containers = s.containers
        .map(
          (c) =>
            `<div><b>${escapeHtml(c.name)}</b>${c.exitCode !== undefined ? ` exit ${escapeHtml(c.exitCode)}` : ''}` +
            `${c.reason && c.reason !== s.reason ? `: ${escapeHtml(c.reason)}` : ''}` +
            `${c.image ? `<br><span style="${mono};color:#6b7280">${escapeHtml(c.image)}${c.imageDigest ? `@${escapeHtml(c.imageDigest)}` : ''}</span>` : ''}</div>`,
        )
        .join('');
      // One cell a task: when and which on the first line, then why, then each container with its image.
      return (
        `<tr><td style="${td};padding-top:8px;padding-bottom:8px"><div style="margin-bottom:2px"><span style="color:#6b7280">${escapeHtml(when(s.time))}</span> · ${link}</div>` +
        `${oneReason ? '' : `<div>${escapeHtml(s.reason)}</div>`}${containers}</td></tr>`
      );
    })
    .join('');
  const shown = a.samples.length < a.count ? ` (the first ${a.samples.length} of ${a.count})` : '';
  const context = contextLines(a)
    .map((l) => `<li>${escapeHtml(l)}</li>`)
    .join('');
  return (
    `<table cellspacing="0" cellpadding="0" style="border-collapse:collapse;margin:0 0 16px">${rows}</table>` +
    (context
      ? `<h3 style="font-size:14px;margin:16px 0 4px">Deployment and service events</h3><ul style="margin:0;padding-left:20px">${context}</ul>`
      : '') +
    (reasons
      ? `<h3 style="font-size:14px;margin:16px 0 4px">Reasons</h3><ul style="margin:0;padding-left:20px">${reasons}</ul>`
      : '') +
    (samples
      ? `<h3 style="font-size:14px;margin:16px 0 4px">${a.alertClass.startsWith('deployment-') || a.alertClass.endsWith('-impaired') || a.alertClass === 'placement-failure' ? 'Events' : 'Tasks'}${escapeHtml(shown)}</h3>` +
        `<table cellspacing="0" cellpadding="0" width="100%" style="border-collapse:collapse;font-size:13px">${samples}</table>`
      : '') +
    `<p style="margin:16px 0 0"><a href="${escapeHtml(groupUrl(a))}" style="display:inline-block;background:#2563eb;color:#fff;padding:8px 14px;border-radius:4px;text-decoration:none">Open ${escapeHtml(subjectName(a))} in the AWS console</a></p>`
  );
}

function alertTextOf(a: Alert, options: RenderOptions): string {
  const lines = facts(a, options).map(
    ([k, v]) => `${`${k}:`.padEnd(15)}${v.replaceAll('\n', `\n${' '.repeat(15)}`)}`,
  );
  const reasons = reasonsOf(a).map(([r, n]) => `- ${r}${n > 1 ? ` (x${n})` : ''}`);
  const oneReason = reasons.length === 1;
  const samples = a.samples.map((s) => {
    const containers = s.containers.map(
      (c) =>
        `    ${c.name}${c.exitCode !== undefined ? ` exit ${c.exitCode}` : ''}${c.reason && c.reason !== s.reason ? `: ${c.reason}` : ''}` +
        `${c.image ? ` (${c.image}${c.imageDigest ? `@${c.imageDigest}` : ''})` : ''}`,
    );
    return [
      `- ${when(s.time)} ${taskUrl(a, s.resourceArn) ?? s.resourceArn}`,
      ...(oneReason ? [] : [`    ${s.reason}`]),
      ...containers,
    ].join('\n');
  });
  return [
    ...lines,
    '',
    ...(a.context.length
      ? ['Deployment and service events:', ...contextLines(a).map((l) => `- ${l.replaceAll('×', 'x')}`), '']
      : []),
    ...(reasons.length ? ['Reasons:', ...reasons, ''] : []),
    ...(samples.length ? [`Recent (${a.samples.length} of ${a.count}):`, ...samples, ''] : []),
    `Console: ${groupUrl(a)}`,
    '',
  ].join('\n');
}

const footerText = (o: RenderOptions) =>
  `harborpilot sends at most one email per service and kind of failure every ${o.windowMinutes} minutes; ` +
  'failures in between are counted and sent together.\n';

function page(title: string, body: string, options: RenderOptions): string {
  return (
    `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
    '<body style="margin:0;padding:24px;background:#f3f4f6;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#111827">' +
    '<div style="max-width:760px;margin:0 auto;background:#fff;border-radius:8px;padding:24px;border-top:4px solid #dc2626">' +
    `<h1 style="font-size:20px;margin:0 0 16px">${escapeHtml(title)}</h1>${body}` +
    `<p style="margin:24px 0 0;color:#6b7280;font-size:12px">${escapeHtml(footerText(options))}</p>` +
    '</div></body></html>'
  );
}
