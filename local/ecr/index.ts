/**
 * The local cloud's ECR: awsJson1_1 operations by name (the server routes X-Amz-Target
 * `AmazonEC2ContainerRegistry_V20150921.<Operation>` here), the image resolver ECS and Kubernetes
 * pull through, and the world loader. State is per account and region.
 */
import { createHash } from 'node:crypto';
import type {
  BatchDeleteImageResponse,
  BatchGetImageResponse,
  CreateRepositoryResponse,
  DeleteRepositoryResponse,
  DescribeImageReplicationStatusResponse,
  DescribeImageScanFindingsResponse,
  DescribeImagesResponse,
  DescribeRegistryResponse,
  DescribeRepositoriesResponse,
  ListImagesResponse,
  ListTagsForResourceResponse,
  PutImageResponse,
  PutImageScanningConfigurationResponse,
  PutReplicationConfigurationResponse,
  StartImageScanResponse,
  TagResourceResponse,
  UntagResourceResponse,
} from '@aws-sdk/client-ecr';
import type { JsonApi } from '../aws/response';
import { type Digest, ImageReferenceError, readImageReference } from '../image-reference';
import type { ImageResolver, JsonOperations, LocalCloudCore } from '../types';
import { EcrImages, type ImageView, imageDetail } from './images';
import { ImagePusher, type PushedImage, type PushImageInput } from './push';
import { Registry, type StoredImage } from './registry';
import { EcrReplication } from './replication';
import { EcrRepositories } from './repositories';
import { EcrScanning } from './scanning';
import { type EcrWorld, EcrWorldSchema } from './world';

export type { PushedImage, PushImageInput } from './push';

const DAY_MS = 24 * 3600_000;

/** The ECR operations the local cloud serves, with the SDK's response type of each. */
export interface EcrApi {
  CreateRepository: CreateRepositoryResponse;
  DescribeRepositories: DescribeRepositoriesResponse;
  DeleteRepository: DeleteRepositoryResponse;
  ListTagsForResource: ListTagsForResourceResponse;
  TagResource: TagResourceResponse;
  UntagResource: UntagResourceResponse;
  PutImage: PutImageResponse;
  DescribeImages: DescribeImagesResponse;
  ListImages: ListImagesResponse;
  BatchGetImage: BatchGetImageResponse;
  BatchDeleteImage: BatchDeleteImageResponse;
  DescribeImageScanFindings: DescribeImageScanFindingsResponse;
  StartImageScan: StartImageScanResponse;
  PutImageScanningConfiguration: PutImageScanningConfigurationResponse;
  PutReplicationConfiguration: PutReplicationConfigurationResponse;
  DescribeRegistry: DescribeRegistryResponse;
  DescribeImageReplicationStatus: DescribeImageReplicationStatusResponse;
}

export class EcrBackend {
  readonly registry = new Registry();
  /** Basic scanning (scan on push, StartImageScan, findings declared by the world or the admin API). */
  readonly scanning: EcrScanning;
  /** Private image replication to other regions and registries (PutReplicationConfiguration, world `replication`). */
  readonly replication: EcrReplication;
  private readonly imageOps: EcrImages;
  private readonly repositoryOps: EcrRepositories;
  private readonly pusher: ImagePusher;
  readonly operations: JsonOperations;
  readonly resolver: ImageResolver;

  constructor(readonly core: LocalCloudCore) {
    this.scanning = new EcrScanning(this.registry, core);
    this.replication = new EcrReplication(this.registry, () => this.imageOps, core);
    this.imageOps = new EcrImages(this.registry, core, this.scanning, this.replication);
    this.repositoryOps = new EcrRepositories(this.registry, core);
    this.pusher = new ImagePusher(this.imageOps, {
      accountId: core.defaultAccountId,
      region: core.defaultRegion,
    });
    const images = this.imageOps;
    const repos = this.repositoryOps;
    const operations: JsonApi<EcrApi> = {
      CreateRepository: (input, ctx) => repos.createRepository(input, ctx),
      DescribeRepositories: (input, ctx) => repos.describeRepositories(input, ctx),
      DeleteRepository: (input, ctx) => repos.deleteRepository(input, ctx),
      ListTagsForResource: (input) => repos.listTagsForResource(input),
      TagResource: (input) => repos.tagResource(input),
      UntagResource: (input) => repos.untagResource(input),
      PutImage: (input, ctx) => images.putImage(input, ctx),
      DescribeImages: (input, ctx) => images.describeImages(input, ctx),
      ListImages: (input, ctx) => images.listImages(input, ctx),
      BatchGetImage: (input, ctx) => images.batchGetImage(input, ctx),
      BatchDeleteImage: (input, ctx) => images.batchDeleteImage(input, ctx),
      DescribeImageScanFindings: (input, ctx) => this.scanning.describeImageScanFindings(input, ctx),
      StartImageScan: (input, ctx) => this.scanning.startImageScan(input, ctx),
      PutImageScanningConfiguration: (input, ctx) => this.scanning.putImageScanningConfiguration(input, ctx),
      PutReplicationConfiguration: (input, ctx) => this.replication.putReplicationConfiguration(input, ctx),
      DescribeRegistry: (input, ctx) => this.replication.describeRegistry(input, ctx),
      DescribeImageReplicationStatus: (input, ctx) =>
        this.replication.describeImageReplicationStatus(input, ctx),
    };
    this.operations = operations;
    this.resolver = { resolve: (image, ctx) => this.resolve(image, ctx) };
  }

  /** Pushes a described image (see ImagePusher); creates the repository when it does not exist. */
  pushImage(input: PushImageInput): PushedImage {
    const scope = {
      accountId: input.accountId ?? this.core.defaultAccountId,
      region: input.region ?? this.core.defaultRegion,
    };
    if (!this.registry.find(scope, input.repositoryName)) {
      this.registry.create(scope, input.repositoryName, this.core.clock.now());
    }
    return this.pusher.push(input);
  }

  /** Read access for other backends and tests: DescribeImages' view of every image, oldest first. */
  images(accountId: string, region: string, repositoryName: string): ImageView[] {
    const repo = this.registry.get({ accountId, region }, repositoryName);
    return [...repo.images.values()]
      .sort((a, b) => a.pushedAt.getTime() - b.pushedAt.getTime() || (a.digest < b.digest ? -1 : 1))
      .map((image) => imageDetail(repo, image));
  }

  loadWorld(world: EcrWorld): void {
    const parsed = EcrWorldSchema.parse(world);
    const now = this.core.clock.nowMs();
    this.scanning.scanSeconds = parsed.scanSeconds;
    this.replication.replicationSeconds = parsed.replicationSeconds;
    for (const r of parsed.replication) {
      this.replication.configure(
        { accountId: r.accountId ?? this.core.defaultAccountId, region: r.region ?? this.core.defaultRegion },
        {
          rules: r.rules.map((rule) => ({
            destinations: rule.destinations.map((d) => ({
              region: d.region,
              registryId: d.registryId ?? r.accountId ?? this.core.defaultAccountId,
            })),
            ...(rule.repositoryFilters
              ? {
                  repositoryFilters: rule.repositoryFilters.map((filter) => ({
                    filter,
                    filterType: 'PREFIX_MATCH' as const,
                  })),
                }
              : {}),
          })),
        },
      );
    }
    for (const r of parsed.repositories) {
      const accountId = r.accountId ?? this.core.defaultAccountId;
      const region = r.region ?? this.core.defaultRegion;
      const repo =
        this.registry.find({ accountId, region }, r.name) ??
        this.registry.create({ accountId, region }, r.name, new Date(now), {
          imageTagMutability: r.imageTagMutability,
        });
      for (const [key, value] of Object.entries(r.tags)) repo.resourceTags.set(key, value);
      // Before the images: their scans (over before the cloud started) find what is declared.
      if (r.scanOnPush) repo.imageScanningConfiguration = { scanOnPush: true };
      for (const declared of r.scanFindings) this.scanning.declare(repo, declared);
      for (const image of r.images) {
        const pushedAt = image.pushedAt ?? new Date(now - (image.pushedDaysAgo ?? 0) * DAY_MS);
        this.pusher.push({
          repositoryName: r.name,
          accountId,
          region,
          pushedAt,
          emit: false,
          ...(image.tag !== undefined ? { tag: image.tag } : {}),
          ...(image.tags ? { tags: image.tags } : {}),
          ...(image.platforms ? { platforms: image.platforms } : {}),
          ...(image.sizeBytes !== undefined ? { sizeBytes: image.sizeBytes } : {}),
          ...(image.signature !== undefined ? { signature: image.signature } : {}),
          ...(image.attestation !== undefined ? { attestation: image.attestation } : {}),
          ...(image.seed !== undefined ? { seed: image.seed } : {}),
        });
      }
    }
  }

  /**
   * What a container runtime would pull now. ECR images resolve in their own registry's account and
   * region (from the host name), tag → digest; a pull counts toward `lastRecordedPullTime`.
   */
  private resolve(
    image: string,
    _ctx: { accountId: string; region: string },
  ): { digest: string } | { error: string } {
    let ref: ReturnType<typeof readImageReference>;
    try {
      ref = readImageReference(image);
    } catch (err) {
      const reason = err instanceof ImageReferenceError ? err.message : String(err);
      return { error: `CannotPullContainerError: ${reason}` };
    }
    if (!ref.ecr) {
      return { digest: ref.digest ?? `sha256:${createHash('sha256').update(image, 'utf8').digest('hex')}` };
    }
    const injected = this.core.faults.pullFailure(ref.path);
    if (injected !== undefined) {
      return {
        error: injected.startsWith('CannotPullContainerError')
          ? injected
          : `CannotPullContainerError: ${injected}`,
      };
    }
    const notFound = {
      error: `CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref ${image}: ${image}: not found`,
    };
    const repo = this.registry.find(ref.ecr, ref.path);
    if (!repo) return notFound;
    const digest: Digest | undefined = ref.digest ?? repo.tagIndex.get(ref.tag ?? 'latest');
    const found = digest ? repo.images.get(digest) : undefined;
    if (!found) return notFound;
    this.recordPull(repo.images, found);
    return { digest: found.digest };
  }

  private recordPull(images: Map<Digest, StoredImage>, image: StoredImage): void {
    const now = this.core.clock.now();
    image.lastRecordedPullTime = now;
    // A multi-arch pull fetches the index, then one platform's manifest (the first: linux/amd64 here).
    const child = image.children[0] ? images.get(image.children[0]) : undefined;
    if (child) child.lastRecordedPullTime = now;
  }
}
