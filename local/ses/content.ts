/**
 * Reads SendEmail's `Content` (Simple, Raw or Template) into what the message store keeps, and
 * addresses (`Name <a@b>`) into the bare address SES checks identities against.
 */
import { AwsServiceError } from '../errors';

export interface MessageContent {
  subject: string | null;
  text: string | null;
  html: string | null;
  /** Decoded MIME text of a Raw message. */
  raw?: string;
  /** From a Raw message's headers, used when the request leaves them out. */
  headerFrom?: string;
  headerRecipients?: { to: string[]; cc: string[]; bcc: string[] };
}

export const badRequest = (message: string) => new AwsServiceError('BadRequestException', message);

export function parseContent(content: Record<string, unknown> | undefined): MessageContent {
  if (!content) throw badRequest('Content is required.');
  const kinds = ['Simple', 'Raw', 'Template'].filter((k) => content[k] !== undefined && content[k] !== null);
  if (kinds.length !== 1)
    throw badRequest('Exactly one of Simple, Raw or Template content must be specified.');
  if (content.Simple) return simple(content.Simple as Record<string, unknown>);
  if (content.Raw) return raw(content.Raw as Record<string, unknown>);
  return template(content.Template as Record<string, unknown>);
}

function data(part: unknown): string | null {
  const value = (part as { Data?: unknown } | undefined)?.Data;
  return typeof value === 'string' ? value : null;
}

function simple(message: Record<string, unknown>): MessageContent {
  const subject = data(message.Subject);
  if (subject === null) throw badRequest('Subject is required.');
  const body = (message.Body ?? {}) as Record<string, unknown>;
  const text = data(body.Text);
  const html = data(body.Html);
  if (text === null && html === null) throw badRequest('Body must contain Text, Html or both.');
  return { subject, text, html };
}

function raw(message: Record<string, unknown>): MessageContent {
  if (typeof message.Data !== 'string' || message.Data === '')
    throw badRequest('Raw message data is required.');
  // restJson1 sends blobs base64-encoded.
  const mime = Buffer.from(message.Data, 'base64').toString('utf8');
  const headers = mimeHeaders(mime);
  const list = (name: string) =>
    (headers.get(name) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const from = headers.get('from');
  return {
    subject: headers.get('subject') ?? null,
    text: null,
    html: null,
    raw: mime,
    ...(from ? { headerFrom: from } : {}),
    headerRecipients: { to: list('to'), cc: list('cc'), bcc: list('bcc') },
  };
}

function template(message: Record<string, unknown>): MessageContent {
  const inline = message.TemplateContent as Record<string, unknown> | undefined;
  if (!inline) {
    const name =
      typeof message.TemplateName === 'string' ? message.TemplateName : String(message.TemplateArn);
    throw new AwsServiceError('NotFoundException', `Template ${name} does not exist.`, 404);
  }
  let values: Record<string, unknown> = {};
  if (typeof message.TemplateData === 'string') {
    try {
      values = JSON.parse(message.TemplateData) as Record<string, unknown>;
    } catch {
      throw badRequest('TemplateData is not valid JSON.');
    }
  }
  const render = (s: unknown) =>
    typeof s === 'string'
      ? s.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, k: string) => String(values[k] ?? ''))
      : null;
  return { subject: render(inline.Subject), text: render(inline.Text), html: render(inline.Html) };
}

/** Header block of a MIME message, lower-cased names, folded lines joined. */
function mimeHeaders(mime: string): Map<string, string> {
  const block = mime.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const headers = new Map<string, string>();
  let last: string | undefined;
  for (const line of block.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && last) {
      headers.set(last, `${headers.get(last) ?? ''} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim().toLowerCase();
    headers.set(last, line.slice(colon + 1).trim());
  }
  return headers;
}

/** `"Name" <a@b.com>` → `a@b.com`; refuses what is not an address, as SES does. */
export function bareAddress(address: string): string {
  const angle = /<([^<>]+)>\s*$/.exec(address);
  const bare = (angle?.[1] ?? address).trim();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(bare)) throw badRequest(`Illegal address: ${address}`);
  return bare;
}
