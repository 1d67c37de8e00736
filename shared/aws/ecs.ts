/**
 * ECS reads more than one function makes, within the API's limits: clusters, services (ListServices pages of
 * 100, DescribeServices batches of 10) and task definitions described once per invocation.
 */
import {
  DescribeServicesCommand,
  type ECSClient,
  paginateListClusters,
  paginateListServices,
  type Service,
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

/** The parts of a service ARN in ECS's long format (`…:service/<cluster>/<name>`); undefined for another shape. */
export function serviceArnParts(
  serviceArn: string,
): { partition: string; region: string; accountId: string; cluster: string } | undefined {
  const m = /^arn:([^:]+):ecs:([^:]+):(\d{12}):service\/([^/]+)\/[^/]+$/.exec(serviceArn);
  if (!m) return undefined;
  const [, partition = '', region = '', accountId = '', cluster = ''] = m;
  return { partition, region, accountId, cluster };
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
