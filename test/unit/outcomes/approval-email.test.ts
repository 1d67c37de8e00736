/** The approval email: what would change, until when, the two commands; escaped; sent once to the notices' recipients. */
import { Logger } from '@aws-lambda-powertools/logger';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../../shared/config';
import { ApprovalEmailError, approvalEmail, renderApproval } from '../../../shared/outcomes/approval-email';

const ses = mockClient(SESv2Client);
beforeEach(() => ses.reset());
const request = {
  approvalId: 'k3m9x2qa',
  workload: 'ecs/prod/api',
  changes: ['app: r/api:latest → r/api:latest (sha256:bbb) <img src=x>'],
  expiresAt: '2026-01-17T10:00:00.000Z',
  approve: 'npx harborpilot approve k3m9x2qa',
  reject: 'npx harborpilot reject k3m9x2qa',
};
const send = (config: object) =>
  approvalEmail({
    ses: new SESv2Client({ region: 'us-east-1' }),
    config: configFromEnv({ HARBORPILOT_CONFIG: JSON.stringify(config) }),
    logger: new Logger({ logLevel: 'SILENT' }),
  });

describe('approval email', () => {
  it('names the workload, the change, the expiry and both commands, every field escaped', () => {
    const email = renderApproval(request);
    expect(email.subject).toBe('[harborpilot] approval needed: ecs/prod/api (k3m9x2qa)');
    expect(email.text).toContain('  npx harborpilot approve k3m9x2qa\n  npx harborpilot reject k3m9x2qa');
    expect(email.text).toContain('before 2026-01-17T10:00:00.000Z');
    expect(email.html).toContain('(sha256:bbb) &lt;img src=x&gt;');
    expect(email.html).not.toContain('<img');
  });

  it('goes to notices.to (else alerts.to) from alerts.from; a failed send throws, naming it', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm1' });
    await send({
      alerts: { from: 'hp@example.com', to: ['ops@example.com'] },
      notices: { to: ['rel@example.com'] },
    })(request);
    const input = ses.commandCalls(SendEmailCommand)[0]?.args[0].input;
    expect(input?.FromEmailAddress).toBe('hp@example.com');
    expect(input?.Destination?.ToAddresses).toEqual(['rel@example.com']);
    ses
      .on(SendEmailCommand)
      .rejects(Object.assign(new Error('Email address is not verified'), { name: 'MessageRejected' }));
    await expect(send({ alerts: { to: ['ops@example.com'] } })(request)).rejects.toThrow(ApprovalEmailError);
  });

  it('a dry run, or no recipients, sends nothing', async () => {
    await send({ dryRun: true, alerts: { to: ['ops@example.com'] } })(request);
    await send({})(request);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
  });
});
