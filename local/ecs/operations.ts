/**
 * ECS API operations (awsJson1_1, `AmazonEC2ContainerServiceV20141113.<Operation>`), validated the
 * way ECS validates and answering in botocore's shapes. The scheduler does the simulation.
 */
import { AwsServiceError } from '../errors';
import type { JsonOperations, RequestContext } from '../types';
import { containerInstanceOperations, findInstance, newCluster } from './instances';
import {
  type Cluster,
  type Deployment,
  type EcsState,
  type Input,
  includesTags,
  invalid,
  LAUNCH_TYPES,
  type LaunchType,
  lastSegment,
  list,
  mergeTags,
  page,
  type Service,
  seconds,
  str,
  type Task,
  tagsIn,
} from './model';
import { type EcsScheduler, launchTypeOf } from './simulation';
import { taskDefinitionOperations } from './task-definitions';
import { clusterView, serviceView, taskView } from './views';

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

  const taskDefinitions = taskDefinitionOperations(now);
  const tdTags = taskDefinitions.tags;
  const ops: Record<string, (state: EcsState, input: Input) => unknown> = {
    ...taskDefinitions.ops,
    ...containerInstanceOperations(scheduler),
    CreateCluster: (state, input) => {
      const name = str(input, 'clusterName') ?? 'default';
      if (!/^[a-zA-Z0-9_-]{1,255}$/.test(name)) throw invalid('Cluster name is invalid.');
      let cluster = state.clusters.get(name);
      if (cluster?.status !== 'ACTIVE') {
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
        failures.push(scheduler.runTaskFailure(cluster, t));
        continue;
      }
      cluster.tasks.set(t.taskArn, t);
      scheduler.lifecycle(state, cluster, t, undefined);
      tasks.push(t);
    }
    return { tasks: tasks.map((t) => taskView(t, false)), failures };
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

function findTask(cluster: Cluster, ref: string | undefined): Task {
  if (!ref) throw invalid('task can not be blank.');
  const t =
    cluster.tasks.get(ref) ??
    [...cluster.tasks.values()].find((x) => x.taskArn.endsWith(`/${lastSegment(ref)}`));
  if (!t) throw invalid('The referenced task was not found.');
  return t;
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
