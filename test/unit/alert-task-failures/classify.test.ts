import { describe, expect, it } from 'vitest';
import deploymentFailed from '../../../events/ecs-deployment-failed.json';
import deploymentInProgress from '../../../events/ecs-deployment-in-progress.json';
import deploymentRollback from '../../../events/ecs-deployment-rollback.json';
import placementFailure from '../../../events/ecs-service-action-placement-failure.json';
import steadyState from '../../../events/ecs-service-action-steady-state.json';
import startImpaired from '../../../events/ecs-service-action-task-start-impaired.json';
import scaleIn from '../../../events/ecs-task-deployment-scale-in.json';
import elbHealth from '../../../events/ecs-task-elb-health-check.json';
import essentialExit from '../../../events/ecs-task-essential-exit.json';
import failedToStart from '../../../events/ecs-task-failed-to-start.json';
import healthCheck from '../../../events/ecs-task-health-check.json';
import imagePull from '../../../events/ecs-task-image-pull.json';
import oom from '../../../events/ecs-task-oom.json';
import spot from '../../../events/ecs-task-spot-interruption.json';
import userStop from '../../../events/ecs-task-user-stop.json';
import { classify } from '../../../shared/alert-task-failures/classify';
import { parseTrigger } from '../../../shared/alert-task-failures/handler';
import type { Classification } from '../../../shared/alert-task-failures/model';
import { EventValidationError } from '../../../shared/errors';

const run = (event: unknown): Classification => {
  const trigger = parseTrigger(event);
  if (trigger.kind !== 'ecs') throw new Error('not an ECS event');
  return classify(trigger.event);
};
const classOf = (event: unknown) => {
  const c = run(event);
  return c.kind === 'failure' ? c.occurrence.alertClass : `not a failure (${c.reason})`;
};
/** A sample event with its detail changed. */
const withDetail = (event: { detail: object }, detail: Record<string, unknown>) => ({
  ...event,
  detail: { ...event.detail, ...detail },
});

describe('classify: every sample event in events/', () => {
  it.each([
    ['image pull failure (CannotPullContainerError, TaskFailedToStart)', imagePull, 'image-pull'],
    ['essential container exited 1', essentialExit, 'essential-exit'],
    ['OutOfMemoryError, exit 137', oom, 'oom'],
    ['container health check failed', healthCheck, 'health-check'],
    ['ELB health check failed', elbHealth, 'health-check'],
    ['ResourceInitializationError (secrets)', failedToStart, 'failed-to-start'],
    ['Fargate Spot interruption', spot, 'spot-interruption'],
    ['circuit breaker failed the deployment', deploymentFailed, 'deployment-failed'],
    ['circuit breaker rolling back', deploymentRollback, 'deployment-rollback'],
    ['SERVICE_TASK_START_IMPAIRED', startImpaired, 'task-start-impaired'],
    ['SERVICE_TASK_PLACEMENT_FAILURE', placementFailure, 'placement-failure'],
  ])('%s → %s', (_name, event, expected) => {
    expect(classOf(event)).toBe(expected);
  });

  it.each([
    ['stopped by a deployment', scaleIn, /deployment/],
    ['stopped by a user', userStop, /user/],
    ['deployment in progress (not a rollback)', deploymentInProgress, /SERVICE_DEPLOYMENT_IN_PROGRESS/],
    ['service steady state', steadyState, /SERVICE_STEADY_STATE/],
  ])('%s sends nothing', (_name, event, reason) => {
    const c = run(event);
    expect(c.kind).toBe('not-a-failure');
    if (c.kind === 'not-a-failure') expect(c.reason).toMatch(reason);
  });
});

describe('classify: the rules around the samples', () => {
  it.each([
    [
      'scale-in by the scheduler is not a failure',
      withDetail(scaleIn, { stoppedReason: 'Scaling activity initiated by (service api-service)' }),
      /scale-in/,
    ],
    [
      'a task still RUNNING is not a failure',
      withDetail(essentialExit, { lastStatus: 'RUNNING' }),
      /RUNNING/,
    ],
    [
      'essential container exiting 0 is a completed task',
      withDetail(essentialExit, { containers: [{ name: 'job', exitCode: 0 }] }),
      /completed/,
    ],
  ])('%s', (_name, event, reason) => {
    const c = run(event);
    expect(c.kind).toBe('not-a-failure');
    if (c.kind === 'not-a-failure') expect(c.reason).toMatch(reason);
  });

  it.each([
    ['exit 137 without an OOM reason counts as OOM', { containers: [{ name: 'api', exitCode: 137 }] }, 'oom'],
    [
      'an OOM reason on one container wins over exit 1 on another',
      {
        containers: [
          { name: 'sidecar', exitCode: 1 },
          { name: 'api', exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' },
        ],
      },
      'oom',
    ],
    [
      'no stop code, pull error in the reason',
      { stopCode: undefined, stoppedReason: 'CannotPullContainerError: access denied' },
      'image-pull',
    ],
    [
      'TerminationNotice on a Spot capacity provider',
      { stopCode: 'TerminationNotice', capacityProviderName: 'FARGATE_SPOT' },
      'spot-interruption',
    ],
    ['InfrastructureHealth', { stopCode: 'InfrastructureHealth' }, 'infrastructure'],
  ])('%s', (_name, detail, expected) => {
    expect(classOf(withDetail(essentialExit, detail))).toBe(expected);
  });

  it('groups service tasks by service, other tasks by task definition family', () => {
    const svc = run(imagePull);
    const standalone = run(withDetail(essentialExit, { group: undefined }));
    expect(svc.kind === 'failure' && svc.occurrence.group).toMatchObject({
      kind: 'service',
      name: 'api-service',
      clusterName: 'prod',
    });
    expect(standalone.kind === 'failure' && standalone.occurrence.group).toMatchObject({
      kind: 'family',
      name: 'api-service',
    });
  });

  it('keeps what the email shows: failing containers, exit codes, digests, the task, the dedupe key', () => {
    const c = run(essentialExit);
    if (c.kind !== 'failure') throw new Error('expected a failure');
    expect(c.occurrence.containers.map((x) => x.name)).toEqual(['api']); // the log router exited 0
    expect(c.occurrence.exitCodes).toEqual([1]);
    expect(c.occurrence.imageDigests).toEqual([expect.stringMatching(/^sha256:/)]);
    expect(c.occurrence.dedupeKey).toBe(`task|${essentialExit.detail.taskArn}|5`);
  });

  it('derives the service of a deployment event from resources[]', () => {
    const c = run(deploymentFailed);
    expect(c.kind === 'failure' && c.occurrence.group).toMatchObject({
      clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/prod',
      name: 'api-service',
    });
  });

  it('a malformed event names the field that is wrong', () => {
    const bad = withDetail(imagePull, { taskArn: undefined, version: 'five' });
    expect(() => run(bad)).toThrow(EventValidationError);
    expect(() => run(bad)).toThrow(/detail\.taskArn.*detail\.version|detail\.version.*detail\.taskArn/);
    expect(() => run({ ...imagePull, 'detail-type': 'EC2 Instance State-change Notification' })).toThrow(
      /detail-type: expected ECS Task State Change/,
    );
  });
});
