/**
 * ECS reads more than one function makes, within the API's limits: clusters, services (ListServices pages of
 * 100, DescribeServices batches of 10) and task definitions described once per invocation.
 */
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  type ECSClient,
  paginateListClusters,
  paginateListServices,
  type Service,
  type Tag,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { errorMessage } from '../errors';

export class EcsReadError extends Error {
  constructor(
    readonly operation: string,
    readonly resource: string,
    cause: unknown,
  ) {
    super(`${operation} ${resource} failed: ${errorMessage(cause, { name: false })}`, { cause });
    this.name = 'EcsReadError';
  }
}

export async function listClusterArns(ecs: ECSClient, configured: readonly string[]): Promise<string[]> {
  if (configured.length > 0) return [...configured];
  const arns: string[] = [];
  for await (const page of paginateListClusters({ client: ecs }, {})) arns.push(...(page.clusterArns ?? []));
  return arns;
}

export async function describeClusterServices(ecs: ECSClient, cluster: string): Promise<Service[]> {
  const arns: string[] = [];
  for await (const page of paginateListServices({ client: ecs, pageSize: 100 }, { cluster })) {
    arns.push(...(page.serviceArns ?? []));
  }
  const services: Service[] = [];
  for (let i = 0; i < arns.length; i += 10) {
    const out = await ecs.send(
      new DescribeServicesCommand({ cluster, services: arns.slice(i, i + 10), include: ['TAGS'] }),
    );
    const failure = out.failures?.find((f) => f.reason !== 'MISSING');
    if (failure)
      throw new EcsReadError('DescribeServices', failure.arn ?? cluster, new Error(failure.reason));
    services.push(...(out.services ?? []).filter((s) => s.status === 'ACTIVE'));
  }
  return services;
}

/**
 * Describes each task definition once per invocation, however many services share it. `includeTags`: with
 * its tags, for a caller that registers a revision of it (redeployEcs copies them).
 */
export class TaskDefinitionCache {
  private readonly cache = new Map<string, Promise<{ taskDefinition: TaskDefinition; tags: Tag[] }>>();
  constructor(
    private readonly ecs: ECSClient,
    private readonly options: { includeTags?: boolean } = {},
  ) {}

  async get(arn: string): Promise<TaskDefinition> {
    return (await this.getWithTags(arn)).taskDefinition;
  }

  getWithTags(arn: string): Promise<{ taskDefinition: TaskDefinition; tags: Tag[] }> {
    let hit = this.cache.get(arn);
    if (!hit) {
      hit = (async () => {
        const out = await this.ecs.send(
          new DescribeTaskDefinitionCommand({
            taskDefinition: arn,
            ...(this.options.includeTags ? { include: ['TAGS' as const] } : {}),
          }),
        );
        if (!out.taskDefinition)
          throw new EcsReadError('DescribeTaskDefinition', arn, new Error('empty response'));
        return { taskDefinition: out.taskDefinition, tags: out.tags ?? [] };
      })();
      this.cache.set(arn, hit);
    }
    return hit;
  }

  get size(): number {
    return this.cache.size;
  }
}
