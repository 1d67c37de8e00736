/**
 * Reads the ECS fleet for redeployEcs over the shared readers in shared/aws/ecs.ts: every service with its
 * images and policy tag, running digests only for services that matter.
 */
import {
  type Deployment,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListServiceDeploymentsCommand,
  ListTasksCommand,
  paginateListTasks,
  type Service,
  type Task,
} from '@aws-sdk/client-ecs';
import pLimit from 'p-limit';
import { describeClusterServices, EcsReadError, listClusterArns, serviceArnParts } from '../aws/ecs';
import { ScanDeadlineError } from '../aws/read-budget';
import { TaskDefinitionCache } from '../aws/task-definitions';
import { errorMessage } from '../errors';
import { holdSettingsOf } from '../holds/gates';
import { type Digest, isDigest } from '../image-ref';
import { NOTIFY_TAG } from '../outcomes/model';
import type { EcsService } from './model';
import { POLICY_TAG } from './plan';

/** ECS read APIs sustain about 20 calls a second: a few in flight keeps us well under the burst. */
const CONCURRENCY = 5;

function capacityOf(service: Service): string {
  if (service.capacityProviderStrategy?.length) {
    return service.capacityProviderStrategy.map((s) => s.capacityProvider).join('+');
  }
  return service.launchType ?? 'EC2';
}

export interface GatherOptions {
  clusters: readonly string[];
  /** Only services with a container for which this returns true get their running digests read. */
  isRelevantImage: (image: string) => boolean;
  /** The invocation's cache, when its caller describes task definitions again later (redeployEcs's apply). */
  taskDefinitions?: TaskDefinitionCache;
}

export interface GatherResult {
  services: EcsService[];
  /** Clusters or services that could not be read; the others were. */
  failures: { item: string; error: string }[];
}

export interface ScanResult extends GatherResult {
  /** Clusters the scan had no time left for (ScanDeadlineError): the next invocation reads them. */
  unfinished: string[];
}

/**
 * Every service of the given clusters (all of `options.clusters`, or every cluster in the account, when
 * `clusterArns` is not given), one cluster at a time as a whole: a cluster is read completely or, when the
 * client's read budget runs out of invocation time, left for later in `unfinished`.
 */
export async function gatherServices(
  ecs: ECSClient,
  options: GatherOptions & { clusterArns?: readonly string[] },
): Promise<ScanResult> {
  const limit = pLimit(CONCURRENCY);
  const taskDefinitions = options.taskDefinitions ?? new TaskDefinitionCache(ecs);
  const failures: GatherResult['failures'] = [];
  const unfinished: string[] = [];
  const clusters = options.clusterArns ?? (await listClusterArns(ecs, options.clusters));
  // Two clusters at a time, so that a scan stopped by its deadline has finished whole clusters rather than
  // started all of them; their reads share the CONCURRENCY slots.
  const clusterLimit = pLimit(2);
  const perCluster = await Promise.all(
    clusters.map((cluster) =>
      clusterLimit(async () => {
        try {
          // The slot is held for the cluster's listing only, then its services queue for slots like any other
          // read: never more than CONCURRENCY calls in flight, and no cluster waits on itself.
          const described = await limit(() => describeClusterServices(ecs, cluster));
          const serviceFailures: GatherResult['failures'] = [];
          const services = await toEcsServices(
            ecs,
            described,
            { ...options, taskDefinitions, oneCluster: true },
            limit,
            serviceFailures,
          );
          failures.push(...serviceFailures);
          return services;
        } catch (err) {
          if (err instanceof ScanDeadlineError) unfinished.push(cluster);
          else failures.push({ item: cluster, error: errorMessage(err, { name: false }) });
          return [];
        }
      }),
    ),
  );
  // A cluster left unfinished keeps none of its services' failures either: it is read again, whole, next time.
  return { services: perCluster.flat(), failures, unfinished };
}

/**
 * Described services as the plan reads them: their task definitions (revisions read before come from memory
 * or the state table, in one batch) and, for those on a relevant image, what their PRIMARY runs. A service
 * that cannot be read is a failure of its own; the others are still returned. Out of scan time: throws.
 */
async function toEcsServices(
  ecs: ECSClient,
  described: readonly Service[],
  options: GatherOptions & { taskDefinitions: TaskDefinitionCache; oneCluster?: boolean },
  limit: ReturnType<typeof pLimit>,
  failures: GatherResult['failures'],
): Promise<EcsService[]> {
  const { taskDefinitions } = options;
  await taskDefinitions.prefetch(described.flatMap((s) => s.taskDefinition ?? []));
  // Many services of one cluster to read what they run (a reconcile): the cluster's tasks, 100 a call, cost a
  // fraction of two calls a service. A few (a push): their own tasks, which cost less than the whole cluster's.
  const clusterArn = options.oneCluster ? described[0]?.clusterArn : undefined;
  const manyRelevant =
    clusterArn !== undefined &&
    described.filter((s) => taskDefinitionUsesRelevant(s, options)).length >= CLUSTER_WIDE_TASK_READ;
  let tasks: Promise<Map<string, Record<string, Digest>>> | undefined;
  const running = manyRelevant
    ? (deploymentId: string) => {
        // Not in a `limit` slot: the services awaiting it hold theirs, and would wait on it forever.
        tasks ??= clusterTaskDigests(ecs, clusterArn);
        return tasks.then((byDeployment) => byDeployment.get(deploymentId) ?? {});
      }
    : undefined;
  let outOfTime: ScanDeadlineError | undefined;
  const services = await Promise.all(
    described.map((service) =>
      limit(async (): Promise<EcsService | undefined> => {
        try {
          return await toEcsService(ecs, service, taskDefinitions, options.isRelevantImage, running);
        } catch (err) {
          if (err instanceof ScanDeadlineError) outOfTime = err;
          else
            failures.push({
              item: service.serviceArn ?? String(service.serviceName),
              error: errorMessage(err, { name: false }),
            });
          return undefined;
        }
      }),
    ),
  );
  await taskDefinitions.save();
  if (outOfTime) throw outOfTime;
  return services.filter((s): s is EcsService => s !== undefined);
}

export interface IndexedGatherResult extends GatherResult {
  /** Indexed services ECS no longer has (deleted, or INACTIVE): their entries are stale. */
  gone: string[];
}

/**
 * The services a fleet index names, described as they are now (DescribeServices, 10 a call, per cluster, with
 * tags): what the plan sees is never the index's copy.
 */
export async function gatherIndexedServices(
  ecs: ECSClient,
  candidates: readonly { serviceArn: string; clusterArn: string }[],
  options: GatherOptions,
): Promise<IndexedGatherResult> {
  const limit = pLimit(CONCURRENCY);
  const taskDefinitions = options.taskDefinitions ?? new TaskDefinitionCache(ecs);
  const failures: GatherResult['failures'] = [];
  const gone: string[] = [];
  const byCluster = new Map<string, string[]>();
  for (const c of candidates)
    byCluster.set(c.clusterArn, [...(byCluster.get(c.clusterArn) ?? []), c.serviceArn]);
  const batches = [...byCluster].flatMap(([cluster, arns]) =>
    Array.from({ length: Math.ceil(arns.length / 10) }, (_, i) => ({
      cluster,
      arns: arns.slice(i * 10, i * 10 + 10),
    })),
  );
  const described = await Promise.all(
    batches.map(({ cluster, arns }) =>
      limit(async () => {
        try {
          const out = await ecs.send(
            new DescribeServicesCommand({ cluster, services: arns, include: ['TAGS'] }),
          );
          for (const f of out.failures ?? []) {
            if (f.reason === 'MISSING') gone.push(f.arn ?? '');
            else failures.push({ item: f.arn ?? cluster, error: `DescribeServices: ${f.reason}` });
          }
          const services = out.services ?? [];
          for (const s of services) if (s.status !== 'ACTIVE') gone.push(s.serviceArn ?? '');
          return services.filter((s) => s.status === 'ACTIVE');
        } catch (err) {
          failures.push({ item: cluster, error: errorMessage(err, { name: false }) });
          return [] as Service[];
        }
      }),
    ),
  );
  const services = await toEcsServices(
    ecs,
    described.flat(),
    { ...options, taskDefinitions },
    limit,
    failures,
  );
  return { services, failures, gone: gone.filter(Boolean) };
}

/** One service as it is now, for the fleet index (a deployment event); undefined when ECS no longer has it. */
export async function describeOneService(
  ecs: ECSClient,
  serviceArn: string,
  taskDefinitions: TaskDefinitionCache,
  /** Images whose running digests to read (a held push's release re-plans with them); the index needs none. */
  isRelevantImage: (image: string) => boolean = () => false,
): Promise<EcsService | undefined> {
  const cluster = serviceArnParts(serviceArn)?.cluster;
  if (!cluster)
    throw new EcsReadError('DescribeServices', serviceArn, new Error('not a service ARN with its cluster'));
  const out = await ecs.send(
    new DescribeServicesCommand({ cluster, services: [serviceArn], include: ['TAGS'] }),
  );
  const service = out.services?.find((s) => s.status === 'ACTIVE');
  if (!service) {
    const failure = out.failures?.find((f) => f.reason !== 'MISSING');
    if (failure) throw new EcsReadError('DescribeServices', serviceArn, new Error(failure.reason));
    return undefined;
  }
  return toEcsService(ecs, service, taskDefinitions, isRelevantImage);
}

async function toEcsService(
  ecs: ECSClient,
  service: Service,
  taskDefinitions: TaskDefinitionCache,
  isRelevantImage: (image: string) => boolean,
  /** What a deployment's tasks run, from the cluster's tasks read once; without it, from its own tasks. */
  running?: (deploymentId: string) => Promise<Record<string, Digest>>,
): Promise<EcsService> {
  const taskDefinitionArn = service.taskDefinition;
  if (!service.serviceArn || !service.clusterArn || !service.serviceName || !taskDefinitionArn) {
    throw new EcsReadError(
      'DescribeServices',
      service.serviceArn ?? '?',
      new Error('service without ARN or task definition'),
    );
  }
  const taskDefinition = await taskDefinitions.get(taskDefinitionArn);
  const containers = (taskDefinition.containerDefinitions ?? [])
    .filter((c) => c.name && c.image)
    .map((c) => ({ containerName: c.name as string, image: c.image as string }));
  const policyTag = service.tags?.find((t) => t.key === POLICY_TAG)?.value;
  const holdSettings = holdSettingsOf(
    (key) => service.tags?.find((t) => t.key === `harborpilot:${key}`)?.value,
  );
  const notify = service.tags?.find((t) => t.key === NOTIFY_TAG)?.value;
  const controller = service.deploymentController?.type;
  const relevant = containers.some((c) => isRelevantImage(c.image));
  const primary = service.deployments?.find((d) => d.status === 'PRIMARY');
  let runningDigests: Record<string, Digest> = {};
  if (relevant && primary?.id) {
    runningDigests = running
      ? await running(primary.id)
      : await primaryDigests(ecs, service.clusterArn, primary.id);
    // No task of the PRIMARY has reported a digest yet (a rollout just started, or a service scaled to zero):
    // the digests ECS pinned for it when it was created say what it runs, without comparing timestamps.
    if (Object.keys(runningDigests).length === 0) {
      runningDigests = await pinnedDigests(ecs, service.clusterArn, service.serviceArn, primary);
    }
  }
  return {
    clusterArn: service.clusterArn,
    serviceArn: service.serviceArn,
    serviceName: service.serviceName,
    capacity: capacityOf(service),
    taskDefinitionArn,
    containers,
    runningDigests,
    ...(primary?.createdAt ? { primaryCreatedAt: primary.createdAt } : {}),
    ...(policyTag !== undefined ? { policyTag } : {}),
    ...(holdSettings ? { holdSettings } : {}),
    ...(notify !== undefined ? { notify } : {}),
    ...(controller === 'CODE_DEPLOY' || controller === 'EXTERNAL'
      ? { deploymentController: controller }
      : {}),
  };
}

/** The digest each container of a task reports, into `digests` where the container has none yet. */
function addTaskDigests(digests: Record<string, Digest>, task: Task): Record<string, Digest> {
  for (const c of task.containers ?? []) {
    if (c.name && c.imageDigest && isDigest(c.imageDigest)) digests[c.name] ??= c.imageDigest;
  }
  return digests;
}

/** From this many services of one cluster on relevant images, its tasks are read cluster-wide. */
const CLUSTER_WIDE_TASK_READ = 3;

/**
 * Whether a described service may be on a relevant image, before its task definition is read: the cache
 * answers from memory when it can (after prefetch, from the state table too); an unknown revision counts.
 */
function taskDefinitionUsesRelevant(
  service: Service,
  options: { taskDefinitions: TaskDefinitionCache; isRelevantImage: (image: string) => boolean },
): boolean {
  if (!service.taskDefinition) return false;
  const known = options.taskDefinitions.peek(service.taskDefinition);
  if (!known) return true;
  return (known.containerDefinitions ?? []).some(
    (c) => c.image !== undefined && options.isRelevantImage(c.image),
  );
}

/**
 * Every running task of a cluster (ListTasks 100 a page, DescribeTasks 100 a call), as the digests each
 * deployment's tasks run, by deployment id (a service's tasks are `startedBy` their deployment).
 */
async function clusterTaskDigests(
  ecs: ECSClient,
  cluster: string,
): Promise<Map<string, Record<string, Digest>>> {
  const byDeployment = new Map<string, Record<string, Digest>>();
  for await (const page of paginateListTasks({ client: ecs, pageSize: 100 }, { cluster })) {
    const arns = page.taskArns ?? [];
    if (arns.length === 0) continue;
    const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns }));
    for (const task of out.tasks ?? []) {
      if (task.lastStatus === 'STOPPED' || !task.startedBy) continue;
      byDeployment.set(task.startedBy, addTaskDigests(byDeployment.get(task.startedBy) ?? {}, task));
    }
  }
  return byDeployment;
}

/**
 * Since ECS pins one digest per deployment (version consistency), any task of the PRIMARY deployment tells
 * what it runs: a handful is enough.
 */
async function primaryDigests(
  ecs: ECSClient,
  cluster: string,
  deploymentId: string,
): Promise<Record<string, Digest>> {
  const list = await ecs.send(new ListTasksCommand({ cluster, startedBy: deploymentId, maxResults: 10 }));
  const taskArns = list.taskArns ?? [];
  if (taskArns.length === 0) return {};
  const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns }));
  const digests: Record<string, Digest> = {};
  for (const task of out.tasks ?? []) if (task.lastStatus !== 'STOPPED') addTaskDigests(digests, task);
  return digests;
}

/**
 * The digests ECS pinned for the PRIMARY deployment (version consistency): the target service revision of the
 * service's newest service deployment, when that deployment is what the PRIMARY runs (pending, in progress or
 * done, with the PRIMARY's task definition). A rollback or a stopped deployment says nothing reliable: empty.
 */
async function pinnedDigests(
  ecs: ECSClient,
  cluster: string,
  service: string,
  primary: Deployment,
): Promise<Record<string, Digest>> {
  const list = await ecs.send(
    new ListServiceDeploymentsCommand({
      cluster,
      service,
      ...(primary.createdAt ? { createdAt: { after: new Date(primary.createdAt.getTime() - 60_000) } } : {}),
      maxResults: 20,
    }),
  );
  const newest = (list.serviceDeployments ?? [])
    .filter((d) => d.targetServiceRevisionArn)
    .sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0))[0];
  if (!newest?.targetServiceRevisionArn) return {};
  if (!['PENDING', 'IN_PROGRESS', 'SUCCESSFUL'].includes(newest.status ?? '')) return {};
  const out = await ecs.send(
    new DescribeServiceRevisionsCommand({ serviceRevisionArns: [newest.targetServiceRevisionArn] }),
  );
  const revision = out.serviceRevisions?.[0];
  if (!revision || revision.taskDefinition !== primary.taskDefinition) return {};
  const digests: Record<string, Digest> = {};
  for (const c of revision.containerImages ?? []) {
    if (c.containerName && c.imageDigest && isDigest(c.imageDigest)) digests[c.containerName] = c.imageDigest;
  }
  return digests;
}
