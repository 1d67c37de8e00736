/**
 * checkCapacity's vocabulary: the state gathered from ECS, EKS and Kubernetes (plain data, so the plan is a
 * pure function of it and tests write it as tables), the findings the plan draws from it, and the report.
 * CPU is in ECS CPU units (1024 a vCPU) on ECS and millicores on Kubernetes; memory is MiB on ECS and bytes
 * on Kubernetes, as each API says it.
 */

export type Severity = 'info' | 'warning' | 'critical';
export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** Where tasks of a service run: container instances of one kind, or Fargate. */
export type ServiceCapacity = 'EC2' | 'EXTERNAL' | 'FARGATE';
export type InstanceKind = 'EC2' | 'EXTERNAL';

export interface EcsResources {
  cpu: number;
  memory: number;
}

export interface ContainerInstanceState {
  containerInstanceArn: string;
  /** `i-...` for EC2, `mi-...` for ECS Anywhere. */
  instanceId: string;
  kind: InstanceKind;
  /** ACTIVE, DRAINING, REGISTERING ... only ACTIVE with a connected agent takes new tasks. */
  status: string;
  agentConnected: boolean;
  registered: EcsResources;
  remaining: EcsResources;
  /** Host ports already reserved (remainingResources PORTS / PORTS_UDP). */
  reservedPorts: number[];
}

/** What one task of a service reserves when it is placed. */
export interface TaskReservation {
  taskDefinitionArn: string;
  cpu: number;
  memory: number;
  /** Fixed host ports: at most one such task per instance. */
  hostPorts: number[];
}

export interface EcsDeploymentState {
  id: string;
  /** PRIMARY or ACTIVE. */
  status: string;
  rolloutState?: string;
  desiredCount: number;
  runningCount: number;
  pendingCount: number;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface EcsServiceState {
  serviceName: string;
  serviceArn: string;
  capacity: ServiceCapacity;
  /** The capacity provider(s) when the service uses a strategy (an Auto Scaling group may add instances). */
  capacityProviders: string[];
  desiredCount: number;
  runningCount: number;
  pendingCount: number;
  minimumHealthyPercent: number;
  maximumPercent: number;
  task: TaskReservation;
  deployments: EcsDeploymentState[];
}

export interface EcsClusterState {
  clusterName: string;
  clusterArn: string;
  instances: ContainerInstanceState[];
  services: EcsServiceState[];
}

export interface FargateUsage {
  /** vCPUs of the running and pending Fargate On-Demand tasks of the account and region. */
  onDemandVcpu: number;
  /** Service Quotas L-3032A538, from config. */
  quotaVcpu: number;
}

export interface NodegroupState {
  nodegroupName: string;
  status: string;
  minSize: number;
  maxSize: number;
  desiredSize: number;
  healthIssues: { code: string; message: string }[];
}

export interface NodeState {
  name: string;
  ready: boolean;
  fargate: boolean;
  /** Managed node group label, when it has one. */
  nodegroup?: string;
  allocatable: { cpuMillis: number; memoryBytes: number; pods: number };
}

export interface PodState {
  namespace: string;
  name: string;
  /** `deployment/api`, `statefulset/db`, `job/x`, or `pod/name` for a bare pod: what the user knows. */
  owner: string;
  phase: string;
  nodeName?: string;
  fargate: boolean;
  requests: { cpuMillis: number; memoryBytes: number };
  createdAtMs: number;
  /** PodScheduled=False with reason Unschedulable: since when, and the scheduler's message. */
  unschedulable?: { sinceMs: number; message: string };
}

export interface EksClusterState {
  clusterName: string;
  nodegroups: NodegroupState[];
  nodes: NodeState[];
  pods: PodState[];
}

export interface CapacityState {
  nowMs: number;
  ecs: EcsClusterState[];
  eks: EksClusterState[];
  fargate?: FargateUsage;
}

export interface CapacityThresholds {
  stuckDeploymentMinutes: number;
  pendingPodMinutes: number;
}

export type FindingKind =
  | 'no-room'
  | 'deployment-headroom'
  | 'below-desired'
  | 'stuck-deployment'
  | 'agent-disconnected'
  | 'draining'
  | 'fargate-vcpu-quota'
  | 'nodegroup-at-max-size'
  | 'nodegroup-health'
  | 'node-not-ready'
  | 'pods-unschedulable'
  | 'fargate-pods-pending'
  /** A target (another account and region) whose capacity could not be read: its role, or its ECS or EKS refusing. */
  | 'target-unreadable';

export interface Finding {
  /** Stable across runs while the same thing is wrong: `ecs:prod:service/api:no-room`. */
  key: string;
  severity: Severity;
  kind: FindingKind;
  /** `ECS prod`, `EKS dev`, or `Fargate` for the account-wide quota: the email's table per cluster. */
  cluster: string;
  /** What it is about, in AWS words: `service/api`, `container-instance/i-0abc`, `nodegroup/workers`. */
  subject: string;
  /** One line a human reads first: `no room for another task of api`. */
  title: string;
  /** The numbers behind it. */
  detail: string;
  /**
   * Another target's finding (docs/organisation.md): how it is named (`staging (111111111111) us-west-2`);
   * its key then starts with `<account>/<region>/`. Absent for the home target's, whose keys are as before.
   */
  target?: string;
}

export interface ServiceHeadroom {
  serviceName: string;
  capacity: ServiceCapacity;
  desiredCount: number;
  runningCount: number;
  pendingCount: number;
  taskCpu: number;
  taskMemory: number;
  /** Tasks of this service that could still be placed now; null when unknown (Fargate without a quota). */
  tasksThatStillFit: number | null;
  /** Extra tasks a rolling deployment at maximumPercent starts before stopping old ones. */
  deploymentExtraTasks: number;
}

export interface InstanceTotals {
  instances: number;
  /** ACTIVE with the agent connected: where ECS can place. */
  usable: number;
  registeredCpu: number;
  registeredMemory: number;
  remainingCpu: number;
  remainingMemory: number;
}

export interface EcsClusterReport {
  cluster: string;
  ec2: InstanceTotals;
  external: InstanceTotals;
  services: ServiceHeadroom[];
}

export interface NodeHeadroom {
  node: string;
  ready: boolean;
  fargate: boolean;
  allocatableCpuMillis: number;
  requestedCpuMillis: number;
  allocatableMemoryBytes: number;
  requestedMemoryBytes: number;
  pods: number;
}

export interface EksClusterReport {
  cluster: string;
  nodes: NodeHeadroom[];
  nodegroups: NodegroupState[];
  pendingPods: number;
  unschedulablePods: number;
}

export interface CapacityReport {
  at: string;
  ecs: EcsClusterReport[];
  eks: EksClusterReport[];
  fargate?: FargateUsage;
  findings: Finding[];
}
