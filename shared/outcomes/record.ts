/**
 * The record of a deployment harborpilot just started, built from the action it applied (pure), and the notice
 * level a workload's tag or annotation sets.
 */
import type { ImagePush } from '../events/image-push';
import { heldPush } from '../holds/plan-holds';
import type { ActionResult } from '../redeploy-ecs/apply';
import type { ServiceAction } from '../redeploy-ecs/model';
import type { WorkloadAction } from '../roll-eks/model';
import type { WorkloadScopes } from '../targets';
import { ecsWorkloadId, eksWorkloadId, formatWorkloadId } from '../workload';
import {
  type Cause,
  type DeploymentChange,
  type DeploymentRecord,
  NOTICE_LEVELS,
  type NoticeLevel,
} from './model';
import { recordId } from './store';

/** A workload's notice level: its own setting, else the configured one; a setting that cannot be read says so. */
export function noticeLevelOf(
  setting: string | undefined,
  fallback: NoticeLevel,
): { level: NoticeLevel; problem?: string } {
  const value = setting?.trim().toLowerCase();
  if (value === undefined || value === '') return { level: fallback };
  if ((NOTICE_LEVELS as readonly string[]).includes(value)) return { level: value as NoticeLevel };
  // Told rather than silenced: a typo must not hide a failed deployment.
  return {
    level: 'all',
    problem: `notify setting "${setting}" is not ${NOTICE_LEVELS.join(', ')}`,
  };
}

interface Change {
  containerName: string;
  fromImage: string;
  toImage: string;
  fromDigest?: string;
  toDigest: string;
}

const changesOf = (changes: readonly Change[]): DeploymentChange[] =>
  changes.map((c) => ({
    container: c.containerName,
    fromImage: c.fromImage,
    toImage: c.toImage,
    ...(c.fromDigest ? { fromDigest: c.fromDigest } : {}),
    toDigest: c.toDigest,
  }));

/** The pushes whose digests the change deploys (a reconcile plans with every tag it read). */
const pushesOf = (changes: readonly Change[], pushes: readonly ImagePush[]) => {
  const digests = new Set(changes.map((c) => c.toDigest));
  return pushes.filter((p) => digests.has(p.digest)).map(heldPush);
};

export interface RecordContext {
  cause: Cause;
  pushes: readonly ImagePush[];
  notify: NoticeLevel;
  startedAt: Date;
  /** Which services are another target's (the record's workload id says so). */
  scopes?: WorkloadScopes;
}

/** An ECS deployment, from the UpdateService answer (its PRIMARY deployment); undefined when ECS named none. */
export function ecsDeploymentRecord(
  action: ServiceAction,
  result: ActionResult,
  c: RecordContext,
): DeploymentRecord | undefined {
  const workload = ecsWorkloadId(action.serviceArn, c.scopes);
  if (!workload || !result.deploymentId) return undefined;
  const id = formatWorkloadId(workload);
  return {
    recordId: recordId(id, result.deploymentId),
    workload: id,
    platform: 'ecs',
    ref: result.deploymentId,
    cause: c.cause,
    pushes: pushesOf(action.changes, c.pushes),
    changes: changesOf(action.changes),
    startedAt: c.startedAt.toISOString(),
    notify: c.notify,
    state: 'in-progress',
    clusterArn: action.clusterArn,
    serviceArn: action.serviceArn,
    taskDefinitionArn: result.taskDefinitionArn,
    ...(result.deploymentCreatedAt ? { createdAt: result.deploymentCreatedAt } : {}),
  };
}

/** A Kubernetes rollout: the generation rollEks's patch made (of this workload object, when its uid is known). */
export function eksDeploymentRecord(
  action: WorkloadAction,
  generation: number,
  uid: string | undefined,
  c: RecordContext,
): DeploymentRecord {
  const id = formatWorkloadId(eksWorkloadId(action));
  const ref = `generation/${generation}${uid ? `/${uid.slice(0, 8)}` : ''}`;
  return {
    recordId: recordId(id, ref),
    workload: id,
    platform: 'eks',
    ref,
    cause: c.cause,
    pushes: pushesOf(action.changes, c.pushes),
    changes: changesOf(action.changes),
    startedAt: c.startedAt.toISOString(),
    notify: c.notify,
    state: 'in-progress',
    generation,
  };
}
