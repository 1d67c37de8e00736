/**
 * Container instance operations (EC2 and EXTERNAL): registration, registered/remaining resources,
 * DRAINING; and the constructors world loading shares.
 */
import { randomUUID } from 'node:crypto';
import type {
  DeregisterContainerInstanceResponse,
  DescribeContainerInstancesResponse,
  ListContainerInstancesResponse,
  RegisterContainerInstanceResponse,
  UpdateContainerInstancesStateResponse,
} from '@aws-sdk/client-ecs';
import { readRequest } from '../aws/request';
import { type Cluster, type ContainerInstance, type EcsState, invalid, lastSegment } from './model';
import type { StateOperations } from './operations';
import {
  arnPage,
  DeregisterContainerInstanceRequest,
  DescribeContainerInstancesRequest,
  ecsDialect,
  includesTags,
  ListContainerInstancesRequest,
  RegisterContainerInstanceRequest,
  tagsOf,
  UpdateContainerInstancesStateRequest,
} from './requests';
import type { EcsScheduler } from './simulation';
import { containerInstanceView } from './views';

export interface ContainerInstanceApi {
  RegisterContainerInstance: RegisterContainerInstanceResponse;
  DeregisterContainerInstance: DeregisterContainerInstanceResponse;
  ListContainerInstances: ListContainerInstancesResponse;
  DescribeContainerInstances: DescribeContainerInstancesResponse;
  UpdateContainerInstancesState: UpdateContainerInstancesStateResponse;
}

export function containerInstanceOperations(scheduler: EcsScheduler): StateOperations<ContainerInstanceApi> {
  return {
    RegisterContainerInstance: (state, raw) => {
      const input = readRequest(RegisterContainerInstanceRequest, raw, ecsDialect);
      const res = input.totalResources ?? [];
      const cpu = res.find((r) => r.name === 'CPU')?.integerValue ?? 2048;
      const memory = res.find((r) => r.name === 'MEMORY')?.integerValue ?? 4096;
      const attributes = (input.attributes ?? []).map((a) => ({
        name: a.name ?? '',
        ...(a.value !== undefined ? { value: a.value } : {}),
      }));
      const inst = addInstance(state, state.cluster(input.cluster), {
        kind: input.instanceIdentityDocument === undefined ? 'EXTERNAL' : 'EC2',
        cpu,
        memory,
        attributes,
      });
      inst.tags = tagsOf(input.tags);
      return { containerInstance: containerInstanceView(inst, [], true) };
    },
    DeregisterContainerInstance: (state, raw) => {
      const input = readRequest(DeregisterContainerInstanceRequest, raw, ecsDialect);
      const cluster = state.cluster(input.cluster);
      const inst = findInstance(cluster, input.containerInstance);
      const busy = [...cluster.tasks.values()].some(
        (t) => t.containerInstanceArn === inst.containerInstanceArn && t.lastStatus !== 'STOPPED',
      );
      if (busy && input.force !== true) {
        throw invalid('Found running tasks on the instance.');
      }
      inst.status = 'INACTIVE';
      inst.agentConnected = false;
      return { containerInstance: containerInstanceView(inst, [...cluster.tasks.values()], false) };
    },
    ListContainerInstances: (state, raw) => {
      const input = readRequest(ListContainerInstancesRequest, raw, ecsDialect);
      const cluster = state.cluster(input.cluster);
      const status = input.status;
      const arns = [...cluster.instances.values()]
        .filter((i) => (status ? i.status === status : i.status !== 'INACTIVE'))
        .map((i) => i.containerInstanceArn);
      const page = arnPage(arns, input);
      return { containerInstanceArns: page.items, nextToken: page.nextToken };
    },
    DescribeContainerInstances: (state, raw) => {
      const input = readRequest(DescribeContainerInstancesRequest, raw, ecsDialect);
      const cluster = state.cluster(input.cluster);
      const tasks = [...cluster.tasks.values()];
      const containerInstances = [];
      const failures = [];
      for (const ref of input.containerInstances ?? []) {
        const inst =
          cluster.instances.get(ref) ??
          [...cluster.instances.values()].find((i) => i.containerInstanceArn.endsWith(`/${ref}`));
        if (inst) containerInstances.push(containerInstanceView(inst, tasks, includesTags(input)));
        else failures.push({ arn: ref, reason: 'MISSING' });
      }
      return { containerInstances, failures };
    },
    UpdateContainerInstancesState: (state, raw) => {
      const input = readRequest(UpdateContainerInstancesStateRequest, raw, ecsDialect);
      const cluster = state.cluster(input.cluster);
      const status = input.status;
      const out = [];
      for (const ref of input.containerInstances ?? []) {
        const inst = findInstance(cluster, ref);
        inst.status = status;
        inst.version++;
        out.push(inst);
        if (status === 'DRAINING') drain(state, cluster, inst);
      }
      const tasks = [...cluster.tasks.values()];
      return { containerInstances: out.map((i) => containerInstanceView(i, tasks, false)), failures: [] };
    },
  };

  function drain(state: EcsState, cluster: Cluster, inst: ContainerInstance) {
    for (const t of cluster.tasks.values()) {
      if (
        t.containerInstanceArn === inst.containerInstanceArn &&
        t.desiredStatus === 'RUNNING' &&
        t.serviceName
      ) {
        scheduler.stopTask(state, cluster, t, 'ServiceSchedulerInitiated', 'Container instance is draining');
      }
    }
  }
}

export function newCluster(state: EcsState, name: string, tags: Cluster['tags']): Cluster {
  return {
    clusterName: name,
    clusterArn: state.arn(`cluster/${name}`),
    status: 'ACTIVE',
    services: new Map(),
    tasks: new Map(),
    instances: new Map(),
    tags,
    capacityProviders: [],
    settings: [{ name: 'containerInsights', value: 'disabled' }],
  };
}

let instanceSeq = 0;
export function addInstance(
  state: EcsState,
  cluster: Cluster,
  o: {
    kind: 'EC2' | 'EXTERNAL';
    cpu: number;
    memory: number;
    attributes?: { name: string; value?: string }[];
  },
  now = 0,
): ContainerInstance {
  const id = randomUUID().replace(/-/g, '');
  const hex = (++instanceSeq).toString(16).padStart(17, '0');
  const arn = state.arn(`container-instance/${cluster.clusterName}/${id}`);
  const inst: ContainerInstance = {
    containerInstanceArn: arn,
    ec2InstanceId: o.kind === 'EXTERNAL' ? `mi-${hex}` : `i-${hex}`,
    kind: o.kind,
    status: 'ACTIVE',
    agentConnected: true,
    cpu: o.cpu,
    memory: o.memory,
    usedCpu: 0,
    usedMemory: 0,
    usedPorts: new Set(),
    attributes: [
      { name: 'ecs.os-type', value: 'linux' },
      { name: 'ecs.cpu-architecture', value: 'x86_64' },
      ...(o.kind === 'EXTERNAL'
        ? [{ name: 'ecs.capability.external', value: undefined as unknown as string }]
        : []),
      ...(o.attributes ?? []),
    ].map((a) => (a.value === undefined ? { name: a.name } : a)),
    registeredAt: now,
    version: 1,
    tags: [],
  };
  cluster.instances.set(arn, inst);
  return inst;
}

export function findInstance(cluster: Cluster, ref: string | undefined): ContainerInstance {
  if (!ref) throw invalid('containerInstance can not be blank.');
  const i =
    cluster.instances.get(ref) ??
    [...cluster.instances.values()].find((x) => x.containerInstanceArn.endsWith(`/${lastSegment(ref)}`));
  if (!i) throw invalid('The referenced container instance was not found.');
  return i;
}
