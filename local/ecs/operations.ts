/**
 * ECS API operations (awsJson1_1, `AmazonEC2ContainerServiceV20141113.<Operation>`), validated the
 * way ECS validates and answering in botocore's shapes. The scheduler does the simulation.
 */
import { randomUUID } from 'node:crypto';
import { AwsServiceError } from '../errors';
import type { JsonOperations, RequestContext } from '../types';
import {
  type Cluster,
  type ContainerDef,
  type ContainerInstance,
  type Deployment,
  type EcsState,
  includesTags,
  invalid,
  type LaunchType,
  lastSegment,
  mergeTags,
  page,
  type Service,
  seconds,
  type Task,
  type TaskDefinition,
  tagsIn,
} from './model';
import { type EcsScheduler, launchTypeOf } from './simulation';
import { clusterView, containerInstanceView, serviceView, taskDefinitionView, taskView } from './views';

type Input = Record<string, unknown>;
const LAUNCH_TYPES = ['EC2', 'FARGATE', 'EXTERNAL'];

const str = (input: Input, key: string): string | undefined => {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(`${key} must be a string.`);
  return v;
};
const list = (input: Input, key: string): string[] => {
  const v = input[key];
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw invalid(`${key} must be a list of strings.`);
  return v as string[];
};

export function ecsOperations(
  stateFor: (ctx: RequestContext) => EcsState,
  scheduler: EcsScheduler,
  now: () => number,
): JsonOperations {
  const tasksOfService = (c: Cluster, s: Service) =>
    [...c.tasks.values()].filter((t) => t.group === `service:${s.serviceName}`);

  const service = (state: EcsState, input: Input, key = 'service') => {
    const cluster = state.cluster(input.cluster);
    const name = str(input, key);
    if (!name) throw invalid(`${key} can not be blank.`);
    const svc = cluster.services.get(lastSegment(name));
    if (!svc) throw new AwsServiceError('ServiceNotFoundException', 'Service not found.');
    return { cluster, svc };
  };

  const registerTaskDefinition = (state: EcsState, input: Input) => {
    const family = str(input, 'family');
    if (!family || !/^[a-zA-Z0-9_-]{1,255}$/.test(family)) {
      throw new AwsServiceError('ClientException', 'Family contains invalid characters or is blank.');
    }
    const containers = input.containerDefinitions;
    if (!Array.isArray(containers) || containers.length === 0) {
      throw new AwsServiceError('ClientException', 'Container list cannot be empty.');
    }
    const defs = containers.map((c) => {
      const def = c as ContainerDef;
      if (typeof def.name !== 'string' || typeof def.image !== 'string') {
        throw new AwsServiceError(
          'ClientException',
          'Container.name and Container.image should not be null or empty.',
        );
      }
      return { essential: true, portMappings: [], environment: [], mountPoints: [], volumesFrom: [], ...def };
    });
    const requires = list(input, 'requiresCompatibilities') as LaunchType[];
    if (requires.some((r) => !LAUNCH_TYPES.includes(r)))
      throw invalid('Invalid requiresCompatibilities value.');
    const cpu = input.cpu === undefined ? undefined : String(input.cpu);
    const memory = input.memory === undefined ? undefined : String(input.memory);
    if (requires.includes('FARGATE') && (!cpu || !memory)) {
      throw new AwsServiceError(
        'ClientException',
        'Fargate requires task definition to have cpu and memory values.',
      );
    }
    const networkMode = str(input, 'networkMode');
    if (!defs.every((d) => d.memory !== undefined || d.memoryReservation !== undefined) && !memory) {
      throw new AwsServiceError(
        'ClientException',
        `Invalid setting for container '${defs[0]?.name}'. At least one of 'memory' or 'memoryReservation' must be specified.`,
      );
    }
    const revisions = state.taskDefinitions.get(family) ?? [];
    const revision = (revisions.at(-1)?.revision ?? 0) + 1;
    const compat: LaunchType[] = ['EC2', 'EXTERNAL'];
    if (networkMode === 'awsvpc' && cpu && memory) compat.push('FARGATE');
    const extra: Record<string, unknown> = {};
    for (const k of [
      'taskRoleArn',
      'executionRoleArn',
      'volumes',
      'placementConstraints',
      'runtimePlatform',
      'pidMode',
      'ipcMode',
    ]) {
      if (input[k] !== undefined) extra[k] = input[k];
    }
    const td: TaskDefinition = {
      taskDefinitionArn: state.arn(`task-definition/${family}:${revision}`),
      family,
      revision,
      status: 'ACTIVE',
      containerDefinitions: defs,
      ...(cpu ? { cpu } : {}),
      ...(memory ? { memory } : {}),
      ...(networkMode ? { networkMode } : {}),
      requiresCompatibilities: requires,
      compatibilities: compat,
      registeredAt: now(),
      extra,
    };
    revisions.push(td);
    state.taskDefinitions.set(family, revisions);
    const tags = tagsIn(input.tags);
    tdTags.set(td.taskDefinitionArn, tags);
    return { taskDefinition: taskDefinitionView(td), tags };
  };
  const tdTags = new Map<string, { key: string; value: string }[]>();

  const createService = (state: EcsState, input: Input) => {
    const cluster = state.cluster(input.cluster);
    const name = str(input, 'serviceName');
    if (!name || !/^[a-zA-Z0-9_-]{1,255}$/.test(name)) throw invalid('serviceName is invalid.');
    const existing = cluster.services.get(name);
    if (existing && existing.status !== 'INACTIVE') {
      throw invalid('Creation of service was not idempotent.');
    }
    const td = state.taskDefinition(input.taskDefinition);
    const launchType = str(input, 'launchType') as LaunchType | undefined;
    if (launchType && !LAUNCH_TYPES.includes(launchType)) throw invalid(`Invalid launch type: ${launchType}`);
    const cps = input.capacityProviderStrategy as Service['capacityProviderStrategy'] | undefined;
    if (launchType && cps?.length) {
      throw invalid('Specifying both a launch type and capacity provider strategy is not supported.');
    }
    const desiredCount = input.desiredCount === undefined ? 0 : Number(input.desiredCount);
    if (!Number.isInteger(desiredCount) || desiredCount < 0) throw invalid('desiredCount must be >= 0.');
    const effective = launchTypeOf({
      ...(launchType ? { launchType } : {}),
      ...(cps ? { capacityProviderStrategy: cps } : {}),
    });
    if (effective === 'FARGATE' && !td.compatibilities.includes('FARGATE')) {
      throw invalid('Task definition does not support launch_type FARGATE.');
    }
    const svc: Service = {
      serviceName: name,
      serviceArn: state.arn(`service/${cluster.clusterName}/${name}`),
      clusterArn: cluster.clusterArn,
      status: 'ACTIVE',
      taskDefinition: td.taskDefinitionArn,
      desiredCount,
      ...(launchType ? { launchType } : {}),
      ...(cps?.length
        ? { capacityProviderStrategy: cps }
        : !launchType
          ? { launchType: 'EC2' as const }
          : {}),
      deploymentConfiguration: deploymentConfiguration(input.deploymentConfiguration),
      deployments: [],
      history: [],
      events: [],
      createdAt: now(),
      tags: tagsIn(input.tags),
      extra: pick(input, [
        'networkConfiguration',
        'loadBalancers',
        'healthCheckGracePeriodSeconds',
        'roleArn',
      ]),
    };
    cluster.services.set(name, svc);
    scheduler.createDeployment(state, svc);
    return { service: serviceView(svc, tasksOfService(cluster, svc), false) };
  };

  const updateService = (state: EcsState, input: Input) => {
    const { cluster, svc } = service(state, input);
    if (svc.status !== 'ACTIVE')
      throw new AwsServiceError('ServiceNotActiveException', 'Service was not ACTIVE.');
    let redeploy = input.forceNewDeployment === true;
    if (input.taskDefinition !== undefined) {
      const td = state.taskDefinition(input.taskDefinition);
      if (td.status !== 'ACTIVE') throw new AwsServiceError('ClientException', 'TaskDefinition is inactive');
      if (td.taskDefinitionArn !== svc.taskDefinition) redeploy = true;
      svc.taskDefinition = td.taskDefinitionArn;
    }
    if (input.deploymentConfiguration !== undefined) {
      svc.deploymentConfiguration = deploymentConfiguration(input.deploymentConfiguration);
    }
    if (input.desiredCount !== undefined) {
      const n = Number(input.desiredCount);
      if (!Number.isInteger(n) || n < 0) throw invalid('desiredCount must be >= 0.');
      svc.desiredCount = n;
      for (const d of svc.deployments) if (d.status === 'PRIMARY') d.desiredCount = n;
      scheduler.schedule(state, svc, 0);
    }
    if (input.capacityProviderStrategy !== undefined || input.networkConfiguration !== undefined)
      redeploy = true;
    if (Array.isArray(input.capacityProviderStrategy)) {
      svc.capacityProviderStrategy = input.capacityProviderStrategy as NonNullable<
        Service['capacityProviderStrategy']
      >;
    }
    if (redeploy) scheduler.createDeployment(state, svc);
    return { service: serviceView(svc, tasksOfService(cluster, svc), false) };
  };

  const ops: Record<string, (state: EcsState, input: Input) => unknown> = {
    CreateCluster: (state, input) => {
      const name = str(input, 'clusterName') ?? 'default';
      if (!/^[a-zA-Z0-9_-]{1,255}$/.test(name)) throw invalid('Cluster name is invalid.');
      let cluster = state.clusters.get(name);
      if (!cluster || cluster.status !== 'ACTIVE') {
        cluster = newCluster(state, name, tagsIn(input.tags));
        cluster.capacityProviders = list(input, 'capacityProviders');
        state.clusters.set(name, cluster);
      }
      return { cluster: clusterView(cluster, true) };
    },
    DescribeClusters: (state, input) => {
      const names = input.clusters === undefined ? ['default'] : list(input, 'clusters');
      const clusters = [];
      const failures = [];
      for (const ref of names) {
        const c = state.clusters.get(lastSegment(ref));
        if (c) clusters.push(clusterView(c, includesTags(input)));
        else
          failures.push({
            arn: ref.startsWith('arn:') ? ref : state.arn(`cluster/${ref}`),
            reason: 'MISSING',
          });
      }
      return { clusters, failures };
    },
    ListClusters: (state, input) => {
      const arns = [...state.clusters.values()].filter((c) => c.status === 'ACTIVE').map((c) => c.clusterArn);
      const { slice, nextToken } = page(arns, input);
      return { clusterArns: slice, ...(nextToken ? { nextToken } : {}) };
    },
    DeleteCluster: (state, input) => {
      const cluster = state.cluster(input.cluster);
      if ([...cluster.services.values()].some((s) => s.status !== 'INACTIVE')) {
        throw new AwsServiceError(
          'ClusterContainsServicesException',
          'The Cluster cannot be deleted while Services are active.',
        );
      }
      if ([...cluster.instances.values()].some((i) => i.status !== 'INACTIVE')) {
        throw new AwsServiceError(
          'ClusterContainsContainerInstancesException',
          'The Cluster cannot be deleted while Container Instances are active or draining.',
        );
      }
      if ([...cluster.tasks.values()].some((t) => t.lastStatus !== 'STOPPED')) {
        throw new AwsServiceError(
          'ClusterContainsTasksException',
          'The Cluster cannot be deleted while Tasks are active.',
        );
      }
      cluster.status = 'INACTIVE';
      return { cluster: clusterView(cluster, false) };
    },

    RegisterTaskDefinition: registerTaskDefinition,
    DescribeTaskDefinition: (state, input) => {
      const td = state.taskDefinition(input.taskDefinition);
      return {
        taskDefinition: taskDefinitionView(td),
        ...(includesTags(input) ? { tags: tdTags.get(td.taskDefinitionArn) ?? [] } : {}),
      };
    },
    ListTaskDefinitions: (state, input) => {
      const prefix = str(input, 'familyPrefix');
      const status = str(input, 'status') ?? 'ACTIVE';
      let all = [...state.taskDefinitions.values()]
        .flat()
        .filter((t) => (prefix ? t.family === prefix : true) && t.status === status);
      all.sort((a, b) => a.family.localeCompare(b.family) || a.revision - b.revision);
      if (str(input, 'sort') === 'DESC') all = all.reverse();
      const { slice, nextToken } = page(
        all.map((t) => t.taskDefinitionArn),
        input,
      );
      return { taskDefinitionArns: slice, ...(nextToken ? { nextToken } : {}) };
    },
    ListTaskDefinitionFamilies: (state, input) => {
      const prefix = str(input, 'familyPrefix') ?? '';
      const status = str(input, 'status') ?? 'ACTIVE';
      const families = [...state.taskDefinitions.entries()]
        .filter(
          ([f, revs]) => f.startsWith(prefix) && (status === 'ALL' || revs.some((r) => r.status === status)),
        )
        .map(([f]) => f)
        .sort();
      const { slice, nextToken } = page(families, input);
      return { families: slice, ...(nextToken ? { nextToken } : {}) };
    },
    DeregisterTaskDefinition: (state, input) => {
      const ref = str(input, 'taskDefinition') ?? '';
      if (!ref.includes(':')) throw invalid('Invalid revision number. Number: ');
      const td = state.taskDefinition(ref);
      if (td.status === 'ACTIVE') {
        td.status = 'INACTIVE';
        td.deregisteredAt = now();
      }
      return { taskDefinition: taskDefinitionView(td) };
    },

    CreateService: createService,
    UpdateService: updateService,
    DescribeServices: (state, input) => {
      const cluster = state.cluster(input.cluster);
      const names = list(input, 'services');
      if (names.length === 0) throw invalid('Services cannot be empty.');
      if (names.length > 10) throw invalid('service names can have at most 10 items.');
      const services = [];
      const failures = [];
      for (const ref of names) {
        const s = cluster.services.get(lastSegment(ref));
        if (s) services.push(serviceView(s, tasksOfService(cluster, s), includesTags(input)));
        else {
          failures.push({
            arn: ref.startsWith('arn:') ? ref : state.arn(`service/${cluster.clusterName}/${ref}`),
            reason: 'MISSING',
          });
        }
      }
      return { services, failures };
    },
    ListServices: (state, input) => {
      const cluster = state.cluster(input.cluster);
      const lt = str(input, 'launchType');
      const arns = [...cluster.services.values()]
        .filter((s) => s.status !== 'INACTIVE' && (!lt || launchTypeOf(s) === lt))
        .map((s) => s.serviceArn);
      const { slice, nextToken } = page(arns, input);
      return { serviceArns: slice, ...(nextToken ? { nextToken } : {}) };
    },
    DeleteService: (state, input) => {
      const { cluster, svc } = service(state, input);
      if (svc.status === 'INACTIVE')
        throw new AwsServiceError('ServiceNotActiveException', 'Service was not ACTIVE.');
      if (svc.desiredCount > 0 && input.force !== true) {
        throw invalid('The service cannot be stopped while it is scaled above 0.');
      }
      svc.status = 'DRAINING';
      svc.desiredCount = 0;
      for (const t of tasksOfService(cluster, svc)) {
        if (t.desiredStatus === 'RUNNING') {
          scheduler.stopTask(state, cluster, t, 'ServiceSchedulerInitiated', 'Service deletion');
        }
      }
      const view = serviceView(svc, tasksOfService(cluster, svc), false);
      // ECS keeps a deleted service DRAINING until its tasks stop; the scheduler then marks it INACTIVE.
      scheduler.schedule(state, svc, 0);
      return { service: view };
    },

    RunTask: (state, input) => runTask(state, input),
    StartTask: (state, input) => {
      const ids = list(input, 'containerInstances');
      if (ids.length === 0) throw invalid('containerInstances can not be empty.');
      return runTask(state, { ...input, count: ids.length, launchType: undefined, _on: ids });
    },
    StopTask: (state, input) => {
      const cluster = state.cluster(input.cluster);
      const t = findTask(cluster, str(input, 'task'));
      scheduler.stopTask(state, cluster, t, 'UserInitiated', str(input, 'reason') ?? 'Task stopped by user');
      return { task: taskView(t, false) };
    },
    ListTasks: (state, input) => {
      const cluster = state.cluster(input.cluster);
      const serviceName = str(input, 'serviceName');
      if (serviceName && !cluster.services.has(lastSegment(serviceName))) {
        throw new AwsServiceError('ServiceNotFoundException', 'Service not found.');
      }
      const family = str(input, 'family');
      const startedBy = str(input, 'startedBy');
      const desired = str(input, 'desiredStatus') ?? 'RUNNING';
      const instance = str(input, 'containerInstance');
      const arns = [...cluster.tasks.values()]
        .filter(
          (t) =>
            t.desiredStatus === desired &&
            (!serviceName || t.group === `service:${lastSegment(serviceName)}`) &&
            (!family || t.family === family) &&
            (!startedBy || t.startedBy === startedBy) &&
            (!instance || t.containerInstanceArn?.endsWith(lastSegment(instance))),
        )
        .map((t) => t.taskArn);
      const { slice, nextToken } = page(arns, input);
      return { taskArns: slice, ...(nextToken ? { nextToken } : {}) };
    },
    DescribeTasks: (state, input) => {
      const cluster = state.cluster(input.cluster);
      const refs = list(input, 'tasks');
      if (refs.length === 0) throw invalid('Tasks cannot be empty.');
      if (refs.length > 100) throw invalid('Tasks can have at most 100 items.');
      const tasks = [];
      const failures = [];
      for (const ref of refs) {
        const t =
          cluster.tasks.get(ref) ?? [...cluster.tasks.values()].find((x) => x.taskArn.endsWith(`/${ref}`));
        if (t) tasks.push(taskView(t, includesTags(input)));
        else failures.push({ arn: ref, reason: 'MISSING' });
      }
      return { tasks, failures };
    },

    RegisterContainerInstance: (state, input) => {
      const cluster = state.cluster(input.cluster);
      const res = (input.totalResources as { name?: string; integerValue?: number }[] | undefined) ?? [];
      const cpu = res.find((r) => r.name === 'CPU')?.integerValue ?? 2048;
      const memory = res.find((r) => r.name === 'MEMORY')?.integerValue ?? 4096;
      const attributes = (input.attributes as { name: string; value?: string }[] | undefined) ?? [];
      const external = typeof input.instanceIdentityDocument !== 'string';
      const inst = addInstance(state, cluster, {
        kind: external ? 'EXTERNAL' : 'EC2',
        cpu,
        memory,
        attributes,
      });
      inst.tags = tagsIn(input.tags);
      return { containerInstance: containerInstanceView(inst, [], true) };
    },
    DeregisterContainerInstance: (state, input) => {
      const cluster = state.cluster(input.cluster);
      const inst = findInstance(cluster, str(input, 'containerInstance'));
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
    ListContainerInstances: (state, input) => {
      const cluster = state.cluster(input.cluster);
      const status = str(input, 'status');
      const arns = [...cluster.instances.values()]
        .filter((i) => (status ? i.status === status : i.status !== 'INACTIVE'))
        .map((i) => i.containerInstanceArn);
      const { slice, nextToken } = page(arns, input);
      return { containerInstanceArns: slice, ...(nextToken ? { nextToken } : {}) };
    },
    DescribeContainerInstances: (state, input) => {
      const cluster = state.cluster(input.cluster);
      const refs = list(input, 'containerInstances');
      if (refs.length > 100) throw invalid('containerInstances can have at most 100 items.');
      const tasks = [...cluster.tasks.values()];
      const containerInstances = [];
      const failures = [];
      for (const ref of refs) {
        const inst =
          cluster.instances.get(ref) ??
          [...cluster.instances.values()].find((i) => i.containerInstanceArn.endsWith(`/${ref}`));
        if (inst) containerInstances.push(containerInstanceView(inst, tasks, includesTags(input)));
        else failures.push({ arn: ref, reason: 'MISSING' });
      }
      return { containerInstances, failures };
    },
    UpdateContainerInstancesState: (state, input) => {
      const cluster = state.cluster(input.cluster);
      const status = str(input, 'status');
      if (status !== 'ACTIVE' && status !== 'DRAINING') throw invalid('status must be ACTIVE or DRAINING.');
      const out = [];
      for (const ref of list(input, 'containerInstances')) {
        const inst = findInstance(cluster, ref);
        inst.status = status;
        inst.version++;
        out.push(inst);
        if (status === 'DRAINING') drain(state, cluster, inst);
      }
      const tasks = [...cluster.tasks.values()];
      return { containerInstances: out.map((i) => containerInstanceView(i, tasks, false)), failures: [] };
    },
    ListServiceDeployments: (state, input) => {
      const { svc } = service(state, input);
      const wanted = list(input, 'status');
      const briefs = svc.history
        .map((d) => ({ d, status: serviceDeploymentStatus(d) }))
        .filter((x) => wanted.length === 0 || wanted.includes(x.status))
        .map(({ d, status }) => ({
          serviceDeploymentArn: state.arn(
            `service-deployment/${lastSegment(svc.clusterArn)}/${svc.serviceName}/${d.id.slice(8)}`,
          ),
          serviceArn: svc.serviceArn,
          clusterArn: svc.clusterArn,
          startedAt: seconds(d.createdAt),
          createdAt: seconds(d.createdAt),
          ...(d.finishedAt !== undefined ? { finishedAt: seconds(d.finishedAt) } : {}),
          targetServiceRevisionArn: d.serviceRevisionArn,
          status,
          statusReason: d.rolloutStateReason,
        }));
      const { slice, nextToken } = page(briefs, input, 100);
      return { serviceDeployments: slice, ...(nextToken ? { nextToken } : {}) };
    },
    DescribeServiceRevisions: (state, input) => {
      const arns = list(input, 'serviceRevisionArns');
      if (arns.length === 0 || arns.length > 20)
        throw invalid('serviceRevisionArns must have 1 to 20 items.');
      const serviceRevisions = [];
      const failures = [];
      for (const arn of arns) {
        const [, clusterName = '', serviceName = ''] = arn.split('/');
        const svc = state.clusters.get(clusterName)?.services.get(serviceName);
        const d = svc?.history.find((x) => x.serviceRevisionArn === arn);
        if (!svc || !d) {
          failures.push({ arn, reason: 'MISSING' });
          continue;
        }
        const td = state.taskDefinition(d.taskDefinition);
        serviceRevisions.push({
          serviceRevisionArn: d.serviceRevisionArn,
          serviceArn: svc.serviceArn,
          clusterArn: svc.clusterArn,
          taskDefinition: d.taskDefinition,
          ...(d.launchType ? { launchType: d.launchType } : {}),
          ...(d.capacityProviderStrategy ? { capacityProviderStrategy: d.capacityProviderStrategy } : {}),
          loadBalancers: [],
          serviceRegistries: [],
          containerImages: td.containerDefinitions.map((c) => {
            const r = d.images[c.name];
            return {
              containerName: c.name,
              image: c.image,
              ...(r && 'digest' in r ? { imageDigest: r.digest } : {}),
            };
          }),
          guardDutyEnabled: false,
          createdAt: seconds(d.createdAt),
        });
      }
      return { serviceRevisions, failures };
    },
    DescribeCapacityProviders: () => ({
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'].map((name) => ({
        capacityProviderArn: `arn:aws:ecs:::capacity-provider/${name}`,
        name,
        status: 'ACTIVE',
        tags: [],
      })),
      failures: [],
    }),

    TagResource: (state, input) => {
      const arn = str(input, 'resourceArn') ?? '';
      setTags(state, arn, (cur) => mergeTags(cur, tagsIn(input.tags)));
      return {};
    },
    UntagResource: (state, input) => {
      const arn = str(input, 'resourceArn') ?? '';
      const keys = list(input, 'tagKeys');
      setTags(state, arn, (cur) => cur.filter((t) => !keys.includes(t.key)));
      return {};
    },
    ListTagsForResource: (state, input) => {
      const arn = str(input, 'resourceArn') ?? '';
      let tags: { key: string; value: string }[] = [];
      setTags(state, arn, (cur) => {
        tags = cur;
        return cur;
      });
      return { tags };
    },
  };

  function setTags(
    state: EcsState,
    arn: string,
    fn: (cur: { key: string; value: string }[]) => { key: string; value: string }[],
  ) {
    const kind = arn.split(':')[5]?.split('/')[0];
    if (kind === 'task-definition') {
      state.taskDefinition(arn);
      tdTags.set(arn, fn(tdTags.get(arn) ?? []));
      return;
    }
    if (kind === 'cluster') {
      const c = state.cluster(arn);
      c.tags = fn(c.tags);
      return;
    }
    if (kind === 'service') {
      const parts = arn.split('/');
      const c = state.cluster(parts[1]);
      const s = c.services.get(parts[2] ?? '');
      if (!s) throw new AwsServiceError('ServiceNotFoundException', 'Service not found.');
      s.tags = fn(s.tags);
      return;
    }
    if (kind === 'task') {
      const parts = arn.split('/');
      const t = findTask(state.cluster(parts[1]), arn);
      t.tags = fn(t.tags);
      return;
    }
    if (kind === 'container-instance') {
      const parts = arn.split('/');
      const i = findInstance(state.cluster(parts[1]), arn);
      i.tags = fn(i.tags);
      return;
    }
    throw invalid('The ARN provided is invalid.');
  }

  function runTask(state: EcsState, input: Input) {
    const cluster = state.cluster(input.cluster);
    const td = state.taskDefinition(input.taskDefinition);
    const count = input.count === undefined ? 1 : Number(input.count);
    if (!Number.isInteger(count) || count < 1 || count > 10) throw invalid('count must be between 1 and 10.');
    const cps = input.capacityProviderStrategy as Service['capacityProviderStrategy'] | undefined;
    const lt = str(input, 'launchType') as LaunchType | undefined;
    const launchType = launchTypeOf({
      ...(lt ? { launchType: lt } : {}),
      ...(cps ? { capacityProviderStrategy: cps } : {}),
    });
    const on = input._on as string[] | undefined;
    const tasks: Task[] = [];
    const failures: { arn?: string; reason: string }[] = [];
    for (let i = 0; i < count; i++) {
      const t = scheduler.newTask(state, cluster, td, {
        launchType,
        group: str(input, 'group') ?? `family:${td.family}`,
        ...(str(input, 'startedBy') ? { startedBy: str(input, 'startedBy') as string } : {}),
      });
      t.tags = tagsIn(input.tags);
      const target = on?.[i];
      if (target) {
        const inst = findInstance(cluster, target);
        t.launchType = inst.kind;
        t.containerInstanceArn = inst.containerInstanceArn;
        inst.usedCpu += t.cpu;
        inst.usedMemory += t.memory;
      } else if (!scheduler.place(cluster, t)) {
        failures.push({ reason: t.launchType === 'FARGATE' ? 'RESOURCE' : 'RESOURCE:MEMORY' });
        continue;
      }
      cluster.tasks.set(t.taskArn, t);
      scheduler.lifecycle(state, cluster, t, undefined);
      tasks.push(t);
    }
    return { tasks: tasks.map((t) => taskView(t, false)), failures };
  }

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

  const wrapped: JsonOperations = {};
  for (const [name, op] of Object.entries(ops)) {
    wrapped[name] = (input, ctx) => {
      const state = stateFor(ctx);
      return op(state, input ?? {});
    };
  }
  return wrapped;
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

function findTask(cluster: Cluster, ref: string | undefined): Task {
  if (!ref) throw invalid('task can not be blank.');
  const t =
    cluster.tasks.get(ref) ??
    [...cluster.tasks.values()].find((x) => x.taskArn.endsWith(`/${lastSegment(ref)}`));
  if (!t) throw invalid('The referenced task was not found.');
  return t;
}

function findInstance(cluster: Cluster, ref: string | undefined): ContainerInstance {
  if (!ref) throw invalid('containerInstance can not be blank.');
  const i =
    cluster.instances.get(ref) ??
    [...cluster.instances.values()].find((x) => x.containerInstanceArn.endsWith(`/${lastSegment(ref)}`));
  if (!i) throw invalid('The referenced container instance was not found.');
  return i;
}

/** The ServiceDeployment status of a deployment (ListServiceDeployments). */
function serviceDeploymentStatus(d: Deployment): string {
  if (d.rolloutState === 'COMPLETED') return 'SUCCESSFUL';
  if (d.rolloutState === 'FAILED') return 'ROLLBACK_SUCCESSFUL';
  return d.status === 'PRIMARY' ? 'IN_PROGRESS' : 'STOPPED';
}

function pick(input: Input, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (input[k] !== undefined) out[k] = input[k];
  return out;
}

export function deploymentConfiguration(raw: unknown): Service['deploymentConfiguration'] {
  const c = (raw ?? {}) as {
    minimumHealthyPercent?: number;
    maximumPercent?: number;
    deploymentCircuitBreaker?: { enable?: boolean; rollback?: boolean };
  };
  const min = c.minimumHealthyPercent ?? 100;
  const max = c.maximumPercent ?? 200;
  if (min < 0 || min > 100) throw invalid('minimumHealthyPercent must be between 0 and 100.');
  if (max < 100) throw invalid('maximumPercent must be at least 100.');
  return {
    minimumHealthyPercent: min,
    maximumPercent: max,
    deploymentCircuitBreaker: {
      enable: c.deploymentCircuitBreaker?.enable ?? false,
      rollback: c.deploymentCircuitBreaker?.rollback ?? false,
    },
  };
}
