/**
 * `harborpilot rollback`: a workload back to the images it ran before its newest deployment.
 * ECS: while the newest service deployment is in progress, StopServiceDeployment with ROLLBACK (ECS returns
 * to the last completed service revision itself); otherwise the previous service revision whose images differ,
 * pinned to its digests in a new task definition revision (a mutable tag would resolve to the newest image
 * again). EKS Deployments: the previous ReplicaSet's container images patched back, as `kubectl rollout undo`,
 * refused where that would be the same tag without its digest.
 * gather → plan (pure) → apply or dry-run; the command then freezes the workload so nothing moves it forward.
 */
import {
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  type ECSClient,
  ListServiceDeploymentsCommand,
  type ServiceDeploymentBrief,
  type ServiceRevision,
  StopServiceDeploymentCommand,
} from '@aws-sdk/client-ecs';
import type { KubeClient } from '../aws/kube';
import { TaskDefinitionCache } from '../aws/task-definitions';
import { type Digest, formatImageRef, isDigest, parseImageRef } from '../image-ref';
import { applyServiceAction } from '../redeploy-ecs/apply';
import type { ServiceAction } from '../redeploy-ecs/model';
import { workloadPath } from '../roll-eks/handler';
import { formatWorkloadId, type WorkloadId } from '../workload';

export class RollbackError extends Error {
  constructor(
    readonly workload: string,
    reason: string,
  ) {
    super(`cannot roll back ${workload}: ${reason}`);
    this.name = 'RollbackError';
  }
}

export interface ImageMove {
  container: string;
  from: string;
  to: string;
}

export type RollbackPlan =
  | { kind: 'stop-deployment'; workload: string; serviceDeploymentArn: string; moves: ImageMove[] }
  | { kind: 'ecs-revision'; workload: string; action: ServiceAction; moves: ImageMove[] }
  | { kind: 'eks-patch'; workload: string; path: string; patch: Record<string, unknown>; moves: ImageMove[] };

const imagesOf = (r: ServiceRevision | undefined) =>
  new Map(
    (r?.containerImages ?? []).map((c) => [
      c.containerName ?? '',
      { image: c.image ?? '', digest: c.imageDigest },
    ]),
  );

const sameImages = (a: ServiceRevision | undefined, b: ServiceRevision | undefined) => {
  const x = imagesOf(a);
  const y = imagesOf(b);
  return (
    x.size === y.size &&
    [...x].every(([name, i]) => (y.get(name)?.digest ?? y.get(name)?.image) === (i.digest ?? i.image))
  );
};

/** An image pinned to a digest, keeping its tag for people: `repo:tag@sha256:…`. */
function pinned(image: string, digest: string | undefined): string {
  if (!digest || !isDigest(digest)) return image;
  const ref = parseImageRef(image);
  return formatImageRef({ ...ref, digest: digest as Digest });
}

/** The ECS plan over the service's deployments (newest first) and their revisions. Pure. */
export function planEcsRollback(
  workload: string,
  service: { clusterArn: string; serviceArn: string; serviceName: string; taskDefinition: string },
  deployments: readonly ServiceDeploymentBrief[],
  revisions: ReadonlyMap<string, ServiceRevision>,
): RollbackPlan {
  const [newest, ...older] = deployments;
  if (!newest) throw new RollbackError(workload, 'ECS lists no service deployment for it');
  const revision = (d: ServiceDeploymentBrief | undefined) =>
    revisions.get(d?.targetServiceRevisionArn ?? '');
  const current = revision(newest);
  const previous = older.find((d) => d.status === 'SUCCESSFUL' && !sameImages(revision(d), current));
  const describe = (to: ServiceRevision | undefined): ImageMove[] =>
    [...imagesOf(current)].map(([container, i]) => ({
      container,
      from: pinned(i.image, i.digest),
      to: to
        ? pinned(imagesOf(to).get(container)?.image ?? i.image, imagesOf(to).get(container)?.digest)
        : '(the last completed revision)',
    }));
  if ((newest.status === 'IN_PROGRESS' || newest.status === 'PENDING') && newest.serviceDeploymentArn) {
    // ECS returns to the last completed revision: the newest older SUCCESSFUL one.
    const lastCompleted = older.find((d) => d.status === 'SUCCESSFUL');
    if (!lastCompleted)
      throw new RollbackError(
        workload,
        'its deployment in progress has no completed one before it to return to',
      );
    return {
      kind: 'stop-deployment',
      workload,
      serviceDeploymentArn: newest.serviceDeploymentArn,
      moves: describe(revision(lastCompleted)),
    };
  }
  const target = revision(previous);
  if (!previous || !target?.taskDefinition)
    throw new RollbackError(
      workload,
      'no earlier successful deployment ran other images (ListServiceDeployments)',
    );
  const changes = [...imagesOf(target)].map(([containerName, i]) => ({
    containerName,
    fromImage: imagesOf(current).get(containerName)?.image ?? '',
    toImage: pinned(i.image, i.digest),
    toDigest: (i.digest ?? '') as Digest,
    reason: `rollback to the revision of ${previous.serviceDeploymentArn ?? 'the previous deployment'}`,
  }));
  return {
    kind: 'ecs-revision',
    workload,
    action: {
      type: 'register-task-definition',
      clusterArn: service.clusterArn,
      serviceArn: service.serviceArn,
      serviceName: service.serviceName,
      taskDefinitionArn: target.taskDefinition,
      changes,
    },
    moves: describe(target),
  };
}

export async function gatherEcsRollback(
  ecs: ECSClient,
  id: Extract<WorkloadId, { platform: 'ecs' }>,
): Promise<RollbackPlan> {
  const workload = formatWorkloadId(id);
  const { services = [] } = await ecs.send(
    new DescribeServicesCommand({ cluster: id.cluster, services: [id.service] }),
  );
  const svc = services.find((s) => s.status === 'ACTIVE');
  if (!svc?.serviceArn || !svc.clusterArn || !svc.serviceName || !svc.taskDefinition)
    throw new RollbackError(workload, 'ECS has no such active service');
  const deployments: ServiceDeploymentBrief[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(
      new ListServiceDeploymentsCommand({
        cluster: id.cluster,
        service: id.service,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    deployments.push(...(page.serviceDeployments ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  deployments.sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
  const arns = [
    ...new Set(deployments.map((d) => d.targetServiceRevisionArn).filter((a): a is string => !!a)),
  ];
  const revisions = new Map<string, ServiceRevision>();
  for (let i = 0; i < arns.length; i += 20) {
    const out = await ecs.send(
      new DescribeServiceRevisionsCommand({ serviceRevisionArns: arns.slice(i, i + 20) }),
    );
    for (const r of out.serviceRevisions ?? [])
      if (r.serviceRevisionArn) revisions.set(r.serviceRevisionArn, r);
  }
  return planEcsRollback(
    workload,
    {
      clusterArn: svc.clusterArn,
      serviceArn: svc.serviceArn,
      serviceName: svc.serviceName,
      taskDefinition: svc.taskDefinition,
    },
    deployments,
    revisions,
  );
}

interface KubeTemplate {
  metadata?: {
    annotations?: Record<string, string>;
    ownerReferences?: { kind?: string; name?: string }[];
    name?: string;
  };
  spec?: {
    template?: {
      spec?: {
        containers?: { name: string; image?: string }[];
        initContainers?: { name: string; image?: string }[];
      };
    };
  };
}

/** The previous ReplicaSet of a Deployment (by deployment.kubernetes.io/revision), as `kubectl rollout undo` picks it. Pure. */
export function planEksRollback(
  workload: string,
  deployment: KubeTemplate,
  replicaSets: readonly KubeTemplate[],
  path: string,
): RollbackPlan {
  const revisionOf = (rs: KubeTemplate) =>
    Number(rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
  const containersOf = (t: KubeTemplate) => [
    ...(t.spec?.template?.spec?.containers ?? []),
    ...(t.spec?.template?.spec?.initContainers ?? []),
  ];
  const key = (t: KubeTemplate) => JSON.stringify(containersOf(t).map((c) => [c.name, c.image]));
  const owned = replicaSets
    .filter((rs) =>
      rs.metadata?.ownerReferences?.some(
        (o) => o.kind === 'Deployment' && o.name === deployment.metadata?.name,
      ),
    )
    .sort((a, b) => revisionOf(b) - revisionOf(a));
  const previous = owned.find((rs) => key(rs) !== key(deployment));
  if (!previous) throw new RollbackError(workload, 'no earlier ReplicaSet ran other images');
  const before = new Map(containersOf(previous).map((c) => [c.name, c.image ?? '']));
  const moves = containersOf(deployment)
    .filter((c) => before.has(c.name) && before.get(c.name) !== c.image)
    .map((c) => ({ container: c.name, from: c.image ?? '', to: before.get(c.name) ?? '' }));
  // `kubectl rollout undo` would put back `repo:latest` when harborpilot had pinned `repo:latest@sha256:…`:
  // new pods would pull whatever the tag names now, the very image being rolled back. ReplicaSets do not keep
  // the digest an unpinned tag resolved to, so refuse rather than roll back to the newest image.
  for (const m of moves) {
    const to = parseImageRef(m.to);
    const from = parseImageRef(m.from);
    if (
      !to.digest &&
      to.repository === from.repository &&
      to.tag === from.tag &&
      to.registry === from.registry
    )
      throw new RollbackError(
        workload,
        `the earlier ReplicaSet ran ${m.to} (container ${m.container}), a tag with no digest that now names the newest image; pin the image you want with kubectl set image, then freeze it`,
      );
  }
  const init = new Set((deployment.spec?.template?.spec?.initContainers ?? []).map((c) => c.name));
  const images = (which: 'containers' | 'initContainers') =>
    moves
      .filter((m) => init.has(m.container) === (which === 'initContainers'))
      .map((m) => ({ name: m.container, image: m.to }));
  const spec: Record<string, unknown> = {};
  if (images('containers').length) spec.containers = images('containers');
  if (images('initContainers').length) spec.initContainers = images('initContainers');
  return { kind: 'eks-patch', workload, path, patch: { spec: { template: { spec } } }, moves };
}

export async function gatherEksRollback(
  kube: KubeClient,
  id: Extract<WorkloadId, { platform: 'eks' }>,
): Promise<RollbackPlan> {
  const workload = formatWorkloadId(id);
  if (id.kind !== 'Deployment')
    throw new RollbackError(
      workload,
      `a ${id.kind}'s earlier templates are ControllerRevisions, which rollback does not read yet: use kubectl rollout undo`,
    );
  const path = workloadPath(id);
  const deployment = await kube.get<KubeTemplate>(path);
  const replicaSets = (await kube.list(
    `/apis/apps/v1/namespaces/${id.namespace}/replicasets`,
  )) as KubeTemplate[];
  return planEksRollback(workload, deployment, replicaSets, path);
}

/** Carries out the plan; the ECS revision path registers a pinned revision (once: a retry reuses it). */
export async function applyRollback(
  plan: RollbackPlan,
  clients: { ecs: ECSClient; kube?: KubeClient },
): Promise<string> {
  switch (plan.kind) {
    case 'stop-deployment':
      await clients.ecs.send(
        new StopServiceDeploymentCommand({
          serviceDeploymentArn: plan.serviceDeploymentArn,
          stopType: 'ROLLBACK',
        }),
      );
      return `StopServiceDeployment ${plan.serviceDeploymentArn} (ROLLBACK)`;
    case 'ecs-revision': {
      const result = await applyServiceAction(
        clients.ecs,
        plan.action,
        new TaskDefinitionCache(clients.ecs, { includeTags: true }),
      );
      return `UpdateService to ${result.taskDefinitionArn}`;
    }
    case 'eks-patch':
      if (!clients.kube) throw new Error('no Kubernetes connection');
      await clients.kube.patch(plan.path, plan.patch, 'strategic');
      return `patched ${plan.path}`;
    default: {
      const never: never = plan;
      return never;
    }
  }
}
