/**
 * Email through SES v2, as every function sends it: a subject with text and HTML parts in UTF-8, one message
 * per 50 recipients (SES's limit on a message's destinations).
 */
import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { errorMessage } from '../errors';
import type { RenderedEmail } from './render';

/**
 * An SES send that failed, naming the email and how many it was for. Each function throws its own subclass,
 * so its errorType in the logs and the dead-letter queue says whose email it was.
 */
export class EmailSendError extends Error {
  constructor(
    readonly subject: string,
    readonly recipients: string[],
    sesError: unknown,
  ) {
    super(
      `SES SendEmail failed for "${subject}" to ${recipients.length} recipient(s): ${errorMessage(sesError)}`,
      { cause: sesError },
    );
    this.name = 'EmailSendError';
  }
}

/** SES takes at most 50 recipients a message: the same email goes to each chunk. */
export function recipientChunks(to: readonly string[], size = 50): string[][] {
  const chunks: string[][] = [];
  for (let i = 0; i < to.length; i += size) chunks.push(to.slice(i, i + size));
  return chunks;
}

/** One SendEmail to at most 50 recipients; its MessageId. SES errors are thrown as they come. */
export async function sendEmail(
  ses: SESv2Client,
  from: string,
  to: string[],
  email: RenderedEmail,
): Promise<string | undefined> {
  const out = await ses.send(
    new SendEmailCommand({
      FromEmailAddress: from,
      Destination: { ToAddresses: to },
      Content: {
        Simple: {
          Subject: { Data: email.subject, Charset: 'UTF-8' },
          Body: {
            Text: { Data: email.text, Charset: 'UTF-8' },
            Html: { Data: email.html, Charset: 'UTF-8' },
          },
        },
      },
    }),
  );
  return out.MessageId;
}
