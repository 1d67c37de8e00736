/**
 * One name for a workload harborpilot deploys, ECS service or Kubernetes workload, as people type it on the
 * command line (`harborpilot freeze ecs/prod/api`) and as state table items key it: `ecs/<cluster>/<service>`,
 * `eks/<cluster>/<namespace>/<kind>/<name>` (kind in lower case: deployment, statefulset, daemonset). A workload
 * in another target (docs/organisation.md) starts with that account and region: `111111111111/us-west-2/ecs/prod/api`.
 */
import { serviceArnParts } from './aws/ecs';
import { WORKLOAD_KINDS, type WorkloadRef } from './roll-eks/model';
import { HOME_ONLY, type TargetScope, type WorkloadScopes } from './targets';

export type WorkloadId = (
  | { platform: 'ecs'; cluster: string; service: string }
  | ({ platform: 'eks' } & WorkloadRef)
) & {
  /** Another target's account and region; none: the home target. */
  scope?: TargetScope;
};

export class WorkloadIdError extends Error {
  constructor(
    readonly value: string,
    reason: string,
  ) {
    super(
      `invalid workload "${value}": ${reason} (expected ecs/<cluster>/<service> or eks/<cluster>/<namespace>/<kind>/<name>, after <account>/<region>/ for another target)`,
    );
    this.name = 'WorkloadIdError';
  }
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

export function parseWorkloadId(value: string): WorkloadId {
  const parts = value.trim().split('/');
  for (const p of parts) if (!SEGMENT.test(p)) throw new WorkloadIdError(value, `bad segment "${p}"`);
  if (parts[0] && ACCOUNT.test(parts[0])) {
    const [accountId, region = '', ...rest] = parts;
    if (!REGION.test(region))
      throw new WorkloadIdError(value, `"${region}" after the account is not a region`);
    return { ...parseUnscoped(value, rest), scope: { accountId, region } };
  }
  return parseUnscoped(value, parts);
}

function parseUnscoped(value: string, parts: string[]): WorkloadId {
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
  const local =
    id.platform === 'ecs'
      ? `ecs/${id.cluster}/${id.service}`
      : `eks/${id.cluster}/${id.namespace}/${id.kind.toLowerCase()}/${id.name}`;
  return id.scope ? `${id.scope.accountId}/${id.scope.region}/${local}` : local;
}

/**
 * The workload id of an ECS service, from its ARN (long format); undefined for another shape. A service in
 * another target (`scopes`) gets that target's account and region.
 */
export function ecsWorkloadId(
  serviceArn: string,
  scopes: WorkloadScopes = HOME_ONLY,
): WorkloadId | undefined {
  const parts = serviceArnParts(serviceArn);
  const service = serviceArn.split('/').at(-1);
  if (!parts || !service) return undefined;
  const scope = scopes.scopeOf(parts.accountId, parts.region);
  return { platform: 'ecs', cluster: parts.cluster, service, ...(scope ? { scope } : {}) };
}

/** The workload id of a Kubernetes workload. */
export function eksWorkloadId(w: WorkloadRef): WorkloadId {
  return {
    platform: 'eks',
    cluster: w.cluster,
    namespace: w.namespace,
    kind: w.kind,
    name: w.name,
    ...(w.scope ? { scope: w.scope } : {}),
  };
}
