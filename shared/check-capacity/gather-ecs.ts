/**
 * Reads what ECS capacity depends on, within the API's limits: ListContainerInstances and ListServices
 * pages of 100, DescribeContainerInstances 100 a call, DescribeServices 10 a call, each task definition
 * once, and the Fargate tasks only when there is a quota to hold them against.
 */
import {
  type CapacityProviderStrategyItem,
  type Cluster,
  type ContainerInstance,
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListContainerInstancesCommand,
  ListTasksCommand,
  type Resource,
  type Service,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import pLimit from 'p-limit';
import { describeClusterServices, EcsReadError, listClusterArns } from '../aws/ecs';
import { ScanDeadlineError } from '../aws/read-budget';
import { TaskDefinitionCache } from '../aws/task-definitions';
import type {
  ContainerInstanceState,
  EcsClusterState,
  EcsServiceState,
  ServiceCapacity,
  TaskReservation,
} from './model';

/** ECS read APIs sustain about 20 calls a second: a few clusters at a time stays well under the burst. */
const CONCURRENCY = 5;

export interface EcsGatherResult {
  clusters: EcsClusterState[];
  /** vCPU of running and pending Fargate On-Demand tasks; only read when asked (a quota is configured). */
  fargateOnDemandVcpu?: number;
  /**
   * Clusters the scan had no time left for (ScanDeadlineError), whole: none of their services is in `clusters`.
   * Only when the caller allows it (`partial`); otherwise running out of time fails the scan, as before.
   */
  unfinished: string[];
  /** Fargate On-Demand vCPU of each cluster read (cluster ARN → vCPU), when asked: a pass carries it between turns. */
  fargateVcpuByCluster?: Record<string, number>;
}

export async function gatherEcs(
  ecs: ECSClient,
  options: {
    clusters: readonly string[];
    fargate: boolean;
    taskDefinitions?: TaskDefinitionCache;
    /** Read these cluster ARNs rather than listing `clusters` (a turn of a pass: the clusters still to read). */
    clusterArns?: readonly string[];
    /** A cluster the invocation has no time left for is left in `unfinished` rather than failing the scan. */
    partial?: boolean;
  },
): Promise<EcsGatherResult> {
  const refs = options.clusterArns ? [...options.clusterArns] : await listClusterArns(ecs, options.clusters);
  // A cluster deleted since the pass began is simply gone; a configured one that does not exist is an error.
  const described = await describeClusters(ecs, refs, options.clusterArns !== undefined);
  const taskDefinitions = options.taskDefinitions ?? new TaskDefinitionCache(ecs);
  // A turn reads one cluster at a time (its instances and services side by side), so that one stopped by its
  // deadline has finished whole clusters rather than started all of them; paced, the account's reads per second
  // bound the scan either way.
  const limit = pLimit(options.partial ? 1 : CONCURRENCY);
  const unfinished: string[] = [];
  const fargateVcpuByCluster: Record<string, number> = {};
  const read = await Promise.all(
    described.map((c) =>
      limit(async () => {
        const arn = c.clusterArn ?? '';
        try {
          const state = await gatherCluster(ecs, c, taskDefinitions);
          // Read with the cluster, so a cluster is either read whole (services and Fargate tasks) or not at all.
          if (options.fargate) fargateVcpuByCluster[arn] = await fargateVcpu(ecs, arn);
          return state;
        } catch (err) {
          if (!(options.partial && err instanceof ScanDeadlineError)) throw err;
          unfinished.push(arn);
          return undefined;
        }
      }),
    ),
  );
  const clusters = read.filter((c): c is EcsClusterState => c !== undefined);
  await taskDefinitions.save();
  if (!options.fargate) return { clusters, unfinished };
  const perCluster = Object.values(fargateVcpuByCluster);
  return {
    clusters,
    unfinished,
    fargateVcpuByCluster,
    // Account-wide, so only a sum over every cluster is the account's; a pass sums what its turns carried.
    ...(unfinished.length === 0 && !options.clusterArns
      ? { fargateOnDemandVcpu: perCluster.reduce((a, b) => a + b, 0) }
      : {}),
  };
}

async function describeClusters(ecs: ECSClient, refs: string[], skipMissing = false): Promise<Cluster[]> {
  const out: Cluster[] = [];
  for (let i = 0; i < refs.length; i += 100) {
    const page = await ecs.send(new DescribeClustersCommand({ clusters: refs.slice(i, i + 100) }));
    // A configured cluster that does not exist is a config error the user must hear about.
    const failure = page.failures?.find((f) => !(skipMissing && f.reason === 'MISSING'));
    if (failure) throw new EcsReadError('DescribeClusters', failure.arn ?? '?', new Error(failure.reason));
    out.push(...(page.clusters ?? []).filter((c) => c.status !== 'INACTIVE'));
  }
  return out;
}

async function gatherCluster(
  ecs: ECSClient,
  cluster: Cluster,
  taskDefinitions: TaskDefinitionCache,
): Promise<EcsClusterState> {
  const clusterArn = cluster.clusterArn ?? '';
  const [instances, services] = await Promise.all([
    containerInstances(ecs, clusterArn),
    describeClusterServices(ecs, clusterArn),
  ]);
  const states: EcsServiceState[] = [];
  for (const s of services) {
    if (!s.taskDefinition) continue;
    const td = await taskDefinitions.get(s.taskDefinition);
    states.push(toServiceState(s, td, cluster.defaultCapacityProviderStrategy ?? []));
  }
  return {
    clusterName: cluster.clusterName ?? clusterArn.slice(clusterArn.lastIndexOf('/') + 1),
    clusterArn,
    instances,
    services: states,
  };
}

async function containerInstances(ecs: ECSClient, cluster: string): Promise<ContainerInstanceState[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(new ListContainerInstancesCommand({ cluster, maxResults: 100, nextToken }));
    arns.push(...(page.containerInstanceArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const out: ContainerInstanceState[] = [];
  for (let i = 0; i < arns.length; i += 100) {
    const page = await ecs.send(
      new DescribeContainerInstancesCommand({ cluster, containerInstances: arns.slice(i, i + 100) }),
    );
    out.push(...(page.containerInstances ?? []).map(toInstanceState));
  }
  return out;
}

const resource = (rs: Resource[] | undefined, name: string) => rs?.find((r) => r.name === name);

export function toInstanceState(i: ContainerInstance): ContainerInstanceState {
  const id =
    i.ec2InstanceId ?? i.containerInstanceArn?.slice(i.containerInstanceArn.lastIndexOf('/') + 1) ?? '?';
  const amount = (rs: Resource[] | undefined, name: string) => resource(rs, name)?.integerValue ?? 0;
  const ports = ['PORTS', 'PORTS_UDP'].flatMap((n) =>
    (resource(i.remainingResources, n)?.stringSetValue ?? []).map(Number).filter(Number.isFinite),
  );
  return {
    containerInstanceArn: i.containerInstanceArn ?? '',
    instanceId: id,
    // ECS Anywhere registers managed instances (`mi-`) of Systems Manager.
    kind: id.startsWith('mi-') ? 'EXTERNAL' : 'EC2',
    status: i.status ?? 'UNKNOWN',
    agentConnected: i.agentConnected ?? false,
    registered: {
      cpu: amount(i.registeredResources, 'CPU'),
      memory: amount(i.registeredResources, 'MEMORY'),
    },
    remaining: { cpu: amount(i.remainingResources, 'CPU'), memory: amount(i.remainingResources, 'MEMORY') },
    reservedPorts: [...new Set(ports)],
  };
}

/** Task-level CPU and memory when set; otherwise the containers' (memoryReservation is what ECS reserves). */
export function taskReservation(td: TaskDefinition): TaskReservation {
  const containers = td.containerDefinitions ?? [];
  const cpu = td.cpu ? Number(td.cpu) : containers.reduce((s, c) => s + (c.cpu ?? 0), 0);
  const memory = td.memory
    ? Number(td.memory)
    : containers.reduce((s, c) => s + (c.memoryReservation ?? c.memory ?? 0), 0);
  const mode = td.networkMode ?? 'bridge';
  const hostPorts =
    mode === 'awsvpc' || mode === 'none'
      ? []
      : containers.flatMap((c) =>
          (c.portMappings ?? [])
            .map((p) => (mode === 'host' ? (p.hostPort ?? p.containerPort) : p.hostPort))
            .filter((p): p is number => typeof p === 'number' && p > 0),
        );
  return {
    taskDefinitionArn: td.taskDefinitionArn ?? '',
    cpu: Number.isFinite(cpu) ? cpu : 0,
    memory: Number.isFinite(memory) ? memory : 0,
    hostPorts: [...new Set(hostPorts)],
  };
}

/** Launch type, else the service's (or the cluster's default) capacity provider strategy. */
export function capacityOf(
  s: Pick<Service, 'launchType' | 'capacityProviderStrategy'>,
  clusterDefault: CapacityProviderStrategyItem[],
): { capacity: ServiceCapacity; capacityProviders: string[] } {
  if (s.launchType === 'FARGATE' || s.launchType === 'EXTERNAL' || s.launchType === 'EC2') {
    return { capacity: s.launchType, capacityProviders: [] };
  }
  const strategy = s.capacityProviderStrategy?.length ? s.capacityProviderStrategy : clusterDefault;
  const providers = strategy.map((p) => p.capacityProvider ?? '').filter(Boolean);
  const instanceProviders = providers.filter((p) => !p.startsWith('FARGATE'));
  if (providers.length > 0 && instanceProviders.length === 0)
    return { capacity: 'FARGATE', capacityProviders: [] };
  // Auto Scaling group capacity providers run EC2 container instances.
  return { capacity: 'EC2', capacityProviders: instanceProviders };
}

export function toServiceState(
  s: Service,
  td: TaskDefinition,
  clusterDefault: CapacityProviderStrategyItem[],
): EcsServiceState {
  const ms = (d: Date | undefined) => (d ? d.getTime() : 0);
  return {
    serviceName: s.serviceName ?? '',
    serviceArn: s.serviceArn ?? '',
    ...capacityOf(s, clusterDefault),
    desiredCount: s.desiredCount ?? 0,
    runningCount: s.runningCount ?? 0,
    pendingCount: s.pendingCount ?? 0,
    minimumHealthyPercent: s.deploymentConfiguration?.minimumHealthyPercent ?? 100,
    maximumPercent: s.deploymentConfiguration?.maximumPercent ?? 200,
    task: taskReservation(td),
    deployments: (s.deployments ?? []).map((d) => ({
      id: d.id ?? '',
      status: d.status ?? '',
      ...(d.rolloutState ? { rolloutState: d.rolloutState } : {}),
      desiredCount: d.desiredCount ?? 0,
      runningCount: d.runningCount ?? 0,
      pendingCount: d.pendingCount ?? 0,
      createdAtMs: ms(d.createdAt),
      updatedAtMs: ms(d.updatedAt ?? d.createdAt),
    })),
  };
}

/** Running and pending Fargate tasks that count against the On-Demand quota (Fargate Spot has its own). */
async function fargateVcpu(ecs: ECSClient, cluster: string): Promise<number> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(
      new ListTasksCommand({
        cluster,
        launchType: 'FARGATE',
        desiredStatus: 'RUNNING',
        maxResults: 100,
        nextToken,
      }),
    );
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  let units = 0;
  for (let i = 0; i < arns.length; i += 100) {
    const page = await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100) }));
    for (const t of page.tasks ?? []) {
      if (t.lastStatus === 'STOPPED' || t.capacityProviderName === 'FARGATE_SPOT') continue;
      units += Number(t.cpu ?? 0) || 0;
    }
  }
  return units / 1024;
}
