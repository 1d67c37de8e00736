/**
 * Stands in for the EKS in-use source until one is wired: pods on an EKS cluster run images too, so with
 * any EKS cluster in scope and no way to read its pods, pruning must not go on (fail closed). With no EKS
 * cluster (configured or in the account), it contributes nothing.
 */
import { type EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import type { InUseRef, InUseSource } from './model';

export class EksNotReadableError extends Error {
  constructor(readonly clusters: string[]) {
    super(
      `EKS clusters ${clusters.join(', ')} may run these images, and no EKS in-use source is wired to read their pods`,
    );
    this.name = 'EksNotReadableError';
  }
}

export function eksGuardSource(eks: EKSClient, configuredClusters: readonly string[]): InUseSource {
  return {
    name: 'eks',
    async collect(): Promise<InUseRef[]> {
      const clusters = [...configuredClusters];
      if (clusters.length === 0) {
        let nextToken: string | undefined;
        do {
          const page = await eks.send(new ListClustersCommand({ nextToken }));
          clusters.push(...(page.clusters ?? []));
          nextToken = page.nextToken;
        } while (nextToken);
      }
      if (clusters.length > 0) throw new EksNotReadableError(clusters);
      return [];
    },
  };
}
