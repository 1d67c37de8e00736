/**
 * The email that asks for an approval (the holds' ApprovalNotice): which workload would change to what, until when,
 * and the commands that approve or reject it with the reader's own AWS credentials. Sent through SES to the
 * notices' recipients, once per approval requested (keepHolds calls it only when it wrote a new one); a dry run
 * logs it. No link and no secret: IAM decides who may approve.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Config } from '../config';
import { escapeHtml, oneLine, type RenderedEmail } from '../email/render';
import { EmailSendError, recipientChunks, sendEmail } from '../email/send';
import type { ApprovalNotice } from '../holds/plan-holds';

type Request = Parameters<ApprovalNotice>[0];

export function renderApproval(r: Request): RenderedEmail {
  const title = `approval needed: ${r.workload}`;
  const mono = 'font-family:SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;word-break:break-all';
  return {
    subject: oneLine(`[harborpilot] ${title} (${r.approvalId})`),
    html:
      `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
      '<body style="margin:0;padding:24px;background:#f3f4f6;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#111827">' +
      '<div style="max-width:760px;margin:0 auto;background:#fff;border-radius:8px;padding:24px;border-top:4px solid #2563eb">' +
      `<h1 style="font-size:20px;margin:0 0 16px">${escapeHtml(title)}</h1>` +
      `<p style="margin:0 0 8px">A push would change <b>${escapeHtml(r.workload)}</b>, which requires approval:</p>` +
      `<ul style="margin:0 0 16px;padding-left:20px">${r.changes.map((c) => `<li style="${mono}">${escapeHtml(c)}</li>`).join('')}</ul>` +
      `<p style="margin:0 0 8px">Approve or reject it with your own AWS credentials before ${escapeHtml(r.expiresAt)}:</p>` +
      `<pre style="${mono};background:#f3f4f6;padding:12px;border-radius:4px">${escapeHtml(r.approve)}\n${escapeHtml(r.reject)}</pre>` +
      '<p style="margin:16px 0 0;color:#6b7280;font-size:12px">Approved, it is deployed within a minute (inside the workload\'s maintenance window, if it has one). Undecided, it lapses and the next push asks again.</p>' +
      '</div></body></html>',
    text: [
      title,
      '',
      `A push would change ${r.workload}, which requires approval:`,
      ...r.changes.map((c) => `- ${c}`),
      '',
      `Approve or reject it with your own AWS credentials before ${r.expiresAt}:`,
      `  ${r.approve}`,
      `  ${r.reject}`,
      '',
      "Approved, it is deployed within a minute (inside the workload's maintenance window, if it has one).",
      'Undecided, it lapses and the next push asks again.',
      '',
    ].join('\n'),
  };
}

export class ApprovalEmailError extends EmailSendError {
  override readonly name = 'ApprovalEmailError';
}

/**
 * The ApprovalNotice redeployEcs and rollEks are given. A send that fails throws ApprovalEmailError; the handlers
 * count it among the invocation's failures after the rest is done (the approval is requested and listed by
 * `harborpilot holds` either way).
 */
export function approvalEmail(deps: { ses: SESv2Client; config: Config; logger: Logger }): ApprovalNotice {
  const { config, logger } = deps;
  return async (request) => {
    const email = renderApproval(request);
    const to = config.notices.to.length > 0 ? config.notices.to : config.alerts.to;
    const dryRun = config.notices.dryRun ?? config.dryRun;
    if (dryRun || to.length === 0) {
      logger.warn(dryRun ? 'dry run: approval email not sent' : 'no recipients: approval email not sent', {
        approvalId: request.approvalId,
        subject: email.subject,
      });
      return;
    }
    for (const chunk of recipientChunks(to)) {
      try {
        await sendEmail(deps.ses, config.alerts.from, chunk, email);
      } catch (err) {
        throw new ApprovalEmailError(email.subject, chunk, err);
      }
    }
    logger.info('approval email sent', { approvalId: request.approvalId, subject: email.subject });
  };
}
