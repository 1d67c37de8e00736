/**
 * How a deployment harborpilot started ended, from what ECS or Kubernetes says of it now (pure). ECS: its service
 * deployment decides (DescribeServiceDeployments), so blue/green, linear and canary deployments count as done
 * only once ECS reports them SUCCESSFUL, after bake time; an event alone never settles a record. Kubernetes: the
 * rollout of the generation rollEks patched, as `kubectl rollout status` judges it.
 */
import type { RolloutStatus } from '../roll-eks/model';
import type { DeploymentRecord } from './model';
import type { Settlement } from './store';

/** A record not settled within this long is given up on (`unknown`) and leaves the open index. */
export const GIVE_UP_MS = 24 * 3600_000;

export interface EcsObservation {
  /** The record's service deployment, as DescribeServiceDeployments answers it. */
  serviceDeployment?: {
    arn: string;
    status?: string;
    statusReason?: string;
    finishedAt?: Date;
    stoppedAt?: Date;
    updatedAt?: Date;
    rollback?: { reason?: string; startedAt?: Date };
  };
  /** What its target service revision runs, per container (DescribeServiceRevisions). */
  digests?: Record<string, string>;
  /** No service deployment found: the deployment as DescribeServices lists it, or `gone` when it does not. */
  deployment?: { rolloutState?: string; rolloutStateReason?: string; updatedAt?: Date } | 'gone';
  /** The ECS event being handled, when it names this very deployment. */
  event?: { eventName: string; reason?: string; time: string };
}

const iso = (d: Date | undefined, now: Date) => (d ?? now).toISOString();
/** ECS's sentences joined: `tasks failed to start; rolling back to deploymentId …` (each once, no stray stops). */
const joined = (...parts: (string | undefined)[]) =>
  [...new Set(parts.map((p) => p?.trim().replace(/\.$/, '')).filter((p): p is string => !!p))].join('; ');

export function settleEcs(record: DeploymentRecord, o: EcsObservation, now: Date): Settlement | undefined {
  const sd = o.serviceDeployment;
  const extra = {
    ...(o.digests && Object.keys(o.digests).length > 0 ? { deployedDigests: o.digests } : {}),
    ...(sd ? { serviceDeploymentArn: sd.arn } : {}),
  };
  const failedEvent = o.event?.eventName === 'SERVICE_DEPLOYMENT_FAILED' ? o.event : undefined;
  if (sd) {
    switch (sd.status) {
      case 'SUCCESSFUL':
        return {
          state: 'completed',
          reason: sd.statusReason || 'ECS reports the service deployment successful',
          settledAt: iso(sd.finishedAt ?? sd.updatedAt, now),
          ...extra,
        };
      case 'ROLLBACK_REQUESTED':
      case 'ROLLBACK_IN_PROGRESS':
      case 'ROLLBACK_SUCCESSFUL':
        return {
          state: 'rolled-back',
          reason: joined(sd.statusReason, sd.rollback?.reason, failedEvent?.reason) || `ECS: ${sd.status}`,
          settledAt: iso(sd.rollback?.startedAt ?? sd.stoppedAt ?? sd.updatedAt, now),
          ...extra,
        };
      case 'ROLLBACK_FAILED':
        return {
          state: 'failed',
          reason: `ECS rolled it back and the rollback failed: ${joined(sd.statusReason, sd.rollback?.reason) || 'no reason given'}`,
          settledAt: iso(sd.stoppedAt ?? sd.updatedAt, now),
          ...extra,
        };
      case 'STOPPED':
      case 'STOP_REQUESTED':
        // The circuit breaker without rollback stops a deployment it failed; otherwise a newer one replaced it.
        if (failedEvent)
          return {
            state: 'failed',
            reason: joined(failedEvent.reason, sd.statusReason),
            settledAt: failedEvent.time,
            ...extra,
          };
        return {
          state: 'stopped',
          reason: joined(sd.statusReason) || 'stopped before it finished: a newer deployment replaced it',
          settledAt: iso(sd.stoppedAt ?? sd.updatedAt, now),
          ...extra,
        };
      default:
        // PENDING, IN_PROGRESS (bake time included), or a status this code does not know yet: not done.
        return undefined;
    }
  }
  const d = o.deployment;
  if (d === 'gone')
    return failedEvent
      ? { state: 'failed', reason: joined(failedEvent.reason), settledAt: failedEvent.time, ...extra }
      : {
          state: 'unknown',
          reason: 'ECS lists neither the deployment nor a service deployment for it any more',
          settledAt: now.toISOString(),
          ...extra,
        };
  // Where ECS has no service deployment for it (an account or region without the API): the deployment itself.
  if (d?.rolloutState === 'COMPLETED')
    return {
      state: 'completed',
      reason: d.rolloutStateReason || 'ECS reports the deployment completed',
      settledAt: iso(d.updatedAt, now),
      ...extra,
    };
  if (d?.rolloutState === 'FAILED' || failedEvent)
    return {
      state: 'failed',
      reason: joined(d?.rolloutStateReason, failedEvent?.reason) || 'ECS reports the deployment failed',
      settledAt: failedEvent?.time ?? iso(d?.updatedAt, now),
      ...extra,
    };
  return giveUp(record, now);
}

export interface EksObservation {
  /** Container images of the workload now, by container name. */
  images: Record<string, string>;
  rollout: RolloutStatus;
}

/**
 * A rollout rollEks started, from the workload as it is now. Changed since (other images: a rollback by hand, a
 * newer patch): `stopped`, its own end unknown. The rollout's status judges the rest.
 */
export function settleEks(
  record: DeploymentRecord,
  o: EksObservation | 'gone',
  now: Date,
): Settlement | undefined {
  const at = now.toISOString();
  if (o === 'gone') return { state: 'stopped', reason: 'the workload no longer exists', settledAt: at };
  const changed = record.changes.find((c) => o.images[c.container] !== c.toImage);
  if (changed)
    return {
      state: 'stopped',
      reason: `changed since: ${changed.container} runs ${o.images[changed.container] ?? 'nothing'} now`,
      settledAt: at,
    };
  if (o.rollout.state === 'complete') return { state: 'completed', reason: o.rollout.message, settledAt: at };
  if (o.rollout.state === 'failed') return { state: 'failed', reason: o.rollout.message, settledAt: at };
  return giveUp(record, now);
}

/** Open too long: given up on, so it leaves the index; undefined while there is time. */
export function giveUp(record: DeploymentRecord, now: Date): Settlement | undefined {
  if (now.getTime() - Date.parse(record.startedAt) < GIVE_UP_MS) return undefined;
  return {
    state: 'unknown',
    reason: `no outcome read within ${GIVE_UP_MS / 3600_000} hours of its start`,
    settledAt: now.toISOString(),
  };
}
