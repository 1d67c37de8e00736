/**
 * ECS events from aws.ecs as EventBridge delivers them (Amazon ECS Developer Guide: task state change,
 * service deployment state change, service action events). Objects are loose: AWS adds fields over time,
 * and a new field must never make the alerting function reject an event.
 */
import * as z from '../zod';
import { envelope } from './envelope';

const isoTime = z.iso.datetime({ offset: true });

export const EcsContainer = z.looseObject({
  containerArn: z.optional(z.string()),
  name: z.string(),
  image: z.optional(z.string()),
  /** Present when the image comes from ECR. */
  imageDigest: z.optional(z.string()),
  lastStatus: z.optional(z.string()),
  /** Absent when the container never ran (pull failure, failed to start). */
  exitCode: z.optional(z.int()),
  /** e.g. `OutOfMemoryError: Container killed due to memory usage`, `CannotPullContainerError: ...`. */
  reason: z.optional(z.string()),
  healthStatus: z.optional(z.string()),
});
export type EcsContainer = z.infer<typeof EcsContainer>;

export const EcsTaskStateChangeDetail = z.looseObject({
  clusterArn: z.string().check(z.startsWith('arn:', 'must be a cluster ARN')),
  taskArn: z.string().check(z.startsWith('arn:', 'must be a task ARN')),
  taskDefinitionArn: z.string().check(z.startsWith('arn:', 'must be a task definition ARN')),
  lastStatus: z.string().check(z.minLength(1)),
  desiredStatus: z.string().check(z.minLength(1)),
  /** Grows with each state change of the task: with taskArn, the key that makes a delivery unique. */
  version: z.int().check(z.nonnegative()),
  containers: z._default(z.array(EcsContainer), []),
  /** `service:NAME` for tasks a service started, `family:NAME` for RunTask by default. */
  group: z.optional(z.string()),
  launchType: z.optional(z.string()),
  capacityProviderName: z.optional(z.string()),
  startedBy: z.optional(z.string()),
  stopCode: z.optional(z.string()),
  stoppedReason: z.optional(z.string()),
  createdAt: z.optional(isoTime),
  startedAt: z.optional(isoTime),
  stoppingAt: z.optional(isoTime),
  stoppedAt: z.optional(isoTime),
  updatedAt: z.optional(isoTime),
  availabilityZone: z.optional(z.string()),
});
export type EcsTaskStateChangeDetail = z.infer<typeof EcsTaskStateChangeDetail>;

export const EcsTaskStateChangeEvent = envelope('aws.ecs', 'ECS Task State Change', EcsTaskStateChangeDetail);
// The envelope types detail-type as string; the literal lets a switch on it narrow the union.
export type EcsTaskStateChangeEvent = z.infer<typeof EcsTaskStateChangeEvent> & {
  'detail-type': 'ECS Task State Change';
};

export const EcsDeploymentStateChangeDetail = z.looseObject({
  eventType: z.enum(['INFO', 'WARN', 'ERROR']),
  eventName: z.string().check(z.minLength(1)),
  deploymentId: z.string().check(z.minLength(1)),
  updatedAt: isoTime,
  reason: z.optional(z.string()),
});
export const EcsDeploymentStateChangeEvent = envelope(
  'aws.ecs',
  'ECS Deployment State Change',
  EcsDeploymentStateChangeDetail,
);
export type EcsDeploymentStateChangeEvent = z.infer<typeof EcsDeploymentStateChangeEvent> & {
  'detail-type': 'ECS Deployment State Change';
};

export const EcsServiceActionDetail = z.looseObject({
  eventType: z.enum(['INFO', 'WARN', 'ERROR']),
  eventName: z.string().check(z.minLength(1)),
  clusterArn: z.optional(z.string().check(z.startsWith('arn:', 'must be a cluster ARN'))),
  /** Named in some service actions; derived from `resources[]` in the others. */
  serviceName: z.optional(z.string()),
  createdAt: z.optional(isoTime),
  reason: z.optional(z.string()),
  /** SERVICE_TASK_PLACEMENT_FAILURE: e.g. `RESOURCE:MEMORY`. */
  reasons: z.optional(z.array(z.string())),
  capacityProviderArns: z.optional(z.array(z.string())),
  taskArns: z.optional(z.array(z.string())),
});
export const EcsServiceActionEvent = envelope('aws.ecs', 'ECS Service Action', EcsServiceActionDetail);
export type EcsServiceActionEvent = z.infer<typeof EcsServiceActionEvent> & {
  'detail-type': 'ECS Service Action';
};

export type EcsEvent = EcsTaskStateChangeEvent | EcsDeploymentStateChangeEvent | EcsServiceActionEvent;
