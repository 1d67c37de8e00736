/**
 * ECS API operations (awsJson1_1, `AmazonEC2ContainerServiceV20141113.<Operation>`): each reads its
 * request with ECS's shapes and dialect (local/ecs/requests.ts), acts on the account and region's
 * state, and answers with the SDK's response type. The scheduler does the simulation.
 */
import type * as Ecs from '@aws-sdk/client-ecs';
import { readPage, readRequest } from '../aws/request';
import { pick, type Wire } from '../aws/response';
import { AwsServiceError } from '../errors';
import type { JsonOperations, RequestContext } from '../types';
import {
  type ContainerInstanceApi,
  containerInstanceOperations,
  findInstance,
  newCluster,
} from './instances';
import {
  type Cluster,
  DEPLOYMENT_STRATEGIES,
  type Deployment,
  type DeploymentStrategy,
  type EcsState,
  invalid,
  lastSegment,
  mergeTags,
  type Service,
  seconds,
  type Tag,
  type Task,
} from './model';
import {
  arnPage,
  ClusterRequest,
  CreateClusterRequest,
  CreateServiceRequest,
  type DeploymentConfigurationInput,
  DescribeClustersRequest,
  DescribeServiceDeploymentsRequest,
  DescribeServiceRevisionsRequest,
  DescribeServicesRequest,
  DescribeTasksRequest,
  ECS_PAGE,
  ecsDialect,
  includesTags,
  ListClustersRequest,
  ListServiceDeploymentsRequest,
  ListServicesRequest,
  ListTagsForResourceRequest,
  ListTasksRequest,
  RunTaskRequest,
  SERVICE_ECHO,
  ServiceRequest,
  StartTaskRequest,
  StopServiceDeploymentRequest,
  StopTaskRequest,
  TagResourceRequest,
  tagsOf,
  UntagResourceRequest,
  UpdateServiceRequest,
} from './requests';
import { type EcsScheduler, launchTypeOf } from './simulation';
import { type TaskDefinitionApi, taskDefinitionOperations } from './task-definitions';
import { clusterView, serviceView, taskView } from './views';

/** The ECS operations the local cloud serves, with the SDK's response type of each. */
export interface EcsApi extends TaskDefinitionApi, ContainerInstanceApi {
  CreateCluster: Ecs.CreateClusterResponse;
  DescribeClusters: Ecs.DescribeClustersResponse;
  ListClusters: Ecs.ListClustersResponse;
  DeleteCluster: Ecs.DeleteClusterResponse;
  CreateService: Ecs.CreateServiceResponse;
  UpdateService: Ecs.UpdateServiceResponse;
  DescribeServices: Ecs.DescribeServicesResponse;
  ListServices: Ecs.ListServicesResponse;
  DeleteService: Ecs.DeleteServiceResponse;
  RunTask: Ecs.RunTaskResponse;
  StartTask: Ecs.StartTaskResponse;
  StopTask: Ecs.StopTaskResponse;
  ListTasks: Ecs.ListTasksResponse;
  DescribeTasks: Ecs.DescribeTasksResponse;
  ListServiceDeployments: Ecs.ListServiceDeploymentsResponse;
  DescribeServiceDeployments: Ecs.DescribeServiceDeploymentsResponse;
  DescribeServiceRevisions: Ecs.DescribeServiceRevisionsResponse;
  StopServiceDeployment: Ecs.StopServiceDeploymentResponse;
  DescribeCapacityProviders: Ecs.DescribeCapacityProvidersResponse;
  TagResource: Ecs.TagResourceResponse;
  UntagResource: Ecs.UntagResourceResponse;
  ListTagsForResource: Ecs.ListTagsForResourceResponse;
}

/** Operations on one account and region's ECS state, each answering with its SDK response type. */
export type StateOperations<Api> = {
  [Op in keyof Api]: (state: EcsState, input: unknown) => Wire<Api[Op]>;
};

export function ecsOperations(
  stateFor: (ctx: RequestContext) => EcsState,
  scheduler: EcsScheduler,
  now: () => number,
): JsonOperations {
  const tasksOfService = (c: Cluster, s: Service) =>
    [...c.tasks.values()].filter((t) => t.group === `service:${s.serviceName}`);

  const service = (state: EcsState, input: { cluster?: string | undefined; service: string }) => {
    const cluster = state.cluster(input.cluster);
    if (!input.service) throw invalid('service can not be blank.');
    const svc = cluster.services.get(lastSegment(input.service));
    if (!svc) throw new AwsServiceError('ServiceNotFoundException', 'Service not found.');
    return { cluster, svc };
  };

  const ops: StateOperations<EcsApi> = {
    ...taskDefinitionOperations(now),
    ...containerInstanceOperations(scheduler),

    CreateCluster: (state, raw) => {
      const input = readRequest(CreateClusterRequest, raw, ecsDialect);
      const name = input.clusterName ?? 'default';
      let cluster = state.clusters.get(name);
      if (cluster?.status !== 'ACTIVE') {
        cluster = newCluster(state, name, tagsOf(input.tags));
        cluster.capacityProviders = input.capacityProviders ?? [];
        state.clusters.set(name, cluster);
      }
      return { cluster: clusterView(cluster, true) };
    },
    DescribeClusters: (state, raw) => {
      const input = readRequest(DescribeClustersRequest, raw, ecsDialect);
      const clusters = [];
      const failures = [];
      for (const ref of input.clusters ?? ['default']) {
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
    ListClusters: (state, raw) => {
      const input = readRequest(ListClustersRequest, raw, ecsDialect);
      const arns = [...state.clusters.values()].filter((c) => c.status === 'ACTIVE').map((c) => c.clusterArn);
      const page = arnPage(arns, input);
      return { clusterArns: page.items, nextToken: page.nextToken };
    },
    DeleteCluster: (state, raw) => {
      const cluster = state.cluster(readRequest(ClusterRequest, raw, ecsDialect).cluster);
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

    CreateService: (state, raw) => {
      const input = readRequest(CreateServiceRequest, raw, ecsDialect);
      const cluster = state.cluster(input.cluster);
      const name = input.serviceName;
      const existing = cluster.services.get(name);
      if (existing && existing.status !== 'INACTIVE') {
        throw invalid('Creation of service was not idempotent.');
      }
      const td = state.taskDefinition(input.taskDefinition);
      const { launchType, capacityProviderStrategy: cps } = input;
      if (launchType && cps?.length) {
        throw invalid('Specifying both a launch type and capacity provider strategy is not supported.');
      }
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
        desiredCount: input.desiredCount ?? 0,
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
        tags: tagsOf(input.tags),
        extra: pick(input, SERVICE_ECHO),
        ...(input.deploymentController && input.deploymentController.type !== 'ECS'
          ? { deploymentController: input.deploymentController.type }
          : {}),
      };
      cluster.services.set(name, svc);
      scheduler.createDeployment(state, svc);
      return { service: serviceView(svc, tasksOfService(cluster, svc), false) };
    },
    UpdateService: (state, raw) => {
      const input = readRequest(UpdateServiceRequest, raw, ecsDialect);
      const { cluster, svc } = service(state, input);
      if (svc.status !== 'ACTIVE')
        throw new AwsServiceError('ServiceNotActiveException', 'Service was not ACTIVE.');
      // Blue/green (CODE_DEPLOY) and task-set (EXTERNAL) services are deployed by another tool: ECS refuses
      // to start a deployment of its own (AWS's wording for a new task definition; the same for a forced one).
      const controller = svc.deploymentController;
      if (controller) {
        const what =
          input.taskDefinition !== undefined
            ? 'update task definition'
            : input.forceNewDeployment
              ? 'force a new deployment'
              : undefined;
        if (what)
          throw invalid(
            `Unable to ${what} on services with a ${controller} deployment controller. ${controller === 'CODE_DEPLOY' ? 'Use AWS CodeDeploy to trigger a new deployment.' : 'Use task sets to deploy a new version.'}`,
          );
      }
      let redeploy = input.forceNewDeployment === true;
      if (input.taskDefinition !== undefined) {
        const td = state.taskDefinition(input.taskDefinition);
        if (td.status !== 'ACTIVE')
          throw new AwsServiceError('ClientException', 'TaskDefinition is inactive');
        if (td.taskDefinitionArn !== svc.taskDefinition) redeploy = true;
        svc.taskDefinition = td.taskDefinitionArn;
      }
      if (input.deploymentConfiguration !== undefined) {
        svc.deploymentConfiguration = deploymentConfiguration(input.deploymentConfiguration);
      }
      if (input.desiredCount !== undefined) {
        svc.desiredCount = input.desiredCount;
        for (const d of svc.deployments) if (d.status === 'PRIMARY') d.desiredCount = input.desiredCount;
        scheduler.schedule(state, svc, 0);
      }
      if (input.capacityProviderStrategy !== undefined || input.networkConfiguration !== undefined)
        redeploy = true;
      if (input.capacityProviderStrategy) svc.capacityProviderStrategy = input.capacityProviderStrategy;
      if (redeploy) scheduler.createDeployment(state, svc);
      return { service: serviceView(svc, tasksOfService(cluster, svc), false) };
    },
    DescribeServices: (state, raw) => {
      const input = readRequest(DescribeServicesRequest, raw, ecsDialect);
      const cluster = state.cluster(input.cluster);
      const services = [];
      const failures = [];
      for (const ref of input.services) {
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
    ListServices: (state, raw) => {
      const input = readRequest(ListServicesRequest, raw, ecsDialect);
      const cluster = state.cluster(input.cluster);
      const lt = input.launchType;
      const arns = [...cluster.services.values()]
        .filter((s) => s.status !== 'INACTIVE' && (!lt || launchTypeOf(s) === lt))
        .map((s) => s.serviceArn);
      const page = arnPage(arns, input);
      return { serviceArns: page.items, nextToken: page.nextToken };
    },
    DeleteService: (state, raw) => {
      const input = readRequest(ServiceRequest, raw, ecsDialect);
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

    RunTask: (state, raw) => runTask(state, readRequest(RunTaskRequest, raw, ecsDialect)),
    StartTask: (state, raw) => {
      const { containerInstances, ...input } = readRequest(StartTaskRequest, raw, ecsDialect);
      return runTask(state, { ...input, count: containerInstances.length }, containerInstances);
    },
    StopTask: (state, raw) => {
      const input = readRequest(StopTaskRequest, raw, ecsDialect);
      const cluster = state.cluster(input.cluster);
      const t = findTask(cluster, input.task);
      scheduler.stopTask(state, cluster, t, 'UserInitiated', input.reason ?? 'Task stopped by user');
      return { task: taskView(t, false) };
    },
    ListTasks: (state, raw) => {
      const input = readRequest(ListTasksRequest, raw, ecsDialect);
      const cluster = state.cluster(input.cluster);
      const { serviceName, family, startedBy, containerInstance: instance } = input;
      if (serviceName && !cluster.services.has(lastSegment(serviceName))) {
        throw new AwsServiceError('ServiceNotFoundException', 'Service not found.');
      }
      const desired = input.desiredStatus ?? 'RUNNING';
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
      const page = arnPage(arns, input);
      return { taskArns: page.items, nextToken: page.nextToken };
    },
    DescribeTasks: (state, raw) => {
      const input = readRequest(DescribeTasksRequest, raw, ecsDialect);
      const cluster = state.cluster(input.cluster);
      const tasks = [];
      const failures = [];
      for (const ref of input.tasks) {
        const t =
          cluster.tasks.get(ref) ?? [...cluster.tasks.values()].find((x) => x.taskArn.endsWith(`/${ref}`));
        if (t) tasks.push(taskView(t, includesTags(input)));
        else failures.push({ arn: ref, reason: 'MISSING' });
      }
      return { tasks, failures };
    },

    ListServiceDeployments: (state, raw) => {
      const input = readRequest(ListServiceDeploymentsRequest, raw, ecsDialect);
      const { svc } = service(state, input);
      const wanted = input.status ?? [];
      const briefs = svc.history
        .map((d) => ({ d, status: serviceDeploymentStatus(d) }))
        .filter((x) => wanted.length === 0 || wanted.includes(x.status))
        .filter(({ d }) => {
          const { after, before } = input.createdAt ?? {};
          return (
            (after === undefined || d.createdAt / 1000 >= after) &&
            (before === undefined || d.createdAt / 1000 <= before)
          );
        })
        .map(
          ({ d, status }): Wire<Ecs.ServiceDeploymentBrief> => ({
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
          }),
        );
      const page = readPage(briefs, (b) => b.serviceDeploymentArn ?? '', input, ECS_PAGE, ecsDialect);
      return { serviceDeployments: page.items, nextToken: page.nextToken };
    },
    // AWS's shapes and errors; ROLLBACK (the default and, per AWS, the one valid value) starts the rollback to
    // the last completed revision that the circuit breaker would start.
    StopServiceDeployment: (state, raw) => {
      const { serviceDeploymentArn, stopType = 'ROLLBACK' } = readRequest(
        StopServiceDeploymentRequest,
        raw,
        ecsDialect,
      );
      if (stopType !== 'ROLLBACK' && stopType !== 'ABORT')
        throw invalid(
          `1 validation error detected: Value '${stopType}' at 'stopType' failed to satisfy constraint: Member must satisfy enum value set: [ABORT, ROLLBACK]`,
        );
      if (stopType === 'ABORT')
        throw new AwsServiceError(
          'UnsupportedFeatureException',
          'The stop type ABORT is not supported for this service deployment. Use ROLLBACK.',
        );
      const [, clusterName = '', serviceName = '', suffix = ''] = serviceDeploymentArn.split('/');
      const svc = state.clusters.get(clusterName)?.services.get(serviceName);
      const d = svc?.history.find((x) => x.id.slice(8) === suffix);
      if (!svc || !d || !serviceDeploymentArn.includes(':service-deployment/'))
        throw new AwsServiceError(
          'ServiceDeploymentNotFoundException',
          'The service deployment does not exist.',
        );
      if (serviceDeploymentStatus(d) !== 'IN_PROGRESS')
        throw new AwsServiceError(
          'ConflictException',
          `The service deployment is ${serviceDeploymentStatus(d)} and cannot be stopped.`,
        );
      if (!scheduler.stopDeployment(state, svc, d))
        throw new AwsServiceError(
          'ConflictException',
          'The service has no previous service revision to roll back to.',
        );
      return { serviceDeploymentArn };
    },
    // What ECS says of each service deployment: status (a deployment that failed reads ROLLBACK_SUCCESSFUL, as
    // ListServiceDeployments has it), its target revision with task counts, the circuit breaker, and the
    // rollback it started.
    DescribeServiceDeployments: (state, raw) => {
      const { serviceDeploymentArns } = readRequest(DescribeServiceDeploymentsRequest, raw, ecsDialect);
      const serviceDeployments: Wire<Ecs.ServiceDeployment>[] = [];
      const failures = [];
      for (const arn of serviceDeploymentArns) {
        const [, clusterName = '', serviceName = '', suffix = ''] = arn.split('/');
        const cluster = state.clusters.get(clusterName);
        const svc = cluster?.services.get(serviceName);
        const d = svc?.history.find((x) => x.id.slice(8) === suffix);
        if (!cluster || !svc || !d || !arn.includes(':service-deployment/')) {
          failures.push({ arn, reason: 'MISSING' });
          continue;
        }
        const tasks = tasksOfService(cluster, svc).filter((t) => t.deploymentId === d.id);
        const status = serviceDeploymentStatus(d);
        const breaker = svc.deploymentConfiguration.deploymentCircuitBreaker;
        serviceDeployments.push({
          serviceDeploymentArn: arn,
          serviceArn: svc.serviceArn,
          clusterArn: svc.clusterArn,
          createdAt: seconds(d.createdAt),
          startedAt: seconds(d.createdAt),
          updatedAt: seconds(d.updatedAt),
          ...(status === 'SUCCESSFUL' && d.finishedAt !== undefined
            ? { finishedAt: seconds(d.finishedAt) }
            : {}),
          ...(status !== 'SUCCESSFUL' && d.finishedAt !== undefined
            ? { stoppedAt: seconds(d.finishedAt) }
            : {}),
          targetServiceRevision: {
            arn: d.serviceRevisionArn,
            requestedTaskCount: d.desiredCount,
            runningTaskCount: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
            pendingTaskCount: tasks.filter((t) => t.lastStatus !== 'RUNNING' && t.lastStatus !== 'STOPPED')
              .length,
          },
          status,
          statusReason: d.rolloutStateReason,
          deploymentConfiguration: {
            minimumHealthyPercent: svc.deploymentConfiguration.minimumHealthyPercent,
            maximumPercent: svc.deploymentConfiguration.maximumPercent,
            deploymentCircuitBreaker: breaker,
            strategy: svc.deploymentConfiguration.strategy,
            ...(svc.deploymentConfiguration.bakeTimeInMinutes !== undefined
              ? { bakeTimeInMinutes: svc.deploymentConfiguration.bakeTimeInMinutes }
              : {}),
          },
          ...(status === 'IN_PROGRESS' && d.lifecycleStage ? { lifecycleStage: d.lifecycleStage } : {}),
          deploymentCircuitBreaker: {
            status: !breaker.enable ? 'DISABLED' : d.rolloutState === 'FAILED' ? 'TRIGGERED' : 'MONITORING',
            failureCount: d.failedTasks,
            threshold: Math.min(200, Math.max(3, Math.ceil(d.desiredCount * 0.5))),
          },
          ...(d.rollback
            ? {
                rollback: {
                  reason: d.rollback.reason,
                  startedAt: seconds(d.rollback.startedAt),
                  serviceRevisionArn: d.rollback.serviceRevisionArn,
                },
              }
            : {}),
        });
      }
      return { serviceDeployments, failures };
    },
    DescribeServiceRevisions: (state, raw) => {
      const { serviceRevisionArns } = readRequest(DescribeServiceRevisionsRequest, raw, ecsDialect);
      const serviceRevisions: Wire<Ecs.ServiceRevision>[] = [];
      const failures = [];
      for (const arn of serviceRevisionArns) {
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

    TagResource: (state, raw) => {
      const input = readRequest(TagResourceRequest, raw, ecsDialect);
      setTags(state, input.resourceArn, (cur) => mergeTags(cur, tagsOf(input.tags)));
      return {};
    },
    UntagResource: (state, raw) => {
      const input = readRequest(UntagResourceRequest, raw, ecsDialect);
      setTags(state, input.resourceArn, (cur) => cur.filter((t) => !input.tagKeys.includes(t.key)));
      return {};
    },
    ListTagsForResource: (state, raw) => {
      const input = readRequest(ListTagsForResourceRequest, raw, ecsDialect);
      let tags: Tag[] = [];
      setTags(state, input.resourceArn, (cur) => {
        tags = cur;
        return cur;
      });
      return { tags };
    },
  };

  function setTags(state: EcsState, arn: string, fn: (cur: Tag[]) => Tag[]) {
    const kind = arn.split(':')[5]?.split('/')[0];
    if (kind === 'task-definition') {
      state.taskDefinition(arn);
      state.taskDefinitionTags.set(arn, fn(state.taskDefinitionTags.get(arn) ?? []));
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

  /** RunTask, and StartTask onto the container instances `on` (one task each). */
  function runTask(state: EcsState, input: RunTaskRequest, on?: string[]): Wire<Ecs.RunTaskResponse> {
    const cluster = state.cluster(input.cluster);
    const td = state.taskDefinition(input.taskDefinition);
    const count = input.count ?? 1;
    const { capacityProviderStrategy: cps, launchType: lt } = input;
    const launchType = launchTypeOf({
      ...(lt ? { launchType: lt } : {}),
      ...(cps ? { capacityProviderStrategy: cps } : {}),
    });
    const tasks: Task[] = [];
    const failures: { arn?: string; reason: string }[] = [];
    for (let i = 0; i < count; i++) {
      const t = scheduler.newTask(state, cluster, td, {
        launchType,
        group: input.group ?? `family:${td.family}`,
        ...(input.startedBy ? { startedBy: input.startedBy } : {}),
      });
      t.tags = tagsOf(input.tags);
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
  for (const [name, op] of Object.entries(ops) as [string, (state: EcsState, input: unknown) => unknown][]) {
    wrapped[name] = (input, ctx) => op(stateFor(ctx), input);
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
function serviceDeploymentStatus(d: Deployment): Ecs.ServiceDeploymentStatus {
  if (d.rolloutState === 'COMPLETED') return 'SUCCESSFUL';
  if (d.rolloutState === 'FAILED') return 'ROLLBACK_SUCCESSFUL';
  return d.status === 'PRIMARY' ? 'IN_PROGRESS' : 'STOPPED';
}

export function deploymentConfiguration(
  c: DeploymentConfigurationInput | undefined = {},
): Service['deploymentConfiguration'] {
  const min = c.minimumHealthyPercent ?? 100;
  const max = c.maximumPercent ?? 200;
  if (min < 0 || min > 100) throw invalid('minimumHealthyPercent must be between 0 and 100.');
  if (max < 100) throw invalid('maximumPercent must be at least 100.');
  const strategy = c.strategy ?? 'ROLLING';
  if (!(DEPLOYMENT_STRATEGIES as readonly string[]).includes(strategy))
    throw invalid(
      `Invalid deployment strategy: ${strategy}. Valid values: ${DEPLOYMENT_STRATEGIES.join(', ')}.`,
    );
  const bake = c.bakeTimeInMinutes;
  if (bake !== undefined && (bake < 0 || bake > 1440))
    throw invalid('bakeTimeInMinutes must be between 0 and 1440.');
  return {
    minimumHealthyPercent: min,
    maximumPercent: max,
    deploymentCircuitBreaker: {
      enable: c.deploymentCircuitBreaker?.enable ?? false,
      rollback: c.deploymentCircuitBreaker?.rollback ?? false,
    },
    strategy: strategy as DeploymentStrategy,
    ...(bake !== undefined ? { bakeTimeInMinutes: bake } : {}),
  };
}
