import { beforeEach, describe, expect, it } from 'vitest';
import { EcrBackend } from '../../../ecr';
import { AwsServiceError } from '../../../errors';
import { ACCOUNT, ctx, makeCore, REGION } from './core';

type Ops = EcrBackend['operations'];
let setup: ReturnType<typeof makeCore>;
let ecr: EcrBackend;
// biome-ignore lint/suspicious/noExplicitAny: responses are plain JSON, checked by the assertions
type Json = any;
const call = (op: string, input: Record<string, unknown>, c = ctx) =>
  (ecr.operations[op] as NonNullable<Ops[string]>)(input, c) as Json;
const REG = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;

function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof AwsServiceError ? err.code : String(err);
  }
  return 'no error';
}

beforeEach(() => {
  setup = makeCore();
  ecr = new EcrBackend(setup.core);
});

describe('repositories', () => {
  it('creates once per account and region, with ARN and URI as ECR forms them', () => {
    const { repository } = call('CreateRepository', {
      repositoryName: 'shop/api',
      tags: [{ Key: 'team', Value: 'a' }],
    });
    expect(repository).toMatchObject({
      repositoryArn: `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/shop/api`,
      repositoryUri: `${REG}/shop/api`,
      registryId: ACCOUNT,
      imageTagMutability: 'MUTABLE',
    });
    expect(errorCode(() => call('CreateRepository', { repositoryName: 'shop/api' }))).toBe(
      'RepositoryAlreadyExistsException',
    );
    // Another region is another registry.
    call('CreateRepository', { repositoryName: 'shop/api' }, { ...ctx, region: 'eu-west-1' });
    expect(errorCode(() => call('CreateRepository', { repositoryName: 'Shop' }))).toBe(
      'InvalidParameterException',
    );
  });

  it('describes by name (unknown names fail) or page by page', () => {
    for (let i = 0; i < 5; i++) call('CreateRepository', { repositoryName: `repo-${i}` });
    expect(call('DescribeRepositories', { repositoryNames: ['repo-1'] }).repositories).toHaveLength(1);
    expect(errorCode(() => call('DescribeRepositories', { repositoryNames: ['repo-1', 'nope'] }))).toBe(
      'RepositoryNotFoundException',
    );
    const page1 = call('DescribeRepositories', { maxResults: 3 });
    const page2 = call('DescribeRepositories', { maxResults: 3, nextToken: page1.nextToken });
    expect(
      [...page1.repositories, ...page2.repositories].map((r: { repositoryName: string }) => r.repositoryName),
    ).toEqual(['repo-0', 'repo-1', 'repo-2', 'repo-3', 'repo-4']);
    expect(page2.nextToken).toBeUndefined();
  });

  it('refuses to delete a repository with images unless forced', () => {
    ecr.pushImage({ repositoryName: 'shop/api', tag: 'v1' });
    expect(errorCode(() => call('DeleteRepository', { repositoryName: 'shop/api' }))).toBe(
      'RepositoryNotEmptyException',
    );
    call('DeleteRepository', { repositoryName: 'shop/api', force: true });
    expect(errorCode(() => call('DescribeImages', { repositoryName: 'shop/api' }))).toBe(
      'RepositoryNotFoundException',
    );
  });

  it('tags repositories by ARN (pruneImages reads its overrides there)', () => {
    const arn = call('CreateRepository', { repositoryName: 'shop/api' }).repository.repositoryArn;
    call('TagResource', {
      resourceArn: arn,
      tags: [
        { Key: 'harborpilot:keepLast', Value: '3' },
        { Key: 'x', Value: '1' },
      ],
    });
    call('UntagResource', { resourceArn: arn, tagKeys: ['x'] });
    expect(call('ListTagsForResource', { resourceArn: arn }).tags).toEqual([
      { Key: 'harborpilot:keepLast', Value: '3' },
    ]);
    expect(errorCode(() => call('ListTagsForResource', { resourceArn: `${arn}-gone` }))).toBe(
      'RepositoryNotFoundException',
    );
  });
});

describe('pushImage helper', () => {
  it('pushes a multi-arch image as a tagged index over untagged children, with a signature and an attestation', () => {
    const pushed = ecr.pushImage({
      repositoryName: 'shop/web',
      tag: 'v2',
      platforms: ['linux/amd64', 'linux/arm64'],
      sizeBytes: 1000,
      signature: true,
      attestation: true,
    });
    const images = ecr.images(ACCOUNT, REGION, 'shop/web');
    const byDigest = new Map(images.map((i) => [i.imageDigest, i]));
    expect(images).toHaveLength(5);
    expect(byDigest.get(pushed.digest)).toMatchObject({
      imageTags: ['v2'],
      imageManifestMediaType: 'application/vnd.oci.image.index.v1+json',
      imageSizeInBytes: 1000,
    });
    for (const child of pushed.children) expect(byDigest.get(child.digest)).not.toHaveProperty('imageTags');
    expect(byDigest.get(pushed.signatureDigest as `sha256:${string}`)?.imageTags).toEqual([
      `${pushed.digest.replace(':', '-')}.sig`,
    ]);
    expect(byDigest.get(pushed.attestationDigest as `sha256:${string}`)).toMatchObject({
      subjectManifestDigest: pushed.digest,
      artifactMediaType: 'application/vnd.in-toto+json',
    });
    // One PUSH per manifest: two children, the index, the signature, the attestation.
    expect(setup.bus.history.filter((e) => e.detail['action-type'] === 'PUSH')).toHaveLength(5);
  });

  it('loads a world without events, with ages relative to the clock and repository tags', () => {
    ecr.loadWorld({
      repositories: [
        {
          name: 'shop/api',
          tags: { 'harborpilot:keepLast': '2' },
          images: [{ tag: 'v1', pushedDaysAgo: 40 }, { pushedDaysAgo: 20 }, { tags: ['v2', 'latest'] }],
        },
      ],
    });
    const images = ecr.images(ACCOUNT, REGION, 'shop/api');
    expect(
      images.map((i) => [i.imageTags, (Date.parse('2026-03-01T12:00:00Z') / 1000 - i.imagePushedAt) / 86400]),
    ).toEqual([
      [['v1'], 40],
      [undefined, 20],
      [['v2', 'latest'], 0],
    ]);
    expect(setup.bus.history).toEqual([]);
    const arn = `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/shop/api`;
    expect(call('ListTagsForResource', { resourceArn: arn }).tags).toEqual([
      { Key: 'harborpilot:keepLast', Value: '2' },
    ]);
  });

  it('rejects a world with an unknown field, naming it', () => {
    expect(() =>
      ecr.loadWorld({ repositories: [{ name: 'x1', images: [{ tagg: 'v1' } as never] }] }),
    ).toThrow(/tagg/);
  });
});

describe('resolver', () => {
  it('resolves ECR tags and digests in the image host’s account and region, and records the pull', () => {
    const v1 = ecr.pushImage({ repositoryName: 'shop/api', tag: 'v1' });
    const latest = ecr.pushImage({ repositoryName: 'shop/api', tag: 'latest' });
    const other = { accountId: '999999999999', region: 'eu-west-1' };
    expect(ecr.resolver.resolve(`${REG}/shop/api:v1`, other)).toEqual({ digest: v1.digest });
    expect(ecr.resolver.resolve(`${REG}/shop/api`, ctx)).toEqual({ digest: latest.digest });
    expect(ecr.resolver.resolve(`${REG}/shop/api:v1@${latest.digest}`, ctx)).toEqual({
      digest: latest.digest,
    });
    expect(ecr.images(ACCOUNT, REGION, 'shop/api').every((i) => i.lastRecordedPullTime !== undefined)).toBe(
      true,
    );
  });

  it('fails a pull for a missing tag, digest or repository with CannotPullContainerError ... not found', () => {
    ecr.pushImage({ repositoryName: 'shop/api', tag: 'v1' });
    for (const image of [
      `${REG}/shop/api:v9`,
      `${REG}/shop/api@sha256:${'0'.repeat(64)}`,
      `${REG}/nope:v1`,
      `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/shop/api:v1`,
    ]) {
      const result = ecr.resolver.resolve(image, ctx);
      expect(result).toEqual({ error: expect.stringMatching(/^CannotPullContainerError: .*not found$/) });
    }
  });

  it('returns the injected pull failure for the repository', () => {
    ecr.pushImage({ repositoryName: 'shop/api', tag: 'v1' });
    setup.pullFailures.set('shop/api', 'CannotPullContainerError: pull access denied');
    expect(ecr.resolver.resolve(`${REG}/shop/api:v1`, ctx)).toEqual({
      error: 'CannotPullContainerError: pull access denied',
    });
  });

  it('gives non-ECR images a stable fake digest', () => {
    const a = ecr.resolver.resolve('nginx:1.27', ctx);
    expect(a).toEqual({ digest: expect.stringMatching(/^sha256:[a-f0-9]{64}$/) });
    expect(ecr.resolver.resolve('nginx:1.27', ctx)).toEqual(a);
    expect(ecr.resolver.resolve('nginx:1.28', ctx)).not.toEqual(a);
  });
});
