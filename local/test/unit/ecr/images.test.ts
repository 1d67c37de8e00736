import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { EcrBackend } from '../../../ecr';
import { AwsServiceError } from '../../../errors';
import { ctx, makeCore } from './core';

type Ops = EcrBackend['operations'];
let ecr: EcrBackend;
let ops: Ops;
let setup: ReturnType<typeof makeCore>;
// biome-ignore lint/suspicious/noExplicitAny: responses are plain JSON, checked by the assertions
type Json = any;
const call = (op: string, input: Record<string, unknown>) =>
  (ops[op] as NonNullable<Ops[string]>)(input, ctx) as Json;
const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

function manifest(seed: string, layerSizes = [100, 200]) {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(`${seed}c`), size: 10 },
    layers: layerSizes.map((size, i) => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: sha(`${seed}${i}`),
      size,
    })),
  });
}
function index(children: string[]) {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: children.map((digest) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest,
      size: 1,
    })),
  });
}
const put = (imageManifest: string, imageTag?: string) =>
  call('PutImage', { repositoryName: 'shop/api', imageManifest, ...(imageTag ? { imageTag } : {}) }).image
    .imageId.imageDigest as string;
const describe_ = (input: Record<string, unknown> = {}) =>
  call('DescribeImages', { repositoryName: 'shop/api', ...input }).imageDetails as Record<string, unknown>[];
const ecrEvents = () => setup.bus.history.filter((e) => e['detail-type'] === 'ECR Image Action');

function expectAwsError(fn: () => unknown, code: string, message?: RegExp) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AwsServiceError);
    expect((err as AwsServiceError).code).toBe(code);
    if (message) expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error(`expected ${code}`);
}

beforeEach(() => {
  setup = makeCore();
  ecr = new EcrBackend(setup.core);
  ops = ecr.operations;
  call('CreateRepository', { repositoryName: 'shop/api' });
});

describe('PutImage', () => {
  it('digests the exact manifest bytes, so reformatted JSON is a different image', () => {
    const text = manifest('a');
    const pretty = JSON.stringify(JSON.parse(text), null, 2);
    expect(put(text, 'v1')).toBe(sha(text));
    expect(put(pretty, 'v1-pretty')).toBe(sha(pretty));
    expect(sha(text)).not.toBe(sha(pretty));
  });

  it('records media types, size as the sum of layers and the push time from the simulated clock', () => {
    put(manifest('a', [1000, 234]), 'v1');
    const [image] = describe_();
    expect(image).toMatchObject({
      imageTags: ['v1'],
      imageSizeInBytes: 1234,
      imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactMediaType: 'application/vnd.oci.image.config.v1+json',
      imagePushedAt: Date.parse('2026-03-01T12:00:00Z') / 1000,
    });
  });

  it('emits ECR Image Action PUSH in the documented shape, without image-tag when untagged', () => {
    const tagged = put(manifest('a'), 'v1');
    const untagged = put(manifest('b'));
    const [first, second] = ecrEvents();
    expect(first).toMatchObject({
      source: 'aws.ecr',
      account: '123456789012',
      region: 'us-east-1',
      resources: [],
      detail: {
        result: 'SUCCESS',
        'action-type': 'PUSH',
        'repository-name': 'shop/api',
        'image-digest': tagged,
        'image-tag': 'v1',
        'manifest-media-type': 'application/vnd.oci.image.manifest.v1+json',
        'artifact-media-type': 'application/vnd.oci.image.config.v1+json',
      },
    });
    expect(second?.detail['image-digest']).toBe(untagged);
    expect(second?.detail).not.toHaveProperty('image-tag');
  });

  it('moves a tag to the new digest and leaves the old image untagged', () => {
    const v1 = put(manifest('a'), 'latest');
    const v2 = put(manifest('b'), 'latest');
    const byDigest = Object.fromEntries(describe_().map((i) => [i.imageDigest, i.imageTags]));
    expect(byDigest[v1]).toBeUndefined();
    expect(byDigest[v2]).toEqual(['latest']);
    expect(describe_({ filter: { tagStatus: 'UNTAGGED' } }).map((i) => i.imageDigest)).toEqual([v1]);
  });

  it('rejects the same tag on the same digest, and any overwrite in an immutable repository', () => {
    put(manifest('a'), 'v1');
    expectAwsError(() => put(manifest('a'), 'v1'), 'ImageAlreadyExistsException');
    put(manifest('a'), 'v1-alias'); // a second tag on the same digest is fine
    call('CreateRepository', { repositoryName: 'locked', imageTagMutability: 'IMMUTABLE' });
    call('PutImage', { repositoryName: 'locked', imageManifest: manifest('a'), imageTag: 'v1' });
    expectAwsError(
      () => call('PutImage', { repositoryName: 'locked', imageManifest: manifest('b'), imageTag: 'v1' }),
      'ImageTagAlreadyExistsException',
    );
  });

  it('accepts an index only when its children are already in the repository; its size is its largest child', () => {
    const amd = manifest('amd', [500]);
    const arm = manifest('arm', [700]);
    expectAwsError(() => put(index([sha(amd), sha(arm)]), 'v1'), 'ReferencedImagesNotFoundException');
    put(amd);
    put(arm);
    const idx = put(index([sha(amd), sha(arm)]), 'v1');
    const detail = describe_({ imageIds: [{ imageTag: 'v1' }] })[0];
    expect(detail).toMatchObject({
      imageDigest: idx,
      imageSizeInBytes: 700,
      imageManifestMediaType: 'application/vnd.oci.image.index.v1+json',
    });
    expect(detail).not.toHaveProperty('artifactMediaType');
  });

  it('takes the media type from imageManifestMediaType when the manifest has none, and refuses a mismatch', () => {
    const bare = JSON.stringify({
      schemaVersion: 2,
      config: { mediaType: 'x', digest: sha('c'), size: 1 },
      layers: [],
    });
    call('PutImage', {
      repositoryName: 'shop/api',
      imageManifest: bare,
      imageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    });
    expect(describe_()[0]?.imageManifestMediaType).toBe(
      'application/vnd.docker.distribution.manifest.v2+json',
    );
    expectAwsError(
      () =>
        call('PutImage', {
          repositoryName: 'shop/api',
          imageManifest: manifest('z'),
          imageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        }),
      'InvalidParameterException',
    );
    expectAwsError(
      () => call('PutImage', { repositoryName: 'shop/api', imageManifest: '{not json' }),
      'InvalidParameterException',
    );
  });

  it('checks imageDigest against the computed digest and the repository against the registry', () => {
    expectAwsError(
      () =>
        call('PutImage', { repositoryName: 'shop/api', imageManifest: manifest('a'), imageDigest: sha('x') }),
      'ImageDigestDoesNotMatchException',
    );
    expectAwsError(
      () => call('PutImage', { repositoryName: 'nope', imageManifest: manifest('a') }),
      'RepositoryNotFoundException',
      /nope.*123456789012/,
    );
  });
});

describe('DescribeImages and ListImages', () => {
  beforeEach(async () => {
    for (let i = 0; i < 250; i++) {
      put(manifest(`img${i}`), i % 2 === 0 ? `v${i}` : undefined);
      await setup.clock.advance(1000);
    }
  });

  it('pages at 100 by default and up to maxResults, every image exactly once', () => {
    const first = call('DescribeImages', { repositoryName: 'shop/api' });
    expect(first.imageDetails).toHaveLength(100);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = call('DescribeImages', {
        repositoryName: 'shop/api',
        maxResults: 120,
        ...(token ? { nextToken: token } : {}),
      });
      seen.push(...page.imageDetails.map((i: { imageDigest: string }) => i.imageDigest));
      token = page.nextToken;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(250);
  });

  it('filters by tag status and refuses maxResults above 1000 or together with imageIds', () => {
    expect(describe_({ filter: { tagStatus: 'TAGGED' }, maxResults: 1000 })).toHaveLength(125);
    expect(describe_({ filter: { tagStatus: 'UNTAGGED' }, maxResults: 1000 })).toHaveLength(125);
    expectAwsError(() => describe_({ maxResults: 1001 }), 'ValidationException');
    expectAwsError(
      () => describe_({ imageIds: [{ imageTag: 'v0' }], maxResults: 10 }),
      'InvalidParameterException',
    );
  });

  it('fails the whole DescribeImages call when an imageId does not exist', () => {
    expect(describe_({ imageIds: [{ imageTag: 'v0' }, { imageTag: 'v2' }] })).toHaveLength(2);
    expectAwsError(
      () => describe_({ imageIds: [{ imageTag: 'v0' }, { imageTag: 'v1' }] }),
      'ImageNotFoundException',
    );
  });

  it('ListImages lists one id per tag and a bare digest for untagged images', () => {
    put(manifest('img0'), 'also-v0');
    const ids = call('ListImages', { repositoryName: 'shop/api', maxResults: 1000 }).imageIds as {
      imageDigest: string;
      imageTag?: string;
    }[];
    expect(ids).toHaveLength(251);
    // Oldest push first: img0 (tagged v0 and also-v0) leads the list.
    const v0 = ids.filter((id) => id.imageDigest === ids[0]?.imageDigest);
    expect(v0.map((id) => id.imageTag).sort()).toEqual(['also-v0', 'v0']);
    expect(ids.filter((id) => id.imageTag === undefined)).toHaveLength(125);
  });
});

describe('BatchGetImage', () => {
  it('returns the exact manifest text and per-image failures for the missing', () => {
    const text = manifest('a');
    const digest = put(text, 'v1');
    const out = call('BatchGetImage', {
      repositoryName: 'shop/api',
      imageIds: [{ imageTag: 'v1' }, { imageTag: 'v9' }, {}],
    });
    expect(out.images).toEqual([
      expect.objectContaining({ imageId: { imageDigest: digest, imageTag: 'v1' }, imageManifest: text }),
    ]);
    expect(out.failures).toEqual([
      {
        imageId: { imageTag: 'v9' },
        failureCode: 'ImageNotFound',
        failureReason: 'Requested image not found',
      },
      expect.objectContaining({ imageId: {}, failureCode: 'MissingDigestAndTag' }),
    ]);
    expect(describe_()[0]).toHaveProperty('lastRecordedPullTime');
  });

  it('takes at most 100 ids', () => {
    const imageIds = Array.from({ length: 101 }, (_, i) => ({ imageTag: `t${i}` }));
    expectAwsError(
      () => call('BatchGetImage', { repositoryName: 'shop/api', imageIds }),
      'ValidationException',
    );
  });
});

describe('BatchDeleteImage', () => {
  const del = (imageIds: Record<string, string>[]) =>
    call('BatchDeleteImage', { repositoryName: 'shop/api', imageIds });

  it('by tag removes only that tag while others remain, and the image with its last tag', () => {
    const digest = put(manifest('a'), 'v1');
    put(manifest('a'), 'latest');
    expect(del([{ imageTag: 'latest' }])).toEqual({
      imageIds: [{ imageDigest: digest, imageTag: 'latest' }],
      failures: [],
    });
    expect(describe_()[0]?.imageTags).toEqual(['v1']);
    expect(del([{ imageTag: 'v1' }]).imageIds).toEqual([{ imageDigest: digest, imageTag: 'v1' }]);
    expect(describe_()).toEqual([]);
  });

  it('by digest removes the image with all its tags and emits DELETE', () => {
    const digest = put(manifest('a'), 'v1');
    put(manifest('a'), 'latest');
    expect(del([{ imageDigest: digest }]).imageIds).toEqual([
      { imageDigest: digest, imageTag: 'v1' },
      { imageDigest: digest, imageTag: 'latest' },
    ]);
    expect(ecrEvents().at(-1)?.detail).toMatchObject({
      'action-type': 'DELETE',
      'image-digest': digest,
      result: 'SUCCESS',
    });
    expect(describe_()).toEqual([]);
  });

  it('reports children of an index as ImageReferencedByManifestList, even with the index in the same request', () => {
    const amd = put(manifest('amd'));
    const arm = put(manifest('arm'));
    const idx = put(index([amd, arm]), 'v1');
    const first = del([{ imageDigest: amd }, { imageDigest: idx }, { imageDigest: arm }]);
    expect(first.imageIds).toEqual([{ imageDigest: idx, imageTag: 'v1' }]);
    expect(first.failures).toEqual([
      {
        imageId: { imageDigest: amd },
        failureCode: 'ImageReferencedByManifestList',
        failureReason: `Requested image referenced by manifest list: [${idx}]`,
      },
      expect.objectContaining({
        imageId: { imageDigest: arm },
        failureCode: 'ImageReferencedByManifestList',
      }),
    ]);
    // The index is gone: a second pass deletes the children.
    expect(del([{ imageDigest: amd }, { imageDigest: arm }]).failures).toEqual([]);
    expect(describe_()).toEqual([]);
  });

  it('reports unknown, malformed and empty ids per image instead of throwing', () => {
    put(manifest('a'), 'v1');
    const out = del([{ imageTag: 'nope' }, { imageDigest: 'sha256:xyz' }, {}, { imageTag: 'v1' }]);
    expect(out.failures.map((f: { failureCode: string }) => f.failureCode)).toEqual([
      'ImageNotFound',
      'InvalidImageDigest',
      'MissingDigestAndTag',
    ]);
    expect(out.imageIds).toHaveLength(1);
  });

  it('takes at most 100 ids', () => {
    const imageIds = Array.from({ length: 101 }, (_, i) => ({ imageTag: `t${i}` }));
    expectAwsError(() => del(imageIds), 'ValidationException');
  });
});
