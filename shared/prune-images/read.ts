/**
 * Reads what pruneImages plans over: the repositories to prune with their tags, every image of each
 * (DescribeImages, 1000 a page) and, for indexes only, the children their manifests reference
 * (BatchGetImage, 100 ids a call).
 */
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  type ECRClient,
  type ImageDetail,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-ecr';
import { type Digest, isDigest } from '../image-ref';
import * as z from '../zod';
import { INDEX_MEDIA_TYPES, isIndexMediaType } from './media-types';
import type { EcrImage } from './model';

export class EcrReadError extends Error {
  constructor(
    readonly operation: string,
    readonly resource: string,
    cause: unknown,
  ) {
    super(`${operation} ${resource} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'EcrReadError';
  }
}

export interface Repository {
  repositoryName: string;
  repositoryArn: string;
  registryId: string;
}

async function read<T>(operation: string, resource: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new EcrReadError(operation, resource, err);
  }
}

export async function listRepositories(
  ecr: ECRClient,
  include: (name: string) => boolean,
): Promise<Repository[]> {
  const repos: Repository[] = [];
  let nextToken: string | undefined;
  do {
    const page = await read('DescribeRepositories', 'registry', () =>
      ecr.send(new DescribeRepositoriesCommand({ maxResults: 1000, nextToken })),
    );
    for (const r of page.repositories ?? []) {
      if (r.repositoryName && r.repositoryArn && r.registryId && include(r.repositoryName)) {
        repos.push({
          repositoryName: r.repositoryName,
          repositoryArn: r.repositoryArn,
          registryId: r.registryId,
        });
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return repos;
}

export async function repositoryTags(ecr: ECRClient, repo: Repository) {
  const out = await read('ListTagsForResource', repo.repositoryName, () =>
    ecr.send(new ListTagsForResourceCommand({ resourceArn: repo.repositoryArn })),
  );
  return out.tags ?? [];
}

function toImage(detail: ImageDetail): EcrImage | undefined {
  if (!detail.imageDigest || !isDigest(detail.imageDigest)) return undefined;
  const image: EcrImage = {
    digest: detail.imageDigest,
    tags: detail.imageTags ?? [],
    // An image without a push time is treated as pushed now: the rules then keep it (fail safe).
    pushedAt: detail.imagePushedAt ?? new Date(),
    sizeBytes: detail.imageSizeInBytes ?? 0,
  };
  if (detail.lastRecordedPullTime) image.lastPulledAt = detail.lastRecordedPullTime;
  if (detail.imageManifestMediaType) image.mediaType = detail.imageManifestMediaType;
  if (detail.artifactMediaType) image.artifactMediaType = detail.artifactMediaType;
  if (detail.subjectManifestDigest && isDigest(detail.subjectManifestDigest)) {
    image.subjectDigest = detail.subjectManifestDigest;
  }
  return image;
}

export async function describeAllImages(ecr: ECRClient, repo: Repository): Promise<EcrImage[]> {
  const images: EcrImage[] = [];
  let nextToken: string | undefined;
  do {
    const page = await read('DescribeImages', repo.repositoryName, () =>
      ecr.send(
        new DescribeImagesCommand({
          registryId: repo.registryId,
          repositoryName: repo.repositoryName,
          maxResults: 1000,
          nextToken,
        }),
      ),
    );
    for (const detail of page.imageDetails ?? []) {
      const image = toImage(detail);
      if (image) images.push(image);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return images;
}

const IndexManifest = z.object({ manifests: z._default(z.array(z.object({ digest: z.string() })), []) });

/** Accept the stored media type as is: no conversion, so the index comes back as an index. */
const ACCEPTED = [
  ...INDEX_MEDIA_TYPES,
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

/**
 * Fills `children` of every index in `images` (in place). An index that is gone by now is dropped: its
 * children are then orphans, as they are in the registry. Any other failure fails the read.
 */
export async function readIndexChildren(
  ecr: ECRClient,
  repo: Repository,
  images: EcrImage[],
): Promise<EcrImage[]> {
  const indexes = images.filter((i) => isIndexMediaType(i.mediaType));
  const gone = new Set<Digest>();
  const byDigest = new Map(indexes.map((i) => [i.digest, i]));
  for (let i = 0; i < indexes.length; i += 100) {
    const batch = indexes.slice(i, i + 100);
    const out = await read('BatchGetImage', repo.repositoryName, () =>
      ecr.send(
        new BatchGetImageCommand({
          registryId: repo.registryId,
          repositoryName: repo.repositoryName,
          imageIds: batch.map((x) => ({ imageDigest: x.digest })),
          acceptedMediaTypes: ACCEPTED,
        }),
      ),
    );
    for (const f of out.failures ?? []) {
      const digest = f.imageId?.imageDigest;
      if (f.failureCode === 'ImageNotFound' && digest && isDigest(digest)) gone.add(digest);
      else {
        throw new EcrReadError(
          'BatchGetImage',
          `${repo.repositoryName}@${digest ?? '?'}`,
          new Error(`${f.failureCode}: ${f.failureReason}`),
        );
      }
    }
    for (const got of out.images ?? []) {
      const digest = got.imageId?.imageDigest;
      const index = digest ? byDigest.get(digest as Digest) : undefined;
      if (!index || !got.imageManifest) continue;
      let parsed: z.infer<typeof IndexManifest>;
      try {
        parsed = IndexManifest.parse(JSON.parse(got.imageManifest));
      } catch (err) {
        throw new EcrReadError('BatchGetImage', `${repo.repositoryName}@${digest}`, err);
      }
      index.children = parsed.manifests.map((m) => m.digest).filter(isDigest);
    }
  }
  const missing = indexes.filter((i) => !gone.has(i.digest) && i.children === undefined);
  if (missing.length > 0) {
    throw new EcrReadError(
      'BatchGetImage',
      repo.repositoryName,
      new Error(`no manifest returned for ${missing.map((m) => m.digest).join(', ')}`),
    );
  }
  return gone.size > 0 ? images.filter((i) => !gone.has(i.digest)) : images;
}
