/**
 * The local cloud's SES v2 (restJson1, paths as in the sesv2 model): identities, the account's
 * sandbox and quotas, and SendEmail with the checks SES makes before it accepts a message. Accepted
 * messages are kept and served in LocalStack's `/_aws/ses` shape.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { AwsServiceError } from '../errors';
import type { LocalCloudCore, RequestContext, RestRequest, RestRoute } from '../types';
import { type EmailIdentity, SesAccount } from './account';
import { badRequest, bareAddress, parseContent } from './content';
import { type SesWorld, SesWorldSchema } from './world';

/** A sent message as LocalStack serves it at GET /_aws/ses (`{ messages: [...] }`). */
export interface SentMessage {
  Id: string;
  Region: string;
  Source: string;
  Destination: { ToAddresses: string[]; CcAddresses: string[]; BccAddresses: string[] };
  Subject: string | null;
  Body: { text_part: string | null; html_part: string | null };
  /** Raw messages: the MIME text as sent. */
  RawData?: string;
  Timestamp: string;
}

export interface MessageFilter {
  /** A MessageId. */
  id?: string;
  /** The Source (From) address. */
  email?: string;
}

const MAX_RECIPIENTS = 50;

export class SesBackend {
  readonly routes: RestRoute[];
  private readonly accounts = new Map<string, SesAccount>();
  private sent: SentMessage[] = [];

  constructor(readonly core: LocalCloudCore) {
    const route = (
      method: RestRoute['method'],
      path: string,
      operation: string,
      fn: (req: RestRequest, ctx: RequestContext) => unknown,
    ): RestRoute => ({
      method,
      path,
      operation,
      handler: (req, ctx) => ({ status: 200, body: fn(req, ctx) }),
    });
    this.routes = [
      route('POST', '/v2/email/identities', 'CreateEmailIdentity', (req, ctx) =>
        this.createEmailIdentity(req, ctx),
      ),
      route('GET', '/v2/email/identities', 'ListEmailIdentities', (req, ctx) =>
        this.listEmailIdentities(req, ctx),
      ),
      route('GET', '/v2/email/identities/{EmailIdentity}', 'GetEmailIdentity', (req, ctx) =>
        this.getEmailIdentity(req, ctx),
      ),
      route('DELETE', '/v2/email/identities/{EmailIdentity}', 'DeleteEmailIdentity', (req, ctx) =>
        this.deleteEmailIdentity(req, ctx),
      ),
      route('GET', '/v2/email/account', 'GetAccount', (_req, ctx) => this.getAccount(ctx)),
      route('POST', '/v2/email/outbound-emails', 'SendEmail', (req, ctx) => this.sendEmail(req, ctx)),
    ];
  }

  /** Every accepted message, oldest first, optionally by MessageId or by Source address. */
  messages(filter: MessageFilter = {}): SentMessage[] {
    return this.sent.filter(matches(filter));
  }

  /** DELETE /_aws/ses: forgets the messages that match (all when no filter). */
  clearMessages(filter: MessageFilter = {}): number {
    const before = this.sent.length;
    const match = matches(filter);
    this.sent = this.sent.filter((m) => !match(m));
    return before - this.sent.length;
  }

  /** The account's state, for tests and the admin API. */
  account(accountId: string, region: string): SesAccount {
    const key = `${accountId}/${region}`;
    let account = this.accounts.get(key);
    if (!account) {
      account = new SesAccount(this.core.clock);
      this.accounts.set(key, account);
    }
    return account;
  }

  loadWorld(world: SesWorld): void {
    const parsed = SesWorldSchema.parse(world);
    const account = this.account(
      parsed.accountId ?? this.core.defaultAccountId,
      parsed.region ?? this.core.defaultRegion,
    );
    account.setLimits({
      production: parsed.production,
      ...(parsed.max24HourSend !== undefined ? { max24HourSend: parsed.max24HourSend } : {}),
      ...(parsed.maxSendRate !== undefined ? { maxSendRate: parsed.maxSendRate } : {}),
    });
    account.sendingEnabled = parsed.sendingEnabled;
    for (const name of parsed.identities) this.addIdentity(account, name, []);
  }

  private addIdentity(account: SesAccount, name: string, tags: EmailIdentity['tags']): EmailIdentity {
    const identity: EmailIdentity = {
      name,
      type: name.includes('@') ? 'EMAIL_ADDRESS' : 'DOMAIN',
      createdAt: this.core.clock.now(),
      tags,
    };
    account.identities.set(name.toLowerCase(), identity);
    return identity;
  }

  private ctxAccount(ctx: RequestContext): SesAccount {
    return this.account(ctx.accountId, ctx.region);
  }

  private createEmailIdentity(req: RestRequest, ctx: RequestContext) {
    const name = req.body.EmailIdentity;
    if (typeof name !== 'string' || name === '') throw badRequest('EmailIdentity is required.');
    if (name.includes('@')) bareAddress(name);
    const account = this.ctxAccount(ctx);
    if (account.identities.has(name.toLowerCase())) {
      throw new AwsServiceError('AlreadyExistsException', `Email identity ${name} already exist.`);
    }
    const tags = Array.isArray(req.body.Tags) ? (req.body.Tags as EmailIdentity['tags']) : [];
    // The local cloud has no DNS or inbox to wait for: identities verify at once.
    const identity = this.addIdentity(account, name, tags);
    return { IdentityType: identity.type, VerifiedForSendingStatus: true, DkimAttributes: dkim(identity) };
  }

  private identityOf(req: RestRequest, ctx: RequestContext): EmailIdentity {
    let name = req.params.EmailIdentity ?? '';
    // Identities never contain '%', so a still-encoded path parameter can be decoded safely.
    if (name.includes('%')) name = decodeURIComponent(name);
    const identity = this.ctxAccount(ctx).identities.get(name.toLowerCase());
    if (!identity)
      throw new AwsServiceError('NotFoundException', `Email identity ${name} does not exist.`, 404);
    return identity;
  }

  private getEmailIdentity(req: RestRequest, ctx: RequestContext) {
    const identity = this.identityOf(req, ctx);
    return {
      IdentityType: identity.type,
      FeedbackForwardingStatus: true,
      VerifiedForSendingStatus: true,
      VerificationStatus: 'SUCCESS',
      DkimAttributes: dkim(identity),
      Policies: {},
      Tags: identity.tags,
    };
  }

  private deleteEmailIdentity(req: RestRequest, ctx: RequestContext) {
    const identity = this.identityOf(req, ctx);
    this.ctxAccount(ctx).identities.delete(identity.name.toLowerCase());
    return {};
  }

  private listEmailIdentities(req: RestRequest, ctx: RequestContext) {
    const rawSize = req.query.get('PageSize');
    const pageSize = rawSize === null ? 100 : Number(rawSize);
    if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > 1000) {
      throw badRequest('PageSize must be between 0 and 1000.');
    }
    const all = [...this.ctxAccount(ctx).identities.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    const token = req.query.get('NextToken');
    const start = token === null ? 0 : Number(Buffer.from(token, 'base64').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) throw badRequest('Invalid NextToken.');
    const size = pageSize === 0 ? all.length : pageSize;
    const page = all.slice(start, start + size);
    return {
      EmailIdentities: page.map((i) => ({
        IdentityType: i.type,
        IdentityName: i.name,
        SendingEnabled: true,
        VerificationStatus: 'SUCCESS',
      })),
      ...(start + size < all.length
        ? { NextToken: Buffer.from(String(start + size)).toString('base64') }
        : {}),
    };
  }

  private getAccount(ctx: RequestContext) {
    const account = this.ctxAccount(ctx);
    return {
      DedicatedIpAutoWarmupEnabled: false,
      EnforcementStatus: 'HEALTHY',
      ProductionAccessEnabled: account.production,
      SendQuota: {
        Max24HourSend: account.max24HourSend,
        MaxSendRate: account.maxSendRate,
        SentLast24Hours: account.sentLast24Hours(),
      },
      SendingEnabled: account.sendingEnabled,
      SuppressionAttributes: { SuppressedReasons: [] },
    };
  }

  /** The checks in the order SES applies them: request, account, identities, daily quota, rate. */
  private sendEmail(req: RestRequest, ctx: RequestContext) {
    const content = parseContent(req.body.Content as Record<string, unknown> | undefined);
    const destination = (req.body.Destination ?? undefined) as Record<string, unknown> | undefined;
    const list = (key: string, fallback: string[] = []) =>
      Array.isArray(destination?.[key]) ? (destination[key] as unknown[]).map(String) : fallback;
    const to = list('ToAddresses', destination ? [] : content.headerRecipients?.to);
    const cc = list('CcAddresses', destination ? [] : content.headerRecipients?.cc);
    const bcc = list('BccAddresses', destination ? [] : content.headerRecipients?.bcc);
    const from =
      typeof req.body.FromEmailAddress === 'string' ? req.body.FromEmailAddress : content.headerFrom;
    if (!from) throw badRequest('Missing required field FromEmailAddress.');
    const recipients = [...to, ...cc, ...bcc];
    if (recipients.length === 0) throw badRequest('At least one recipient is required.');
    if (recipients.length > MAX_RECIPIENTS) throw badRequest(`Recipient count exceeds ${MAX_RECIPIENTS}.`);
    const fromAddress = bareAddress(from);
    const recipientAddresses = recipients.map(bareAddress);

    const account = this.ctxAccount(ctx);
    if (!account.sendingEnabled) {
      throw new AwsServiceError('SendingPausedException', 'Sending is paused for this account.');
    }
    const unverified = [fromAddress, ...(account.production ? [] : recipientAddresses)].filter(
      (a, i, all) => !account.isVerified(a) && all.indexOf(a) === i,
    );
    if (unverified.length > 0) {
      throw new AwsServiceError(
        'MessageRejected',
        `Email address is not verified. The following identities failed the check in region ${ctx.region.toUpperCase()}: ${unverified.join(', ')}`,
      );
    }
    if (!account.dailyQuotaLeft()) {
      throw new AwsServiceError('LimitExceededException', 'Daily message quota exceeded.');
    }
    if (!account.rateAllows()) {
      throw new AwsServiceError('TooManyRequestsException', 'Maximum sending rate exceeded.', 429);
    }
    account.recordSend(recipients.length);
    const now = this.core.clock.now();
    const id = `0100${now.getTime().toString(16).padStart(12, '0')}-${randomUUID()}-${randomBytes(3).toString('hex')}`;
    this.sent.push({
      Id: id,
      Region: ctx.region,
      Source: from,
      Destination: { ToAddresses: to, CcAddresses: cc, BccAddresses: bcc },
      Subject: content.subject,
      Body: { text_part: content.text, html_part: content.html },
      ...(content.raw !== undefined ? { RawData: content.raw } : {}),
      Timestamp: now.toISOString(),
    });
    return { MessageId: id };
  }
}

function matches(filter: MessageFilter): (m: SentMessage) => boolean {
  return (m) =>
    (filter.id === undefined || m.Id === filter.id) &&
    (filter.email === undefined || m.Source === filter.email || m.Source.endsWith(`<${filter.email}>`));
}

function dkim(identity: EmailIdentity) {
  return identity.type === 'DOMAIN'
    ? { SigningEnabled: true, Status: 'SUCCESS', Tokens: [], SigningAttributesOrigin: 'AWS_SES' }
    : { SigningEnabled: false, Status: 'NOT_STARTED', Tokens: [], SigningAttributesOrigin: 'AWS_SES' };
}
