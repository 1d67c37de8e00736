/**
 * EKS bearer tokens, as `aws eks get-token` and aws-iam-authenticator make them: `k8s-aws-v1.` + base64url
 * (no padding) of a presigned STS GetCallerIdentity GET URL whose signed headers include `x-k8s-aws-id: <cluster>`.
 * EKS accepts one for 15 minutes after its X-Amz-Date whatever X-Amz-Expires says; 60 s is the convention.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export const TOKEN_PREFIX = 'k8s-aws-v1.';
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** How long EKS honours a token after it was signed. */
export const TOKEN_LIFETIME_MS = 15 * 60_000;
/** Reuse a cached token only while it has this much life left: a request must not race its expiry. */
const REFRESH_MARGIN_MS = 60_000;

export interface EksToken {
  token: string;
  /** When EKS stops accepting it (signing time + 15 minutes). */
  expiresAt: Date;
}

export interface TokenOptions {
  clusterName: string;
  region: string;
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** STS endpoint; default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, else the regional STS endpoint. */
  stsEndpoint?: string;
  now?: Date;
}

/** The STS endpoint the SDK would use here: the endpoint environment variables win, as in every AWS SDK. */
export function stsEndpoint(region: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL || `https://sts.${region}.amazonaws.com`;
}

export async function createEksToken(options: TokenOptions): Promise<EksToken> {
  const now = options.now ?? new Date();
  const url = new URL(options.stsEndpoint ?? stsEndpoint(options.region));
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: 'sts',
    sha256: Sha256,
  });
  const request = new HttpRequest({
    method: 'GET',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host: url.host, [CLUSTER_ID_HEADER]: options.clusterName },
  });
  // x-k8s-aws-id is not an x-amz- header, so it stays a signed header instead of moving to the query.
  const signed = await signer.presign(request, { expiresIn: 60, signingDate: now });
  const query = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  const presigned = `${url.protocol}//${url.host}${signed.path}?${query}`;
  return {
    token: TOKEN_PREFIX + Buffer.from(presigned, 'utf8').toString('base64url'),
    expiresAt: new Date(now.getTime() + TOKEN_LIFETIME_MS),
  };
}

/** One token per cluster, reused until a minute before its 15 minutes are up (warm Lambda invocations). */
export class TokenCache {
  private readonly tokens = new Map<string, EksToken>();

  constructor(
    private readonly make: (clusterName: string) => Promise<EksToken>,
    private readonly now: () => number = Date.now,
  ) {}

  async get(clusterName: string): Promise<string> {
    const cached = this.tokens.get(clusterName);
    if (cached && cached.expiresAt.getTime() - this.now() > REFRESH_MARGIN_MS) return cached.token;
    const fresh = await this.make(clusterName);
    this.tokens.set(clusterName, fresh);
    return fresh.token;
  }

  /** After a 401 the token is useless whatever its age. */
  forget(clusterName: string): void {
    this.tokens.delete(clusterName);
  }
}
