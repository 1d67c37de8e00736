/**
 * The local cloud's SES v2 (restJson1, paths as in the sesv2 model): identities, the account's
 * sandbox and quotas, and SendEmail with the checks SES makes before it accepts a message. Accepted
 * messages are kept and served in LocalStack's `/_aws/ses` shape.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type {
  CreateEmailIdentityResponse,
  DeleteEmailIdentityResponse,
  DkimAttributes,
  GetAccountResponse,
  GetEmailIdentityResponse,
  ListEmailIdentitiesResponse,
  SendEmailResponse,
} from '@aws-sdk/client-sesv2';
import { readPage, readRequest, restInput } from '../aws/request';
import { restRoutes, type Wire } from '../aws/response';
import { AccountRegionStore } from '../aws/store';
import { AwsServiceError } from '../errors';
import type { LocalCloudCore, RequestContext, RestRequest, RestRoute } from '../types';
import { type EmailIdentity, SesAccount } from './account';
import { badRequest, bareAddress, parseContent } from './content';
import {
  CreateEmailIdentityRequest,
  EmailIdentityRequest,
  IDENTITIES_PAGE,
  ListEmailIdentitiesRequest,
  SendEmailRequest,
  sesDialect,
} from './requests';
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

/** The SES v2 operations the local cloud serves, with the SDK's response type of each. */
export interface SesApi {
  CreateEmailIdentity: CreateEmailIdentityResponse;
  ListEmailIdentities: ListEmailIdentitiesResponse;
  GetEmailIdentity: GetEmailIdentityResponse;
  DeleteEmailIdentity: DeleteEmailIdentityResponse;
  GetAccount: GetAccountResponse;
  SendEmail: SendEmailResponse;
}

export class SesBackend {
  readonly routes: RestRoute[];
  private readonly accounts: AccountRegionStore<SesAccount>;
  /** Accepted messages of every account and region, as LocalStack keeps them: one list. */
  private sent: SentMessage[] = [];
  private readonly listeners = new Set<(message: SentMessage) => void>();

  constructor(readonly core: LocalCloudCore) {
    this.accounts = new AccountRegionStore(() => new SesAccount(core.clock));
    const route = restRoutes<SesApi>();
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

  /** Calls `fn` with each message as it is accepted (the console's stream); returns the unsubscribe. */
  onSend(fn: (message: SentMessage) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
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
    return this.accounts.of({ accountId, region });
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
    return this.accounts.of(ctx);
  }

  private createEmailIdentity(req: RestRequest, ctx: RequestContext): Wire<CreateEmailIdentityResponse> {
    const input = readRequest(CreateEmailIdentityRequest, restInput(req), sesDialect);
    const name = input.EmailIdentity;
    if (name.includes('@')) bareAddress(name);
    const account = this.ctxAccount(ctx);
    if (account.identities.has(name.toLowerCase())) {
      throw new AwsServiceError('AlreadyExistsException', `Email identity ${name} already exist.`);
    }
    // The local cloud has no DNS or inbox to wait for: identities verify at once.
    const identity = this.addIdentity(account, name, input.Tags ?? []);
    return { IdentityType: identity.type, VerifiedForSendingStatus: true, DkimAttributes: dkim(identity) };
  }

  private identityOf(req: RestRequest, ctx: RequestContext): EmailIdentity {
    let name = readRequest(EmailIdentityRequest, restInput(req), sesDialect).EmailIdentity;
    // Identities never contain '%', so a still-encoded path parameter can be decoded safely.
    if (name.includes('%')) name = decodeURIComponent(name);
    const identity = this.ctxAccount(ctx).identities.get(name.toLowerCase());
    if (!identity)
      throw new AwsServiceError('NotFoundException', `Email identity ${name} does not exist.`, 404);
    return identity;
  }

  private getEmailIdentity(req: RestRequest, ctx: RequestContext): Wire<GetEmailIdentityResponse> {
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

  private deleteEmailIdentity(req: RestRequest, ctx: RequestContext): Wire<DeleteEmailIdentityResponse> {
    const identity = this.identityOf(req, ctx);
    this.ctxAccount(ctx).identities.delete(identity.name.toLowerCase());
    return {};
  }

  private listEmailIdentities(req: RestRequest, ctx: RequestContext): Wire<ListEmailIdentitiesResponse> {
    const input = readRequest(ListEmailIdentitiesRequest, restInput(req), sesDialect);
    const all = [...this.ctxAccount(ctx).identities.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    const page = readPage(all, (i) => i.name.toLowerCase(), input, IDENTITIES_PAGE, sesDialect);
    return {
      EmailIdentities: page.items.map((i) => ({
        IdentityType: i.type,
        IdentityName: i.name,
        SendingEnabled: true,
        VerificationStatus: 'SUCCESS',
      })),
      NextToken: page.nextToken,
    };
  }

  private getAccount(ctx: RequestContext): Wire<GetAccountResponse> {
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
  private sendEmail(req: RestRequest, ctx: RequestContext): Wire<SendEmailResponse> {
    const input = readRequest(SendEmailRequest, restInput(req), sesDialect);
    const content = parseContent(input.Content);
    const destination = input.Destination;
    // Without a Destination, a Raw message's own To/Cc/Bcc headers name the recipients.
    const to = (destination ? destination.ToAddresses : content.headerRecipients?.to) ?? [];
    const cc = (destination ? destination.CcAddresses : content.headerRecipients?.cc) ?? [];
    const bcc = (destination ? destination.BccAddresses : content.headerRecipients?.bcc) ?? [];
    const from = input.FromEmailAddress ?? content.headerFrom;
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
    const message: SentMessage = {
      Id: id,
      Region: ctx.region,
      Source: from,
      Destination: { ToAddresses: to, CcAddresses: cc, BccAddresses: bcc },
      Subject: content.subject,
      Body: { text_part: content.text, html_part: content.html },
      ...(content.raw !== undefined ? { RawData: content.raw } : {}),
      Timestamp: now.toISOString(),
    };
    this.sent.push(message);
    for (const fn of this.listeners) fn(message);
    return { MessageId: id };
  }
}

function matches(filter: MessageFilter): (m: SentMessage) => boolean {
  return (m) =>
    (filter.id === undefined || m.Id === filter.id) &&
    (filter.email === undefined || m.Source === filter.email || m.Source.endsWith(`<${filter.email}>`));
}

function dkim(identity: EmailIdentity): Wire<DkimAttributes> {
  return identity.type === 'DOMAIN'
    ? { SigningEnabled: true, Status: 'SUCCESS', Tokens: [], SigningAttributesOrigin: 'AWS_SES' }
    : { SigningEnabled: false, Status: 'NOT_STARTED', Tokens: [], SigningAttributesOrigin: 'AWS_SES' };
}
