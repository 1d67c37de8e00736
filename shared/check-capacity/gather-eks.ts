/** Reads EKS capacity: managed node groups from the EKS API, nodes and pods from each cluster's Kubernetes API. */
import { DescribeNodegroupCommand, type EKSClient, ListNodegroupsCommand } from '@aws-sdk/client-eks';
import pLimit from 'p-limit';
import type { KubeConnector } from '../aws/kube';
import { errorMessage } from '../errors';
import { toNodeState, toPodState } from './kube';
import type { EksClusterState, NodegroupState } from './model';

const CONCURRENCY = 4;

/**
 * A cluster in scope whose node groups, nodes or pods cannot be read. The run fails rather than report half:
 * a report without the pods that cannot be scheduled would look like room.
 */
export class EksClusterReadError extends Error {
  constructor(
    readonly clusterName: string,
    cause: unknown,
  ) {
    super(`EKS cluster ${clusterName} could not be read: ${errorMessage(cause)}`, { cause });
    this.name = 'EksClusterReadError';
  }
}

export async function nodegroups(eks: EKSClient, clusterName: string): Promise<NodegroupState[]> {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await eks.send(new ListNodegroupsCommand({ clusterName, nextToken }));
    names.push(...(page.nodegroups ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const limit = pLimit(CONCURRENCY);
  return Promise.all(
    names.map((nodegroupName) =>
      limit(async () => {
        const { nodegroup: g } = await eks.send(new DescribeNodegroupCommand({ clusterName, nodegroupName }));
        return {
          nodegroupName,
          status: g?.status ?? 'UNKNOWN',
          minSize: g?.scalingConfig?.minSize ?? 0,
          maxSize: g?.scalingConfig?.maxSize ?? 0,
          desiredSize: g?.scalingConfig?.desiredSize ?? 0,
          healthIssues: (g?.health?.issues ?? []).map((i) => ({
            code: i.code ?? 'Unknown',
            message: i.message ?? '',
          })),
        };
      }),
    ),
  );
}

/** Node groups, nodes and pods of the named clusters (eksClusterNames of shared/aws/eks-connect.ts first). */
export async function gatherEks(
  eks: EKSClient,
  kube: KubeConnector,
  clusterNames: readonly string[],
): Promise<EksClusterState[]> {
  const limit = pLimit(CONCURRENCY);
  return Promise.all(
    clusterNames.map((clusterName) =>
      limit(async () => {
        const [groups, nodes, pods] = await (async () => {
          const reader = await kube(clusterName);
          return Promise.all([nodegroups(eks, clusterName), reader.listNodes(), reader.listPods()]);
        })().catch((err: unknown) => {
          throw new EksClusterReadError(clusterName, err);
        });
        return {
          clusterName,
          nodegroups: groups,
          nodes: nodes.map((n) => toNodeState(n, clusterName)),
          pods: pods.map((p) => toPodState(p, clusterName)),
        };
      }),
    ),
  );
}
