/** What rollEks knows about a Kubernetes workload, gathered once per invocation; input of the pure plan. */
import type { Hold } from '../gates';
import type { HoldSettings } from '../holds/gates';
import type { Digest } from '../image-ref';
import type { TargetScope } from '../targets';

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** The annotation that carries a workload's update policy (Keel's habit, our vocabulary). */
export const POLICY_ANNOTATION = 'harborpilot.io/policy';
/** Set by rollEks on the workloads it patched (the images it set); later runs report their rollouts. */
export const ROLLED_ANNOTATION = 'harborpilot.io/rolled';

export interface WorkloadContainer {
  name: string;
  image: string;
  /** An init container (spec.template.spec.initContainers). */
  init: boolean;
}

export interface WorkloadRef {
  cluster: string;
  kind: WorkloadKind;
  namespace: string;
  name: string;
  /** The cluster is in another target (docs/organisation.md): its account and region; none: the home target. */
  scope?: TargetScope;
}

export interface Workload extends WorkloadRef {
  /** Raw value of the `harborpilot.io/policy` annotation, if any. */
  policyAnnotation?: string;
  /** Annotations `harborpilot.io/window` and `harborpilot.io/approval`, where set (the holds gates read them). */
  holdSettings?: HoldSettings;
  /** Raw value of the `harborpilot.io/notify` annotation (deployment notices: off, failures, all), if set. */
  notify?: string;
  containers: WorkloadContainer[];
  /** Digests the workload's pods report per container name (status.containerStatuses[].imageID). */
  runningDigests: Record<string, Digest[]>;
  /** The `harborpilot.io/rolled` annotation: rollEks patched this workload to these images. */
  rolled?: string;
  rollout: RolloutStatus;
}

export interface ImageChange {
  containerName: string;
  init: boolean;
  fromImage: string;
  toImage: string;
  /** What the pods ran, when they all ran one digest. */
  fromDigest?: Digest;
  toDigest: Digest;
  reason: string;
}

export interface WorkloadAction extends WorkloadRef {
  changes: ImageChange[];
  /** Strategic merge patch of the workload: container images by name, and the rolled annotation. */
  patch: Record<string, unknown>;
  /** The workload's `harborpilot.io/notify` annotation, carried to the rollout's record. */
  notify?: string;
}

export interface WorkloadSkip extends WorkloadRef {
  reason: string;
}

export interface WorkloadError extends WorkloadRef {
  error: string;
}

/** A workload a gate holds: the action it would take now, kept so it can be applied once released. */
export interface WorkloadHold extends WorkloadRef {
  hold: Hold;
  action: WorkloadAction;
}

export interface RollPlan {
  actions: WorkloadAction[];
  skips: WorkloadSkip[];
  holds: WorkloadHold[];
  errors: WorkloadError[];
}

/** `unknown`: patched, but the workload's status could not be read afterwards. */
export type RolloutState = 'complete' | 'progressing' | 'failed' | 'unknown';

export interface RolloutStatus {
  state: RolloutState;
  /** Human words: "2 of 3 updated", "ProgressDeadlineExceeded: ReplicaSet ... has timed out progressing". */
  message: string;
}

export function workloadKey(w: WorkloadRef): string {
  return `${clusterKey(w)}/${w.namespace}/${w.kind.toLowerCase()}/${w.name}`;
}

/** A cluster as logs and the connections name it: `<account>/<region>/<cluster>` in another target. */
export function clusterKey(w: { cluster: string; scope?: TargetScope | undefined }): string {
  return w.scope ? `${w.scope.accountId}/${w.scope.region}/${w.cluster}` : w.cluster;
}
