/**
 * Who may call a cluster's Kubernetes API: the bearer of an EKS token for that cluster, as EKS's authenticator
 * decides it. The token is a presigned STS GetCallerIdentity URL; EKS forwards it to STS with the header
 * `x-k8s-aws-id: <its cluster>`, so a token signed for another cluster fails. Locally the signature is
 * recomputed whenever the secret of the access key is known (`test`, and the keys a world declares).
 */
import { timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

const PREFIX = 'k8s-aws-v1.';
const LIFETIME_MS = 15 * 60_000;
/** Clock skew tolerated for a token dated in the future, as STS tolerates. */
const SKEW_MS = 5 * 60_000;

export type TokenCheck = { ok: true; accessKeyId: string; verified: boolean } | { ok: false; reason: string };

export interface TokenCheckOptions {
  clusterName: string;
  /** Access key id → secret access key, for the keys whose signatures can be checked. */
  secrets: ReadonlyMap<string, string>;
  /**
   * Wall-clock time, not the simulated clock: the AWS CLI and SDKs sign with the machine's time.
   */
  now?: number;
}

export async function checkEksToken(
  authorization: string | undefined,
  options: TokenCheckOptions,
): Promise<TokenCheck> {
  const fail = (reason: string): TokenCheck => ({ ok: false, reason });
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!m?.[1]) return fail('no bearer token');
  const token = m[1];
  if (!token.startsWith(PREFIX)) return fail(`token does not start with ${PREFIX}`);
  const b64 = token.slice(PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(b64)) return fail('token is not base64url without padding');
  let url: URL;
  try {
    url = new URL(Buffer.from(b64, 'base64url').toString('utf8'));
  } catch {
    return fail('token is not a URL');
  }
  const q = url.searchParams;
  if (url.pathname !== '/' || q.get('Action') !== 'GetCallerIdentity' || q.get('Version') !== '2011-06-15') {
    return fail('not an STS GetCallerIdentity URL');
  }
  if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return fail('not signed with AWS4-HMAC-SHA256');
  const signedHeaders = (q.get('X-Amz-SignedHeaders') ?? '').split(';');
  if (!signedHeaders.includes('x-k8s-aws-id')) return fail('x-k8s-aws-id is not a signed header');
  const scope = /^([^/]+)\/(\d{8})\/([^/]+)\/sts\/aws4_request$/.exec(q.get('X-Amz-Credential') ?? '');
  if (!scope?.[1] || !scope[3]) return fail('credential scope is not for STS');
  const [, accessKeyId, , region] = scope;
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(q.get('X-Amz-Date') ?? '');
  if (!date) return fail('X-Amz-Date is missing or malformed');
  const [y = 0, mo = 1, d = 0, h = 0, mi = 0, se = 0] = date.slice(1).map(Number);
  const signedAt = Date.UTC(y, mo - 1, d, h, mi, se);
  const expires = Number(q.get('X-Amz-Expires'));
  if (!(expires > 0 && expires <= 900)) return fail('X-Amz-Expires must be 1 to 900 seconds');
  const now = options.now ?? Date.now();
  if (signedAt > now + SKEW_MS) return fail('token is signed in the future');
  if (now > signedAt + LIFETIME_MS) return fail('token expired (EKS tokens live 15 minutes)');
  const signature = q.get('X-Amz-Signature') ?? '';
  if (!/^[a-f0-9]{64}$/.test(signature)) return fail('X-Amz-Signature is malformed');

  const secret = options.secrets.get(accessKeyId);
  if (secret === undefined) return { ok: true, accessKeyId, verified: false };
  const sessionToken = q.get('X-Amz-Security-Token');
  const query: Record<string, string> = {};
  for (const [k, v] of q) if (!k.startsWith('X-Amz-')) query[k] = v;
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey: secret, ...(sessionToken ? { sessionToken } : {}) },
    region,
    service: 'sts',
    sha256: Sha256,
  });
  const expected = await signer.presign(
    new HttpRequest({
      method: 'GET',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query,
      // The header EKS adds when it asks STS: this cluster's name, whatever the token was made for.
      headers: { host: url.host, 'x-k8s-aws-id': options.clusterName },
    }),
    { expiresIn: expires, signingDate: new Date(signedAt) },
  );
  const want = Buffer.from(String(expected.query?.['X-Amz-Signature'] ?? ''), 'utf8');
  const got = Buffer.from(signature, 'utf8');
  if (want.length !== got.length || !timingSafeEqual(want, got)) {
    return fail(`signature does not match (signed for another cluster, or with another secret)`);
  }
  return { ok: true, accessKeyId, verified: true };
}
