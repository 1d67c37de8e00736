/**
 * STS for the local cloud: GetCallerIdentity, answered from the caller's access key and account, and AssumeRole
 * into the IAM roles a world declares (`roles:`), with the trust and external id checked as AWS checks them. The
 * temporary credentials it returns act in the role's account until they expire on the simulated clock.
 */
import { randomBytes } from 'node:crypto';
import type { SimClock } from './clock';
import { AwsServiceError } from './errors';
import type { RequestContext } from './types';

export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

export interface CallerIdentity {
  Account: string;
  Arn: string;
  UserId: string;
}

/** A role as the world declares it (local/world.ts `roles`). */
export interface RoleSpec {
  accountId: string;
  name: string;
  /**
   * Who may assume it, as a trust policy's `Principal.AWS` names them: an account id or its root ARN (anyone in
   * that account), a role ARN (sessions of that role), or any other ARN (that exact caller).
   */
  trust: string[];
  /** When set, AssumeRole must give this ExternalId (the `sts:ExternalId` condition). */
  externalId?: string | undefined;
  /** Seconds; AWS's default is one hour, its maximum twelve. */
  maxSessionDuration?: number | undefined;
}

export interface StsSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  accountId: string;
  roleName: string;
  roleId: string;
  sessionName: string;
  expiresAt: number;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;

const token = (bytes: number) => randomBytes(bytes).toString('base64url');
/** IAM ids: a four-letter prefix and 16 upper-case letters and digits. */
const iamId = (prefix: string) =>
  prefix +
  Array.from(randomBytes(16), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[b % 32])
    .join('')
    .slice(0, 16);

function validation(message: string): AwsServiceError {
  return new AwsServiceError('ValidationError', message);
}

export class LocalSts {
  /** Role ARN → role. */
  private readonly roles = new Map<string, RoleSpec & { roleId: string }>();
  /** Temporary access key id → session. */
  private readonly sessions = new Map<string, StsSession>();

  constructor(
    private readonly clock: SimClock,
    roles: readonly RoleSpec[] = [],
  ) {
    for (const r of roles) this.roles.set(roleArn(r.accountId, r.name), { ...r, roleId: iamId('AROA') });
  }

  /** The session of a temporary access key, expired or not. */
  session(accessKeyId: string): StsSession | undefined {
    return this.sessions.get(accessKeyId);
  }

  /** The account a temporary access key acts in (undefined for any other key). */
  accountOf(accessKeyId: string): string | undefined {
    return this.sessions.get(accessKeyId)?.accountId;
  }

  /**
   * The Expiration AssumeRole answers: the wall-clock instant at which the session expires on the simulated
   * clock. SDKs refresh credentials against their own (real) clock a few minutes before that instant, so a
   * demo running at 10x speed gets fresh credentials in time instead of ExpiredToken; with time stopped it is
   * the whole duration from now.
   */
  reportedExpiration(session: StsSession, realNowMs: number = Date.now()): Date {
    const speed = this.clock.speed > 0 ? this.clock.speed : 1;
    return new Date(realNowMs + (session.expiresAt - this.clock.nowMs()) / speed);
  }

  /** Whether the key is a session that has expired: AWS refuses it with ExpiredToken. */
  expired(accessKeyId: string): boolean {
    const s = this.sessions.get(accessKeyId);
    return s !== undefined && s.expiresAt <= this.clock.nowMs();
  }

  identity(ctx: RequestContext): CallerIdentity {
    const s = this.sessions.get(ctx.accessKeyId);
    if (s)
      return {
        Account: s.accountId,
        Arn: `arn:aws:sts::${s.accountId}:assumed-role/${s.roleName}/${s.sessionName}`,
        UserId: `${s.roleId}:${s.sessionName}`,
      };
    return getCallerIdentity(ctx);
  }

  assumeRole(ctx: RequestContext, params: URLSearchParams): { session: StsSession; arn: string } {
    const arn = params.get('RoleArn') ?? '';
    const sessionName = params.get('RoleSessionName') ?? '';
    if (arn.length < 20)
      throw validation(
        "1 validation error detected: Value at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20",
      );
    if (!SESSION_NAME.test(sessionName))
      throw validation(
        `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: ` +
          'Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64',
      );
    const externalId = params.get('ExternalId');
    if (externalId !== null && !EXTERNAL_ID.test(externalId))
      throw validation(
        `1 validation error detected: Value '${externalId}' at 'externalId' failed to satisfy constraint: ` +
          'Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]* and have length between 2 and 1224',
      );
    const duration = params.has('DurationSeconds') ? Number(params.get('DurationSeconds')) : 3600;
    if (!Number.isInteger(duration) || duration < 900)
      throw validation(
        `1 validation error detected: Value '${params.get('DurationSeconds')}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`,
      );
    const caller = this.identity(ctx);
    const match = ROLE_ARN.exec(arn);
    const role = match ? this.roles.get(roleArn(match[1] ?? '', match[2] ?? '')) : undefined;
    // A role that does not exist, a trust that does not name the caller and a wrong external id all read the
    // same, as on AWS: the caller learns nothing about the role.
    if (
      !role ||
      !this.trusts(role, caller, ctx) ||
      (role.externalId !== undefined && externalId !== role.externalId)
    )
      throw new AwsServiceError(
        'AccessDenied',
        `User: ${caller.Arn} is not authorized to perform: sts:AssumeRole on resource: ${arn}`,
        403,
      );
    if (duration > (role.maxSessionDuration ?? 3600))
      throw validation('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    const session: StsSession = {
      accessKeyId: iamId('ASIA'),
      secretAccessKey: token(30),
      sessionToken: token(96),
      accountId: role.accountId,
      roleName: role.name,
      roleId: role.roleId,
      sessionName,
      expiresAt: this.clock.nowMs() + duration * 1000,
    };
    this.sessions.set(session.accessKeyId, session);
    return { session, arn: `arn:aws:sts::${role.accountId}:assumed-role/${role.name}/${sessionName}` };
  }

  private trusts(role: RoleSpec, caller: CallerIdentity, ctx: RequestContext): boolean {
    const session = this.sessions.get(ctx.accessKeyId);
    return role.trust.some((p) => {
      if (/^\d{12}$/.test(p)) return caller.Account === p;
      if (p === `arn:aws:iam::${caller.Account}:root`) return true;
      const asRole = ROLE_ARN.exec(p);
      if (asRole && session) return session.accountId === asRole[1] && session.roleName === asRole[2];
      return p === caller.Arn;
    });
  }
}

export const roleArn = (accountId: string, name: string) => `arn:aws:iam::${accountId}:role/${name}`;

/** Local callers act as the account's root user, as LocalStack's do. */
export function getCallerIdentity(ctx: RequestContext): CallerIdentity {
  return { Account: ctx.accountId, Arn: `arn:aws:iam::${ctx.accountId}:root`, UserId: ctx.accountId };
}
