/**
 * ECR private image replication: each registry (an account in a region) has a replication configuration
 * (PutReplicationConfiguration, DescribeRegistry, or the world's `ecr.replication`): rules, each with destinations
 * (`{ region, registryId }`) and optional repository filters (PREFIX_MATCH). An image pushed after that (PutImage)
 * into a repository a rule matches appears in every destination after `replicationSeconds` of simulated time: the
 * same manifest (so the same digest), the same tag, the repository created when it is missing. Then the
 * destination's default bus gets ECR's `ECR Replication Action` event, in the shape the ECR user guide documents
 * (emitted in the destination's account and region, naming the source's). AWS documents no `ECR Image Action` for
 * the replica, so none is sent. DescribeImageReplicationStatus reports IN_PROGRESS, then COMPLETE.
 *
 * Not modelled: the destination registry's permissions policy (cross-account replication is not checked against
 * it), repository creation templates (a replica's repository gets the defaults), replication of referrers.
 */
import * as z from 'zod';
import { readRequest } from '../aws/request';
import type { Scope } from '../aws/store';
import { AccountRegionStore } from '../aws/store';
import { AwsServiceError } from '../errors';
import type { Digest } from '../image-reference';
import type { LocalCloudCore, RequestContext } from '../types';
import type { EcrImages } from './images';
import { type Registry, type Repository, registryOf, type StoredImage } from './registry';
import { ecrDialect } from './requests';

export const DEFAULT_REPLICATION_SECONDS = 10;

const Destination = z.object({
  region: z.string().min(2).max(25),
  registryId: z.string().regex(/^[0-9]{12}$/),
});
const RepositoryFilter = z.object({
  filter: z
    .string()
    .min(2)
    .max(256)
    .regex(/^(?:[a-z0-9]+(?:[._-][a-z0-9]*)*\/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$/),
  filterType: z.enum(['PREFIX_MATCH']),
});
const ReplicationRule = z.object({
  destinations: z.array(Destination).min(0).max(25),
  repositoryFilters: z.array(RepositoryFilter).min(1).max(100).optional(),
});
export const ReplicationConfiguration = z.object({ rules: z.array(ReplicationRule).min(0).max(10) });
export type ReplicationConfiguration = z.infer<typeof ReplicationConfiguration>;
const PutReplicationConfigurationRequest = z.object({ replicationConfiguration: ReplicationConfiguration });
const DescribeImageReplicationStatusRequest = z.object({
  repositoryName: z.string().min(2).max(256),
  imageId: z.object({ imageDigest: z.string().optional(), imageTag: z.string().optional() }),
  registryId: z.string().optional(),
});

type Status = {
  region: string;
  registryId: string;
  status: 'IN_PROGRESS' | 'COMPLETE' | 'FAILED';
  failureCode?: string;
};

export class EcrReplication {
  private readonly configs = new AccountRegionStore<{ config: ReplicationConfiguration }>(() => ({
    config: { rules: [] },
  }));
  /** `<repository ARN>@<digest>` → the state of its replication to each destination. */
  private readonly statuses = new Map<string, Status[]>();
  /** Simulated seconds from a push to its replicas (the world's `ecr.replicationSeconds`). */
  replicationSeconds = DEFAULT_REPLICATION_SECONDS;

  constructor(
    private readonly registry: Registry,
    private readonly images: () => EcrImages,
    private readonly core: LocalCloudCore,
  ) {}

  configuration(scope: Scope): ReplicationConfiguration {
    return this.configs.of(scope).config;
  }

  configure(scope: Scope, config: ReplicationConfiguration): void {
    for (const rule of config.rules) {
      for (const d of rule.destinations) {
        if (d.region === scope.region && d.registryId === scope.accountId)
          throw new AwsServiceError(
            'InvalidParameterException',
            `Invalid parameter at 'replicationConfiguration': a destination cannot be the source registry (${d.registryId} in ${d.region})`,
          );
      }
    }
    this.configs.of(scope).config = config;
  }

  putReplicationConfiguration(raw: unknown, ctx: RequestContext) {
    const req = readRequest(PutReplicationConfigurationRequest, raw, ecrDialect);
    this.configure(ctx, req.replicationConfiguration);
    return { replicationConfiguration: req.replicationConfiguration };
  }

  describeRegistry(_raw: unknown, ctx: RequestContext) {
    return { registryId: ctx.accountId, replicationConfiguration: this.configuration(ctx) };
  }

  describeImageReplicationStatus(raw: unknown, ctx: RequestContext) {
    const req = readRequest(DescribeImageReplicationStatusRequest, raw, ecrDialect);
    const repo = this.registry.get(registryOf(req, ctx), req.repositoryName);
    const digest =
      (req.imageId.imageDigest as Digest | undefined) ?? repo.tagIndex.get(req.imageId.imageTag ?? '');
    if (!digest || !repo.images.has(digest))
      throw new AwsServiceError(
        'ImageNotFoundException',
        `The image with imageId {imageDigest:'${req.imageId.imageDigest ?? 'null'}', imageTag:'${req.imageId.imageTag ?? 'null'}'} does not exist within the repository with name '${repo.name}' in the registry with id '${repo.accountId}'`,
      );
    return {
      repositoryName: repo.name,
      imageId: { imageDigest: digest, ...(req.imageId.imageTag ? { imageTag: req.imageId.imageTag } : {}) },
      replicationStatuses: this.statuses.get(`${repo.arn}@${digest}`) ?? [],
    };
  }

  /** After a push: schedules the image's replication to every destination of the rules its repository matches. */
  onPush(repo: Repository, image: StoredImage, tag: string | undefined): void {
    const destinations = new Map<string, { region: string; registryId: string }>();
    for (const rule of this.configuration(repo).rules) {
      const filters = rule.repositoryFilters ?? [];
      if (filters.length > 0 && !filters.some((f) => repo.name.startsWith(f.filter))) continue;
      for (const d of rule.destinations) destinations.set(`${d.registryId}/${d.region}`, d);
    }
    if (destinations.size === 0) return;
    const statuses: Status[] = [...destinations.values()].map((d) => ({ ...d, status: 'IN_PROGRESS' }));
    this.statuses.set(`${repo.arn}@${image.digest}`, statuses);
    this.core.clock.setTimer(this.replicationSeconds * 1000, () => {
      for (const status of statuses) {
        try {
          this.replicate(repo, image, tag, { accountId: status.registryId, region: status.region });
          status.status = 'COMPLETE';
        } catch (err) {
          status.status = 'FAILED';
          status.failureCode = err instanceof AwsServiceError ? err.code : 'InternalError';
        }
      }
    });
  }

  private replicate(source: Repository, image: StoredImage, tag: string | undefined, to: Scope): void {
    const dest =
      this.registry.find(to, source.name) ?? this.registry.create(to, source.name, this.core.clock.now());
    this.copy(source, image.digest, tag, dest);
    this.core.bus.publish({
      source: 'aws.ecr',
      detailType: 'ECR Replication Action',
      account: dest.accountId,
      region: dest.region,
      resources: [dest.arn],
      detail: {
        result: 'SUCCESS',
        'repository-name': dest.name,
        'image-digest': image.digest,
        'source-account': source.accountId,
        'action-type': 'REPLICATE',
        'source-region': source.region,
        ...(tag !== undefined ? { 'image-tag': tag } : {}),
      },
    });
  }

  /** The manifest (its children first) into `dest`, tagged as pushed; what is there already stays. */
  private copy(source: Repository, digest: Digest, tag: string | undefined, dest: Repository): void {
    const image = source.images.get(digest);
    if (!image)
      throw new AwsServiceError('ImageNotFoundException', `image ${digest} is no longer in ${source.name}`);
    for (const child of image.children)
      if (!dest.images.has(child)) this.copy(source, child, undefined, dest);
    const there = dest.images.get(digest);
    if (there && (tag === undefined || there.tags.has(tag))) return;
    this.images().put(
      dest,
      {
        repositoryName: dest.name,
        imageManifest: image.manifest,
        imageManifestMediaType: image.manifestMediaType,
        ...(tag !== undefined ? { imageTag: tag } : {}),
      },
      { emit: false },
    );
  }
}
