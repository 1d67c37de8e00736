/**
 * Repository operations of ECR: create, describe (by name or paginated), delete (force), and the
 * resource tags that pruneImages reads per-repository overrides from.
 */
import type {
  CreateRepositoryResponse,
  DeleteRepositoryResponse,
  DescribeRepositoriesResponse,
  ListTagsForResourceResponse,
  Repository as RepositoryShape,
  TagResourceResponse,
  UntagResourceResponse,
} from '@aws-sdk/client-ecr';
import { readPage, readRequest } from '../aws/request';
import { epochSeconds, type Wire } from '../aws/response';
import { AwsServiceError } from '../errors';
import type { LocalCloudCore, RequestContext } from '../types';
import type { Registry, Repository } from './registry';
import {
  CreateRepositoryRequest,
  DeleteRepositoryRequest,
  DescribeRepositoriesRequest,
  ECR_PAGE,
  ecrDialect,
  MAX_TAGS,
  ResourceRequest,
  TagResourceRequest,
  UntagResourceRequest,
} from './requests';

const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

interface Tag {
  Key: string;
  Value: string;
}

export class EcrRepositories {
  constructor(
    private readonly registry: Registry,
    private readonly core: LocalCloudCore,
  ) {}

  createRepository(raw: unknown, ctx: RequestContext): Wire<CreateRepositoryResponse> {
    const input = readRequest(CreateRepositoryRequest, raw, ecrDialect);
    const name = input.repositoryName;
    if (!REPOSITORY_NAME.test(name)) {
      throw new AwsServiceError(
        'InvalidParameterException',
        `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '${REPOSITORY_NAME.source}''`,
      );
    }
    const tags = checkTags(input.tags ?? []);
    const { imageTagMutability, imageScanningConfiguration: scanning, encryptionConfiguration } = input;
    const scope = { accountId: input.registryId ?? ctx.accountId, region: ctx.region };
    const repo = this.registry.create(scope, name, this.core.clock.now(), {
      ...(imageTagMutability ? { imageTagMutability } : {}),
      ...(scanning ? { imageScanningConfiguration: { scanOnPush: scanning.scanOnPush ?? false } } : {}),
      ...(encryptionConfiguration
        ? {
            encryptionConfiguration: {
              encryptionType: encryptionConfiguration.encryptionType,
              ...(encryptionConfiguration.kmsKey ? { kmsKey: encryptionConfiguration.kmsKey } : {}),
            },
          }
        : {}),
    });
    for (const tag of tags) repo.resourceTags.set(tag.Key, tag.Value);
    return { repository: repositoryView(repo) };
  }

  describeRepositories(raw: unknown, ctx: RequestContext): Wire<DescribeRepositoriesResponse> {
    const input = readRequest(DescribeRepositoriesRequest, raw, ecrDialect);
    const scope = { accountId: input.registryId ?? ctx.accountId, region: ctx.region };
    const names = input.repositoryNames;
    if (names && (input.maxResults !== undefined || input.nextToken !== undefined)) {
      throw new AwsServiceError(
        'InvalidParameterException',
        'Invalid parameter: maxResults and nextToken cannot be used when repositoryNames are specified',
      );
    }
    if (names) {
      return { repositories: names.map((n) => repositoryView(this.registry.get(scope, n))) };
    }
    const all = [...this.registry.repositories(scope).values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    const page = readPage(all, (r) => r.name, input, ECR_PAGE, ecrDialect);
    return { repositories: page.items.map(repositoryView), nextToken: page.nextToken };
  }

  deleteRepository(raw: unknown, ctx: RequestContext): Wire<DeleteRepositoryResponse> {
    const input = readRequest(DeleteRepositoryRequest, raw, ecrDialect);
    const scope = { accountId: input.registryId ?? ctx.accountId, region: ctx.region };
    const repo = this.registry.get(scope, input.repositoryName);
    if (repo.images.size > 0 && input.force !== true) {
      throw new AwsServiceError(
        'RepositoryNotEmptyException',
        `The repository with name '${repo.name}' in registry with id '${repo.accountId}' cannot be deleted because it still contains images`,
      );
    }
    this.registry.delete(repo);
    return { repository: repositoryView(repo) };
  }

  listTagsForResource(raw: unknown): Wire<ListTagsForResourceResponse> {
    const repo = this.registry.byArn(readRequest(ResourceRequest, raw, ecrDialect).resourceArn);
    return { tags: [...repo.resourceTags].map(([Key, Value]) => ({ Key, Value })) };
  }

  tagResource(raw: unknown): Wire<TagResourceResponse> {
    const input = readRequest(TagResourceRequest, raw, ecrDialect);
    const repo = this.registry.byArn(input.resourceArn);
    const tags = checkTags(input.tags);
    const keys = new Set([...repo.resourceTags.keys(), ...tags.map((t) => t.Key)]);
    if (keys.size > MAX_TAGS) {
      throw new AwsServiceError('TooManyTagsException', `A repository can have at most ${MAX_TAGS} tags`);
    }
    for (const tag of tags) repo.resourceTags.set(tag.Key, tag.Value);
    return {};
  }

  untagResource(raw: unknown): Wire<UntagResourceResponse> {
    const input = readRequest(UntagResourceRequest, raw, ecrDialect);
    const repo = this.registry.byArn(input.resourceArn);
    for (const key of input.tagKeys) repo.resourceTags.delete(key);
    return {};
  }
}

/** ECR's own limits on a tag (keys 1 to 128 characters, values up to 256). */
function checkTags(tags: Tag[]): Tag[] {
  for (const tag of tags) {
    if (tag.Key.length < 1 || tag.Key.length > 128 || tag.Value.length > 256) {
      throw new AwsServiceError('InvalidTagParameterException', `Invalid tag: ${JSON.stringify(tag)}`);
    }
  }
  return tags;
}

export function repositoryView(repo: Repository): Wire<RepositoryShape> {
  return {
    repositoryArn: repo.arn,
    registryId: repo.accountId,
    repositoryName: repo.name,
    repositoryUri: repo.uri,
    createdAt: epochSeconds(repo.createdAt),
    imageTagMutability: repo.imageTagMutability,
    imageScanningConfiguration: repo.imageScanningConfiguration,
    encryptionConfiguration: repo.encryptionConfiguration,
  };
}
