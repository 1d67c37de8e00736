/**
 * ECS capacity math (pure). Free memory summed over a cluster says nothing: a task lands on one instance
 * or not at all, so every count here is per instance, then added up.
 */
import type {
  ContainerInstanceState,
  EcsClusterReport,
  EcsClusterState,
  EcsServiceState,
  FargateUsage,
  Finding,
  InstanceTotals,
  ServiceHeadroom,
  TaskReservation,
} from './model';

const MINUTE = 60_000;

/** ECS places only on ACTIVE instances whose agent is connected. */
export const isUsable = (i: ContainerInstanceState) => i.status === 'ACTIVE' && i.agentConnected;

/** How many more tasks of this size one instance takes. */
export function tasksThatFitOn(instance: ContainerInstanceState, task: TaskReservation): number {
  if (!isUsable(instance)) return 0;
  const byCpu = task.cpu > 0 ? Math.floor(instance.remaining.cpu / task.cpu) : Number.POSITIVE_INFINITY;
  const byMemory =
    task.memory > 0 ? Math.floor(instance.remaining.memory / task.memory) : Number.POSITIVE_INFINITY;
  let n = Math.max(0, Math.min(byCpu, byMemory));
  if (task.hostPorts.length > 0) {
    // A fixed host port is taken by the first task: one more at most, and none if it is already in use.
    n = task.hostPorts.some((p) => instance.reservedPorts.includes(p)) ? 0 : Math.min(n, 1);
  }
  return n;
}

/**
 * The largest number of this service's tasks that can still be placed: identical tasks, so filling each
 * instance of the service's kind as far as it goes is the best any placement strategy can do.
 */
export function tasksThatStillFit(instances: ContainerInstanceState[], service: EcsServiceState): number {
  if (service.capacity === 'FARGATE') return 0;
  return instances
    .filter((i) => i.kind === service.capacity)
    .reduce((sum, i) => sum + tasksThatFitOn(i, service.task), 0);
}

/** ECS rounds maximumPercent down: the extra tasks a rolling deployment starts before it stops old ones. */
export function deploymentExtraTasks(service: EcsServiceState): number {
  return Math.max(
    0,
    Math.floor((service.desiredCount * service.maximumPercent) / 100) - service.desiredCount,
  );
}

/** ECS rounds minimumHealthyPercent up: old tasks a deployment may stop before new ones run. */
export function tasksStoppableFirst(service: EcsServiceState): number {
  return Math.max(
    0,
    service.desiredCount - Math.ceil((service.desiredCount * service.minimumHealthyPercent) / 100),
  );
}

export const vcpuOf = (task: TaskReservation) => task.cpu / 1024;

function totals(instances: ContainerInstanceState[]): InstanceTotals {
  const usable = instances.filter(isUsable);
  return {
    instances: instances.length,
    usable: usable.length,
    registeredCpu: instances.reduce((s, i) => s + i.registered.cpu, 0),
    registeredMemory: instances.reduce((s, i) => s + i.registered.memory, 0),
    // What ECS could still place on: draining or disconnected instances offer nothing.
    remainingCpu: usable.reduce((s, i) => s + i.remaining.cpu, 0),
    remainingMemory: usable.reduce((s, i) => s + i.remaining.memory, 0),
  };
}

export interface EcsPlanOptions {
  nowMs: number;
  stuckDeploymentMinutes: number;
  fargate?: FargateUsage;
}

export function planEcsCluster(
  cluster: EcsClusterState,
  options: EcsPlanOptions,
): { report: EcsClusterReport; findings: Finding[] } {
  const label = `ECS ${cluster.clusterName}`;
  const findings: Finding[] = [];
  const finding = (f: Omit<Finding, 'cluster' | 'key'>) =>
    findings.push({ ...f, cluster: label, key: `ecs:${cluster.clusterName}:${f.subject}:${f.kind}` });

  for (const i of cluster.instances) {
    const subject = `container-instance/${i.instanceId}`;
    const what = `${i.kind === 'EXTERNAL' ? 'external instance' : 'container instance'} ${i.instanceId}`;
    if (i.status === 'ACTIVE' && !i.agentConnected) {
      finding({
        kind: 'agent-disconnected',
        severity: 'warning',
        subject,
        title: `${what}: ECS agent disconnected`,
        detail: `ECS places no tasks on it while the agent is disconnected (${i.remaining.cpu} CPU units and ${i.remaining.memory} MiB unused).`,
      });
    } else if (i.status === 'DRAINING') {
      finding({
        kind: 'draining',
        severity: 'info',
        subject,
        title: `${what} is draining`,
        detail: `${i.registered.cpu} CPU units and ${i.registered.memory} MiB leave the cluster's capacity.`,
      });
    }
  }

  const services: ServiceHeadroom[] = [];
  for (const s of cluster.services) {
    const subject = `service/${s.serviceName}`;
    const extra = deploymentExtraTasks(s);
    let fit: number | null;
    let room: string;
    if (s.capacity === 'FARGATE') {
      const f = options.fargate;
      fit =
        f && s.task.cpu > 0 ? Math.max(0, Math.floor((f.quotaVcpu - f.onDemandVcpu) / vcpuOf(s.task))) : null;
      room = f ? `${f.quotaVcpu - f.onDemandVcpu} vCPU left of the Fargate quota of ${f.quotaVcpu}` : '';
    } else {
      fit = tasksThatStillFit(cluster.instances, s);
      const kind = cluster.instances.filter((i) => i.kind === s.capacity);
      room = `${kind.filter(isUsable).length} usable ${s.capacity} instance(s) of ${kind.length}`;
    }
    services.push({
      serviceName: s.serviceName,
      capacity: s.capacity,
      desiredCount: s.desiredCount,
      runningCount: s.runningCount,
      pendingCount: s.pendingCount,
      taskCpu: s.task.cpu,
      taskMemory: s.task.memory,
      tasksThatStillFit: fit === null || Number.isFinite(fit) ? fit : null,
      deploymentExtraTasks: extra,
    });
    const size = `one task reserves ${s.task.cpu} CPU units and ${s.task.memory} MiB${s.task.hostPorts.length ? ` and host port(s) ${s.task.hostPorts.join(', ')}` : ''}`;
    const provider = s.capacityProviders.length
      ? ` Capacity provider ${s.capacityProviders.join(', ')} may still add instances.`
      : '';

    if (fit !== null && s.desiredCount > 0) {
      if (fit === 0) {
        // With no room, a deployment moves only if it may stop old tasks before starting new ones.
        const stoppable = tasksStoppableFirst(s);
        finding({
          kind: 'no-room',
          severity: stoppable === 0 ? 'critical' : 'warning',
          subject,
          title: `no room for another task of ${s.serviceName}`,
          detail:
            `${size}; ${room}. ` +
            (stoppable === 0
              ? `The next deployment cannot start: minimumHealthyPercent ${s.minimumHealthyPercent} stops no old task first.`
              : `Scaling out fails; deployments replace at most ${stoppable} task(s) at a time.`) +
            provider,
        });
      } else if (fit < extra) {
        finding({
          kind: 'deployment-headroom',
          severity: 'warning',
          subject,
          title: `a deployment of ${s.serviceName} cannot place all its new tasks at once`,
          detail: `maximumPercent ${s.maximumPercent} starts ${extra} extra task(s); only ${fit} fit (${size}; ${room}).${provider}`,
        });
      }
    }

    if (s.runningCount < s.desiredCount && !belowDesiredIsExpected(s, options)) {
      // Pending tasks are placed already. The rest need room: when it is missing, capacity is the reason;
      // otherwise tasks fail for reasons of their own (alertTaskFailures emails those), so only the report
      // lists it.
      const unplaced = s.desiredCount - s.runningCount - s.pendingCount;
      const noRoom = fit !== null && unplaced > 0 && fit < unplaced;
      finding({
        kind: 'below-desired',
        severity: !noRoom ? 'info' : s.runningCount === 0 ? 'critical' : 'warning',
        subject,
        title: `${s.serviceName} runs ${s.runningCount} of ${s.desiredCount} tasks`,
        detail:
          `${s.pendingCount} pending; ${fit === null ? 'room unknown' : `${fit} more task(s) fit`} (${size}).` +
          (noRoom ? '' : ' Not for lack of room: see the service events and task failures.'),
      });
    }

    for (const d of s.deployments) {
      if (!isStuck(d, options)) continue;
      const minutes = Math.floor((options.nowMs - d.updatedAtMs) / MINUTE);
      finding({
        kind: 'stuck-deployment',
        severity: 'critical',
        subject,
        title: `deployment of ${s.serviceName} has not progressed for ${minutes} minutes`,
        detail: `${d.id} (${d.status}): ${d.runningCount} running, ${d.pendingCount} pending of ${d.desiredCount}; last change ${new Date(d.updatedAtMs).toISOString()}.`,
      });
    }
  }

  return {
    report: {
      cluster: cluster.clusterName,
      ec2: totals(cluster.instances.filter((i) => i.kind === 'EC2')),
      external: totals(cluster.instances.filter((i) => i.kind === 'EXTERNAL')),
      services,
    },
    findings,
  };
}

function isStuck(d: EcsServiceState['deployments'][number], o: EcsPlanOptions): boolean {
  return d.rolloutState === 'IN_PROGRESS' && o.nowMs - d.updatedAtMs > o.stuckDeploymentMinutes * MINUTE;
}

/**
 * A rolling deployment may run below desired count down to minimumHealthyPercent: that is the deployment
 * working, not a shortage, until it stops progressing.
 */
function belowDesiredIsExpected(s: EcsServiceState, o: EcsPlanOptions): boolean {
  const rolling = s.deployments.some((d) => d.rolloutState === 'IN_PROGRESS' && !isStuck(d, o));
  return rolling && s.runningCount >= s.desiredCount - tasksStoppableFirst(s);
}

/** Fargate On-Demand vCPU against the account quota: warn from 80 %, critical from 95 %. */
export function planFargateQuota(f: FargateUsage): Finding[] {
  const used = f.quotaVcpu > 0 ? f.onDemandVcpu / f.quotaVcpu : 1;
  if (used < 0.8) return [];
  return [
    {
      key: 'ecs:account:fargate-vcpu-quota',
      kind: 'fargate-vcpu-quota',
      severity: used >= 0.95 ? 'critical' : 'warning',
      cluster: 'Fargate',
      subject: 'vcpu-quota',
      title: `Fargate uses ${Math.round(used * 100)} % of the account's vCPU quota`,
      detail: `${f.onDemandVcpu} of ${f.quotaVcpu} On-Demand vCPU (Service Quotas L-3032A538); new Fargate tasks fail beyond it.`,
    },
  ];
}
