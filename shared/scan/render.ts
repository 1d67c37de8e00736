/**
 * The scan gate's email (pure): which image is held and why, the findings that held it, the workloads it would
 * have moved and the command that releases it. Names, tags, findings and descriptions come from the user's cloud
 * (and from scanners' databases): escaped in the HTML part, stripped of control characters in the subject.
 */
import { escapeHtml, oneLine, type RenderedEmail } from '../email/render';

/** A finding as the email shows it (from basic or enhanced scanning). */
export interface ShownFinding {
  name: string;
  severity: string;
  package?: string;
  version?: string;
  uri?: string;
}

export interface ScanHoldEmail {
  repository: string;
  digest: string;
  tags: string[];
  /** The verdict in words: `found 1 CRITICAL, 9 HIGH (holds at HIGH and above)`, or the failed scan. */
  verdict: string;
  /** The findings at or above the threshold, worst first (a few of them: `more` says how many are not shown). */
  findings: ShownFinding[];
  more: number;
  /** Why the list is missing, when DescribeImageScanFindings could not be read. */
  findingsUnreadable?: string;
  workloads: string[];
  release: string;
  /** Who held it: redeployEcs or rollEks. */
  heldBy: string;
  at: string;
}

export function renderScanHold(e: ScanHoldEmail): RenderedEmail {
  const name = `${e.repository}${e.tags.length ? `:${e.tags.join(', :')}` : ''}`;
  const subject = oneLine(`[harborpilot] ${name} held: scan ${e.verdict.replace(/ \(.*\)$/, '')}`);
  const headline = `${e.repository} ${e.digest} is held: its scan ${e.verdict}.`;
  const findingLines = e.findings.map(
    (f) =>
      `- ${f.severity} ${f.name}${f.package ? ` in ${f.package}${f.version ? ` ${f.version}` : ''}` : ''}${f.uri ? ` ${f.uri}` : ''}`,
  );
  const moreText = e.more > 0 ? `\n...and ${e.more} more: aws ecr describe-image-scan-findings` : '';
  const findingsText = e.findingsUnreadable
    ? `The findings could not be read: ${e.findingsUnreadable}`
    : e.findings.length
      ? `Findings that held it:\n${findingLines.join('\n')}${moreText}`
      : '';
  const text = [
    headline,
    `Tags: ${e.tags.join(', ') || '(none)'}`,
    findingsText,
    `Held by ${e.heldBy} at ${e.at}${e.workloads.length ? `: ${e.workloads.join(', ')}` : ''}. Every workload that would move to it is held; \`npx harborpilot holds\` lists them.`,
    `A later push of the tag deploys as usual. To deploy this image anyway:\n  ${e.release}`,
  ]
    .filter((s) => s !== '')
    .join('\n\n');

  const cell = 'padding:4px 8px;border-bottom:1px solid #ddd;text-align:left';
  const rows = e.findings
    .map(
      (f) =>
        `<tr><td style="${cell}">${escapeHtml(f.severity)}</td><td style="${cell}">${
          f.uri ? `<a href="${escapeHtml(f.uri)}">${escapeHtml(f.name)}</a>` : escapeHtml(f.name)
        }</td><td style="${cell}">${escapeHtml(f.package ?? '')}</td><td style="${cell}">${escapeHtml(f.version ?? '')}</td></tr>`,
    )
    .join('');
  const findingsHtml = e.findingsUnreadable
    ? `<p>The findings could not be read: ${escapeHtml(e.findingsUnreadable)}</p>`
    : e.findings.length
      ? `<h2 style="font-size:16px;margin:16px 0 8px">Findings that held it</h2>` +
        `<table style="border-collapse:collapse"><tr><th style="${cell}">Severity</th><th style="${cell}">Finding</th><th style="${cell}">Package</th><th style="${cell}">Version</th></tr>${rows}</table>` +
        (e.more > 0 ? `<p>...and ${e.more} more: <code>aws ecr describe-image-scan-findings</code></p>` : '')
      : '';
  const html =
    `<!doctype html><html><body style="font-family:sans-serif;font-size:14px">` +
    `<h1 style="font-size:18px">${escapeHtml(e.repository)} is held: its scan ${escapeHtml(e.verdict)}</h1>` +
    `<p>Image <code>${escapeHtml(e.digest)}</code>, tags ${escapeHtml(e.tags.join(', ') || '(none)')}.</p>` +
    findingsHtml +
    `<p>Held by ${escapeHtml(e.heldBy)} at ${escapeHtml(e.at)}${e.workloads.length ? ':' : '.'}</p>` +
    (e.workloads.length ? `<ul>${e.workloads.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>` : '') +
    `<p>Every workload that would move to it is held; <code>npx harborpilot holds</code> lists them.</p>` +
    `<p>A later push of the tag deploys as usual. To deploy this image anyway:</p><pre>${escapeHtml(e.release)}</pre>` +
    `</body></html>`;
  return { subject, html, text };
}
