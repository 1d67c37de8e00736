/**
 * ECS in-use source, within the API's limits (ListTasks/DescribeTasks 100, ListServices 100,
 * DescribeServices 10, DescribeServiceRevisions 20, each task definition described once):
 * - running and pending tasks: the digest each container runs;
 * - every PRIMARY and ACTIVE deployment: its task definition's images, and for a deployment with no task
 *   to ask (scaled to zero), the digests ECS pinned for it, from its service revision;
 * - the newest N ACTIVE revisions of every task definition family in use: the rollback targets.
 */
import {
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListServiceDeploymentsCommand,
  ListServicesCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  type Service,
} from '@aws-sdk/client-ecs';
import pLimit from 'p-limit';
import { EcsReadError, listClusterArns } from '../../aws/ecs';
import { ScanDeadlineError } from '../../aws/read-budget';
import { TaskDefinitionCache } from '../../aws/task-definitions';
import { isDigest } from '../../image-ref';
import type { InUseRef, InUseSource } from './model';

/** ECS read APIs sustain about 20 calls a second: a few in flight stays well under the burst. */
const CONCURRENCY = 5;

export interface EcsInUseOptions {
  /** Cluster names or ARNs; empty means every cluster. */
  clusters: readonly string[];
  keepTaskDefinitionRevisions: number;
}

async function call<T>(operation: string, resource: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    // Out of invocation time is not a read error: a pass leaves the cluster for its next turn.
    if (err instanceof ScanDeadlineError) throw err;
    throw new EcsReadError(operation, resource, err);
  }
}

const nameOf = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
/** `arn:…:task-definition/web:42` → `web`. */
export const familyOf = (taskDefinitionArn: string) => nameOf(taskDefinitionArn).replace(/:\d+$/, '');

export function ecsInUseSource(ecs: ECSClient, options: EcsInUseOptions): InUseSource {
  return {
    name: 'ecs',
    collect: async () => {
      const clusters = await call('ListClusters', 'account', () => listClusterArns(ecs, options.clusters));
      return (await collectEcsClusters(ecs, clusters, options)).refs;
    },
  };
}

interface Unobserved {
  clusterArn: string;
  service: Service;
  taskDefinitions: Set<string>;
  usedBy: string;
}

export interface EcsClustersInUse {
  refs: InUseRef[];
  /** Clusters read whole: every reference they hold is in `refs`. */
  read: string[];
  /** Clusters left whole for a later turn: the invocation had no time left for them (`partial` only). */
  unfinished: string[];
}

/**
 * The in-use references of these clusters, each cluster complete on its own: its tasks, its services'
 * deployments (with the digests pinned for those without tasks), the rollback revisions of the families it uses,
 * and the images of all those task definitions. With `partial`, clusters are read one at a time and those the
 * invocation has no time left for (ScanDeadlineError) are returned in `unfinished`, none of their references
 * kept; without it, running out of time fails the read as any error does.
 */
export async function collectEcsClusters(
  ecs: ECSClient,
  clusters: readonly string[],
  options: EcsInUseOptions,
  o: { partial?: boolean } = {},
): Promise<EcsClustersInUse> {
  const clusterLimit = pLimit(o.partial ? 1 : CONCURRENCY);
  const limit = pLimit(CONCURRENCY);
  const taskDefinitions = new TaskDefinitionCache(ecs);
  // A family's newest revisions are listed once an invocation, whichever clusters use it.
  const familyRevisions = new Map<string, Promise<string[]>>();
  const newest = (family: string) => {
    let listed = familyRevisions.get(family);
    if (!listed) {
      listed = listNewestRevisions(ecs, family, options.keepTaskDefinitionRevisions);
      familyRevisions.set(family, listed);
    }
    return listed;
  };
  const out: EcsClustersInUse = { refs: [], read: [], unfinished: [] };
  await Promise.all(
    clusters.map((cluster) =>
      clusterLimit(async () => {
        try {
          const refs = await clusterInUse(ecs, cluster, options, { limit, taskDefinitions, newest });
          out.refs.push(...refs);
          out.read.push(cluster);
        } catch (err) {
          if (!(o.partial && err instanceof ScanDeadlineError)) throw err;
          out.unfinished.push(cluster);
        }
      }),
    ),
  );
  return out;
}

async function clusterInUse(
  ecs: ECSClient,
  cluster: string,
  options: EcsInUseOptions,
  shared: {
    limit: ReturnType<typeof pLimit>;
    taskDefinitions: TaskDefinitionCache;
    newest: (family: string) => Promise<string[]>;
  },
): Promise<InUseRef[]> {
  const { limit } = shared;
  /** task definition ARN → who uses it */
  const usedTaskDefinitions = new Map<string, string>();
  const unobserved: Unobserved[] = [];
  const refs = await runningTaskRefs(ecs, cluster, usedTaskDefinitions);
  for (const service of await activeServices(ecs, cluster)) {
    const pinned = new Set<string>();
    let zero = false;
    for (const dep of service.deployments ?? []) {
      if ((dep.status !== 'PRIMARY' && dep.status !== 'ACTIVE') || !dep.taskDefinition) continue;
      const usedBy = `ECS service ${nameOf(cluster)}/${service.serviceName} ${dep.status} deployment ${dep.id}`;
      usedTaskDefinitions.set(dep.taskDefinition, usedBy);
      if ((dep.runningCount ?? 0) + (dep.pendingCount ?? 0) === 0) {
        zero = true;
        pinned.add(dep.taskDefinition);
      }
    }
    if (zero) {
      unobserved.push({
        clusterArn: cluster,
        service,
        taskDefinitions: pinned,
        usedBy: `ECS service ${nameOf(cluster)}/${service.serviceName}`,
      });
    }
  }

  // Rollback targets: the newest N ACTIVE revisions of each family in use.
  const families = new Set([...usedTaskDefinitions.keys()].map(familyOf));
  if (options.keepTaskDefinitionRevisions > 0) {
    await Promise.all(
      [...families].map(async (family) => {
        for (const arn of await limit(() => shared.newest(family))) {
          if (!usedTaskDefinitions.has(arn)) {
            usedTaskDefinitions.set(
              arn,
              `task definition ${nameOf(arn)} (one of the newest ${options.keepTaskDefinitionRevisions} revisions of ${family}, a rollback target)`,
            );
          }
        }
      }),
    );
  }

  await Promise.all(
    [...usedTaskDefinitions].map(([arn, usedBy]) =>
      limit(async () => {
        const td = await call('DescribeTaskDefinition', arn, () => shared.taskDefinitions.get(arn));
        for (const c of td.containerDefinitions ?? []) {
          if (c.image) refs.push({ image: c.image, usedBy: `${usedBy}, container ${c.name}` });
        }
      }),
    ),
  );
  for (const u of unobserved) {
    refs.push(...(await limit(() => pinnedDigestRefs(ecs, u))));
  }
  return refs;
}

async function listNewestRevisions(ecs: ECSClient, family: string, keep: number): Promise<string[]> {
  const out = await call('ListTaskDefinitions', family, () =>
    ecs.send(
      new ListTaskDefinitionsCommand({
        familyPrefix: family,
        status: 'ACTIVE',
        sort: 'DESC',
        maxResults: Math.min(100, keep),
      }),
    ),
  );
  // familyPrefix is the full family name, but check: a prefix match must not add strangers.
  return (out.taskDefinitionArns ?? []).filter((a) => familyOf(a) === family).slice(0, keep);
}

async function runningTaskRefs(
  ecs: ECSClient,
  cluster: string,
  usedTaskDefinitions: Map<string, string>,
): Promise<InUseRef[]> {
  const taskArns: string[] = [];
  let nextToken: string | undefined;
  do {
    // desiredStatus RUNNING includes tasks still PENDING or PROVISIONING: they are about to pull.
    const page = await call('ListTasks', cluster, () =>
      ecs.send(new ListTasksCommand({ cluster, desiredStatus: 'RUNNING', maxResults: 100, nextToken })),
    );
    taskArns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const refs: InUseRef[] = [];
  for (let i = 0; i < taskArns.length; i += 100) {
    const out = await call('DescribeTasks', cluster, () =>
      ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns.slice(i, i + 100) })),
    );
    const failure = out.failures?.find((f) => f.reason !== 'MISSING');
    if (failure) throw new EcsReadError('DescribeTasks', failure.arn ?? cluster, new Error(failure.reason));
    for (const task of out.tasks ?? []) {
      if (task.lastStatus === 'STOPPED' || !task.taskArn) continue;
      const where = `ECS task ${nameOf(cluster)}/${nameOf(task.taskArn)}`;
      if (task.taskDefinitionArn && !usedTaskDefinitions.has(task.taskDefinitionArn)) {
        usedTaskDefinitions.set(task.taskDefinitionArn, `${where} (${task.lastStatus})`);
      }
      for (const c of task.containers ?? []) {
        const ref: InUseRef = { usedBy: `${where} container ${c.name} (${task.lastStatus})` };
        if (c.image) ref.image = c.image;
        if (c.imageDigest && isDigest(c.imageDigest)) ref.digest = c.imageDigest;
        refs.push(ref);
      }
    }
  }
  return refs;
}

async function activeServices(ecs: ECSClient, cluster: string): Promise<Service[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await call('ListServices', cluster, () =>
      ecs.send(new ListServicesCommand({ cluster, maxResults: 100, nextToken })),
    );
    arns.push(...(page.serviceArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const services: Service[] = [];
  for (let i = 0; i < arns.length; i += 10) {
    const out = await call('DescribeServices', cluster, () =>
      ecs.send(new DescribeServicesCommand({ cluster, services: arns.slice(i, i + 10) })),
    );
    const failure = out.failures?.find((f) => f.reason !== 'MISSING');
    if (failure)
      throw new EcsReadError('DescribeServices', failure.arn ?? cluster, new Error(failure.reason));
    services.push(...(out.services ?? []).filter((s) => s.status !== 'INACTIVE'));
  }
  return services;
}

/**
 * A deployment without tasks (scaled to zero) still has the digests ECS pinned for it, and its next task
 * pulls exactly those: read them from the service revisions of the service's recent deployments.
 */
async function pinnedDigestRefs(ecs: ECSClient, u: Unobserved): Promise<InUseRef[]> {
  const service = u.service.serviceArn ?? String(u.service.serviceName);
  const list = await call('ListServiceDeployments', service, () =>
    ecs.send(new ListServiceDeploymentsCommand({ cluster: u.clusterArn, service, maxResults: 20 })),
  );
  const revisionArns = [
    ...new Set((list.serviceDeployments ?? []).flatMap((d) => d.targetServiceRevisionArn ?? [])),
  ];
  const refs: InUseRef[] = [];
  for (let i = 0; i < revisionArns.length; i += 20) {
    const out = await call('DescribeServiceRevisions', service, () =>
      ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: revisionArns.slice(i, i + 20) })),
    );
    for (const revision of out.serviceRevisions ?? []) {
      if (!revision.taskDefinition || !u.taskDefinitions.has(revision.taskDefinition)) continue;
      for (const c of revision.containerImages ?? []) {
        if (c.imageDigest && isDigest(c.imageDigest)) {
          refs.push({
            digest: c.imageDigest,
            usedBy: `${u.usedBy} pinned digest of container ${c.containerName} (service revision ${nameOf(revision.serviceRevisionArn ?? '?')})`,
          });
        }
      }
    }
  }
  return refs;
}
