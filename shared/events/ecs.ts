/**
 * ECS events from aws.ecs as EventBridge delivers them (Amazon ECS Developer Guide: task state change,
 * service deployment state change, service action events). Objects are loose: AWS adds fields over time,
 * and a new field must never make the alerting function reject an event.
 */
import * as z from 'zod';
import { envelope } from './envelope';

const isoTime = z.iso.datetime({ offset: true });

export const EcsContainer = z.looseObject({
  containerArn: z.string().optional(),
  name: z.string(),
  image: z.string().optional(),
  /** Present when the image comes from ECR. */
  imageDigest: z.string().optional(),
  lastStatus: z.string().optional(),
  /** Absent when the container never ran (pull failure, failed to start). */
  exitCode: z.number().int().optional(),
  /** e.g. `OutOfMemoryError: Container killed due to memory usage`, `CannotPullContainerError: ...`. */
  reason: z.string().optional(),
  healthStatus: z.string().optional(),
});
export type EcsContainer = z.infer<typeof EcsContainer>;

export const EcsTaskStateChangeDetail = z.looseObject({
  clusterArn: z.string().startsWith('arn:', 'must be a cluster ARN'),
  taskArn: z.string().startsWith('arn:', 'must be a task ARN'),
  taskDefinitionArn: z.string().startsWith('arn:', 'must be a task definition ARN'),
  lastStatus: z.string().min(1),
  desiredStatus: z.string().min(1),
  /** Grows with each state change of the task: with taskArn, the key that makes a delivery unique. */
  version: z.number().int().nonnegative(),
  containers: z.array(EcsContainer).default([]),
  /** `service:NAME` for tasks a service started, `family:NAME` for RunTask by default. */
  group: z.string().optional(),
  launchType: z.string().optional(),
  capacityProviderName: z.string().optional(),
  startedBy: z.string().optional(),
  stopCode: z.string().optional(),
  stoppedReason: z.string().optional(),
  createdAt: isoTime.optional(),
  startedAt: isoTime.optional(),
  stoppingAt: isoTime.optional(),
  stoppedAt: isoTime.optional(),
  updatedAt: isoTime.optional(),
  availabilityZone: z.string().optional(),
});
export type EcsTaskStateChangeDetail = z.infer<typeof EcsTaskStateChangeDetail>;

export const EcsTaskStateChangeEvent = envelope('aws.ecs', 'ECS Task State Change', EcsTaskStateChangeDetail);
// The envelope types detail-type as string; the literal lets a switch on it narrow the union.
export type EcsTaskStateChangeEvent = z.infer<typeof EcsTaskStateChangeEvent> & {
  'detail-type': 'ECS Task State Change';
};

export const EcsDeploymentStateChangeDetail = z.looseObject({
  eventType: z.enum(['INFO', 'WARN', 'ERROR']),
  eventName: z.string().min(1),
  deploymentId: z.string().min(1),
  updatedAt: isoTime,
  reason: z.string().optional(),
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
  eventName: z.string().min(1),
  clusterArn: z.string().startsWith('arn:', 'must be a cluster ARN').optional(),
  /** Named in some service actions; derived from `resources[]` in the others. */
  serviceName: z.string().optional(),
  createdAt: isoTime.optional(),
  reason: z.string().optional(),
  /** SERVICE_TASK_PLACEMENT_FAILURE: e.g. `RESOURCE:MEMORY`. */
  reasons: z.array(z.string()).optional(),
  capacityProviderArns: z.array(z.string()).optional(),
  taskArns: z.array(z.string()).optional(),
});
export const EcsServiceActionEvent = envelope('aws.ecs', 'ECS Service Action', EcsServiceActionDetail);
export type EcsServiceActionEvent = z.infer<typeof EcsServiceActionEvent> & {
  'detail-type': 'ECS Service Action';
};

export type EcsEvent = EcsTaskStateChangeEvent | EcsDeploymentStateChangeEvent | EcsServiceActionEvent;
