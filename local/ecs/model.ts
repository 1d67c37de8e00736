/**
 * ECS state for one account and region, and the helpers every operation shares (ARNs, tags,
 * name-or-ARN lookups, API shapes). Timestamps are kept as epoch milliseconds; the API returns
 * epoch seconds (awsJson) and events return ISO strings, as ECS does.
 */
import { AwsServiceError } from '../errors';

export type Tag = { key: string; value: string };
export type LaunchType = 'EC2' | 'FARGATE' | 'EXTERNAL';

export interface ContainerDef {
  name: string;
  image: string;
  cpu?: number;
  memory?: number;
  memoryReservation?: number;
  essential?: boolean;
  portMappings?: { containerPort?: number; hostPort?: number; protocol?: string }[];
  [key: string]: unknown;
}

export interface TaskDefinition {
  taskDefinitionArn: string;
  family: string;
  revision: number;
  status: 'ACTIVE' | 'INACTIVE' | 'DELETE_IN_PROGRESS';
  containerDefinitions: ContainerDef[];
  cpu?: string;
  memory?: string;
  networkMode?: string;
  requiresCompatibilities: LaunchType[];
  compatibilities: LaunchType[];
  registeredAt: number;
  deregisteredAt?: number;
  extra: Record<string, unknown>;
}

export interface Deployment {
  id: string;
  status: 'PRIMARY' | 'ACTIVE' | 'INACTIVE';
  taskDefinition: string;
  desiredCount: number;
  failedTasks: number;
  createdAt: number;
  updatedAt: number;
  launchType?: LaunchType;
  capacityProviderStrategy?: unknown[];
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  rolloutStateReason: string;
  /** Digest (or pull error) per container name, resolved when the deployment was created. */
  images: Record<string, { digest: string } | { error: string }>;
  /** Rollback deployments are not rolled back again. */
  isRollback: boolean;
  /** ARN of the service revision this deployment rolls out (ListServiceDeployments, DescribeServiceRevisions). */
  serviceRevisionArn: string;
  finishedAt?: number;
  /** Failures since a task of this deployment last reached RUNNING: drives the launch backoff. */
  consecutiveFailures: number;
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
  };
  deployments: Deployment[];
  /** Every deployment ever created, newest first (ECS keeps service deployments for 90 days). */
  history: Deployment[];
  events: ServiceEvent[];
  createdAt: number;
  tags: Tag[];
  extra: Record<string, unknown>;
  /** Task definition of the last deployment that COMPLETED. */
  lastCompletedTaskDefinition?: string;
  /** The last deployment that COMPLETED: a rollback returns to its task definition and digests. */
  lastCompleted?: Deployment;
  reconcileTimer?: number | undefined;
  placementFailing?: boolean;
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
  settings: unknown[];
}

export class EcsState {
  readonly clusters = new Map<string, Cluster>();
  readonly taskDefinitions = new Map<string, TaskDefinition[]>();
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

export function tagsIn(value: unknown): Tag[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid('tags must be a list.');
  return value.map((t) => {
    const tag = t as { key?: unknown; value?: unknown };
    if (typeof tag.key !== 'string' || !tag.key) throw invalid('Tag keys must be non-empty strings.');
    return { key: tag.key, value: typeof tag.value === 'string' ? tag.value : '' };
  });
}

export function mergeTags(current: Tag[], added: Tag[]): Tag[] {
  const out = current.filter((t) => !added.some((a) => a.key === t.key));
  return [...out, ...added];
}

/** `include: ['TAGS']` asks for tags in describe responses. */
export const includesTags = (input: Record<string, unknown>) =>
  Array.isArray(input.include) && input.include.includes('TAGS');

/** Pagination by an opaque numeric offset token, as list operations page (≤100). */
export function page<T>(items: T[], input: Record<string, unknown>, max = 100) {
  const raw = input.maxResults;
  if (raw !== undefined && (typeof raw !== 'number' || raw < 1 || raw > max)) {
    throw invalid(`maxResults must be between 1 and ${max}.`);
  }
  const size = typeof raw === 'number' ? raw : max;
  let start = 0;
  if (typeof input.nextToken === 'string' && input.nextToken) {
    start = Number(Buffer.from(input.nextToken, 'base64').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) throw invalid('Invalid nextToken.');
  }
  const slice = items.slice(start, start + size);
  const next = start + size < items.length ? Buffer.from(String(start + size)).toString('base64') : undefined;
  return { slice, nextToken: next };
}

/** Input readers that answer bad types the way ECS does (InvalidParameterException). */
export type Input = Record<string, unknown>;
export const LAUNCH_TYPES = ['EC2', 'FARGATE', 'EXTERNAL'];

export const str = (input: Input, key: string): string | undefined => {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(`${key} must be a string.`);
  return v;
};
export const list = (input: Input, key: string): string[] => {
  const v = input[key];
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw invalid(`${key} must be a list of strings.`);
  return v as string[];
};
