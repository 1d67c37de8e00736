/**
 * The local cloud's ECS: awsJson1_1 operations by name (the server routes X-Amz-Target
 * `AmazonEC2ContainerServiceV20141113.<Operation>` here), the service scheduler simulation on the
 * SimClock, world loading (services start steady) and capacity faults. State is per account+region.
 */
import { AccountRegionStore, type Scope } from '../aws/store';
import type { JsonOperations, LocalCloudCore, RequestContext } from '../types';
import { addInstance, newCluster } from './instances';
import { type ContainerInstance, EcsState, lastSegment, type Service, type Task } from './model';
import { deploymentConfiguration, ecsOperations } from './operations';
import { EcsScheduler, launchTypeOf } from './simulation';
import { type EcsWorld, type EcsWorldInput, EcsWorldSchema } from './world';

export { TIMING } from './simulation';

export interface CapacityInput {
  accountId: string;
  region: string;
  cluster: string;
  launchType?: 'EC2' | 'EXTERNAL' | 'FARGATE';
  count?: number;
}

export class EcsBackend {
  private readonly states = new AccountRegionStore((scope) => new EcsState(scope.accountId, scope.region));
  readonly scheduler: EcsScheduler;
  readonly operations: JsonOperations;

  constructor(readonly core: LocalCloudCore) {
    this.scheduler = new EcsScheduler(core);
    this.operations = ecsOperations(
      (ctx) => this.states.of(ctx),
      this.scheduler,
      () => core.clock.nowMs(),
    );
  }

  /** The ECS state of an account in a region (tests and fault injection read and change it). */
  state(scope: Scope): EcsState {
    return this.states.of(scope);
  }

  /** Every account and region with ECS state, and that state (the console's fleet view reads it). */
  scopes(): [Scope, EcsState][] {
    return this.states.entries();
  }

  /** An account and region the world names, else the world's defaults. */
  private scope(where: { accountId?: string | undefined; region?: string | undefined }): Scope {
    return {
      accountId: where.accountId ?? this.core.defaultAccountId,
      region: where.region ?? this.core.defaultRegion,
    };
  }

  /**
   * Creates the world's clusters, instances, task definitions and services. Services are seeded
   * steady (one COMPLETED PRIMARY deployment, tasks RUNNING on the resolved digests) without events.
   */
  loadWorld(raw: EcsWorldInput): void {
    const world = EcsWorldSchema.parse(raw);
    // Task definitions are registered in every account and region the world's clusters are in.
    const scopes: Scope[] = [this.scope({})];
    for (const c of world.clusters) {
      const scope = this.scope(c);
      if (!scopes.some((s) => s.accountId === scope.accountId && s.region === scope.region))
        scopes.push(scope);
    }
    for (const scope of scopes) {
      const ctx: RequestContext = { ...scope, accessKeyId: 'world' };
      for (const td of world.taskDefinitions) {
        const network =
          td.networkMode ?? (td.requiresCompatibilities?.includes('FARGATE') ? 'awsvpc' : undefined);
        this.call('RegisterTaskDefinition', ctx, {
          family: td.family,
          ...(td.cpu ? { cpu: String(td.cpu) } : {}),
          ...(td.memory ? { memory: String(td.memory) } : {}),
          ...(network ? { networkMode: network } : {}),
          ...(td.requiresCompatibilities ? { requiresCompatibilities: td.requiresCompatibilities } : {}),
          containerDefinitions: td.containers.map((c) => ({ essential: true, ...c })),
          tags: Object.entries(td.tags ?? {}).map(([key, value]) => ({ key, value })),
        });
      }
    }
    for (const c of world.clusters) {
      const state = this.states.of(this.scope(c));
      const cluster = newCluster(
        state,
        c.name,
        Object.entries(c.tags ?? {}).map(([key, value]) => ({ key, value })),
      );
      state.clusters.set(c.name, cluster);
      for (const spec of c.containerInstances) {
        for (let i = 0; i < spec.count; i++) {
          addInstance(
            state,
            cluster,
            {
              kind: spec.kind,
              cpu: spec.cpu,
              memory: spec.memory,
              attributes: Object.entries(spec.attributes ?? {}).map(([name, value]) => ({ name, value })),
            },
            this.core.clock.nowMs(),
          );
        }
      }
      for (const s of c.services) this.seedService(state, c.name, s);
    }
  }

  private seedService(
    state: EcsState,
    clusterName: string,
    s: EcsWorld['clusters'][number]['services'][number],
  ) {
    const cluster = state.cluster(clusterName);
    const td = state.taskDefinition(s.taskDefinition);
    const now = this.core.clock.nowMs();
    const svc: Service = {
      serviceName: s.name,
      serviceArn: state.arn(`service/${clusterName}/${s.name}`),
      clusterArn: cluster.clusterArn,
      status: 'ACTIVE',
      taskDefinition: td.taskDefinitionArn,
      desiredCount: s.desiredCount,
      ...(s.capacityProviderStrategy
        ? { capacityProviderStrategy: s.capacityProviderStrategy }
        : { launchType: s.launchType ?? 'EC2' }),
      deploymentConfiguration: deploymentConfiguration({
        minimumHealthyPercent: s.minimumHealthyPercent,
        maximumPercent: s.maximumPercent,
        ...(s.circuitBreaker ? { deploymentCircuitBreaker: s.circuitBreaker } : {}),
        ...(s.strategy ? { strategy: s.strategy } : {}),
        ...(s.bakeTimeInMinutes !== undefined ? { bakeTimeInMinutes: s.bakeTimeInMinutes } : {}),
      }),
      deployments: [],
      history: [],
      events: [],
      createdAt: now,
      tags: Object.entries(s.tags ?? {}).map(([key, value]) => ({ key, value })),
      extra: {},
      lastCompletedTaskDefinition: td.taskDefinitionArn,
      ...(s.deploymentController && s.deploymentController !== 'ECS'
        ? { deploymentController: s.deploymentController }
        : {}),
    };
    cluster.services.set(s.name, svc);
    const images: Record<string, { digest: string } | { error: string }> = {};
    for (const c of td.containerDefinitions) {
      images[c.name] = this.core.images.resolve(c.image, {
        accountId: state.accountId,
        region: state.region,
      });
    }
    const deploymentId = `ecs-svc/${String(1_000_000_000_000_000_000n + BigInt(now) * 1000n + BigInt(cluster.services.size)).slice(-19)}`;
    svc.deployments.push({
      id: deploymentId,
      serviceRevisionArn: state.arn(`service-revision/${clusterName}/${s.name}/${deploymentId.slice(8)}`),
      status: 'PRIMARY',
      taskDefinition: td.taskDefinitionArn,
      desiredCount: s.desiredCount,
      failedTasks: 0,
      createdAt: now,
      updatedAt: now,
      ...(svc.launchType ? { launchType: svc.launchType } : {}),
      ...(svc.capacityProviderStrategy ? { capacityProviderStrategy: svc.capacityProviderStrategy } : {}),
      rolloutState: 'COMPLETED',
      rolloutStateReason: `ECS deployment ${deploymentId} completed.`,
      images,
      isRollback: false,
    });
    const deployment = svc.deployments[0];
    if (!deployment) return;
    deployment.finishedAt = now;
    svc.lastCompleted = deployment;
    svc.history.push(deployment);
    for (let i = 0; i < s.desiredCount; i++) {
      const task: Task = this.scheduler.newTask(state, cluster, td, {
        launchType: launchTypeOf(svc),
        group: `service:${s.name}`,
        startedBy: deploymentId,
        deployment,
        serviceName: s.name,
      });
      if (!this.scheduler.place(cluster, task)) {
        // Not enough room in the world as written: the scheduler keeps trying (and says so in events).
        this.scheduler.schedule(state, svc, 0);
        svc.lastCompletedTaskDefinition = td.taskDefinitionArn;
        deployment.rolloutState = 'IN_PROGRESS';
        break;
      }
      task.lastStatus = 'RUNNING';
      task.version = 3;
      task.startedAt = now;
      task.pullStartedAt = now;
      task.pullStoppedAt = now;
      for (const c of task.containers) {
        c.lastStatus = 'RUNNING';
        c.runtimeId = `${task.taskArn.slice(task.taskArn.lastIndexOf('/') + 1)}-${c.name}`;
      }
      cluster.tasks.set(task.taskArn, task);
    }
    if (deployment.rolloutState === 'COMPLETED') {
      this.scheduler.serviceEvent(svc, `(service ${s.name}) has reached a steady state.`);
    }
  }

  private call(op: string, ctx: RequestContext, input: Record<string, unknown>): unknown {
    const fn = this.operations[op];
    if (!fn) throw new Error(`no ECS operation ${op}`);
    return fn(input, ctx);
  }

  /**
   * Fault injection: container instances of the cluster (optionally of one launch type, at most
   * `count`) go DRAINING with agentConnected false, so describe-container-instances shows why the
   * scheduler stops placing there; their service tasks are stopped and rescheduled elsewhere.
   */
  removeCapacity(input: CapacityInput): { containerInstanceArns: string[] } {
    const state = this.states.of(input);
    const cluster = state.cluster(input.cluster);
    const victims: ContainerInstance[] = [...cluster.instances.values()]
      .filter((i) => i.status === 'ACTIVE' && (!input.launchType || i.kind === input.launchType))
      .slice(0, input.count ?? Number.POSITIVE_INFINITY);
    for (const inst of victims) {
      inst.status = 'DRAINING';
      inst.agentConnected = false;
      inst.removedBy = 'fault';
      inst.version++;
      for (const t of cluster.tasks.values()) {
        if (t.containerInstanceArn === inst.containerInstanceArn && t.desiredStatus === 'RUNNING') {
          this.scheduler.stopTask(
            state,
            cluster,
            t,
            'ServiceSchedulerInitiated',
            'Container instance is draining',
          );
        }
      }
    }
    return { containerInstanceArns: victims.map((i) => i.containerInstanceArn) };
  }

  /** Undoes removeCapacity: instances it drained are ACTIVE and connected again; services retry placement. */
  restoreCapacity(input: { accountId: string; region: string; cluster: string }): {
    containerInstanceArns: string[];
  } {
    const state = this.states.of(input);
    const cluster = state.cluster(lastSegment(input.cluster));
    const restored = [...cluster.instances.values()].filter((i) => i.removedBy === 'fault');
    for (const inst of restored) {
      inst.status = 'ACTIVE';
      inst.agentConnected = true;
      delete inst.removedBy;
      inst.version++;
    }
    for (const svc of cluster.services.values()) this.scheduler.schedule(state, svc, 0);
    return { containerInstanceArns: restored.map((i) => i.containerInstanceArn) };
  }
}
