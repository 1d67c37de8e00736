/**
 * Connects to EKS clusters by name: DescribeCluster gives the endpoint and CA, a presigned STS token (cached
 * per cluster, refreshed before its 15 minutes) authenticates. Implements checkCapacity's KubeConnector, so
 * every function that reads Kubernetes uses this one connection code.
 */
import { DescribeClusterCommand, type EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { createEksToken, type EksToken, TokenCache } from './eks-token';
import { KubeClient } from './kube';

export class ClusterNotReachableError extends Error {
  constructor(
    readonly cluster: string,
    reason: string,
  ) {
    super(`EKS cluster ${cluster} cannot be reached: ${reason}`);
    this.name = 'ClusterNotReachableError';
  }
}

export interface ConnectorOptions {
  eks: EKSClient;
  /** For tests; default: a presigned STS URL signed with the EKS client's own credentials and region. */
  makeToken?: (clusterName: string) => Promise<EksToken>;
}

export type EksConnector = (clusterName: string) => Promise<KubeClient>;

export function makeEksConnector(options: ConnectorOptions): EksConnector {
  const { eks } = options;
  const makeToken =
    options.makeToken ??
    (async (clusterName: string) =>
      createEksToken({
        clusterName,
        region: await eks.config.region(),
        credentials: eks.config.credentials as AwsCredentialIdentityProvider,
      }));
  const tokens = new TokenCache(makeToken);
  // Endpoint and CA do not change while a cluster lives: one DescribeCluster per cluster per container.
  const clients = new Map<string, KubeClient>();

  return async (clusterName: string) => {
    const known = clients.get(clusterName);
    if (known) return known;
    const { cluster } = await eks.send(new DescribeClusterCommand({ name: clusterName }));
    const endpoint = cluster?.endpoint;
    const ca = cluster?.certificateAuthority?.data;
    if (cluster?.status !== 'ACTIVE' && cluster?.status !== 'UPDATING') {
      throw new ClusterNotReachableError(clusterName, `status is ${cluster?.status ?? 'unknown'}`);
    }
    if (!endpoint || !ca)
      throw new ClusterNotReachableError(clusterName, 'DescribeCluster gave no endpoint or CA');
    const client = new KubeClient({
      cluster: clusterName,
      endpoint,
      caPem: Buffer.from(ca, 'base64').toString('utf8'),
      token: () => tokens.get(clusterName),
      onUnauthorized: () => tokens.forget(clusterName),
    });
    clients.set(clusterName, client);
    return client;
  };
}

/** The configured clusters, or every cluster of the account and region when none are configured. */
export async function eksClusterNames(eks: EKSClient, configured: readonly string[]): Promise<string[]> {
  if (configured.length > 0) return [...configured];
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await eks.send(new ListClustersCommand({ nextToken }));
    names.push(...(page.clusters ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return names;
}
