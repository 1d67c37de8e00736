/** harborpilot approve / freeze with the caller's own credentials: AWS's refusal named, dry runs write nothing. */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { formatHolds, main, parseUntil } from '../../../cli/holds';

const dynamo = mockClient(DynamoDBDocumentClient);
// As bin/harborpilot.mjs sets it: the SDK's Node version warning would land in the captured stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const sts = mockClient(STSClient);
const CALLER = 'arn:aws:iam::123456789012:user/intern';

beforeEach(() => {
  dynamo.reset();
  sts.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Arn: CALLER, Account: '123456789012' });
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  vi.stubEnv('AWS_ENDPOINT_URL', '');
});
afterEach(() => vi.unstubAllEnvs());

async function run(command: string, ...args: string[]) {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
    out += String(c);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c) => {
    err += String(c);
    return true;
  });
  try {
    return { code: await main([...args, '--table', 'state'], command), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const pending = {
  id: 'approval#k3m9x2qa',
  approvalId: 'k3m9x2qa',
  workload: 'ecs/prod/api',
  status: 'pending',
  changes: ['app: api:1 → api:2 (sha256:b)'],
  requestedAt: new Date(Date.now() - 3600_000).toISOString(),
  expiresAt: new Date(Date.now() + 3600_000).toISOString(),
};

describe('harborpilot approve', () => {
  it('a caller IAM does not allow is refused with AWS error, named, and the permission it lacks', async () => {
    dynamo.on(GetCommand).resolves({ Item: pending });
    dynamo
      .on(UpdateCommand)
      .rejects(
        Object.assign(
          new Error(
            `User: ${CALLER} is not authorized to perform: dynamodb:UpdateItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/state`,
          ),
          { name: 'AccessDeniedException' },
        ),
      );
    const r = await run('approve', 'k3m9x2qa');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /harborpilot approve: AccessDeniedException: User: .*intern is not authorized to perform: dynamodb:UpdateItem/,
    );
    expect(r.err).toMatch(
      /the caller needs dynamodb:GetItem and dynamodb:UpdateItem on the state table for approval#\* keys/,
    );
  });

  it('names what listing the holds needs when AWS refuses it', async () => {
    dynamo.on(GetCommand).rejects(
      Object.assign(new Error(`User: ${CALLER} is not authorized to perform: dynamodb:GetItem`), {
        name: 'AccessDeniedException',
      }),
    );
    const r = await run('holds');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /harborpilot holds: AccessDeniedException: .*\(refused by AWS: the caller needs dynamodb:GetItem and BatchGetItem on the state table for freeze#\*, held#\*, approval#\* and failed#\* keys/,
    );
  });

  it('writes the decision with the caller named, only while pending', async () => {
    dynamo.on(GetCommand).resolves({ Item: pending });
    dynamo.on(UpdateCommand).resolves({
      Attributes: {
        ...pending,
        status: 'approved',
        decidedBy: CALLER,
        decidedAt: new Date().toISOString(),
      },
    });
    const r = await run('approve', 'K3M9X2QA');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/approved k3m9x2qa for ecs\/prod\/api as arn:aws:iam::123456789012:user\/intern/);
    const update = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(update?.ConditionExpression).toMatch(/#s = :pending AND expiresAt > :now/);
  });

  it('an expired approval is refused, saying when it expired', async () => {
    dynamo.on(GetCommand).resolves({ Item: { ...pending, expiresAt: '2026-01-01T00:00:00.000Z' } });
    const r = await run('reject', 'k3m9x2qa');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/approval k3m9x2qa for ecs\/prod\/api expired at 2026-01-01T00:00:00.000Z/);
    expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});

describe('harborpilot freeze', () => {
  it('--dry-run writes nothing and says what it would write', async () => {
    const r = await run('freeze', 'eks/prod/shop/deployment/api', '--reason', 'release week', '--dry-run');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(
      /dry run: would have frozen eks\/prod\/shop\/deployment\/api by .*intern: release week/,
    );
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(0);
    expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('--until takes a time or a duration, never one in the past', () => {
    const now = new Date('2026-01-14T10:00:00Z');
    expect(parseUntil('8h', now).toISOString()).toBe('2026-01-14T18:00:00.000Z');
    expect(parseUntil('2d', now).toISOString()).toBe('2026-01-16T10:00:00.000Z');
    expect(parseUntil('2026-01-15T00:00:00Z', now).toISOString()).toBe('2026-01-15T00:00:00.000Z');
    expect(() => parseUntil('2026-01-13T00:00:00Z', now)).toThrow(/has already passed/);
    expect(() => parseUntil('tomorrow', now)).toThrow(/not an ISO 8601 time .* or a duration/);
  });
});

describe('harborpilot release', () => {
  const DIGEST = `sha256:${'d'.repeat(64)}`;
  const held = {
    id: `scan#123456789012/us-east-1/shop/api@${DIGEST}`,
    image: `123456789012/us-east-1/shop/api@${DIGEST}`,
    repository: { accountId: '123456789012', region: 'us-east-1', repositoryName: 'shop/api' },
    digest: DIGEST,
    tags: ['latest'],
    reason: 'scan of shop/api@sha256:dddddddddddd found 1 CRITICAL (holds at CRITICAL and above)',
    heldAt: '2026-12-01T10:00:00.000Z',
    workloads: ['ecs/prod/api'],
  };

  it('keys a bare repository name in the caller account and region; --dry-run writes nothing', async () => {
    dynamo.on(GetCommand).resolves({ Item: held });
    const r = await run('release', `shop/api@${DIGEST}`, '--reason', 'SEC-7', '--dry-run');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(
      /dry run: would have released shop\/api@sha256:d+ as .*intern: SEC-7; held because scan of/,
    );
    expect(dynamo.commandCalls(GetCommand)[0]?.args[0].input.Key).toEqual({ id: held.id });
    expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('a caller IAM does not allow is refused with AWS error, named, and the permission it lacks', async () => {
    dynamo.on(GetCommand).resolves({ Item: held });
    dynamo
      .on(UpdateCommand)
      .rejects(
        Object.assign(new Error(`User: ${CALLER} is not authorized`), { name: 'AccessDeniedException' }),
      );
    const r = await run(
      'release',
      `123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api@${DIGEST}`,
      '--reason',
      'x',
    );
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/harborpilot release: AccessDeniedException: User: .*intern is not authorized/);
    expect(r.err).toMatch(
      /the caller needs dynamodb:GetItem and dynamodb:UpdateItem on the state table for scan#\* keys/,
    );
  });

  it('refuses what is not <repository>@<digest>', async () => {
    const r = await run('release', 'shop/api:latest', '--reason', 'x');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/"shop\/api:latest" is not <repository>@<digest>/);
  });
});

describe('holds', () => {
  it('lists a failed digest with its workload, container, outcome and what lets it through', () => {
    const text = formatHolds({
      freezes: [],
      held: [],
      approvals: [],
      failed: [
        {
          workload: 'ecs/prod/api',
          digests: {
            [`sha256:${'b'.repeat(64)}`]: {
              container: 'app',
              image: 'shop/api:latest',
              outcome: 'rolled-back',
              reason: 'ECS deployment circuit breaker: tasks failed to start',
              at: '2026-01-14T10:05:00.000Z',
              deployment: 'ecs-svc/123',
            },
          },
        },
      ],
    });
    expect(text).toMatch(
      /ecs\/prod\/api\s+failed digest \(app\)\s+sha256:bbbbbbbbbbbb rolled-back at 2026-01-14T10:05:00.000Z \(ecs-svc\/123\): ECS deployment circuit breaker: tasks failed to start; a different digest deploys/,
    );
    expect(formatHolds({ freezes: [], held: [], approvals: [], failed: [] })).toBe(
      'no freezes, held pushes, approvals or failed digests',
    );
  });
});
