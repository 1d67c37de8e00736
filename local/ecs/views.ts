/**
 * The stored resources in the SDK's ECS shapes, as the API returns them (timestamps in epoch
 * seconds). Members left undefined are not sent.
 */
import type * as Ecs from '@aws-sdk/client-ecs';
import type { Wire } from '../aws/response';
import {
  type Cluster,
  type ContainerInstance,
  type Deployment,
  type Service,
  seconds,
  type Task,
  type TaskDefinition,
} from './model';

export function clusterView(c: Cluster, withTags: boolean): Wire<Ecs.Cluster> {
  const tasks = [...c.tasks.values()];
  return {
    clusterArn: c.clusterArn,
    clusterName: c.clusterName,
    status: c.status,
    registeredContainerInstancesCount: [...c.instances.values()].filter((i) => i.status !== 'INACTIVE')
      .length,
    runningTasksCount: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
    pendingTasksCount: tasks.filter((t) => ['PROVISIONING', 'PENDING'].includes(t.lastStatus)).length,
    activeServicesCount: [...c.services.values()].filter((s) => s.status === 'ACTIVE').length,
    statistics: [],
    tags: withTags ? c.tags : undefined,
    settings: c.settings,
    capacityProviders: c.capacityProviders,
    defaultCapacityProviderStrategy: [],
  };
}

export function taskDefinitionView(td: TaskDefinition): Wire<Ecs.TaskDefinition> {
  return {
    ...td.extra,
    taskDefinitionArn: td.taskDefinitionArn,
    containerDefinitions: td.containerDefinitions,
    family: td.family,
    revision: td.revision,
    volumes: td.extra.volumes ?? [],
    status: td.status,
    requiresAttributes: [],
    placementConstraints: td.extra.placementConstraints ?? [],
    compatibilities: td.compatibilities,
    requiresCompatibilities: td.requiresCompatibilities.length ? td.requiresCompatibilities : undefined,
    cpu: td.cpu,
    memory: td.memory,
    networkMode: td.networkMode,
    registeredAt: seconds(td.registeredAt),
    deregisteredAt: seconds(td.deregisteredAt),
    registeredBy: 'arn:aws:iam::000000000000:root',
  };
}

export function deploymentView(d: Deployment, tasks: Task[]): Wire<Ecs.Deployment> {
  const mine = tasks.filter((t) => t.deploymentId === d.id && t.desiredStatus === 'RUNNING');
  return {
    id: d.id,
    status: d.status,
    taskDefinition: d.taskDefinition,
    desiredCount: d.desiredCount,
    pendingCount: mine.filter((t) => t.lastStatus !== 'RUNNING').length,
    runningCount: mine.filter((t) => t.lastStatus === 'RUNNING').length,
    failedTasks: d.failedTasks,
    createdAt: seconds(d.createdAt),
    updatedAt: seconds(d.updatedAt),
    launchType: d.launchType,
    capacityProviderStrategy: d.capacityProviderStrategy,
    platformVersion: d.launchType === 'FARGATE' ? 'LATEST' : undefined,
    rolloutState: d.rolloutState,
    rolloutStateReason: d.rolloutStateReason,
  };
}

export function serviceView(s: Service, tasks: Task[], withTags: boolean): Wire<Ecs.Service> {
  const alive = tasks.filter((t) => t.desiredStatus === 'RUNNING');
  return {
    ...s.extra,
    serviceArn: s.serviceArn,
    serviceName: s.serviceName,
    clusterArn: s.clusterArn,
    loadBalancers: s.extra.loadBalancers ?? [],
    serviceRegistries: [],
    status: s.status,
    desiredCount: s.desiredCount,
    runningCount: alive.filter((t) => t.lastStatus === 'RUNNING').length,
    pendingCount: alive.filter((t) => t.lastStatus !== 'RUNNING').length,
    launchType: s.launchType,
    capacityProviderStrategy: s.capacityProviderStrategy,
    platformVersion: s.launchType === 'FARGATE' ? 'LATEST' : undefined,
    taskDefinition: s.taskDefinition,
    deploymentConfiguration: s.deploymentConfiguration,
    deployments: s.deployments.map((d) => deploymentView(d, tasks)),
    events: s.events.map((e) => ({ id: e.id, createdAt: seconds(e.createdAt), message: e.message })),
    createdAt: seconds(s.createdAt),
    placementConstraints: [],
    placementStrategy: [],
    schedulingStrategy: 'REPLICA',
    deploymentController: { type: s.deploymentController ?? 'ECS' },
    tags: withTags ? s.tags : undefined,
    createdBy: 'arn:aws:iam::000000000000:root',
    enableECSManagedTags: false,
    propagateTags: 'NONE',
    enableExecuteCommand: false,
  };
}

export function taskView(t: Task, withTags: boolean): Wire<Ecs.Task> {
  return {
    attachments: [],
    attributes: [],
    availabilityZone: t.availabilityZone,
    clusterArn: t.clusterArn,
    connectivity: t.lastStatus === 'PROVISIONING' ? undefined : 'CONNECTED',
    containerInstanceArn: t.containerInstanceArn,
    containers: t.containers.map(
      (c): Wire<Ecs.Container> => ({
        containerArn: c.containerArn,
        taskArn: t.taskArn,
        name: c.name,
        image: c.image,
        imageDigest: c.imageDigest,
        runtimeId: c.runtimeId,
        lastStatus: c.lastStatus,
        exitCode: c.exitCode,
        reason: c.reason,
        networkBindings: [],
        networkInterfaces: [],
        healthStatus: 'UNKNOWN',
        cpu: c.cpu,
        memory: c.memory,
      }),
    ),
    cpu: String(t.cpu),
    createdAt: seconds(t.createdAt),
    desiredStatus: t.desiredStatus,
    enableExecuteCommand: false,
    group: t.group,
    healthStatus: 'UNKNOWN',
    lastStatus: t.lastStatus,
    launchType: t.launchType,
    memory: String(t.memory),
    overrides: {
      containerOverrides: t.containers.map((c) => ({ name: c.name })),
      inferenceAcceleratorOverrides: [],
    },
    platformVersion: t.launchType === 'FARGATE' ? '1.4.0' : undefined,
    pullStartedAt: seconds(t.pullStartedAt),
    pullStoppedAt: seconds(t.pullStoppedAt),
    startedAt: seconds(t.startedAt),
    startedBy: t.startedBy,
    // The scheduler only ever sets ECS's own stop codes (UserInitiated, EssentialContainerExited ...).
    stopCode: t.stopCode as Ecs.TaskStopCode | undefined,
    stoppedAt: seconds(t.stoppedAt),
    stoppedReason: t.stoppedReason,
    stoppingAt: seconds(t.stoppingAt),
    tags: withTags ? t.tags : undefined,
    taskArn: t.taskArn,
    taskDefinitionArn: t.taskDefinitionArn,
    version: t.version,
  };
}

function resources(cpu: number, memory: number, ports: Set<number>): Wire<Ecs.Resource>[] {
  return [
    { name: 'CPU', type: 'INTEGER', doubleValue: 0, longValue: 0, integerValue: cpu },
    { name: 'MEMORY', type: 'INTEGER', doubleValue: 0, longValue: 0, integerValue: memory },
    {
      name: 'PORTS',
      type: 'STRINGSET',
      doubleValue: 0,
      longValue: 0,
      integerValue: 0,
      stringSetValue: ['22', '2375', '2376', '51678', '51679', ...[...ports].map(String)],
    },
    {
      name: 'PORTS_UDP',
      type: 'STRINGSET',
      doubleValue: 0,
      longValue: 0,
      integerValue: 0,
      stringSetValue: [],
    },
  ];
}

export function containerInstanceView(
  i: ContainerInstance,
  tasks: Task[],
  withTags: boolean,
): Wire<Ecs.ContainerInstance> {
  const on = tasks.filter(
    (t) => t.containerInstanceArn === i.containerInstanceArn && t.lastStatus !== 'STOPPED',
  );
  return {
    containerInstanceArn: i.containerInstanceArn,
    ec2InstanceId: i.ec2InstanceId,
    version: i.version,
    versionInfo: { agentVersion: '1.89.0', agentHash: 'f2a3b4c5', dockerVersion: 'DockerVersion: 25.0.8' },
    remainingResources: resources(i.cpu - i.usedCpu, i.memory - i.usedMemory, i.usedPorts),
    registeredResources: resources(i.cpu, i.memory, new Set()),
    status: i.status,
    agentConnected: i.agentConnected,
    runningTasksCount: on.filter((t) => t.lastStatus === 'RUNNING').length,
    pendingTasksCount: on.filter((t) => t.lastStatus !== 'RUNNING').length,
    attributes: i.attributes,
    registeredAt: seconds(i.registeredAt),
    attachments: [],
    tags: withTags ? i.tags : undefined,
  };
}
