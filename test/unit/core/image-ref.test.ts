import { describe, expect, it } from 'vitest';
import { digestOfImageId } from '../../../shared/aws/kube';
import { formatImageRef, ImageRefError, isInRepository, parseImageRef } from '../../../shared/image-ref';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseImageRef', () => {
  it.each([
    [
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api:1.2.3',
      {
        registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
        repository: 'shop/api',
        tag: '1.2.3',
        ecr: { accountId: '123456789012', region: 'eu-west-1' },
      },
    ],
    [
      `123456789012.dkr.ecr.us-east-1.amazonaws.com/a/b/c@${D}`,
      {
        registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
        repository: 'a/b/c',
        digest: D,
        ecr: { accountId: '123456789012', region: 'us-east-1' },
      },
    ],
    [
      `123456789012.dkr.ecr.us-east-1.amazonaws.com/api:latest@${D}`,
      {
        registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
        repository: 'api',
        tag: 'latest',
        digest: D,
        ecr: { accountId: '123456789012', region: 'us-east-1' },
      },
    ],
    [
      '123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/api',
      {
        registry: '123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com',
        repository: 'api',
        ecr: { accountId: '123456789012', region: 'us-gov-west-1' },
      },
    ],
    [
      '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/api:v1',
      {
        registry: '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn',
        repository: 'api',
        tag: 'v1',
        ecr: { accountId: '123456789012', region: 'cn-north-1' },
      },
    ],
    ['nginx', { repository: 'nginx' }],
    ['nginx:1.27-alpine', { repository: 'nginx', tag: '1.27-alpine' }],
    ['library/redis:7', { repository: 'library/redis', tag: '7' }],
    ['localhost:5000/team/app:dev', { registry: 'localhost:5000', repository: 'team/app', tag: 'dev' }],
    ['registry.example.com:8443/app', { registry: 'registry.example.com:8443', repository: 'app' }],
    [
      'public.ecr.aws/nginx/nginx:stable',
      { registry: 'public.ecr.aws', repository: 'nginx/nginx', tag: 'stable' },
    ],
  ])('%s', (image, expected) => {
    expect(parseImageRef(image)).toEqual(expected);
  });

  it.each([
    ['', /empty/],
    [' nginx', /padded/],
    ['nginx@sha256:', /is not algorithm:encoded/],
    ['nginx@SHA256:abc', /is not algorithm:encoded/],
    ['nginx@abc', /is not algorithm:encoded/],
    ['Upper/Case', /not a valid name/],
    ['repo:bad/tag', /not a valid name|not a valid tag/],
    ['repo:-x', /not a valid tag/],
  ])('rejects %j', (image, message) => {
    expect(() => parseImageRef(image)).toThrow(ImageRefError);
    expect(() => parseImageRef(image)).toThrow(message);
  });

  it('reads any OCI digest (algorithm:encoded), not only 64 hex characters of sha256', () => {
    expect(parseImageRef(`nginx@sha512:${'ab'.repeat(64)}`).digest).toBe(`sha512:${'ab'.repeat(64)}`);
    expect(
      parseImageRef('app:1@sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234'),
    ).toMatchObject({
      tag: '1',
      digest: 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234',
    });
  });

  it('finds the digest of a kubelet imageID, and nothing in a tag', () => {
    expect(digestOfImageId(`docker-pullable://nginx@${D}`)).toBe(D);
    expect(digestOfImageId(`docker.io/library/nginx@sha512:${'cd'.repeat(64)}`)).toBe(
      `sha512:${'cd'.repeat(64)}`,
    );
    expect(digestOfImageId(D)).toBe(D);
    expect(digestOfImageId('nginx:latest')).toBeUndefined();
    expect(digestOfImageId(undefined)).toBeUndefined();
  });

  it('formats back to the same string', () => {
    for (const image of [
      `123456789012.dkr.ecr.us-east-1.amazonaws.com/api:latest@${D}`,
      'localhost:5000/team/app:dev',
      'nginx',
    ]) {
      expect(formatImageRef(parseImageRef(image))).toBe(image);
    }
  });

  it('matches an ECR repository by account, region and name only', () => {
    const ref = parseImageRef('123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api:1');
    const repo = { accountId: '123456789012', region: 'us-east-1', repositoryName: 'shop/api' };
    expect(isInRepository(ref, repo)).toBe(true);
    expect(isInRepository(ref, { ...repo, region: 'eu-west-1' })).toBe(false);
    expect(isInRepository(ref, { ...repo, accountId: '210987654321' })).toBe(false);
    expect(isInRepository(ref, { ...repo, repositoryName: 'shop/api-v2' })).toBe(false);
    expect(isInRepository(parseImageRef('shop/api:1'), repo)).toBe(false);
  });
});
