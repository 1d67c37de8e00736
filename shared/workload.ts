/**
 * One name for a workload harborpilot deploys, ECS service or Kubernetes workload, as people type it on the
 * command line (`harborpilot freeze ecs/prod/api`) and as state table items key it: `ecs/<cluster>/<service>`,
 * `eks/<cluster>/<namespace>/<kind>/<name>` (kind in lower case: deployment, statefulset, daemonset).
 */
import { serviceArnParts } from './aws/ecs';
import { WORKLOAD_KINDS, type WorkloadRef } from './roll-eks/model';

export type WorkloadId =
  | { platform: 'ecs'; cluster: string; service: string }
  | ({ platform: 'eks' } & WorkloadRef);

export class WorkloadIdError extends Error {
  constructor(
    readonly value: string,
    reason: string,
  ) {
    super(
      `invalid workload "${value}": ${reason} (expected ecs/<cluster>/<service> or eks/<cluster>/<namespace>/<kind>/<name>)`,
    );
    this.name = 'WorkloadIdError';
  }
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

export function parseWorkloadId(value: string): WorkloadId {
  const parts = value.trim().split('/');
  for (const p of parts) if (!SEGMENT.test(p)) throw new WorkloadIdError(value, `bad segment "${p}"`);
  const [platform, ...rest] = parts;
  if (platform === 'ecs') {
    const [cluster, service] = rest;
    if (rest.length !== 2 || !cluster || !service)
      throw new WorkloadIdError(value, 'an ECS workload has a cluster and a service');
    return { platform, cluster, service };
  }
  if (platform === 'eks') {
    const [cluster, namespace, kindName, name] = rest;
    if (rest.length !== 4 || !cluster || !namespace || !kindName || !name)
      throw new WorkloadIdError(value, 'an EKS workload has a cluster, a namespace, a kind and a name');
    const kind = WORKLOAD_KINDS.find((k) => k.toLowerCase() === kindName.toLowerCase());
    if (!kind)
      throw new WorkloadIdError(
        value,
        `kind "${kindName}" is not one of ${WORKLOAD_KINDS.map((k) => k.toLowerCase()).join(', ')}`,
      );
    return { platform, cluster, namespace, kind, name };
  }
  throw new WorkloadIdError(value, `platform "${platform}" is not ecs or eks`);
}

export function formatWorkloadId(id: WorkloadId): string {
  return id.platform === 'ecs'
    ? `ecs/${id.cluster}/${id.service}`
    : `eks/${id.cluster}/${id.namespace}/${id.kind.toLowerCase()}/${id.name}`;
}

/** The workload id of an ECS service, from its ARN (long format); undefined for another shape. */
export function ecsWorkloadId(serviceArn: string): WorkloadId | undefined {
  const parts = serviceArnParts(serviceArn);
  const service = serviceArn.split('/').at(-1);
  return parts && service ? { platform: 'ecs', cluster: parts.cluster, service } : undefined;
}

/** The workload id of a Kubernetes workload. */
export function eksWorkloadId(w: WorkloadRef): WorkloadId {
  return { platform: 'eks', cluster: w.cluster, namespace: w.namespace, kind: w.kind, name: w.name };
}
