/**
 * The judgement of redeployEcs, pure: which services move to which image, and why the others do not.
 */
import { choosePush } from '../choose-push';
import { errorMessage } from '../errors';
import type { ImagePush } from '../events/image-push';
import { firstHold, type Gate } from '../gates';
import { formatImageRef } from '../image-ref';
import { parsePolicy, type UpdatePolicy } from '../policy';
import { HOME_ONLY, type WorkloadScopes } from '../targets';
import { ecsWorkloadId } from '../workload';
import type { ContainerChange, EcsService, RedeployPlan, ServiceAction } from './model';

export const POLICY_TAG = 'harborpilot:policy';

/** Why a service ECS does not deploy itself is left alone: UpdateService refuses to start its deployments. */
const CONTROLLER_SKIP: Record<NonNullable<EcsService['deploymentController']>, string> = {
  CODE_DEPLOY:
    'deployment controller CODE_DEPLOY: ECS cannot start its deployments (UpdateService refuses a new task definition or a forced deployment); deploy it through AWS CodeDeploy',
  EXTERNAL:
    'deployment controller EXTERNAL: its deployments are task sets another tool makes (CreateTaskSet); deploy it through that tool',
};

export function planRedeploy(
  services: readonly EcsService[],
  pushes: readonly ImagePush[],
  defaultPolicy: string,
  /** Asked about every service that would move; the first that holds it makes it a hold. */
  gates: readonly Gate[] = [],
  /** Which services are another target's (their workload ids, which the gates key by, say so). */
  scopes: WorkloadScopes = HOME_ONLY,
): RedeployPlan {
  const plan: RedeployPlan = { actions: [], skips: [], holds: [], errors: [] };
  for (const service of services) {
    let policy: UpdatePolicy;
    try {
      policy = parsePolicy(service.policyTag ?? defaultPolicy);
    } catch (err) {
      plan.errors.push({
        serviceArn: service.serviceArn,
        error: `tag ${POLICY_TAG}: ${errorMessage(err, { name: false })}`,
      });
      continue;
    }
    const changes: ContainerChange[] = [];
    const reasons: string[] = [];
    let needsRevision = false;
    for (const container of service.containers) {
      const decision = decideContainer(service, container.containerName, container.image, pushes, policy);
      if (decision === undefined) continue;
      if ('skip' in decision) reasons.push(`${container.containerName}: ${decision.skip}`);
      else {
        changes.push(decision.change);
        needsRevision ||= decision.needsRevision;
      }
    }
    if (changes.length > 0 && service.deploymentController) {
      // Said per service, not an error: the rest of the push goes on, and the team sees why this one did not move.
      plan.skips.push({
        serviceArn: service.serviceArn,
        reason: `${CONTROLLER_SKIP[service.deploymentController]}; it would have moved ${changes
          .map((c) => `${c.containerName} to ${c.toImage} (${c.toDigest})`)
          .join(', ')}`,
      });
    } else if (changes.length > 0) {
      const action: ServiceAction = {
        type: needsRevision ? 'register-task-definition' : 'force-new-deployment',
        clusterArn: service.clusterArn,
        serviceArn: service.serviceArn,
        serviceName: service.serviceName,
        taskDefinitionArn: service.taskDefinitionArn,
        changes,
        ...(service.notify !== undefined ? { notify: service.notify } : {}),
      };
      const workload = ecsWorkloadId(service.serviceArn, scopes);
      const hold = workload ? firstHold(gates, { workload, changes }) : undefined;
      if (hold) plan.holds.push({ serviceArn: service.serviceArn, hold, action });
      else plan.actions.push(action);
    } else if (reasons.length > 0) {
      plan.skips.push({ serviceArn: service.serviceArn, reason: reasons.join('; ') });
    }
  }
  return plan;
}

type ContainerDecision = { skip: string } | { change: ContainerChange; needsRevision: boolean };

function decideContainer(
  service: EcsService,
  containerName: string,
  image: string,
  pushes: readonly ImagePush[],
  policy: UpdatePolicy,
): ContainerDecision | undefined {
  const choice = choosePush(image, pushes, policy);
  if (!choice || 'skip' in choice) return choice;
  const { ref, chosen, reason } = choice;
  const running = ref.digest ?? service.runningDigests[containerName];
  if (running === chosen.digest) return { skip: `already runs ${chosen.digest}` };
  // A digest in the task definition pins the image: only a new revision can move it. So does a new tag.
  const needsRevision = ref.digest !== undefined || chosen.tag !== ref.tag;
  // A PRIMARY deployment created after the push resolved the tag to the pushed digest (or a later one), even
  // while none of its tasks has reported a digest yet: forcing another one (a reconcile or a second event
  // during the rollout) would only restart it.
  if (
    !needsRevision &&
    running === undefined &&
    startedAfterPush(service.primaryCreatedAt, chosen.pushedAt)
  ) {
    return { skip: `the PRIMARY deployment started after ${chosen.tag} was pushed and runs it` };
  }
  const toImage = needsRevision
    ? formatImageRef({
        ...(ref.registry ? { registry: ref.registry } : {}),
        repository: ref.repository,
        ...(ref.digest && !ref.tag ? {} : { tag: chosen.tag }),
        ...(ref.digest ? { digest: chosen.digest } : {}),
      })
    : image;
  const change: ContainerChange = {
    containerName,
    fromImage: image,
    toImage,
    toDigest: chosen.digest,
    reason,
    ...(running ? { fromDigest: running } : {}),
  };
  return { change, needsRevision };
}

function startedAfterPush(createdAt: Date | undefined, pushedAt: Date | undefined): boolean {
  return createdAt !== undefined && pushedAt !== undefined && createdAt.getTime() > pushedAt.getTime();
}
