/**
 * Deployment records: one state-table item per deployment harborpilot starts (an ECS deployment from UpdateService,
 * a Kubernetes generation from rollEks's patch), and one item per push grouping the deployments it started. They
 * are settled (completed, failed, rolled back) by trackDeployments and rollEks, and read by the deployment notices.
 */

import { HeldPush } from '../holds/store';
import * as z from '../zod';

/** How a notice setting reads: never, only deployments that failed or were rolled back, or every one. */
export const NOTICE_LEVELS = ['off', 'failures', 'all'] as const;
export const NoticeLevel = z.enum(NOTICE_LEVELS);
export type NoticeLevel = z.infer<typeof NoticeLevel>;

/** ECS service tag and Kubernetes annotation that set a workload's notice level. */
export const NOTIFY_TAG = 'harborpilot:notify';
export const NOTIFY_ANNOTATION = 'harborpilot.io/notify';

/** `stopped`: replaced by a newer deployment before it finished; `unknown`: no outcome could be read in time. */
export const OUTCOMES = ['completed', 'failed', 'rolled-back', 'stopped', 'unknown'] as const;
export const Outcome = z.enum(OUTCOMES);
export type Outcome = z.infer<typeof Outcome>;

export const DeploymentState = z.enum(['in-progress', ...OUTCOMES]);
export type DeploymentState = z.infer<typeof DeploymentState>;

export const DeploymentChange = z.object({
  container: z.string(),
  fromImage: z.string(),
  toImage: z.string(),
  fromDigest: z.optional(z.string()),
  toDigest: z.string(),
});
export type DeploymentChange = z.infer<typeof DeploymentChange>;

/** What started a deployment: the ECR push event, a reconcile run, or the release of a held push. */
export const Cause = z.object({
  kind: z.enum(['push', 'reconcile', 'release']),
  eventId: z.string(),
});
export type Cause = z.infer<typeof Cause>;

export const DeploymentRecord = z.object({
  /** `deployment#<workload>#<ref>`. */
  recordId: z.string(),
  workload: z.string(),
  platform: z.enum(['ecs', 'eks']),
  /** The ECS deployment id (`ecs-svc/…`) or `generation/<n>` of the Kubernetes workload. */
  ref: z.string(),
  cause: Cause,
  /** The pushes whose digests it deploys (repository, tag, digest, pushed at). */
  pushes: z.array(HeldPush),
  changes: z.array(DeploymentChange).check(z.minLength(1)),
  /** When harborpilot started it (ISO). */
  startedAt: z.string(),
  notify: NoticeLevel,
  state: DeploymentState,
  // ECS
  clusterArn: z.optional(z.string()),
  serviceArn: z.optional(z.string()),
  taskDefinitionArn: z.optional(z.string()),
  /** The ECS deployment's createdAt (ISO): what finds its service deployment. */
  createdAt: z.optional(z.string()),
  serviceDeploymentArn: z.optional(z.string()),
  // EKS
  generation: z.optional(z.int()),
  // once settled
  settledAt: z.optional(z.string()),
  reason: z.optional(z.string()),
  /** What the target revision ran, per container, as ECS confirmed it. */
  deployedDigests: z.optional(z.record(z.string(), z.string())),
});
export type DeploymentRecord = z.infer<typeof DeploymentRecord>;

/** The deployments one push (one event) started, and where its notice stands. */
export const PushGroup = z.object({
  eventId: z.string(),
  cause: Cause,
  deployments: z.array(z.string()),
  firstAt: z.string(),
  /** When the newest deployment joined: a notice waits a little after it, for the other function's. */
  lastAt: z.string(),
  /**
   * `pending`: nothing sent; `slow`: a notice said some were still in progress (a second follows when they
   * settle); `done`.
   */
  notice: z.enum(['pending', 'slow', 'done']),
  /** When the `slow` notice went: its follow-up tells what ended since. */
  slowAt: z.optional(z.string()),
});
export type PushGroup = z.infer<typeof PushGroup>;

export const isSettled = (r: Pick<DeploymentRecord, 'state'>) => r.state !== 'in-progress';
export const isFailure = (state: DeploymentState) => state === 'failed' || state === 'rolled-back';
