/**
 * Repository operations of ECR: create, describe (by name or paginated), delete (force), and the
 * resource tags that pruneImages reads per-repository overrides from.
 */
import { AwsServiceError } from '../errors';
import type { LocalCloudCore, RequestContext } from '../types';
import {
  epochSeconds,
  optionalBoolean,
  optionalInteger,
  optionalList,
  optionalObject,
  optionalString,
  paginate,
  requiredString,
} from './input';
import type { Registry, Repository } from './registry';

const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const MAX_TAGS = 50;

interface Tag {
  Key: string;
  Value: string;
}

export class EcrRepositories {
  constructor(
    private readonly registry: Registry,
    private readonly core: LocalCloudCore,
  ) {}

  createRepository(input: Record<string, unknown>, ctx: RequestContext) {
    const accountId = optionalString(input, 'registryId') ?? ctx.accountId;
    const name = requiredString(input, 'repositoryName', 2, 256);
    if (!REPOSITORY_NAME.test(name)) {
      throw new AwsServiceError(
        'InvalidParameterException',
        `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '${REPOSITORY_NAME.source}''`,
      );
    }
    const tags = readTags(input, 'tags');
    const mutability = optionalString(input, 'imageTagMutability');
    const scanning = optionalObject(input, 'imageScanningConfiguration');
    const encryption = optionalObject(input, 'encryptionConfiguration');
    const repo = this.registry.create(accountId, ctx.region, name, this.core.clock.now(), {
      ...(mutability ? { imageTagMutability: mutability } : {}),
      ...(scanning
        ? { imageScanningConfiguration: { scanOnPush: optionalBoolean(scanning, 'scanOnPush') ?? false } }
        : {}),
      ...(encryption
        ? {
            encryptionConfiguration: {
              encryptionType: requiredString(encryption, 'encryptionType'),
              ...(optionalString(encryption, 'kmsKey')
                ? { kmsKey: optionalString(encryption, 'kmsKey') as string }
                : {}),
            },
          }
        : {}),
    });
    for (const tag of tags) repo.resourceTags.set(tag.Key, tag.Value);
    return { repository: repositoryView(repo) };
  }

  describeRepositories(input: Record<string, unknown>, ctx: RequestContext) {
    const accountId = optionalString(input, 'registryId') ?? ctx.accountId;
    const names = optionalList<string>(input, 'repositoryNames', 1, 100);
    const maxResults = optionalInteger(input, 'maxResults', 1, 1000);
    const nextToken = optionalString(input, 'nextToken');
    if (names && (maxResults !== undefined || nextToken !== undefined)) {
      throw new AwsServiceError(
        'InvalidParameterException',
        'Invalid parameter: maxResults and nextToken cannot be used when repositoryNames are specified',
      );
    }
    if (names) {
      return { repositories: names.map((n) => repositoryView(this.registry.get(accountId, ctx.region, n))) };
    }
    const all = [...this.registry.repositories(accountId, ctx.region).values()].sort((a, b) =>
      a.name < b.name ? -1 : 1,
    );
    const { page, nextToken: next } = paginate(all, (r) => r.name, maxResults ?? 100, nextToken);
    return { repositories: page.map(repositoryView), ...(next ? { nextToken: next } : {}) };
  }

  deleteRepository(input: Record<string, unknown>, ctx: RequestContext) {
    const accountId = optionalString(input, 'registryId') ?? ctx.accountId;
    const repo = this.registry.get(accountId, ctx.region, requiredString(input, 'repositoryName', 2, 256));
    if (repo.images.size > 0 && optionalBoolean(input, 'force') !== true) {
      throw new AwsServiceError(
        'RepositoryNotEmptyException',
        `The repository with name '${repo.name}' in registry with id '${repo.accountId}' cannot be deleted because it still contains images`,
      );
    }
    this.registry.delete(repo);
    return { repository: repositoryView(repo) };
  }

  listTagsForResource(input: Record<string, unknown>) {
    const repo = this.byArn(input);
    return { tags: [...repo.resourceTags].map(([Key, Value]) => ({ Key, Value })) };
  }

  tagResource(input: Record<string, unknown>) {
    const repo = this.byArn(input);
    const tags = readTags(input, 'tags', true);
    const keys = new Set([...repo.resourceTags.keys(), ...tags.map((t) => t.Key)]);
    if (keys.size > MAX_TAGS) {
      throw new AwsServiceError('TooManyTagsException', `A repository can have at most ${MAX_TAGS} tags`);
    }
    for (const tag of tags) repo.resourceTags.set(tag.Key, tag.Value);
    return {};
  }

  untagResource(input: Record<string, unknown>) {
    const repo = this.byArn(input);
    const keys = optionalList<unknown>(input, 'tagKeys', 0, MAX_TAGS);
    if (!keys)
      throw new AwsServiceError(
        'ValidationException',
        "Value null at 'tagKeys' failed to satisfy constraint",
      );
    for (const key of keys) if (typeof key === 'string') repo.resourceTags.delete(key);
    return {};
  }

  private byArn(input: Record<string, unknown>): Repository {
    return this.registry.byArn(requiredString(input, 'resourceArn'));
  }
}

function readTags(input: Record<string, unknown>, member: string, required = false): Tag[] {
  const list = optionalList<unknown>(input, member, 0, MAX_TAGS);
  if (!list) {
    if (required)
      throw new AwsServiceError(
        'ValidationException',
        `Value null at '${member}' failed to satisfy constraint`,
      );
    return [];
  }
  return list.map((raw) => {
    const tag = (raw ?? {}) as Record<string, unknown>;
    if (
      typeof tag.Key !== 'string' ||
      tag.Key.length < 1 ||
      tag.Key.length > 128 ||
      typeof tag.Value !== 'string'
    ) {
      throw new AwsServiceError('InvalidTagParameterException', `Invalid tag: ${JSON.stringify(raw)}`);
    }
    return { Key: tag.Key, Value: tag.Value };
  });
}

export function repositoryView(repo: Repository) {
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
