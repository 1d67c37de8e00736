/** What redeployEcs knows about a service, gathered once per invocation; input of the pure plan. */
import type { Hold } from '../gates';
import type { HoldSettings } from '../holds/gates';
import type { Digest } from '../image-ref';

export interface ContainerImage {
  containerName: string;
  image: string;
}

export interface EcsService {
  clusterArn: string;
  serviceArn: string;
  serviceName: string;
  /** EC2, FARGATE, EXTERNAL, or the capacity providers of the strategy. */
  capacity: string;
  /** Raw value of the `harborpilot:policy` tag, if the service has one. */
  policyTag?: string;
  taskDefinitionArn: string;
  /** Tags `harborpilot:window` and `harborpilot:approval`, where set (the holds gates read them). */
  holdSettings?: HoldSettings;
  /** Raw value of the `harborpilot:notify` tag (deployment notices: off, failures, all), if set. */
  notify?: string;
  containers: ContainerImage[];
  /** Digest each container of the PRIMARY deployment runs, where a task of it reported one. */
  runningDigests: Record<string, Digest>;
  /** When the PRIMARY deployment was created: ECS resolved its tags to digests then (version consistency). */
  primaryCreatedAt?: Date;
  /**
   * Who deploys the service, when not ECS itself: CODE_DEPLOY (blue/green through CodeDeploy) or EXTERNAL
   * (task sets made by another tool). UpdateService cannot start their deployments.
   */
  deploymentController?: 'CODE_DEPLOY' | 'EXTERNAL';
}

export interface ContainerChange {
  containerName: string;
  fromImage: string;
  toImage: string;
  fromDigest?: Digest;
  toDigest: Digest;
  reason: string;
}

/**
 * `force-new-deployment`: the task definition stays, ECS re-resolves the tag to the new digest.
 * `register-task-definition`: a new revision with the new images, then the service moves to it.
 */
export interface ServiceAction {
  type: 'force-new-deployment' | 'register-task-definition';
  clusterArn: string;
  serviceArn: string;
  serviceName: string;
  taskDefinitionArn: string;
  changes: ContainerChange[];
  /** The service's `harborpilot:notify` tag, carried to the deployment's record. */
  notify?: string;
}

export interface ServiceSkip {
  serviceArn: string;
  reason: string;
}

export interface ServiceError {
  serviceArn: string;
  error: string;
}

/** A service a gate holds: the action it would take now, kept so it can be applied once released. */
export interface ServiceHold {
  serviceArn: string;
  hold: Hold;
  action: ServiceAction;
}

export interface RedeployPlan {
  actions: ServiceAction[];
  skips: ServiceSkip[];
  holds: ServiceHold[];
  errors: ServiceError[];
}
