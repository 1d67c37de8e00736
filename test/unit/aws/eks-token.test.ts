import { describe, expect, it, vi } from 'vitest';
import { createEksToken, TOKEN_PREFIX, TokenCache } from '../../../shared/aws/eks-token';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const now = new Date('2026-03-01T12:00:00Z');

function decode(token: string): URL {
  expect(token.startsWith(TOKEN_PREFIX)).toBe(true);
  const b64 = token.slice(TOKEN_PREFIX.length);
  expect(b64).not.toMatch(/[=+/]/); // base64url without padding, as EKS expects
  return new URL(Buffer.from(b64, 'base64url').toString('utf8'));
}

describe('EKS token', () => {
  it('is a presigned STS GetCallerIdentity URL that signs the cluster name header, valid 15 minutes', async () => {
    const { token, expiresAt } = await createEksToken({
      clusterName: 'shop-eks',
      region: 'eu-west-1',
      credentials,
      stsEndpoint: 'https://sts.eu-west-1.amazonaws.com',
      now,
    });
    const url = decode(token);
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(url.searchParams.get('Version')).toBe('2011-06-15');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20260301T120000Z');
    expect(url.searchParams.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20260301/eu-west-1/sts/aws4_request');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[a-f0-9]{64}$/);
    expect(expiresAt.toISOString()).toBe('2026-03-01T12:15:00.000Z');
  });

  it('signs a different signature for another cluster (the header is part of the signature)', async () => {
    const sig = async (clusterName: string) =>
      decode(
        (
          await createEksToken({
            clusterName,
            region: 'us-east-1',
            credentials,
            stsEndpoint: 'https://sts.us-east-1.amazonaws.com',
            now,
          })
        ).token,
      ).searchParams.get('X-Amz-Signature');
    expect(await sig('a')).not.toBe(await sig('b'));
  });

  it('follows AWS_ENDPOINT_URL so the local cloud can check it', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL', 'http://127.0.0.1:4566');
    try {
      const { token } = await createEksToken({ clusterName: 'c', region: 'us-east-1', credentials, now });
      expect(decode(token).host).toBe('127.0.0.1:4566');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('carries the session token of temporary credentials', async () => {
    const { token } = await createEksToken({
      clusterName: 'c',
      region: 'us-east-1',
      credentials: { ...credentials, sessionToken: 'FwoG' },
      stsEndpoint: 'https://sts.us-east-1.amazonaws.com',
      now,
    });
    expect(decode(token).searchParams.get('X-Amz-Security-Token')).toBe('FwoG');
  });
});

describe('TokenCache', () => {
  it('reuses a token for under 15 minutes and makes a new one before it expires', async () => {
    let clock = now.getTime();
    let made = 0;
    const cache = new TokenCache(
      async (c) => ({ token: `${c}-${++made}`, expiresAt: new Date(clock + 15 * 60_000) }),
      () => clock,
    );
    expect(await cache.get('a')).toBe('a-1');
    clock += 13 * 60_000;
    expect(await cache.get('a')).toBe('a-1');
    clock += 90_000; // 14.5 minutes old: too close to expiry to send
    expect(await cache.get('a')).toBe('a-2');
    expect(await cache.get('b')).toBe('b-3');
    cache.forget('a');
    expect(await cache.get('a')).toBe('a-4');
  });
});
