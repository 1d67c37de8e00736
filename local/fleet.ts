/**
 * The fleet as the console shows it (GET /_harborpilot/fleet): per account and region, ECS clusters (services,
 * deployments, the digest each task runs, container instances and their free CPU and memory), EKS clusters
 * (node groups, nodes, workloads, pods), ECR repositories (images, multi-arch children, what uses each). Read
 * straight from the backends' state, so it costs no API call, throttles nothing and is never faulted: it is
 * the emulator's own view, not a client's.
 */
import type { Scope } from './aws/store';
import type { EcrBackend } from './ecr';
import type { Repository, StoredImage } from './ecr/registry';
import type { EcsBackend } from './ecs';
import type { Cluster as EcsCluster, Service } from './ecs/model';
import type { EksBackend, EksClusterOverview } from './eks';
import type { KubeObject } from './eks/kube/store';
import { readImageReference } from './image-reference';

export interface FleetSnapshot {
  now: string;
  speed: number;
  scopes: FleetScope[];
}

export interface FleetScope {
  accountId: string;
  region: string;
  ecs: EcsClusterView[];
  eks: EksClusterView[];
  ecr: RepositoryView[];
}

/** Where an image runs, for the ECR view's "used by" (keyed by repository and digest). */
interface Use {
  repository: string;
  digest: string;
  by: string;
}

export interface FleetSources {
  ecs: EcsBackend;
  eks: EksBackend;
  ecr: EcrBackend;
  now: () => Date;
  speed: () => number;
}

export function fleetSnapshot(src: FleetSources): FleetSnapshot {
  const scopes = new Map<string, FleetScope>();
  const scopeOf = (s: Scope): FleetScope => {
    const key = `${s.accountId}/${s.region}`;
    let scope = scopes.get(key);
    if (!scope) {
      scope = { accountId: s.accountId, region: s.region, ecs: [], eks: [], ecr: [] };
      scopes.set(key, scope);
    }
    return scope;
  };
  const uses: Use[] = [];
  for (const [scope, state] of src.ecs.scopes()) {
    for (const cluster of state.clusters.values()) {
      if (cluster.status !== 'ACTIVE') continue;
      scopeOf(scope).ecs.push(ecsCluster(cluster, uses));
    }
  }
  for (const c of src.eks.overview()) scopeOf(c).eks.push(eksCluster(c, uses));
  for (const [scope, repositories] of src.ecr.registry.entries()) {
    for (const repo of repositories.values()) scopeOf(scope).ecr.push(repositoryView(repo, uses));
  }
  const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
  for (const s of scopes.values()) {
    s.ecs.sort(byName);
    s.eks.sort(byName);
    s.ecr.sort(byName);
  }
  return {
    now: src.now().toISOString(),
    speed: src.speed(),
    scopes: [...scopes.values()].sort(
      (a, b) => a.accountId.localeCompare(b.accountId) || a.region.localeCompare(b.region),
    ),
  };
}

// ── ECS ────────────────────────────────────────────────────────────────────────────────────────────

export interface EcsClusterView {
  name: string;
  services: {
    name: string;
    status: string;
    desired: number;
    running: number;
    pending: number;
    launchType: string;
    taskDefinition: string;
    deployments: {
      id: string;
      status: string;
      rolloutState: string;
      rolloutStateReason: string;
      taskDefinition: string;
      desired: number;
      running: number;
      pending: number;
      failed: number;
      createdAt: string;
      /** Container name → the digest ECS resolved for the deployment, or why it could not. */
      images: Record<string, string>;
    }[];
    tasks: {
      id: string;
      lastStatus: string;
      deploymentId?: string;
      launchType: string;
      instance?: string;
      containers: { name: string; image: string; digest?: string }[];
    }[];
  }[];
  instances: {
    id: string;
    kind: string;
    status: string;
    agentConnected: boolean;
    cpu: number;
    memory: number;
    freeCpu: number;
    freeMemory: number;
    runningTasks: number;
  }[];
}

const taskDefName = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
const shortId = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

function ecsCluster(cluster: EcsCluster, uses: Use[]): EcsClusterView {
  const tasks = [...cluster.tasks.values()].filter((t) => t.lastStatus !== 'STOPPED');
  const instanceIds = new Map([...cluster.instances.values()].map((i) => [i.containerInstanceArn, i]));
  const services = [...cluster.services.values()]
    .filter((s) => s.status !== 'INACTIVE')
    .sort((a, b) => a.serviceName.localeCompare(b.serviceName))
    .map((svc: Service) => {
      const own = tasks.filter((t) => t.serviceName === svc.serviceName);
      const count = (status: string, deploymentId?: string) =>
        own.filter(
          (t) =>
            t.lastStatus === status && (!deploymentId || (t.deploymentId ?? t.startedBy) === deploymentId),
        ).length;
      const pendingOf = (deploymentId?: string) =>
        own.filter(
          (t) =>
            t.lastStatus !== 'RUNNING' &&
            t.desiredStatus === 'RUNNING' &&
            (!deploymentId || (t.deploymentId ?? t.startedBy) === deploymentId),
        ).length;
      for (const t of own) {
        if (t.lastStatus !== 'RUNNING') continue;
        for (const c of t.containers) {
          const repository = ecrPath(c.image);
          if (repository && c.imageDigest) {
            uses.push({
              repository,
              digest: c.imageDigest,
              by: `ECS ${cluster.clusterName}/${svc.serviceName}`,
            });
          }
        }
      }
      return {
        name: svc.serviceName,
        status: svc.status,
        desired: svc.desiredCount,
        running: count('RUNNING'),
        pending: pendingOf(),
        launchType:
          svc.launchType ?? svc.capacityProviderStrategy?.map((p) => p.capacityProvider).join('+') ?? '',
        taskDefinition: taskDefName(svc.taskDefinition),
        deployments: svc.deployments.map((d) => ({
          id: d.id,
          status: d.status,
          rolloutState: d.rolloutState,
          rolloutStateReason: d.rolloutStateReason,
          taskDefinition: taskDefName(d.taskDefinition),
          desired: d.desiredCount,
          running: count('RUNNING', d.id),
          pending: pendingOf(d.id),
          failed: d.failedTasks,
          createdAt: new Date(d.createdAt).toISOString(),
          images: Object.fromEntries(
            Object.entries(d.images).map(([name, r]) => [name, 'digest' in r ? r.digest : r.error]),
          ),
        })),
        tasks: own.map((t) => {
          const instance = t.containerInstanceArn ? instanceIds.get(t.containerInstanceArn) : undefined;
          return {
            id: shortId(t.taskArn),
            lastStatus: t.lastStatus,
            ...((t.deploymentId ?? t.startedBy) ? { deploymentId: t.deploymentId ?? t.startedBy } : {}),
            launchType: t.launchType,
            ...(instance ? { instance: instance.ec2InstanceId } : {}),
            containers: t.containers.map((c) => ({
              name: c.name,
              image: c.image,
              ...(c.imageDigest ? { digest: c.imageDigest } : {}),
            })),
          };
        }),
      };
    });
  const instances = [...cluster.instances.values()].map((i) => ({
    id: i.ec2InstanceId,
    kind: i.kind,
    status: i.status,
    agentConnected: i.agentConnected,
    cpu: i.cpu,
    memory: i.memory,
    freeCpu: i.cpu - i.usedCpu,
    freeMemory: i.memory - i.usedMemory,
    runningTasks: tasks.filter((t) => t.containerInstanceArn === i.containerInstanceArn).length,
  }));
  return { name: cluster.clusterName, services, instances };
}

/** The ECR repository an image reference names, or undefined for another registry's image. */
function ecrPath(image: string): string | undefined {
  try {
    const ref = readImageReference(image);
    return ref.ecr ? ref.path : undefined;
  } catch {
    return undefined;
  }
}

// ── EKS ────────────────────────────────────────────────────────────────────────────────────────────

export interface EksClusterView {
  name: string;
  version: string;
  status: string;
  nodegroups: EksClusterOverview['nodegroups'];
  fargateProfiles: string[];
  nodes: { name: string; group: string; instanceType: string; ready: boolean; cpu: string; memory: string }[];
  workloads: {
    kind: string;
    namespace: string;
    name: string;
    desired: number;
    ready: number;
    updated: number;
    images: string[];
  }[];
  pods: {
    namespace: string;
    name: string;
    node: string;
    phase: string;
    ready: boolean;
    owner: string;
    images: { name: string; image: string; imageID: string }[];
  }[];
}

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are plain JSON, read field by field
type Json = any;

const WORKLOADS = [
  ['deployments', 'Deployment'],
  ['statefulsets', 'StatefulSet'],
  ['daemonsets', 'DaemonSet'],
] as const;

function eksCluster(c: EksClusterOverview, uses: Use[]): EksClusterView {
  const store = c.kube.store;
  const nodes = store.list('nodes').map((n: Json) => {
    const labels = n.metadata.labels ?? {};
    return {
      name: n.metadata.name,
      group:
        labels['eks.amazonaws.com/nodegroup'] ??
        labels['alpha.eksctl.io/nodegroup-name'] ??
        (labels['eks.amazonaws.com/compute-type'] === 'fargate' ? 'fargate' : ''),
      instanceType: labels['node.kubernetes.io/instance-type'] ?? '',
      ready: (n.status?.conditions ?? []).some((x: Json) => x.type === 'Ready' && x.status === 'True'),
      cpu: String(n.status?.allocatable?.cpu ?? ''),
      memory: String(n.status?.allocatable?.memory ?? ''),
    };
  });
  const workloads = WORKLOADS.flatMap(([plural, kind]) =>
    store.list(plural).map((w: Json) => {
      const status = w.status ?? {};
      const desired = kind === 'DaemonSet' ? (status.desiredNumberScheduled ?? 0) : (w.spec?.replicas ?? 1);
      return {
        kind,
        namespace: w.metadata.namespace ?? '',
        name: w.metadata.name,
        desired,
        ready: kind === 'DaemonSet' ? (status.numberReady ?? 0) : (status.readyReplicas ?? 0),
        updated: kind === 'DaemonSet' ? (status.updatedNumberScheduled ?? 0) : (status.updatedReplicas ?? 0),
        images: (w.spec?.template?.spec?.containers ?? []).map((x: Json) => String(x.image)),
      };
    }),
  );
  // A Deployment's pods belong to one of its ReplicaSets: name the Deployment, as `kubectl rollout` does.
  const replicaSetOwner = new Map<string, string>();
  for (const rs of store.list('replicasets') as Json[]) {
    const owner = rs.metadata.ownerReferences?.[0];
    if (owner)
      replicaSetOwner.set(`${rs.metadata.namespace}/${rs.metadata.name}`, `${owner.kind}/${owner.name}`);
  }
  const ownerOf = (p: Json): string => {
    const ref = p.metadata.ownerReferences?.[0];
    if (!ref) return '';
    const own = `${ref.kind}/${ref.name}`;
    return ref.kind === 'ReplicaSet'
      ? (replicaSetOwner.get(`${p.metadata.namespace}/${ref.name}`) ?? own)
      : own;
  };
  const pods = store
    .list('pods')
    .filter((p: KubeObject) => !p.metadata.deletionTimestamp)
    .map((p: Json) => {
      const statuses: Json[] = p.status?.containerStatuses ?? [];
      const owner = ownerOf(p);
      const images = (p.spec?.containers ?? []).map((x: Json) => {
        const s = statuses.find((st) => st.name === x.name);
        return { name: String(x.name), image: String(x.image), imageID: String(s?.imageID ?? '') };
      });
      if (p.status?.phase === 'Running') {
        for (const i of images) {
          const repository = ecrPath(i.image);
          const digest = i.imageID.split('@')[1];
          if (repository && digest) {
            uses.push({
              repository,
              digest,
              by: `EKS ${c.name} ${p.metadata.namespace}/${owner || `Pod/${p.metadata.name}`}`,
            });
          }
        }
      }
      return {
        namespace: p.metadata.namespace ?? '',
        name: p.metadata.name,
        node: String(p.spec?.nodeName ?? ''),
        phase: String(p.status?.phase ?? 'Pending'),
        ready: statuses.length > 0 && statuses.every((s) => s.ready === true),
        owner,
        images,
      };
    });
  return {
    name: c.name,
    version: c.version,
    status: c.status,
    nodegroups: c.nodegroups,
    fargateProfiles: c.fargateProfiles,
    nodes,
    workloads,
    pods,
  };
}

// ── ECR ────────────────────────────────────────────────────────────────────────────────────────────

export interface RepositoryView {
  name: string;
  uri: string;
  tags: Record<string, string>;
  images: {
    digest: string;
    tags: string[];
    pushedAt: string;
    sizeBytes: number;
    mediaType: string;
    artifactMediaType?: string;
    /** Per-platform manifests of an index. */
    children: string[];
    /** The index this image is a platform manifest of. */
    parent?: string;
    /** The image this artifact (a signature, an attestation) is about. */
    subject?: string;
    /** What runs it now (or, for an index, one of its platform manifests): `ECS shop/api`, `EKS ...`. */
    usedBy: string[];
  }[];
}

function repositoryView(repo: Repository, uses: Use[]): RepositoryView {
  // Newest first; at the same (simulated) time, the later push first: the map keeps push order.
  const images = [...repo.images.values()]
    .reverse()
    .sort((a, b) => b.pushedAt.getTime() - a.pushedAt.getTime());
  const parents = new Map<string, string>();
  for (const image of images) for (const child of image.children) parents.set(child, image.digest);
  const usersOf = (image: StoredImage) => {
    const digests = new Set<string>([image.digest, ...image.children]);
    const by = uses.filter((u) => u.repository === repo.name && digests.has(u.digest)).map((u) => u.by);
    return [...new Set(by)].sort();
  };
  return {
    name: repo.name,
    uri: repo.uri,
    tags: Object.fromEntries(repo.resourceTags),
    images: images.map((image) => {
      const parent = parents.get(image.digest);
      return {
        digest: image.digest,
        tags: [...image.tags],
        pushedAt: image.pushedAt.toISOString(),
        sizeBytes: image.sizeBytes,
        mediaType: image.manifestMediaType,
        ...(image.artifactMediaType ? { artifactMediaType: image.artifactMediaType } : {}),
        children: image.children,
        ...(parent ? { parent } : {}),
        ...(image.subject ? { subject: image.subject } : {}),
        usedBy: usersOf(image),
      };
    }),
  };
}
