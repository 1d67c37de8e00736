/**
 * The ECS service scheduler on the simulated clock: deployments roll within minimumHealthyPercent /
 * maximumPercent, tasks move PROVISIONING → PENDING → RUNNING → DEPROVISIONING → STOPPED, images
 * are pinned to the digest resolved when the deployment was created, placement accounts CPU, memory
 * and host ports on container instances, and the circuit breaker fails (and rolls back) deployments.
 * Every transition is published in the shape of ECS's EventBridge events.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { readImageReference } from '../image-reference';
import type { LocalCloudCore } from '../types';
import {
  type Cluster,
  type ContainerInstance,
  type Deployment,
  type EcsState,
  invalid,
  iso,
  type LaunchType,
  lastSegment,
  type Service,
  type Task,
  type TaskDefinition,
} from './model';

/** Simulated durations of each task phase (ms). */
export const TIMING = {
  provisioning: 2_000,
  pending: 3_000,
  deprovisioning: 2_000,
  reconcile: 1_000,
  placementRetry: 30_000,
  /** The launch throttle's first delay; it doubles per task that fails to start, up to maxRestartBackoff. */
  restartBackoff: 5_000,
  maxRestartBackoff: 900_000,
};

const AZS = ['a', 'b', 'c'];

export class EcsScheduler {
  private taskSeq = 0;
  constructor(private readonly core: LocalCloudCore) {}

  // ---------- deployments ----------

  /** Creates the PRIMARY deployment for the service's current task definition (others turn ACTIVE). */
  createDeployment(
    state: EcsState,
    service: Service,
    opts: { isRollback?: boolean; reason?: string; images?: Deployment['images'] } = {},
  ) {
    const now = this.core.clock.nowMs();
    const td = state.taskDefinition(service.taskDefinition);
    const previous = service.deployments.find((d) => d.status === 'PRIMARY');
    // ECS's service throttle logic: "If you update your service to use a new task definition, your service
    // returns to a normal, non-throttled state immediately." Only that: the same revision deployed again
    // (forceNewDeployment, a rollback to it) launches once the pending delay has passed.
    if (previous?.taskDefinition !== td.taskDefinitionArn) this.resetThrottle(service);
    for (const d of service.deployments) if (d.status === 'PRIMARY') d.status = 'ACTIVE';
    const cluster = state.cluster(service.clusterArn, { active: false });
    const deployment: Deployment = {
      id: `ecs-svc/${deploymentDigits()}`,
      serviceRevisionArn: state.arn(
        `service-revision/${cluster.clusterName}/${service.serviceName}/${deploymentDigits()}`,
      ),
      status: 'PRIMARY',
      taskDefinition: td.taskDefinitionArn,
      desiredCount: service.desiredCount,
      failedTasks: 0,
      createdAt: now,
      updatedAt: now,
      ...(service.launchType ? { launchType: service.launchType } : {}),
      ...(service.capacityProviderStrategy
        ? { capacityProviderStrategy: service.capacityProviderStrategy }
        : {}),
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: opts.reason ?? 'ECS deployment ecs-svc/PENDING in progress.',
      images: opts.images ?? this.resolveImages(state, td),
      isRollback: opts.isRollback ?? false,
    };
    deployment.rolloutStateReason = opts.reason ?? `ECS deployment ${deployment.id} in progress.`;
    service.deployments.unshift(deployment);
    service.history.unshift(deployment);
    this.deploymentEvent(state, service, deployment, 'INFO', 'SERVICE_DEPLOYMENT_IN_PROGRESS');
    this.schedule(state, service, 0);
    return deployment;
  }

  /** Version consistency: every container's tag resolves to a digest once, at deployment. */
  private resolveImages(state: EcsState, td: TaskDefinition): Deployment['images'] {
    const out: Deployment['images'] = {};
    for (const c of td.containerDefinitions) {
      out[c.name] = this.core.images.resolve(c.image, { accountId: state.accountId, region: state.region });
    }
    return out;
  }

  // ---------- reconciliation ----------

  /**
   * The next scheduler pass for the service. One is pending at a time, the earliest asked for: a pass never waits
   * for the launch throttle (which holds back launches only, see reconcile), so an update is acted on at once.
   */
  schedule(state: EcsState, service: Service, delay = TIMING.reconcile): void {
    const at = this.core.clock.nowMs() + Math.max(0, delay);
    if (service.reconcileTimer !== undefined) {
      if ((service.reconcileAt ?? Number.POSITIVE_INFINITY) <= at) return;
      this.core.clock.clearTimer(service.reconcileTimer);
    }
    service.reconcileAt = at;
    service.reconcileTimer = this.core.clock.setTimer(delay, () => {
      service.reconcileTimer = undefined;
      service.reconcileAt = undefined;
      this.reconcile(state, service);
    });
  }

  private tasksOf(state: EcsState, service: Service): Task[] {
    const cluster = state.cluster(service.clusterArn, { active: false });
    return [...cluster.tasks.values()].filter((t) => t.group === `service:${service.serviceName}`);
  }

  /** One pass of the service scheduler: stop what may go, start what is missing, finish deployments. */
  reconcile(state: EcsState, service: Service): void {
    if (service.status === 'INACTIVE') return;
    const cluster = state.cluster(service.clusterArn, { active: false });
    const primary = service.deployments.find((d) => d.status === 'PRIMARY');
    if (!primary) return;
    if (
      service.status === 'DRAINING' &&
      !this.tasksOf(state, service).some((t) => t.lastStatus !== 'STOPPED')
    ) {
      service.status = 'INACTIVE';
      for (const d of service.deployments) d.status = 'INACTIVE';
      return;
    }
    const desired = service.status === 'DRAINING' ? 0 : service.desiredCount;
    primary.desiredCount = desired;
    const { minimumHealthyPercent, maximumPercent } = service.deploymentConfiguration;
    const minHealthy = Math.ceil((desired * minimumHealthyPercent) / 100);
    const maxTotal = Math.max(Math.floor((desired * maximumPercent) / 100), desired);

    const alive = this.tasksOf(state, service).filter((t) => t.desiredStatus === 'RUNNING');
    const mine = alive.filter((t) => t.deploymentId === primary.id);
    const old = alive.filter((t) => t.deploymentId !== primary.id);
    let healthy = alive.filter((t) => t.lastStatus === 'RUNNING').length;
    // A rollback returns to what ran before at once, as ECS shifts traffic back to blue: rolling, without bake time.
    if (service.deploymentConfiguration.strategy !== 'ROLLING' && !primary.isRollback) {
      this.reconcileBlueGreen(state, cluster, service, primary, { desired, mine, old });
      return;
    }

    // Scale down the primary beyond desired (newest first).
    for (const t of mine.slice(desired).reverse()) {
      this.stopTask(state, cluster, t, 'ServiceSchedulerInitiated', scalingReason(primary));
      if (t.lastStatus === 'RUNNING') healthy--;
    }
    // Stop old tasks while the healthy count stays at or above minimumHealthyPercent; not-yet
    // running ones first since they count for nothing.
    let oldAlive = old.length;
    const ordered = [...old].sort(
      (a, b) => Number(a.lastStatus === 'RUNNING') - Number(b.lastStatus === 'RUNNING'),
    );
    for (const t of ordered) {
      const running = t.lastStatus === 'RUNNING';
      if (running && healthy - 1 < minHealthy) continue;
      this.stopTask(state, cluster, t, 'ServiceSchedulerInitiated', scalingReason(primary));
      oldAlive--;
      if (running) healthy--;
    }
    // Start new tasks within maximumPercent, unless the launch throttle holds them back (stopping and finishing
    // above go on meanwhile: a lower desiredCount takes effect at once).
    const circuitOpen = primary.rolloutState === 'FAILED';
    const missing = Math.min(desired, maxTotal) - Math.min(mine.length, desired);
    const room = maxTotal - (Math.min(mine.length, desired) + oldAlive);
    const toStart = circuitOpen ? 0 : Math.max(0, Math.min(missing, room));
    this.launch(state, cluster, service, primary, toStart);
    this.finishDeployments(state, service, primary);
  }

  /**
   * Blue/green (and linear, canary): the new revision scales up to the whole desired count beside the old one
   * (minimum/maximumPercent do not apply), traffic shifts once it all runs, both keep running for the bake time,
   * then the old tasks stop and the deployment completes. Until then the service deployment is IN_PROGRESS.
   */
  private reconcileBlueGreen(
    state: EcsState,
    cluster: Cluster,
    service: Service,
    primary: Deployment,
    tasks: { desired: number; mine: Task[]; old: Task[] },
  ): void {
    const { desired, mine, old } = tasks;
    for (const t of mine.slice(desired).reverse())
      this.stopTask(state, cluster, t, 'ServiceSchedulerInitiated', scalingReason(primary));
    const circuitOpen = primary.rolloutState === 'FAILED';
    this.launch(state, cluster, service, primary, circuitOpen ? 0 : Math.max(0, desired - mine.length));
    const now = this.core.clock.nowMs();
    const greenUp = mine.length >= desired && mine.slice(0, desired).every((t) => t.lastStatus === 'RUNNING');
    if (primary.rolloutState === 'IN_PROGRESS' && greenUp) {
      if (primary.bakeUntil === undefined) {
        primary.bakeUntil = now + (service.deploymentConfiguration.bakeTimeInMinutes ?? 0) * 60_000;
        primary.lifecycleStage = 'BAKE_TIME';
        primary.updatedAt = now;
        if (primary.bakeUntil > now) this.schedule(state, service, primary.bakeUntil - now);
      }
      if (now >= primary.bakeUntil) {
        primary.lifecycleStage = 'CLEAN_UP';
        for (const t of old)
          this.stopTask(state, cluster, t, 'ServiceSchedulerInitiated', scalingReason(primary));
      }
    } else if (primary.rolloutState === 'IN_PROGRESS') {
      primary.lifecycleStage = 'SCALE_UP';
    }
    this.finishDeployments(state, service, primary);
  }

  /** Starts up to `count` tasks of the deployment, unless the launch throttle holds them back. */
  private launch(state: EcsState, cluster: Cluster, service: Service, d: Deployment, count: number): void {
    const resumeAt = service.launchesResumeAt ?? 0;
    if (count > 0 && this.core.clock.nowMs() < resumeAt) {
      this.schedule(state, service, resumeAt - this.core.clock.nowMs());
      return;
    }
    for (let i = 0; i < count; i++) {
      const outcome = this.startServiceTask(state, cluster, service, d);
      if (outcome === 'placed') continue;
      // Room that a stopping task is about to free is worth a short wait, not a placement failure.
      this.schedule(state, service, outcome === 'wait' ? TIMING.reconcile : TIMING.placementRetry);
      break;
    }
  }

  private finishDeployments(state: EcsState, service: Service, primary: Deployment): void {
    const tasks = this.tasksOf(state, service);
    const now = this.core.clock.nowMs();
    // Old deployments disappear once none of their tasks are left (as ECS drops them from the list).
    for (const d of service.deployments.filter((x) => x.status !== 'PRIMARY')) {
      if (!tasks.some((t) => t.deploymentId === d.id && t.lastStatus !== 'STOPPED')) {
        service.deployments = service.deployments.filter((x) => x !== d);
        d.status = 'INACTIVE';
        d.finishedAt ??= now;
      }
    }
    const running = tasks.filter((t) => t.deploymentId === primary.id && t.lastStatus === 'RUNNING').length;
    if (
      primary.rolloutState === 'IN_PROGRESS' &&
      service.deployments.length === 1 &&
      running === primary.desiredCount &&
      !tasks.some(
        (t) => t.deploymentId === primary.id && t.desiredStatus === 'RUNNING' && t.lastStatus !== 'RUNNING',
      )
    ) {
      primary.rolloutState = 'COMPLETED';
      primary.rolloutStateReason = `ECS deployment ${primary.id} completed.`;
      primary.updatedAt = now;
      primary.finishedAt = now;
      service.lastCompletedTaskDefinition = primary.taskDefinition;
      service.lastCompleted = primary;
      this.serviceEvent(service, `(service ${service.serviceName}) has reached a steady state.`);
      this.deploymentEvent(state, service, primary, 'INFO', 'SERVICE_DEPLOYMENT_COMPLETED');
      this.serviceAction(state, service, 'INFO', 'SERVICE_STEADY_STATE');
    }
  }

  // ---------- tasks ----------

  private startServiceTask(
    state: EcsState,
    cluster: Cluster,
    service: Service,
    d: Deployment,
  ): 'placed' | 'wait' | 'failed' {
    const td = state.taskDefinition(d.taskDefinition);
    const launchType = launchTypeOf(service);
    const task = this.newTask(state, cluster, td, {
      launchType,
      group: `service:${service.serviceName}`,
      startedBy: d.id,
      deployment: d,
      serviceName: service.serviceName,
    });
    if (!this.place(cluster, task)) {
      if (this.fitsOnceStopped(cluster, task)) return 'wait';
      const { reason, closest } = this.placementShortfall(cluster, task);
      this.serviceEvent(service, placementMessage(service.serviceName, reason, closest));
      if (!service.placementFailing) {
        this.serviceAction(state, service, 'WARN', 'SERVICE_TASK_PLACEMENT_FAILURE', { reasons: [reason] });
      }
      service.placementFailing = true;
      return 'failed';
    }
    service.placementFailing = false;
    cluster.tasks.set(task.taskArn, task);
    this.serviceEvent(
      service,
      `(service ${service.serviceName}) has started 1 tasks: (task ${taskId(task)}).`,
    );
    this.lifecycle(state, cluster, task, d);
    return 'placed';
  }

  newTask(
    state: EcsState,
    cluster: Cluster,
    td: TaskDefinition,
    o: {
      launchType: LaunchType;
      group: string;
      startedBy?: string;
      deployment?: Deployment;
      serviceName?: string;
    },
  ): Task {
    const now = this.core.clock.nowMs();
    const id = randomUUID().replace(/-/g, '');
    const taskArn = state.arn(`task/${cluster.clusterName}/${id}`);
    const { cpu, memory } = taskSize(td);
    return {
      taskArn,
      clusterArn: cluster.clusterArn,
      taskDefinitionArn: td.taskDefinitionArn,
      family: td.family,
      group: o.group,
      ...(o.startedBy ? { startedBy: o.startedBy } : {}),
      ...(o.serviceName ? { serviceName: o.serviceName } : {}),
      ...(o.deployment ? { deploymentId: o.deployment.id } : {}),
      launchType: o.launchType,
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      createdAt: now,
      containers: td.containerDefinitions.map((c) => {
        const resolved = o.deployment?.images[c.name];
        return {
          containerArn: state.arn(`container/${cluster.clusterName}/${id}/${randomUUID()}`),
          name: c.name,
          image: c.image,
          ...(resolved && 'digest' in resolved ? { imageDigest: resolved.digest } : {}),
          lastStatus: 'PENDING',
          ...(c.cpu !== undefined ? { cpu: String(c.cpu) } : {}),
          ...(c.memory !== undefined ? { memory: String(c.memory) } : {}),
        };
      }),
      cpu,
      memory,
      availabilityZone: `${state.region}${AZS[this.taskSeq++ % AZS.length]}`,
      version: 1,
      updatedAt: now,
      tags: [],
      hostPorts: td.containerDefinitions.flatMap((c) =>
        (c.portMappings ?? []).map((p) => p.hostPort ?? 0).filter((p) => p > 0),
      ),
    };
  }

  /** Places onto an ACTIVE instance of the task's kind with room; Fargate needs no instance. */
  place(cluster: Cluster, task: Task): boolean {
    if (task.launchType === 'FARGATE') return true;
    // Spread (ECS's default without a placementStrategy): the instance with the most room left.
    const fits = [...cluster.instances.values()].filter((i) => fitsOn(i, task));
    fits.sort(
      (a, b) =>
        b.memory - b.usedMemory - (a.memory - a.usedMemory) || b.cpu - b.usedCpu - (a.cpu - a.usedCpu),
    );
    const chosen = fits[0];
    if (!chosen) return false;
    chosen.usedCpu += task.cpu;
    chosen.usedMemory += task.memory;
    for (const p of task.hostPorts) chosen.usedPorts.add(p);
    chosen.version++;
    task.containerInstanceArn = chosen.containerInstanceArn;
    return true;
  }

  /** Whether the task would fit once the tasks already stopping in the cluster have released their room. */
  private fitsOnceStopped(cluster: Cluster, task: Task): boolean {
    const stopping = [...cluster.tasks.values()].filter(
      (t) => t.desiredStatus === 'STOPPED' && t.lastStatus !== 'STOPPED' && t.containerInstanceArn,
    );
    return [...cluster.instances.values()].some((i) => {
      const freed = stopping.filter((t) => t.containerInstanceArn === i.containerInstanceArn);
      if (freed.length === 0) return false;
      const ports = new Set([...i.usedPorts].filter((p) => !freed.some((t) => t.hostPorts.includes(p))));
      const usedCpu = freed.reduce((n, t) => n - t.cpu, i.usedCpu);
      const usedMemory = freed.reduce((n, t) => n - t.memory, i.usedMemory);
      return fitsOn({ ...i, usedCpu, usedMemory, usedPorts: ports }, task);
    });
  }

  /**
   * RunTask's answer for a task that fits nowhere, as ECS gives it: InvalidParameterException when the cluster
   * has no instance the task could ever use, `AGENT` when those it has are disconnected, else the first resource
   * no instance has room for (`RESOURCE:MEMORY`, `RESOURCE:CPU`, `RESOURCE:PORTS`) with the closest instance.
   */
  runTaskFailure(cluster: Cluster, task: Task): { arn: string; reason: string } {
    const kind = [...cluster.instances.values()].filter((i) => i.kind === task.launchType);
    const usable = kind.filter((i) => i.status === 'ACTIVE' && i.agentConnected);
    const disconnected = kind.find((i) => !i.agentConnected);
    if (usable.length === 0 && disconnected)
      return { arn: disconnected.containerInstanceArn, reason: 'AGENT' };
    const { reason, closest } = this.placementShortfall(cluster, task);
    const instance = usable.find((i) => lastSegment(i.containerInstanceArn) === closest);
    if (!instance) throw invalid('No Container Instances were found in your cluster.');
    return { arn: instance.containerInstanceArn, reason };
  }

  /** The first requirement no usable instance meets, and the instance that came closest. */
  private placementShortfall(cluster: Cluster, task: Task): { reason: string; closest?: string } {
    const usable = [...cluster.instances.values()].filter(
      (i) => i.status === 'ACTIVE' && i.agentConnected && i.kind === task.launchType,
    );
    const roomiest = [...usable].sort((a, b) => b.memory - b.usedMemory - (a.memory - a.usedMemory))[0];
    if (!roomiest) return { reason: 'RESOURCE:INSTANCES' };
    const closest = lastSegment(roomiest.containerInstanceArn);
    if (!usable.some((i) => i.memory - i.usedMemory >= task.memory))
      return { reason: 'RESOURCE:MEMORY', closest };
    if (!usable.some((i) => i.cpu - i.usedCpu >= task.cpu)) return { reason: 'RESOURCE:CPU', closest };
    return { reason: 'RESOURCE:PORTS', closest };
  }

  private release(cluster: Cluster, task: Task): void {
    const inst = task.containerInstanceArn ? cluster.instances.get(task.containerInstanceArn) : undefined;
    if (!inst) return;
    inst.usedCpu = Math.max(0, inst.usedCpu - task.cpu);
    inst.usedMemory = Math.max(0, inst.usedMemory - task.memory);
    for (const p of task.hostPorts) inst.usedPorts.delete(p);
    inst.version++;
  }

  /** Drives a placed task through its phases on the clock. */
  lifecycle(state: EcsState, cluster: Cluster, task: Task, d: Deployment | undefined): void {
    const clock = this.core.clock;
    this.taskEvent(state, task);
    clock.setTimer(TIMING.provisioning, () => {
      if (task.desiredStatus !== 'RUNNING') return;
      this.transition(state, task, 'PENDING');
      task.pullStartedAt = clock.nowMs();
      clock.setTimer(TIMING.pending, () => {
        if (task.desiredStatus !== 'RUNNING') return;
        const failure = this.pullFailure(state, task, d);
        if (failure) {
          for (const c of task.containers) {
            c.lastStatus = 'STOPPED';
            c.reason = failure;
          }
          this.stopTask(state, cluster, task, 'TaskFailedToStart', failure, {
            failed: true,
            immediate: true,
          });
          return;
        }
        task.pullStoppedAt = clock.nowMs();
        task.startedAt = clock.nowMs();
        for (const c of task.containers) {
          c.lastStatus = 'RUNNING';
          c.runtimeId = `${taskId(task)}-${c.name}`;
        }
        this.transition(state, task, 'RUNNING');
        this.containerFault(state, cluster, task);
        this.afterChange(state, task);
      });
    });
  }

  private pullFailure(state: EcsState, task: Task, d: Deployment | undefined): string | undefined {
    for (const c of task.containers) {
      let pinned = d?.images[c.name];
      if (d && pinned && 'error' in pinned) {
        // Each placement attempt pulls again: once the image is there (a fault removed, a tag pushed), the
        // deployment pins the digest it resolves now and goes on, as ECS does.
        const again = this.core.images.resolve(c.image, { accountId: state.accountId, region: state.region });
        if ('error' in again) return again.error;
        d.images[c.name] = again;
        pinned = again;
      }
      // A task placed while its deployment's pin was still an error pulls what the deployment pins now.
      if (pinned && 'digest' in pinned) c.imageDigest ??= pinned.digest;
      // Faults injected after the deployment was created fail later pulls too.
      let repo: string | undefined;
      try {
        repo = readImageReference(c.image).path;
      } catch {
        repo = undefined;
      }
      const injected = repo ? this.core.faults.pullFailure(repo, c.imageDigest) : undefined;
      if (injected) return injected;
      if (!pinned) {
        const r = this.core.images.resolve(c.image, { accountId: state.accountId, region: state.region });
        if ('error' in r) return r.error;
        c.imageDigest = r.digest;
        const broken = repo ? this.core.faults.pullFailure(repo, r.digest) : undefined;
        if (broken) return broken;
      }
    }
    return undefined;
  }

  private containerFault(state: EcsState, cluster: Cluster, task: Task): void {
    const fault = this.core.faults.containerFault(task.family);
    if (!fault) return;
    this.core.clock.setTimer(fault.afterMs, () => {
      if (task.desiredStatus !== 'RUNNING' || task.lastStatus !== 'RUNNING') return;
      const essential = task.containers[0];
      if (!essential) return;
      for (const c of task.containers) c.lastStatus = 'STOPPED';
      if (fault.kind === 'oom') {
        essential.exitCode = 137;
        essential.reason = 'OutOfMemoryError: Container killed due to memory usage';
      } else {
        essential.exitCode = fault.exitCode;
      }
      this.stopTask(state, cluster, task, 'EssentialContainerExited', 'Essential container in task exited', {
        failed: true,
      });
    });
  }

  /** Stops a task: desiredStatus STOPPED now, DEPROVISIONING, then STOPPED with resources released. */
  stopTask(
    state: EcsState,
    cluster: Cluster,
    task: Task,
    stopCode: string,
    reason: string,
    o: { failed?: boolean; immediate?: boolean } = {},
  ): void {
    if (task.desiredStatus === 'STOPPED' && task.stopCode) return;
    const clock = this.core.clock;
    task.desiredStatus = 'STOPPED';
    task.stopCode = stopCode;
    task.stoppedReason = reason;
    task.stoppingAt = clock.nowMs();
    const service = task.serviceName ? cluster.services.get(task.serviceName) : undefined;
    if (o.failed && service && task.startedAt === undefined) this.throttle(state, service);
    if (o.failed && service) this.recordFailure(state, service, task);
    if (!o.immediate) this.taskEvent(state, task);
    const finish = () => {
      for (const c of task.containers) {
        c.lastStatus = 'STOPPED';
        if (c.exitCode === undefined && stopCode !== 'TaskFailedToStart') c.exitCode = 0;
      }
      task.stoppedAt = clock.nowMs();
      this.release(cluster, task);
      this.transition(state, task, 'STOPPED');
      this.afterChange(state, task);
    };
    if (o.immediate || task.lastStatus === 'PROVISIONING') {
      finish();
      return;
    }
    this.transition(state, task, 'DEPROVISIONING');
    clock.setTimer(TIMING.deprovisioning, finish);
  }

  /**
   * ECS's service throttle logic: a task that failed to reach RUNNING (PENDING straight to STOPPED, here a failed
   * pull) delays the service's next launch, 5 s doubling up to 15 minutes. A task that ran and then stopped (a
   * crash, OOM, even right after starting) does not count and is replaced at the normal pace.
   */
  private throttle(state: EcsState, service: Service): void {
    const failures = (service.launchFailures ?? 0) + 1;
    service.launchFailures = failures;
    const delay = Math.min(TIMING.restartBackoff * 2 ** (failures - 1), TIMING.maxRestartBackoff);
    service.launchesResumeAt = this.core.clock.nowMs() + delay;
    if (failures === 3) {
      // What ECS says when a service keeps failing to start tasks (alerts read it).
      this.serviceAction(state, service, 'WARN', 'SERVICE_TASK_START_IMPAIRED');
      this.serviceEvent(
        service,
        `(service ${service.serviceName}) is unable to consistently start tasks successfully.`,
      );
    }
  }

  /** Back to a normal, non-throttled state: a task reached RUNNING, or the task definition changed. */
  private resetThrottle(service: Service): void {
    service.launchFailures = 0;
    service.launchesResumeAt = undefined;
  }

  private recordFailure(state: EcsState, service: Service, task: Task): void {
    const d = service.deployments.find((x) => x.id === task.deploymentId);
    if (!d) return;
    d.failedTasks++;
    d.updatedAt = this.core.clock.nowMs();
    const breaker = service.deploymentConfiguration.deploymentCircuitBreaker;
    if (!breaker.enable || d.status !== 'PRIMARY' || d.rolloutState !== 'IN_PROGRESS') return;
    // ECS's failure threshold: half the desired count, at least 3, at most 200.
    const threshold = Math.min(200, Math.max(3, Math.ceil(d.desiredCount * 0.5)));
    if (d.failedTasks < threshold) return;
    d.rolloutState = 'FAILED';
    d.rolloutStateReason = `ECS deployment circuit breaker: tasks failed to start.`;
    this.serviceEvent(
      service,
      `(service ${service.serviceName}) (deployment ${d.id}) deployment failed: tasks failed to start.`,
    );
    this.deploymentEvent(state, service, d, 'ERROR', 'SERVICE_DEPLOYMENT_FAILED', d.rolloutStateReason);
    if (breaker.rollback && !d.isRollback) this.rollBack(state, service, d, 'ECS deployment circuit breaker');
  }

  /** Rollback returns to the last COMPLETED service revision: its task definition and its digests. */
  private rollBack(state: EcsState, service: Service, d: Deployment, by: string): boolean {
    const target = service.lastCompleted;
    if (!target || target === d) return false;
    service.taskDefinition = target.taskDefinition;
    this.serviceEvent(service, `(service ${service.serviceName}) rolling back to ${target.taskDefinition}.`);
    const reason = `${by}: rolling back to deploymentId ${target.id}.`;
    const rollback = this.createDeployment(state, service, {
      isRollback: true,
      images: target.images,
      reason,
    });
    d.rollback = { reason, startedAt: rollback.createdAt, serviceRevisionArn: rollback.serviceRevisionArn };
    return true;
  }

  /**
   * StopServiceDeployment with ROLLBACK: the deployment in progress stops and the service returns to its
   * last completed revision, as the circuit breaker's rollback does. false: there is none to return to.
   */
  stopDeployment(state: EcsState, service: Service, d: Deployment): boolean {
    if (!service.lastCompleted || service.lastCompleted === d) return false;
    d.rolloutState = 'FAILED';
    d.rolloutStateReason = 'Service deployment stopped by StopServiceDeployment (ROLLBACK).';
    d.updatedAt = this.core.clock.nowMs();
    this.serviceEvent(service, `(service ${service.serviceName}) (deployment ${d.id}) deployment stopped.`);
    return this.rollBack(state, service, d, 'StopServiceDeployment');
  }

  private afterChange(state: EcsState, task: Task): void {
    if (!task.serviceName) return;
    const cluster = state.cluster(task.clusterArn, { active: false });
    const service = cluster.services.get(task.serviceName);
    if (!service) return;
    if (task.lastStatus === 'RUNNING') this.resetThrottle(service);
    this.schedule(state, service);
  }

  private transition(state: EcsState, task: Task, lastStatus: string): void {
    task.lastStatus = lastStatus;
    task.version++;
    task.updatedAt = this.core.clock.nowMs();
    this.taskEvent(state, task);
  }

  // ---------- events ----------

  taskEvent(state: EcsState, task: Task): void {
    this.core.bus.publish({
      source: 'aws.ecs',
      detailType: 'ECS Task State Change',
      account: state.accountId,
      region: state.region,
      resources: [task.taskArn],
      detail: taskEventDetail(task),
    });
  }

  deploymentEvent(
    state: EcsState,
    service: Service,
    d: Deployment,
    eventType: 'INFO' | 'ERROR',
    eventName: string,
    reason?: string,
  ): void {
    this.core.bus.publish({
      source: 'aws.ecs',
      detailType: 'ECS Deployment State Change',
      account: state.accountId,
      region: state.region,
      resources: [service.serviceArn],
      detail: {
        eventType,
        eventName,
        deploymentId: d.id,
        updatedAt: iso(this.core.clock.nowMs()),
        reason: reason ?? d.rolloutStateReason,
      },
    });
  }

  serviceAction(
    state: EcsState,
    service: Service,
    eventType: 'INFO' | 'WARN' | 'ERROR',
    eventName: string,
    extra: Record<string, unknown> = {},
  ): void {
    this.core.bus.publish({
      source: 'aws.ecs',
      detailType: 'ECS Service Action',
      account: state.accountId,
      region: state.region,
      resources: [service.serviceArn],
      detail: {
        eventType,
        eventName,
        clusterArn: service.clusterArn,
        createdAt: iso(this.core.clock.nowMs()),
        ...extra,
      },
    });
  }

  serviceEvent(service: Service, message: string): void {
    service.events.unshift({ id: randomUUID(), createdAt: this.core.clock.nowMs(), message });
    if (service.events.length > 100) service.events.length = 100;
  }
}

function taskEventDetail(task: Task): Record<string, unknown> {
  const detail: Record<string, unknown> = {
    attachments: [],
    availabilityZone: task.availabilityZone,
    clusterArn: task.clusterArn,
    containers: task.containers.map((c) => ({
      containerArn: c.containerArn,
      name: c.name,
      image: c.image,
      ...(c.imageDigest ? { imageDigest: c.imageDigest } : {}),
      lastStatus: c.lastStatus,
      ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
      ...(c.reason ? { reason: c.reason } : {}),
      ...(c.runtimeId ? { runtimeId: c.runtimeId } : {}),
      taskArn: task.taskArn,
      networkInterfaces: [],
      ...(c.cpu ? { cpu: c.cpu } : {}),
      ...(c.memory ? { memory: c.memory } : {}),
    })),
    cpu: String(task.cpu),
    createdAt: iso(task.createdAt),
    desiredStatus: task.desiredStatus,
    group: task.group,
    launchType: task.launchType,
    lastStatus: task.lastStatus,
    memory: String(task.memory),
    overrides: { containerOverrides: task.containers.map((c) => ({ name: c.name })) },
    taskArn: task.taskArn,
    taskDefinitionArn: task.taskDefinitionArn,
    updatedAt: iso(task.updatedAt),
    version: task.version,
  };
  const optional: [string, unknown][] = [
    ['containerInstanceArn', task.containerInstanceArn],
    ['startedBy', task.startedBy],
    ['pullStartedAt', iso(task.pullStartedAt)],
    ['pullStoppedAt', iso(task.pullStoppedAt)],
    ['startedAt', iso(task.startedAt)],
    ['stoppingAt', iso(task.stoppingAt)],
    ['stoppedAt', iso(task.stoppedAt)],
    ['stopCode', task.stopCode],
    ['stoppedReason', task.stoppedReason],
    ['platformVersion', task.launchType === 'FARGATE' ? '1.4.0' : undefined],
    ['connectivity', task.lastStatus === 'PROVISIONING' ? undefined : 'CONNECTED'],
  ];
  for (const [k, v] of optional) if (v !== undefined) detail[k] = v;
  return detail;
}

/** ECS's service event text for each placement shortfall. */
function placementMessage(serviceName: string, reason: string, closest: string | undefined): string {
  const head = `(service ${serviceName}) was unable to place a task because no container instance met all of its requirements.`;
  const tail = 'For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.';
  const what: Record<string, string> = {
    'RESOURCE:MEMORY': 'has insufficient memory available',
    'RESOURCE:CPU': 'has insufficient CPU units available',
    'RESOURCE:PORTS': 'is already using a port required by your task',
  };
  if (!closest || !what[reason]) return `${head} Reason: No Container Instances were found in your cluster.`;
  return `${head} The closest matching (container-instance ${closest}) ${what[reason]}. ${tail}`;
}

function fitsOn(i: ContainerInstance, task: Task): boolean {
  return (
    i.status === 'ACTIVE' &&
    i.agentConnected &&
    i.kind === task.launchType &&
    i.cpu - i.usedCpu >= task.cpu &&
    i.memory - i.usedMemory >= task.memory &&
    task.hostPorts.every((p) => !i.usedPorts.has(p))
  );
}

/** Task CPU/memory: task-level values, else the sum of the containers'. */
export function taskSize(td: TaskDefinition): { cpu: number; memory: number } {
  const cpu = td.cpu ? Number(td.cpu) : td.containerDefinitions.reduce((s, c) => s + (c.cpu ?? 0), 0);
  const memory = td.memory
    ? Number(td.memory)
    : td.containerDefinitions.reduce((s, c) => s + (c.memory ?? c.memoryReservation ?? 0), 0);
  return { cpu, memory };
}

/** capacityProviderStrategy maps to a launch type: FARGATE(_SPOT) → FARGATE, anything else → EC2. */
export function launchTypeOf(service: {
  launchType?: LaunchType;
  capacityProviderStrategy?: { capacityProvider: string }[];
}): LaunchType {
  if (service.launchType) return service.launchType;
  const first = service.capacityProviderStrategy?.[0]?.capacityProvider;
  if (first === undefined) return 'EC2';
  return first.startsWith('FARGATE') ? 'FARGATE' : 'EC2';
}

export const taskId = (task: Task) => task.taskArn.slice(task.taskArn.lastIndexOf('/') + 1);
const scalingReason = (d: Deployment) => `Scaling activity initiated by (deployment ${d.id})`;

/** `ecs-svc/` ids are 19 digits. */
const deploymentDigits = () => `${randomInt(1e9, 1e10 - 1)}${randomInt(1e8, 1e9 - 1)}`;
