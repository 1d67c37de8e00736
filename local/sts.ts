/** STS for the local cloud: GetCallerIdentity, answered from the caller's access key and account. */
import type { RequestContext } from './types';

export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

export interface CallerIdentity {
  Account: string;
  Arn: string;
  UserId: string;
}

/** Local callers act as the account's root user, as LocalStack's do. */
export function getCallerIdentity(ctx: RequestContext): CallerIdentity {
  return { Account: ctx.accountId, Arn: `arn:aws:iam::${ctx.accountId}:root`, UserId: ctx.accountId };
}
