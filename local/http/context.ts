/**
 * Who is calling and where, the way AWS decides it: the SigV4 credential scope
 * (`Credential=AKID/20260301/us-east-1/ecs/aws4_request`, in the Authorization header or, for
 * presigned URLs, in `X-Amz-Credential`) names the region and the service; the access key names the
 * account. Signatures are not checked: any secret works, as with LocalStack.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestContext } from '../types';

export interface CredentialScope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

const SCOPE = /Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/;

export function credentialScope(
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
): CredentialScope | undefined {
  const auth = headers.authorization;
  const text =
    typeof auth === 'string'
      ? auth
      : query.has('X-Amz-Credential')
        ? `Credential=${query.get('X-Amz-Credential')}`
        : '';
  const m = SCOPE.exec(text);
  if (!m) return undefined;
  const [, accessKeyId = '', date = '', region = '', service = ''] = m;
  return { accessKeyId, date, region, service };
}

export interface AccountDirectory {
  defaultAccountId: string;
  defaultRegion: string;
  /** Access key id → account id (world `accounts:`). */
  accessKeys: ReadonlyMap<string, string>;
  /** The account of a temporary access key STS issued (AssumeRole), if it is one. */
  sessionAccount?: (accessKeyId: string) => string | undefined;
}

/**
 * Account of an access key: a temporary key from AssumeRole acts in the role's account; a listed key maps to its
 * account; a 12-digit key is itself the account (LocalStack's habit, so `AWS_ACCESS_KEY_ID=111111111111` works);
 * anything else is the default.
 */
export function accountOf(accessKeyId: string, directory: AccountDirectory): string {
  const assumed = directory.sessionAccount?.(accessKeyId);
  if (assumed) return assumed;
  const listed = directory.accessKeys.get(accessKeyId);
  if (listed) return listed;
  if (/^\d{12}$/.test(accessKeyId)) return accessKeyId;
  return directory.defaultAccountId;
}

export function requestContext(
  scope: CredentialScope | undefined,
  directory: AccountDirectory,
): RequestContext {
  const accessKeyId = scope?.accessKeyId ?? 'test';
  return {
    accessKeyId,
    accountId: accountOf(accessKeyId, directory),
    region: scope?.region ?? directory.defaultRegion,
  };
}
