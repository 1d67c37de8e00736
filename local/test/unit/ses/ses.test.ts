import { beforeEach, describe, expect, it } from 'vitest';
import { AwsServiceError } from '../../../errors';
import { SesBackend } from '../../../ses';
import type { RequestContext } from '../../../types';
import { ctx, makeCore } from '../ecr/core';

let setup: ReturnType<typeof makeCore>;
let ses: SesBackend;

async function call(
  operation: string,
  body: Record<string, unknown> = {},
  params: Record<string, string> = {},
  query = '',
  c: RequestContext = ctx,
  // biome-ignore lint/suspicious/noExplicitAny: responses are plain JSON, checked by the assertions
): Promise<any> {
  const route = ses.routes.find((r) => r.operation === operation);
  if (!route) throw new Error(`no route for ${operation}`);
  const res = await route.handler({ params, query: new URLSearchParams(query), headers: {}, body }, c);
  return res.body;
}

async function rejection(promise: Promise<unknown>): Promise<AwsServiceError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AwsServiceError) return err;
    throw err;
  }
  throw new Error('expected an AwsServiceError');
}

const simple = (to: string[], extra: Record<string, unknown> = {}) => ({
  FromEmailAddress: 'harborpilot@example.com',
  Destination: { ToAddresses: to },
  Content: {
    Simple: {
      Subject: { Data: 'api failing' },
      Body: { Text: { Data: 'plain' }, Html: { Data: '<p>html</p>' } },
    },
  },
  ...extra,
});

beforeEach(() => {
  setup = makeCore();
  ses = new SesBackend(setup.core);
  ses.loadWorld({ identities: ['harborpilot@example.com', 'team.example.org'] });
});

describe('routes', () => {
  it('serves the sesv2 model paths', () => {
    expect(ses.routes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        'POST /v2/email/outbound-emails',
        'GET /v2/email/account',
        'GET /v2/email/identities/{EmailIdentity}',
        'POST /v2/email/identities',
      ]),
    );
  });
});

describe('identities', () => {
  it('creates, gets, lists and deletes identities, all verified', async () => {
    expect(await call('CreateEmailIdentity', { EmailIdentity: 'ops@corp.io' })).toMatchObject({
      IdentityType: 'EMAIL_ADDRESS',
      VerifiedForSendingStatus: true,
    });
    expect((await rejection(call('CreateEmailIdentity', { EmailIdentity: 'ops@corp.io' }))).code).toBe(
      'AlreadyExistsException',
    );
    expect(await call('GetEmailIdentity', {}, { EmailIdentity: 'team.example.org' })).toMatchObject({
      IdentityType: 'DOMAIN',
      VerificationStatus: 'SUCCESS',
    });
    // A still-encoded path parameter works too.
    expect(await call('GetEmailIdentity', {}, { EmailIdentity: 'ops%40corp.io' })).toMatchObject({
      IdentityType: 'EMAIL_ADDRESS',
    });
    const page1 = await call('ListEmailIdentities', {}, {}, 'PageSize=2');
    const page2 = await call('ListEmailIdentities', {}, {}, `PageSize=2&NextToken=${page1.NextToken}`);
    expect(
      [...page1.EmailIdentities, ...page2.EmailIdentities].map(
        (i: { IdentityName: string }) => i.IdentityName,
      ),
    ).toEqual(['harborpilot@example.com', 'ops@corp.io', 'team.example.org']);
    await call('DeleteEmailIdentity', {}, { EmailIdentity: 'ops@corp.io' });
    const gone = await rejection(call('GetEmailIdentity', {}, { EmailIdentity: 'ops@corp.io' }));
    expect([gone.code, gone.status]).toEqual(['NotFoundException', 404]);
  });
});

describe('GetAccount', () => {
  it('reports the sandbox quota and what was sent in the last 24 hours', async () => {
    await call('SendEmail', simple(['a@team.example.org', 'b@team.example.org']));
    expect(await call('GetAccount')).toMatchObject({
      ProductionAccessEnabled: false,
      SendingEnabled: true,
      SendQuota: { Max24HourSend: 200, MaxSendRate: 1, SentLast24Hours: 2 },
    });
    await setup.clock.advance(24 * 3600_000 + 1);
    expect((await call('GetAccount')).SendQuota.SentLast24Hours).toBe(0);
  });

  it('takes production access and quotas from the world', async () => {
    ses.loadWorld({ production: true, maxSendRate: 50 });
    expect(await call('GetAccount')).toMatchObject({
      ProductionAccessEnabled: true,
      SendQuota: { Max24HourSend: 50_000, MaxSendRate: 50 },
    });
  });
});

describe('SendEmail', () => {
  it('keeps accepted messages in LocalStack’s /_aws/ses shape', async () => {
    const { MessageId } = await call('SendEmail', simple(['oncall@team.example.org']));
    expect(ses.messages()).toEqual([
      {
        Id: MessageId,
        Region: 'us-east-1',
        Source: 'harborpilot@example.com',
        Destination: { ToAddresses: ['oncall@team.example.org'], CcAddresses: [], BccAddresses: [] },
        Subject: 'api failing',
        Body: { text_part: 'plain', html_part: '<p>html</p>' },
        Timestamp: '2026-03-01T12:00:00.000Z',
      },
    ]);
    expect(ses.messages({ id: MessageId })).toHaveLength(1);
    expect(ses.messages({ email: 'someone@else.com' })).toEqual([]);
    expect(ses.clearMessages({ id: MessageId })).toBe(1);
    expect(ses.messages()).toEqual([]);
  });

  it('rejects an unverified sender with SES’s message', async () => {
    const err = await rejection(
      call('SendEmail', simple(['a@team.example.org'], { FromEmailAddress: 'x@nowhere.com' })),
    );
    expect(err.code).toBe('MessageRejected');
    expect(err.message).toBe(
      'Email address is not verified. The following identities failed the check in region US-EAST-1: x@nowhere.com',
    );
    expect(ses.messages()).toEqual([]);
  });

  it('in the sandbox accepts only verified recipients; a domain verifies its addresses and subdomains', async () => {
    await call('SendEmail', simple(['Ops <ops@team.example.org>', 'x@eu.team.example.org']));
    await setup.clock.advance(5000);
    const err = await rejection(call('SendEmail', simple(['ops@team.example.org', 'stranger@gmail.com'])));
    expect(err.code).toBe('MessageRejected');
    expect(err.message).toMatch(/: stranger@gmail\.com$/);
    ses.loadWorld({ production: true });
    await setup.clock.advance(5000);
    await call('SendEmail', simple(['stranger@gmail.com']));
    expect(ses.messages()).toHaveLength(2);
  });

  it('takes at most 50 recipients across To, Cc and Bcc', async () => {
    const addresses = (n: number, p: string) =>
      Array.from({ length: n }, (_, i) => `${p}${i}@team.example.org`);
    const body = (n: number) =>
      simple(addresses(30, 'to'), {
        Destination: { ToAddresses: addresses(30, 'to'), BccAddresses: addresses(n, 'b') },
      });
    const err = await rejection(call('SendEmail', body(21)));
    expect([err.code, err.message]).toEqual(['BadRequestException', 'Recipient count exceeds 50.']);
    await call('SendEmail', body(20));
  });

  it('throttles above MaxSendRate, counting recipients, with 429 TooManyRequestsException', async () => {
    await call('SendEmail', simple(['a@team.example.org', 'b@team.example.org', 'c@team.example.org']));
    await setup.clock.advance(1000);
    const err = await rejection(call('SendEmail', simple(['a@team.example.org'])));
    expect([err.code, err.status, err.message]).toEqual([
      'TooManyRequestsException',
      429,
      'Maximum sending rate exceeded.',
    ]);
    await setup.clock.advance(2000);
    await call('SendEmail', simple(['a@team.example.org']));
    expect(ses.messages()).toHaveLength(2);
  });

  it('stops at the 24-hour quota with LimitExceededException, and when sending is paused', async () => {
    ses.loadWorld({ max24HourSend: 2, maxSendRate: 100 });
    await call('SendEmail', simple(['a@team.example.org', 'b@team.example.org']));
    const err = await rejection(call('SendEmail', simple(['a@team.example.org'])));
    expect([err.code, err.message]).toEqual(['LimitExceededException', 'Daily message quota exceeded.']);
    ses.loadWorld({ sendingEnabled: false });
    expect((await rejection(call('SendEmail', simple(['a@team.example.org'])))).code).toBe(
      'SendingPausedException',
    );
  });

  it('reads sender, recipients and subject of a Raw message from its headers', async () => {
    const mime = [
      'From: Harborpilot <harborpilot@example.com>',
      'To: oncall@team.example.org',
      'Subject: [harborpilot] raw',
      '  continued',
      'Content-Type: text/plain',
      '',
      'body',
    ].join('\r\n');
    await call('SendEmail', { Content: { Raw: { Data: Buffer.from(mime).toString('base64') } } });
    expect(ses.messages()[0]).toMatchObject({
      Source: 'Harborpilot <harborpilot@example.com>',
      Destination: { ToAddresses: ['oncall@team.example.org'] },
      Subject: '[harborpilot] raw continued',
      RawData: mime,
    });
    expect(ses.messages({ email: 'harborpilot@example.com' })).toHaveLength(1);
  });

  it('refuses content that is not exactly one of Simple, Raw or Template', async () => {
    const err = await rejection(call('SendEmail', { ...simple(['a@team.example.org']), Content: {} }));
    expect(err.code).toBe('BadRequestException');
  });
});
