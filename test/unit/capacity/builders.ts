/** Small builders for capacity state: each test states only what matters to it. */
import type {
  ContainerInstanceState,
  EcsClusterState,
  EcsDeploymentState,
  EcsServiceState,
  NodeState,
  PodState,
} from '../../../shared/capacity/model';

export const NOW = Date.parse('2026-11-25T10:25:00Z');
export const MIN = 60_000;

let n = 0;
export function instance(
  cpu: number,
  memory: number,
  o: Partial<ContainerInstanceState> = {},
): ContainerInstanceState {
  n++;
  const kind = o.kind ?? 'EC2';
  const id = o.instanceId ?? `${kind === 'EXTERNAL' ? 'mi' : 'i'}-${String(n).padStart(8, '0')}`;
  return {
    containerInstanceArn: `arn:aws:ecs:us-east-1:000000000000:container-instance/prod/${id}`,
    instanceId: id,
    kind,
    status: 'ACTIVE',
    agentConnected: true,
    registered: { cpu: 4096, memory: 8192 },
    remaining: { cpu, memory },
    reservedPorts: [],
    ...o,
  };
}

export function deployment(o: Partial<EcsDeploymentState> = {}): EcsDeploymentState {
  return {
    id: 'ecs-svc/1111111111111111111',
    status: 'PRIMARY',
    rolloutState: 'COMPLETED',
    desiredCount: 2,
    runningCount: 2,
    pendingCount: 0,
    createdAtMs: NOW - 60 * MIN,
    updatedAtMs: NOW - 60 * MIN,
    ...o,
  };
}

export function service(
  name: string,
  o: Partial<Omit<EcsServiceState, 'task'>> & { task?: Partial<EcsServiceState['task']> } = {},
): EcsServiceState {
  const { task, ...rest } = o;
  return {
    serviceName: name,
    serviceArn: `arn:aws:ecs:us-east-1:000000000000:service/prod/${name}`,
    capacity: 'EC2',
    capacityProviders: [],
    desiredCount: 2,
    runningCount: 2,
    pendingCount: 0,
    minimumHealthyPercent: 100,
    maximumPercent: 200,
    deployments: [deployment()],
    ...rest,
    task: {
      taskDefinitionArn: `arn:aws:ecs:us-east-1:000000000000:task-definition/${name}:1`,
      cpu: 256,
      memory: 512,
      hostPorts: [],
      ...task,
    },
  };
}

export function cluster(
  instances: ContainerInstanceState[],
  services: EcsServiceState[],
  name = 'prod',
): EcsClusterState {
  return {
    clusterName: name,
    clusterArn: `arn:aws:ecs:us-east-1:000000000000:cluster/${name}`,
    instances,
    services,
  };
}

export function node(name: string, o: Partial<NodeState> = {}): NodeState {
  return {
    name,
    ready: true,
    fargate: false,
    allocatable: { cpuMillis: 1930, memoryBytes: 7 * 2 ** 30, pods: 29 },
    ...o,
  };
}

export function pod(name: string, o: Partial<PodState> = {}): PodState {
  return {
    namespace: 'shop',
    name,
    owner: 'deployment/api',
    phase: 'Running',
    fargate: false,
    requests: { cpuMillis: 250, memoryBytes: 256 * 2 ** 20 },
    createdAtMs: NOW - 60 * MIN,
    ...o,
  };
}
