/**
 * ECS state for one account and region (kept in the account/region store), and the helpers every
 * operation shares (ARNs, tags, name-or-ARN lookups). Timestamps are kept as epoch milliseconds; the API returns
 * epoch seconds (awsJson) and events return ISO strings, as ECS does.
 */
import type * as Ecs from '@aws-sdk/client-ecs';
import type { Wire } from '../aws/response';
import { AwsServiceError } from '../errors';

export type Tag = { key: string; value: string };
export const LAUNCH_TYPES = ['EC2', 'FARGATE', 'EXTERNAL'] as const;
export type LaunchType = (typeof LAUNCH_TYPES)[number];

/** A container definition as registered: the scheduler reads a few members, the rest is returned as given. */
export type ContainerDef = Wire<Ecs.ContainerDefinition> & { name: string; image: string };

export interface TaskDefinition {
  taskDefinitionArn: string;
  family: string;
  revision: number;
  status: 'ACTIVE' | 'INACTIVE' | 'DELETE_IN_PROGRESS';
  containerDefinitions: ContainerDef[];
  cpu?: string;
  memory?: string;
  networkMode?: Ecs.NetworkMode;
  requiresCompatibilities: LaunchType[];
  compatibilities: LaunchType[];
  registeredAt: number;
  deregisteredAt?: number;
  /** Members ECS keeps and returns as they were registered. */
  extra: Partial<
    Pick<
      Wire<Ecs.TaskDefinition>,
      | 'taskRoleArn'
      | 'executionRoleArn'
      | 'volumes'
      | 'placementConstraints'
      | 'runtimePlatform'
      | 'pidMode'
      | 'ipcMode'
    >
  >;
}

export const DEPLOYMENT_STRATEGIES = ['ROLLING', 'BLUE_GREEN', 'LINEAR', 'CANARY'] as const;
export type DeploymentStrategy = (typeof DEPLOYMENT_STRATEGIES)[number];

export interface Deployment {
  id: string;
  status: 'PRIMARY' | 'ACTIVE' | 'INACTIVE';
  taskDefinition: string;
  desiredCount: number;
  failedTasks: number;
  createdAt: number;
  updatedAt: number;
  launchType?: LaunchType;
  capacityProviderStrategy?: Service['capacityProviderStrategy'];
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  rolloutStateReason: string;
  /** Digest (or pull error) per container name, resolved when the deployment was created. */
  images: Record<string, { digest: string } | { error: string }>;
  /** Rollback deployments are not rolled back again. */
  isRollback: boolean;
  /** ARN of the service revision this deployment rolls out (ListServiceDeployments, DescribeServiceRevisions). */
  serviceRevisionArn: string;
  finishedAt?: number;
  /** Blue/green, linear and canary: when the bake time after the traffic shift ends (epoch ms). */
  bakeUntil?: number;
  /** Blue/green, linear and canary: DescribeServiceDeployments' `lifecycleStage` while in progress. */
  lifecycleStage?: 'SCALE_UP' | 'BAKE_TIME' | 'CLEAN_UP';
  /** Set when this deployment failed and a rollback started (DescribeServiceDeployments' `rollback`). */
  rollback?: { reason: string; startedAt: number; serviceRevisionArn: string };
}

export interface ServiceEvent {
  id: string;
  createdAt: number;
  message: string;
}

export interface Service {
  serviceName: string;
  serviceArn: string;
  clusterArn: string;
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE';
  taskDefinition: string;
  desiredCount: number;
  launchType?: LaunchType;
  capacityProviderStrategy?: {
    capacityProvider: string;
    weight?: number | undefined;
    base?: number | undefined;
  }[];
  deploymentConfiguration: {
    minimumHealthyPercent: number;
    maximumPercent: number;
    deploymentCircuitBreaker: { enable: boolean; rollback: boolean };
    /**
     * ROLLING replaces tasks within minimum/maximumPercent. BLUE_GREEN, LINEAR and CANARY start the whole new
     * revision beside the old one, shift traffic, keep both for bakeTimeInMinutes, then stop the old tasks; only
     * then is the deployment done (traffic steps of LINEAR and CANARY are not modelled: the shift is at once).
     */
    strategy: DeploymentStrategy;
    bakeTimeInMinutes?: number;
  };
  /** CODE_DEPLOY or EXTERNAL: UpdateService may not start its deployments. Absent: ECS. */
  deploymentController?: 'CODE_DEPLOY' | 'EXTERNAL';
  deployments: Deployment[];
  /** Every deployment ever created, newest first (ECS keeps service deployments for 90 days). */
  history: Deployment[];
  events: ServiceEvent[];
  createdAt: number;
  tags: Tag[];
  /** Members ECS keeps and returns as they were given to CreateService. */
  extra: Partial<
    Pick<
      Wire<Ecs.Service>,
      'networkConfiguration' | 'loadBalancers' | 'healthCheckGracePeriodSeconds' | 'roleArn'
    >
  >;
  /** Task definition of the last deployment that COMPLETED. */
  lastCompletedTaskDefinition?: string;
  /** The last deployment that COMPLETED: a rollback returns to its task definition and digests. */
  lastCompleted?: Deployment;
  reconcileTimer?: number | undefined;
  /** When the pending scheduler pass runs (epoch ms): an earlier request replaces it. */
  reconcileAt?: number | undefined;
  placementFailing?: boolean;
  /**
   * ECS's service throttle: tasks in a row that failed to reach RUNNING (PENDING straight to STOPPED), counted
   * across the service's deployments until a task reaches RUNNING or the service gets a new task definition.
   */
  launchFailures?: number;
  /** While the throttle holds launches back: when the next task may be launched (epoch ms). */
  launchesResumeAt?: number | undefined;
}

export interface Container {
  containerArn: string;
  name: string;
  image: string;
  imageDigest?: string;
  lastStatus: string;
  exitCode?: number;
  reason?: string;
  cpu?: string;
  memory?: string;
  runtimeId?: string;
}

export interface Task {
  taskArn: string;
  clusterArn: string;
  taskDefinitionArn: string;
  family: string;
  group: string;
  startedBy?: string;
  serviceName?: string;
  deploymentId?: string;
  launchType: LaunchType;
  lastStatus: string;
  desiredStatus: 'RUNNING' | 'STOPPED';
  createdAt: number;
  pullStartedAt?: number;
  pullStoppedAt?: number;
  startedAt?: number;
  stoppingAt?: number;
  stoppedAt?: number;
  stopCode?: string;
  stoppedReason?: string;
  containers: Container[];
  cpu: number;
  memory: number;
  containerInstanceArn?: string;
  availabilityZone: string;
  version: number;
  updatedAt: number;
  tags: Tag[];
  /** Host ports this task holds on its container instance. */
  hostPorts: number[];
}

export interface ContainerInstance {
  containerInstanceArn: string;
  ec2InstanceId: string;
  kind: 'EC2' | 'EXTERNAL';
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE';
  agentConnected: boolean;
  cpu: number;
  memory: number;
  usedCpu: number;
  usedMemory: number;
  usedPorts: Set<number>;
  attributes: { name: string; value?: string }[];
  registeredAt: number;
  /** Set by removeCapacity: the status to restore. */
  removedBy?: 'fault';
  version: number;
  tags: Tag[];
}

export interface Cluster {
  clusterName: string;
  clusterArn: string;
  status: 'ACTIVE' | 'INACTIVE';
  services: Map<string, Service>;
  tasks: Map<string, Task>;
  instances: Map<string, ContainerInstance>;
  tags: Tag[];
  capacityProviders: string[];
  settings: Wire<Ecs.ClusterSetting>[];
}

export class EcsState {
  readonly clusters = new Map<string, Cluster>();
  /** Family → its revisions, oldest first. */
  readonly taskDefinitions = new Map<string, TaskDefinition[]>();
  /** Task definition ARN → its resource tags. */
  readonly taskDefinitionTags = new Map<string, Tag[]>();
  constructor(
    readonly accountId: string,
    readonly region: string,
  ) {}

  arn(resource: string): string {
    return `arn:aws:ecs:${this.region}:${this.accountId}:${resource}`;
  }

  /** Cluster by name or ARN, default `default`; ClusterNotFoundException as ECS answers. */
  cluster(ref: unknown, { active = true } = {}): Cluster {
    const name = typeof ref === 'string' && ref ? lastSegment(ref) : 'default';
    const cluster = this.clusters.get(name);
    if (!cluster || (active && cluster.status !== 'ACTIVE')) {
      throw new AwsServiceError('ClusterNotFoundException', 'Cluster not found.');
    }
    return cluster;
  }

  /** Task definition by `family` (latest ACTIVE), `family:revision` or ARN. */
  taskDefinition(ref: unknown): TaskDefinition {
    if (typeof ref !== 'string' || !ref) throw invalid('taskDefinition can not be blank.');
    const spec = ref.startsWith('arn:') ? ref.slice(ref.indexOf('task-definition/') + 16) : ref;
    const [family = '', rev] = spec.split(':');
    const revisions = this.taskDefinitions.get(family) ?? [];
    const found = rev
      ? revisions.find((t) => t.revision === Number(rev))
      : revisions.filter((t) => t.status === 'ACTIVE').at(-1);
    if (!found) throw new AwsServiceError('ClientException', 'Unable to describe task definition.');
    return found;
  }
}

export const lastSegment = (ref: string): string => ref.slice(ref.lastIndexOf('/') + 1);
export const invalid = (message: string) => new AwsServiceError('InvalidParameterException', message);
export const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);
export const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

export function mergeTags(current: Tag[], added: Tag[]): Tag[] {
  const out = current.filter((t) => !added.some((a) => a.key === t.key));
  return [...out, ...added];
}
