/**
 * The image operations of ECR: PutImage, DescribeImages, ListImages, BatchGetImage, BatchDeleteImage,
 * with ECR's limits (100 ids a batch, 1000 a page) and its per-image failures.
 */
import type {
  BatchDeleteImageResponse,
  BatchGetImageResponse,
  DescribeImagesResponse,
  Image,
  ImageDetail,
  ImageFailure,
  ListImagesResponse,
  PutImageResponse,
  TagStatus,
} from '@aws-sdk/client-ecr';
import { readPage, readRequest } from '../aws/request';
import { epochSeconds, type Sent, type Wire } from '../aws/response';
import type { Scope } from '../aws/store';
import { AwsServiceError } from '../errors';
import { type Digest, isDigest } from '../image-reference';
import type { LocalCloudCore, RequestContext } from '../types';
import { parseManifest, sha256Digest } from './manifest';
import {
  imageNotFound,
  lookup,
  type Registry,
  type Repository,
  referencingIndexes,
  registryOf,
  removeImage,
  type StoredImage,
  setTag,
} from './registry';
import {
  BatchImagesRequest,
  DescribeImagesRequest,
  ECR_PAGE,
  ecrDialect,
  type ImageIdentifier,
  ListImagesRequest,
  PutImageRequest,
} from './requests';
import { type EcrScanning, findingsSummaryView, scanStatusView } from './scanning';

export class EcrImages {
  constructor(
    private readonly registry: Registry,
    private readonly core: LocalCloudCore,
    /** Scans new images where their repository scans on push. */
    private readonly scanning?: EcrScanning,
    /** Replicates what is pushed where the registry's replication configuration says (./replication.ts). */
    private readonly replication?: {
      onPush(repo: Repository, image: StoredImage, tag: string | undefined): void;
    },
  ) {}

  private repo(input: { registryId?: string | undefined; repositoryName: string }, ctx: RequestContext) {
    return this.registry.get(registryOf(input, ctx), input.repositoryName);
  }

  putImage(raw: unknown, ctx: RequestContext): Wire<PutImageResponse> {
    const input = readRequest(PutImageRequest, raw, ecrDialect);
    return { image: this.put(registryOf(input, ctx), input).image };
  }

  /**
   * PutImage in `scope`'s registry. `options` serve world loading and the push helper: a past push
   * time, and no event for history.
   */
  put(
    scope: Scope,
    input: PutImageRequest,
    options: { pushedAt?: Date; emit?: boolean } = {},
  ): { image: Wire<Image>; digest: Digest } {
    const repo = this.registry.get(scope, input.repositoryName);
    const text = input.imageManifest;
    const tag = input.imageTag;
    if (tag !== undefined && (tag.length < 1 || tag.length > 300)) {
      throw new AwsServiceError('InvalidParameterException', `Invalid parameter at 'imageTag': '${tag}'`);
    }
    const parsed = parseManifest(text, input.imageManifestMediaType);
    const digest = sha256Digest(text);
    const declared = input.imageDigest;
    if (declared !== undefined && declared !== digest) {
      throw new AwsServiceError(
        'ImageDigestDoesNotMatchException',
        `The specified digest ${declared} does not match the digest of the image manifest ${digest}`,
      );
    }
    const missing = parsed.children.filter((child) => !repo.images.has(child));
    if (missing.length > 0) {
      throw new AwsServiceError(
        'ReferencedImagesNotFoundException',
        `The following images referenced in the manifest list could not be found: [${missing.join(', ')}]`,
      );
    }
    const existing = repo.images.get(digest);
    if (existing && (tag === undefined || existing.tags.has(tag))) {
      throw new AwsServiceError(
        'ImageAlreadyExistsException',
        `Image with digest '${digest}'${tag ? ` and tag '${tag}'` : ''} already exists in the repository with name '${repo.name}' in registry with id '${repo.accountId}'`,
      );
    }
    if (tag !== undefined && repo.imageTagMutability === 'IMMUTABLE' && repo.tagIndex.has(tag)) {
      throw new AwsServiceError(
        'ImageTagAlreadyExistsException',
        `The image tag '${tag}' already exists in the '${repo.name}' repository and cannot be overwritten because the repository is immutable.`,
      );
    }
    const image: StoredImage = existing ?? {
      digest,
      manifest: text,
      manifestMediaType: parsed.manifestMediaType,
      sizeBytes:
        parsed.children.length > 0
          ? Math.max(0, ...parsed.children.map((c) => repo.images.get(c)?.sizeBytes ?? 0))
          : parsed.layerBytes,
      pushedAt: options.pushedAt ?? this.core.clock.now(),
      tags: new Set(),
      children: parsed.children,
      ...(parsed.artifactMediaType ? { artifactMediaType: parsed.artifactMediaType } : {}),
      ...(parsed.subject ? { subject: parsed.subject } : {}),
    };
    repo.images.set(digest, image);
    if (tag !== undefined) setTag(repo, tag, image);
    // The scan is IN_PROGRESS before the push event goes out, as a function handling the event reads it.
    if (!existing) this.scanning?.onPush(repo, image, options.emit === false);
    if (options.emit !== false) {
      this.emit(repo, 'PUSH', image, tag);
      this.replication?.onPush(repo, image, tag);
    }
    return {
      digest,
      image: {
        registryId: repo.accountId,
        repositoryName: repo.name,
        imageId: { imageDigest: digest, ...(tag !== undefined ? { imageTag: tag } : {}) },
        imageManifest: text,
        imageManifestMediaType: image.manifestMediaType,
      },
    };
  }

  describeImages(raw: unknown, ctx: RequestContext): Wire<DescribeImagesResponse> {
    const input = readRequest(DescribeImagesRequest, raw, ecrDialect);
    const repo = this.repo(input, ctx);
    const ids = input.imageIds;
    const tagStatus = tagStatusFilter(input.filter?.tagStatus);
    if (ids && (input.maxResults !== undefined || input.nextToken !== undefined)) {
      throw new AwsServiceError(
        'InvalidParameterException',
        'Invalid parameter: maxResults and nextToken cannot be used when imageIds are specified',
      );
    }
    if (ids) {
      const found = new Map<Digest, StoredImage>();
      for (const id of ids) {
        const image = lookup(repo, id);
        if (!image) throw imageNotFound(repo, id);
        found.set(image.digest, image);
      }
      return { imageDetails: [...found.values()].filter(tagStatus).map((i) => imageDetail(repo, i)) };
    }
    const page = readPage(sortedImages(repo).filter(tagStatus), imageKey, input, ECR_PAGE, ecrDialect);
    return { imageDetails: page.items.map((i) => imageDetail(repo, i)), nextToken: page.nextToken };
  }

  listImages(raw: unknown, ctx: RequestContext): Wire<ListImagesResponse> {
    const input = readRequest(ListImagesRequest, raw, ecrDialect);
    const repo = this.repo(input, ctx);
    const tagStatus = tagStatusFilter(input.filter?.tagStatus);
    // ListImages lists one id per tag, and a digest alone for untagged images.
    const ids: { key: string; id: ImageIdentifier }[] = [];
    for (const image of sortedImages(repo).filter(tagStatus)) {
      if (image.tags.size === 0) ids.push({ key: imageKey(image), id: { imageDigest: image.digest } });
      for (const tag of [...image.tags].sort()) {
        ids.push({ key: `${imageKey(image)}|${tag}`, id: { imageDigest: image.digest, imageTag: tag } });
      }
    }
    const page = readPage(ids, (e) => e.key, input, ECR_PAGE, ecrDialect);
    return { imageIds: page.items.map((e) => e.id), nextToken: page.nextToken };
  }

  batchGetImage(raw: unknown, ctx: RequestContext): Wire<BatchGetImageResponse> {
    const input = readRequest(BatchImagesRequest, raw, ecrDialect);
    const repo = this.repo(input, ctx);
    const images: Wire<Image>[] = [];
    const failures: ImageFailure[] = [];
    for (const { id, image } of identified(repo, input.imageIds, failures)) {
      // BatchGetImage is how a pull fetches the manifest: it counts as a pull.
      image.lastRecordedPullTime = this.core.clock.now();
      images.push({
        registryId: repo.accountId,
        repositoryName: repo.name,
        imageId: { imageDigest: image.digest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) },
        imageManifest: image.manifest,
        imageManifestMediaType: image.manifestMediaType,
      });
    }
    return { images, failures };
  }

  /**
   * Deleting by tag removes the tag, and the image with its last tag; deleting by digest removes the
   * image and all its tags. A manifest referenced by an index that existed when the request began
   * fails with ImageReferencedByManifestList, even if the index is deleted in the same request:
   * callers delete indexes first, then their children in a later request.
   */
  batchDeleteImage(raw: unknown, ctx: RequestContext): Wire<BatchDeleteImageResponse> {
    const input = readRequest(BatchImagesRequest, raw, ecrDialect);
    const repo = this.repo(input, ctx);
    const referencedAtStart = new Map<Digest, Digest[]>();
    for (const image of repo.images.values()) {
      for (const child of image.children)
        referencedAtStart.set(child, [...(referencedAtStart.get(child) ?? []), image.digest]);
    }
    const deleted: ImageIdentifier[] = [];
    const failures: ImageFailure[] = [];
    for (const { id, image } of identified(repo, input.imageIds, failures)) {
      const byTag = id.imageTag !== undefined;
      if (byTag && image.tags.size > 1) {
        image.tags.delete(id.imageTag as string);
        repo.tagIndex.delete(id.imageTag as string);
        deleted.push({ imageDigest: image.digest, imageTag: id.imageTag as string });
        this.emit(repo, 'DELETE', image, id.imageTag);
        continue;
      }
      const indexes = [
        ...new Set([
          ...(referencedAtStart.get(image.digest) ?? []),
          ...referencingIndexes(repo, image.digest),
        ]),
      ];
      if (indexes.length > 0) {
        failures.push({
          imageId: id,
          failureCode: 'ImageReferencedByManifestList',
          failureReason: `Requested image referenced by manifest list: [${indexes.join(', ')}]`,
        });
        continue;
      }
      const tags = [...image.tags];
      removeImage(repo, image);
      if (tags.length === 0) deleted.push({ imageDigest: image.digest });
      for (const tag of tags) deleted.push({ imageDigest: image.digest, imageTag: tag });
      this.emit(repo, 'DELETE', image, byTag ? id.imageTag : tags[0]);
    }
    return { imageIds: deleted, failures };
  }

  /** `ECR Image Action`, in the shape the ECR user guide documents. */
  emit(repo: Repository, action: 'PUSH' | 'DELETE', image: StoredImage, tag: string | undefined): void {
    this.core.bus.publish({
      source: 'aws.ecr',
      detailType: 'ECR Image Action',
      account: repo.accountId,
      region: repo.region,
      resources: [],
      detail: {
        result: 'SUCCESS',
        'repository-name': repo.name,
        'image-digest': image.digest,
        'action-type': action,
        ...(tag !== undefined ? { 'image-tag': tag } : {}),
        'manifest-media-type': image.manifestMediaType,
        ...(image.artifactMediaType ? { 'artifact-media-type': image.artifactMediaType } : {}),
      },
    });
  }
}

function tagStatusFilter(status: TagStatus | undefined): (image: StoredImage) => boolean {
  switch (status) {
    case undefined:
    case 'ANY':
      return () => true;
    case 'TAGGED':
      return (image) => image.tags.size > 0;
    case 'UNTAGGED':
      return (image) => image.tags.size === 0;
    default: {
      const never: never = status;
      throw new Error(`unknown tag status ${String(never)}`);
    }
  }
}

/** Stable order for pagination: oldest push first, then digest. */
function imageKey(image: StoredImage): string {
  return `${String(image.pushedAt.getTime()).padStart(16, '0')}|${image.digest}`;
}

function sortedImages(repo: Repository): StoredImage[] {
  return [...repo.images.values()].sort((a, b) => (imageKey(a) < imageKey(b) ? -1 : 1));
}

/**
 * The images `ids` name, one at a time in order (so an id sees what the ones before it did); an id
 * that names none gets ECR's per-image failure in `failures` instead.
 */
function* identified(
  repo: Repository,
  ids: ImageIdentifier[],
  failures: ImageFailure[],
): Generator<{ id: ImageIdentifier; image: StoredImage }> {
  for (const id of ids) {
    const failure = identifierFailure(repo, id);
    if (failure) failures.push(failure);
    else yield { id, image: lookup(repo, id) as StoredImage };
  }
}

/** The per-image failure ECR reports for an identifier, if any. */
function identifierFailure(repo: Repository, id: ImageIdentifier): ImageFailure | undefined {
  if (id.imageDigest === undefined && id.imageTag === undefined) {
    return {
      imageId: id,
      failureCode: 'MissingDigestAndTag',
      failureReason: 'Invalid request parameters: both tag and digest cannot be null',
    };
  }
  if (id.imageDigest !== undefined && !isDigest(id.imageDigest)) {
    return {
      imageId: id,
      failureCode: 'InvalidImageDigest',
      failureReason:
        "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'",
    };
  }
  if (id.imageDigest !== undefined && id.imageTag !== undefined) {
    const tagged = repo.tagIndex.get(id.imageTag);
    if (tagged && tagged !== id.imageDigest) {
      return {
        imageId: id,
        failureCode: 'ImageTagDoesNotMatchDigest',
        failureReason: 'Invalid request parameters: given tag does not match the digest of the image',
      };
    }
  }
  if (!lookup(repo, id)) {
    return { imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' };
  }
  return undefined;
}

/** DescribeImages' view of an image: what other backends and tests read too. */
export type ImageView = Sent<
  Wire<ImageDetail>,
  | 'registryId'
  | 'repositoryName'
  | 'imageDigest'
  | 'imageSizeInBytes'
  | 'imagePushedAt'
  | 'imageManifestMediaType'
>;

export function imageDetail(repo: Repository, image: StoredImage): ImageView {
  return {
    registryId: repo.accountId,
    repositoryName: repo.name,
    imageDigest: image.digest,
    ...(image.tags.size > 0 ? { imageTags: [...image.tags] } : {}),
    imageSizeInBytes: image.sizeBytes,
    imagePushedAt: epochSeconds(image.pushedAt),
    imageManifestMediaType: image.manifestMediaType,
    ...(image.artifactMediaType ? { artifactMediaType: image.artifactMediaType } : {}),
    ...(image.lastRecordedPullTime ? { lastRecordedPullTime: epochSeconds(image.lastRecordedPullTime) } : {}),
    ...(image.subject ? { subjectManifestDigest: image.subject } : {}),
    ...(image.scan ? { imageScanStatus: scanStatusView(image.scan) } : {}),
    ...(image.scan && findingsSummaryView(image.scan)
      ? { imageScanFindingsSummary: findingsSummaryView(image.scan) }
      : {}),
    imageStatus: 'ACTIVE',
  };
}
