/**
 * classify: one ECS event → the failure it reports, or why it is not one. Pure, so every rule is a row in
 * a table test. Order matters: the stop code says who stopped the task, the reasons say why.
 */
import { EventValidationError } from '../errors';
import type {
  EcsDeploymentStateChangeEvent,
  EcsEvent,
  EcsServiceActionEvent,
  EcsTaskStateChangeEvent,
} from '../events/ecs';
import type { AlertClass, AlertGroup, Classification, ContainerFailure, Occurrence } from './model';

const IMAGE_PULL = /CannotPullContainerError|pull image manifest|failed to resolve ref|ImagePull/i;
const OUT_OF_MEMORY = /OutOfMemory/i;
const HEALTH_CHECK = /health ?checks?/i;
/** Exit code of a container the kernel's OOM killer (or Docker, on memory limit) killed with SIGKILL. */
const OOM_EXIT_CODE = 137;

export function classify(event: EcsEvent): Classification {
  switch (event['detail-type']) {
    case 'ECS Task State Change':
      return classifyTask(event);
    case 'ECS Deployment State Change':
      return classifyDeployment(event);
    case 'ECS Service Action':
      return classifyServiceAction(event);
    default: {
      const never: never = event;
      throw new Error(`unhandled event ${JSON.stringify(never)}`);
    }
  }
}

const notAFailure = (eventId: string, reason: string): Classification => ({
  kind: 'not-a-failure',
  reason,
  eventId,
});

function classifyTask(event: EcsTaskStateChangeEvent): Classification {
  const d = event.detail;
  if (d.lastStatus !== 'STOPPED') return notAFailure(event.id, `task is ${d.lastStatus}, not STOPPED`);
  const reasons = [d.stoppedReason ?? '', ...d.containers.map((c) => c.reason ?? '')].join('\n');
  const failing = d.containers.filter((c) => (c.exitCode !== undefined && c.exitCode !== 0) || c.reason);
  const fromExits = (): AlertClass | undefined => {
    if (OUT_OF_MEMORY.test(reasons) || d.containers.some((c) => c.exitCode === OOM_EXIT_CODE)) return 'oom';
    return failing.length > 0 ? 'essential-exit' : undefined;
  };

  let alertClass: AlertClass | undefined;
  let ignored: string | undefined;
  switch (d.stopCode) {
    case 'SpotInterruption':
      alertClass = 'spot-interruption';
      break;
    case 'TerminationNotice':
      alertClass = /SPOT/i.test(d.capacityProviderName ?? '') ? 'spot-interruption' : 'infrastructure';
      break;
    case 'InfrastructureHealth':
      alertClass = 'infrastructure';
      break;
    case 'UserInitiated':
      ignored = `stopped by a user: ${d.stoppedReason ?? 'UserInitiated'}`;
      break;
    case 'ServiceSchedulerInitiated':
      // The scheduler stops tasks for deployments and scale-in too; only a failed health check is a failure.
      if (HEALTH_CHECK.test(d.stoppedReason ?? '')) alertClass = 'health-check';
      else if (/\(deployment [^)]*\)/.test(d.stoppedReason ?? ''))
        ignored = `stopped by a deployment: ${d.stoppedReason}`;
      else ignored = `stopped by the service scheduler (scale-in): ${d.stoppedReason ?? ''}`.trim();
      break;
    case 'TaskFailedToStart':
      alertClass = IMAGE_PULL.test(reasons) ? 'image-pull' : 'failed-to-start';
      break;
    case 'EssentialContainerExited':
      alertClass = fromExits();
      if (!alertClass) ignored = 'essential container exited 0: the task completed';
      break;
    default:
      // No (or a new) stop code: judge by the reasons alone, and stay quiet about what we cannot read.
      if (IMAGE_PULL.test(reasons)) alertClass = 'image-pull';
      else if (HEALTH_CHECK.test(d.stoppedReason ?? '')) alertClass = 'health-check';
      else alertClass = fromExits();
      if (!alertClass)
        ignored = `stopped without a failing container: ${d.stoppedReason ?? d.stopCode ?? ''}`;
  }
  if (!alertClass) return notAFailure(event.id, ignored ?? 'not a failure');

  const containers: ContainerFailure[] = d.containers
    .filter((c) => (alertClass !== 'essential-exit' && alertClass !== 'oom' ? true : failing.includes(c)))
    .map((c) => ({
      name: c.name,
      ...(c.image !== undefined ? { image: c.image } : {}),
      ...(c.imageDigest !== undefined ? { imageDigest: c.imageDigest } : {}),
      ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
      ...(c.reason !== undefined ? { reason: c.reason } : {}),
    }));
  const occurrence: Occurrence = {
    group: taskGroup(event),
    alertClass,
    dedupeKey: `task|${d.taskArn}|${d.version}`,
    time: d.stoppedAt ?? event.time,
    resourceArn: d.taskArn,
    reason: d.stoppedReason ?? d.stopCode ?? 'stopped',
    containers,
    exitCodes: unique(failing.flatMap((c) => (c.exitCode !== undefined ? [c.exitCode] : []))),
    imageDigests: unique(d.containers.flatMap((c) => (c.imageDigest ? [c.imageDigest] : []))),
  };
  return { kind: 'failure', occurrence };
}

function classifyDeployment(event: EcsDeploymentStateChangeEvent): Classification {
  const d = event.detail;
  let alertClass: AlertClass;
  if (d.eventName === 'SERVICE_DEPLOYMENT_FAILED') alertClass = 'deployment-failed';
  else if (d.eventName === 'SERVICE_DEPLOYMENT_IN_PROGRESS' && /rolling back/i.test(d.reason ?? ''))
    alertClass = 'deployment-rollback';
  else return notAFailure(event.id, `${d.eventName} is not a failure`);
  return {
    kind: 'failure',
    occurrence: {
      group: serviceGroup(event, undefined),
      alertClass,
      dedupeKey: `deployment|${d.eventName}|${d.deploymentId}|${d.updatedAt}`,
      time: d.updatedAt,
      resourceArn: event.resources[0] ?? d.deploymentId,
      reason: d.reason ?? d.eventName,
      containers: [],
      exitCodes: [],
      imageDigests: [],
    },
  };
}

function classifyServiceAction(event: EcsServiceActionEvent): Classification {
  const d = event.detail;
  let alertClass: AlertClass;
  if (d.eventName === 'SERVICE_TASK_START_IMPAIRED') alertClass = 'task-start-impaired';
  else if (d.eventName === 'SERVICE_TASK_PLACEMENT_FAILURE') alertClass = 'placement-failure';
  else return notAFailure(event.id, `${d.eventName} is not a failure`);
  const group = serviceGroup(event, d.clusterArn);
  const reason =
    d.reason ??
    (d.reasons?.length ? `${d.eventName}: ${d.reasons.join(', ')}` : undefined) ??
    (alertClass === 'task-start-impaired'
      ? 'the service is unable to consistently start tasks successfully'
      : 'no container instance meets the tasks’ requirements');
  return {
    kind: 'failure',
    occurrence: {
      group,
      alertClass,
      // Service actions carry no version: a redelivery repeats the event id, a new report has a new createdAt.
      dedupeKey: `service-action|${group.clusterArn}|${group.name}|${d.eventName}|${d.createdAt ?? event.id}`,
      time: d.createdAt ?? event.time,
      resourceArn: event.resources[0] ?? group.clusterArn,
      reason,
      containers: [],
      exitCodes: [],
      imageDigests: [],
    },
  };
}

const lastSegment = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

function taskGroup(event: EcsTaskStateChangeEvent): AlertGroup {
  const d = event.detail;
  const base = {
    accountId: event.account,
    region: event.region,
    clusterArn: d.clusterArn,
    clusterName: lastSegment(d.clusterArn),
  };
  if (d.group?.startsWith('service:')) return { ...base, kind: 'service', name: d.group.slice(8) };
  if (d.group?.startsWith('family:')) return { ...base, kind: 'family', name: d.group.slice(7) };
  // `arn:...:task-definition/FAMILY:REVISION`
  return { ...base, kind: 'family', name: lastSegment(d.taskDefinitionArn).replace(/:\d+$/, '') };
}

/** The service from `detail.serviceName` or from `resources[]` (`arn:...:service/CLUSTER/NAME`). */
function serviceGroup(
  event: EcsDeploymentStateChangeEvent | EcsServiceActionEvent,
  clusterArn: string | undefined,
): AlertGroup {
  const serviceArn = event.resources.find((r) => /^arn:[^:]+:ecs:[^:]*:\d*:service\//.test(r));
  const path = serviceArn?.split(':service/')[1]?.split('/') ?? [];
  const named = typeof event.detail.serviceName === 'string' ? event.detail.serviceName : undefined;
  const name = named ?? path.at(-1);
  const prefix = serviceArn?.split(':service/')[0];
  const cluster = clusterArn ?? (path.length === 2 && prefix ? `${prefix}:cluster/${path[0]}` : undefined);
  if (!name || !cluster) {
    throw new EventValidationError(event['detail-type'], [
      'resources: expected a service ARN of the form arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME',
    ]);
  }
  return {
    accountId: event.account,
    region: event.region,
    clusterArn: cluster,
    clusterName: lastSegment(cluster),
    kind: 'service',
    name,
  };
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
