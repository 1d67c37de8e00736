/**
 * A kubeconfig for a local cluster, in the shape `aws eks update-kubeconfig` writes: the cluster's endpoint and
 * CA, and a user whose credentials come from `aws eks get-token` (an exec plugin), pointed at the local cloud.
 */
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  accountId?: string;
  region?: string;
  /** The local cloud's endpoint, given to the AWS CLI as AWS_ENDPOINT_URL. */
  endpointUrl: string;
  /** Defaults: test / test, the local cloud's conventional credentials. */
  accessKeyId?: string;
  secretAccessKey?: string;
}

export function kubeconfigYaml(
  c: { cluster: { name: string; arn: string }; endpoint: string; caData: string },
  o: KubeconfigOptions,
): string {
  const id = c.cluster.arn;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: id, cluster: { server: c.endpoint, 'certificate-authority-data': c.caData } }],
    contexts: [{ name: id, context: { cluster: id, user: id } }],
    'current-context': id,
    preferences: {},
    users: [
      {
        name: id,
        user: {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1beta1',
            command: 'aws',
            args: [
              '--region',
              o.region ?? id.split(':')[3],
              'eks',
              'get-token',
              '--cluster-name',
              c.cluster.name,
              '--output',
              'json',
            ],
            env: [
              { name: 'AWS_ENDPOINT_URL', value: o.endpointUrl },
              { name: 'AWS_ACCESS_KEY_ID', value: o.accessKeyId ?? 'test' },
              { name: 'AWS_SECRET_ACCESS_KEY', value: o.secretAccessKey ?? 'test' },
            ],
            interactiveMode: 'Never',
            provideClusterInfo: false,
          },
        },
      },
    ],
  });
}
