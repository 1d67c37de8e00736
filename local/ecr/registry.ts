/**
 * ECR state: one registry per account and region → repositories → images. An image is a digest;
 * tags are pointers to it, so moving a tag never changes an image, and an image that loses its last
 * tag stays, untagged, as ECR keeps it.
 */
import type { EncryptionType, ImageTagMutability } from '@aws-sdk/client-ecr';
import { AccountRegionStore, type Scope } from '../aws/store';
import { AwsServiceError } from '../errors';
import { type Digest, ecrRegistryHost } from '../image-reference';
import type { RequestContext } from '../types';
import type { ImageIdentifier } from './requests';
import type { DeclaredScan, ImageScan } from './scanning';

export interface StoredImage {
  digest: Digest;
  /** The exact manifest text pushed (its sha256 is `digest`). */
  manifest: string;
  manifestMediaType: string;
  artifactMediaType?: string;
  /** Sum of layer sizes; for an index, the largest child. */
  sizeBytes: number;
  pushedAt: Date;
  lastRecordedPullTime?: Date;
  tags: Set<string>;
  /** Child manifests of an index. */
  children: Digest[];
  /** OCI `subject` of a referrer. */
  subject?: Digest;
  /** Basic scanning: the image's newest scan, from a push to a repository that scans on push or StartImageScan. */
  scan?: ImageScan;
}

export interface Repository {
  accountId: string;
  region: string;
  name: string;
  arn: string;
  uri: string;
  createdAt: Date;
  imageTagMutability: ImageTagMutability;
  imageScanningConfiguration: { scanOnPush: boolean };
  encryptionConfiguration: { encryptionType: EncryptionType; kmsKey?: string };
  /** Resource tags (Key → Value), insertion-ordered. */
  resourceTags: Map<string, string>;
  images: Map<Digest, StoredImage>;
  /** Image tag → digest. */
  tagIndex: Map<string, Digest>;
  /**
   * What a scan finds, declared by the world file or the admin API: by `digest:<digest>` or `tag:<tag>`
   * (an image that has the tag when its scan ends), read when a scan completes.
   */
  scanFindings: Map<string, DeclaredScan>;
}

export class Registry {
  /** Each account's registry in each region: repository name → repository. */
  private readonly registries = new AccountRegionStore<Map<string, Repository>>(() => new Map());

  repositories(scope: Scope): Map<string, Repository> {
    return this.registries.of(scope);
  }

  /** Every account and region with a registry, and its repositories (the console's fleet view). */
  entries(): [Scope, Map<string, Repository>][] {
    return this.registries.entries();
  }

  find(scope: Scope, name: string): Repository | undefined {
    return this.registries.peek(scope)?.get(name);
  }

  get(scope: Scope, name: string): Repository {
    const repo = this.find(scope, name);
    if (!repo) throw repositoryNotFound(scope.accountId, name);
    return repo;
  }

  create(
    { accountId, region }: Scope,
    name: string,
    createdAt: Date,
    options: Partial<
      Pick<Repository, 'imageTagMutability' | 'imageScanningConfiguration' | 'encryptionConfiguration'>
    > = {},
  ): Repository {
    const repos = this.registries.of({ accountId, region });
    if (repos.has(name)) {
      throw new AwsServiceError(
        'RepositoryAlreadyExistsException',
        `The repository with name '${name}' already exists in the registry with id '${accountId}'`,
      );
    }
    const repo: Repository = {
      accountId,
      region,
      name,
      arn: repositoryArn(accountId, region, name),
      uri: `${ecrRegistryHost(accountId, region)}/${name}`,
      createdAt,
      imageTagMutability: options.imageTagMutability ?? 'MUTABLE',
      imageScanningConfiguration: options.imageScanningConfiguration ?? { scanOnPush: false },
      encryptionConfiguration: options.encryptionConfiguration ?? { encryptionType: 'AES256' },
      resourceTags: new Map(),
      images: new Map(),
      tagIndex: new Map(),
      scanFindings: new Map(),
    };
    repos.set(name, repo);
    return repo;
  }

  delete(repo: Repository): void {
    this.registries.peek(repo)?.delete(repo.name);
  }

  /** Finds a repository by ARN, in the ARN's own account and region. */
  byArn(arn: string): Repository {
    const m = /^arn:aws[a-z-]*:ecr:([a-z0-9-]+):(\d{12}):repository\/(.+)$/.exec(arn);
    if (!m?.[1] || !m[2] || !m[3]) {
      throw new AwsServiceError('InvalidParameterException', `Invalid parameter at 'resourceArn': '${arn}'`);
    }
    return this.get({ accountId: m[2], region: m[1] }, m[3]);
  }
}

export function repositoryArn(accountId: string, region: string, name: string): string {
  const partition = region.startsWith('cn-') ? 'aws-cn' : 'aws';
  return `arn:${partition}:ecr:${region}:${accountId}:repository/${name}`;
}

export function repositoryNotFound(accountId: string, name: string): AwsServiceError {
  return new AwsServiceError(
    'RepositoryNotFoundException',
    `The repository with name '${name}' does not exist in the registry with id '${accountId}'`,
  );
}

/** Indexes in `repo` that reference `digest`. */
export function referencingIndexes(repo: Repository, digest: Digest): Digest[] {
  const out: Digest[] = [];
  for (const image of repo.images.values()) if (image.children.includes(digest)) out.push(image.digest);
  return out;
}

/** Moves `tag` onto `image`, away from whatever digest held it. */
export function setTag(repo: Repository, tag: string, image: StoredImage): void {
  const previous = repo.tagIndex.get(tag);
  if (previous && previous !== image.digest) repo.images.get(previous)?.tags.delete(tag);
  repo.tagIndex.set(tag, image.digest);
  image.tags.add(tag);
}

export function removeImage(repo: Repository, image: StoredImage): void {
  for (const tag of image.tags) repo.tagIndex.delete(tag);
  repo.images.delete(image.digest);
}

/** The registry a request names (`registryId`, an account id), in the caller's region. */
export function registryOf(input: { registryId?: string | undefined }, ctx: RequestContext): Scope {
  return { accountId: input.registryId ?? ctx.accountId, region: ctx.region };
}

/** The image an identifier names: its digest (and the tag on it, when both are given), else its tag. */
export function lookup(repo: Repository, id: ImageIdentifier): StoredImage | undefined {
  if (id.imageDigest !== undefined) {
    const image = repo.images.get(id.imageDigest as Digest);
    if (!image) return undefined;
    return id.imageTag === undefined || image.tags.has(id.imageTag) ? image : undefined;
  }
  const digest = id.imageTag !== undefined ? repo.tagIndex.get(id.imageTag) : undefined;
  return digest ? repo.images.get(digest) : undefined;
}

/** DescribeImages' error for an identifier that names no image (also DescribeImageScanFindings'). */
export function imageNotFound(repo: Repository, id: ImageIdentifier): AwsServiceError {
  return new AwsServiceError(
    'ImageNotFoundException',
    `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${repo.name}' in the registry with id '${repo.accountId}'`,
  );
}
