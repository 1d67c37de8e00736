/**
 * The prune email: per repository, what is kept and why, what is (or would be) deleted, bytes freed, and
 * per-image failures. HTML and text; every field is escaped, since tags are strings anyone who can push
 * chooses. Long lists are cut: the full plan is in the log.
 */
import { escapeHtml, type RenderedEmail } from '../email/render';
import type { DeleteResult } from './delete';
import type { EcrImage, PrunePlan } from './model';

/** Lines per list per repository in the email; SES messages stay small and readable. */
export const EMAIL_LIST_LIMIT = 50;

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function label(image: EcrImage): string {
  const tags = image.tags.length > 0 ? image.tags.join(', ') : 'untagged';
  return `${image.digest.slice(0, 19)}… [${tags}] pushed ${image.pushedAt.toISOString().slice(0, 10)}`;
}

interface Line {
  text: string;
}

function cut<T>(items: readonly T[], render: (item: T) => string): { lines: Line[]; more: number } {
  return {
    lines: items.slice(0, EMAIL_LIST_LIMIT).map((i) => ({ text: render(i) })),
    more: Math.max(0, items.length - EMAIL_LIST_LIMIT),
  };
}

export function renderPruneEmail(
  plan: PrunePlan,
  opts: { dryRun: boolean; accountId: string; region: string; results?: readonly DeleteResult[] },
): RenderedEmail {
  const { totals } = plan;
  const failures = (opts.results ?? []).flatMap((r) =>
    r.failures.map((f) => ({ ...f, repo: r.repositoryName })),
  );
  const verb = opts.dryRun ? 'would delete' : 'deleted';
  const deletedCount = opts.dryRun
    ? totals.deleted
    : (opts.results ?? []).reduce((n, r) => n + r.deleted.length + r.alreadyGone.length, 0);
  const subject =
    `[harborpilot] pruneImages ${opts.dryRun ? '(dry run) ' : ''}${opts.accountId}/${opts.region}: ` +
    `${verb} ${deletedCount} images, ${formatBytes(totals.bytesFreed)}` +
    (failures.length > 0 ? `, ${failures.length} FAILED` : '');

  const text: string[] = [subject, ''];
  const html: string[] = [`<h2>${escapeHtml(subject)}</h2>`];
  if (opts.dryRun) {
    const note = 'Dry run: nothing was deleted. Set prune.dryRun to false once this plan looks right.';
    text.push(note, '');
    html.push(`<p>${escapeHtml(note)}</p>`);
  }
  if (failures.length > 0) {
    text.push('Failures:');
    html.push('<h3>Failures</h3><ul>');
    for (const f of failures) {
      const line = `${f.repo} ${f.digest}: ${f.code} ${f.reason}`;
      text.push(`  ${line}`);
      html.push(`<li>${escapeHtml(line)}</li>`);
    }
    text.push('');
    html.push('</ul>');
  }
  for (const rp of plan.repositories) {
    if (rp.deleted.length === 0 && !opts.dryRun) continue;
    const head = `${rp.repository.repositoryName}: ${rp.kept.length} kept, ${rp.deleted.length} ${verb}, ${formatBytes(rp.bytesFreed)} freed`;
    text.push(head);
    html.push(`<h3>${escapeHtml(head)}</h3>`);
    const sections = [
      {
        title: opts.dryRun ? 'Would delete' : 'Deleted',
        ...cut(rp.deleted, (x) => `${label(x.image)}: ${x.why}`),
      },
      {
        title: 'Kept',
        ...cut(
          rp.kept,
          (k) => `${label(k.image)}: ${k.reasons.map((r) => `${r.rule} (${r.detail})`).join('; ')}`,
        ),
      },
    ];
    for (const s of sections) {
      if (s.lines.length === 0) continue;
      text.push(`  ${s.title}:`, ...s.lines.map((l) => `    ${l.text}`));
      html.push(
        `<h4>${escapeHtml(s.title)}</h4><ul>`,
        ...s.lines.map((l) => `<li>${escapeHtml(l.text)}</li>`),
      );
      if (s.more > 0) {
        text.push(`    … and ${s.more} more (see the function's log)`);
        html.push(`<li>… and ${s.more} more (see the function's log)</li>`);
      }
      html.push('</ul>');
    }
    text.push('');
  }
  return { subject, text: text.join('\n'), html: `<html><body>${html.join('\n')}</body></html>` };
}
