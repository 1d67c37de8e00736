/** The vocabulary of alerting: what failed (class), where (group), and one event's share of an alert. */

export const ALERT_CLASSES = [
  'image-pull',
  'essential-exit',
  'oom',
  'health-check',
  'failed-to-start',
  'spot-interruption',
  'infrastructure',
  'deployment-failed',
  'deployment-rollback',
  'task-start-impaired',
  'placement-failure',
] as const;
export type AlertClass = (typeof ALERT_CLASSES)[number];

/** Stopped tasks that failed: the problem itself, which an email is about. */
export const TASK_FAILURE_CLASSES: readonly AlertClass[] = [
  'image-pull',
  'essential-exit',
  'oom',
  'health-check',
  'failed-to-start',
];

/**
 * What ECS says about a service whose tasks fail: consequences of the same problem, so they ride along in
 * that service's task-failure email as context, and only go alone when no task failure of the service is
 * there to carry them (a deployment failing on health checks before any stopped task reached us).
 */
export const CONTEXT_CLASSES: readonly AlertClass[] = [
  'deployment-failed',
  'deployment-rollback',
  'task-start-impaired',
];

/** Same cluster and same service: the unit task failures and their context are matched on. */
export function sameService(a: AlertGroup, b: AlertGroup): boolean {
  return a.kind === 'service' && b.kind === 'service' && a.clusterArn === b.clusterArn && a.name === b.name;
}

/** What an alert is about: one service, or the task definition family of tasks no service started. */
export interface AlertGroup {
  accountId: string;
  region: string;
  clusterArn: string;
  clusterName: string;
  kind: 'service' | 'family';
  name: string;
}

/** The details of one stopped container worth showing in an email. */
export interface ContainerFailure {
  name: string;
  image?: string;
  imageDigest?: string;
  exitCode?: number;
  reason?: string;
}

/** One event's contribution to an alert: counted once per dedupeKey, shown as a sample while few. */
export interface Occurrence {
  group: AlertGroup;
  alertClass: AlertClass;
  /** Same value for every delivery of the same state change (taskArn + version for tasks). */
  dedupeKey: string;
  /** When it happened (ISO), from the event. */
  time: string;
  /** The task, or the deployment or service action, the email links to. */
  resourceArn: string;
  reason: string;
  containers: ContainerFailure[];
  exitCodes: number[];
  imageDigests: string[];
}

export type Classification =
  | { kind: 'failure'; occurrence: Occurrence }
  | { kind: 'not-a-failure'; reason: string; eventId: string };

/** Stable key of (cluster, service or family, class): one alert stream per key. */
export function alertKey(group: AlertGroup, alertClass: AlertClass): string {
  return `${group.clusterArn}|${group.kind}:${group.name}|${alertClass}`;
}

export const CLASS_LABELS: Record<AlertClass, string> = {
  'image-pull': 'image pull',
  'essential-exit': 'essential container exited',
  oom: 'out of memory',
  'health-check': 'health check failed',
  'failed-to-start': 'failed to start',
  'spot-interruption': 'Spot interruption',
  infrastructure: 'infrastructure',
  'deployment-failed': 'deployment failed',
  'deployment-rollback': 'deployment rolled back',
  'task-start-impaired': 'tasks cannot start',
  'placement-failure': 'tasks cannot be placed',
};

/** "37 tasks failed", "1 deployment failed", "3 reports": what is counted, in the class's words. */
export function countPhrase(alertClass: AlertClass, count: number): string {
  const plural = (one: string, many: string) => `${count} ${count === 1 ? one : many}`;
  switch (alertClass) {
    case 'image-pull':
    case 'essential-exit':
    case 'oom':
    case 'health-check':
    case 'failed-to-start':
      return `${plural('task', 'tasks')} failed`;
    case 'spot-interruption':
    case 'infrastructure':
      return `${plural('task', 'tasks')} stopped`;
    case 'deployment-failed':
      return `${plural('deployment', 'deployments')} failed`;
    case 'deployment-rollback':
      return `${plural('deployment', 'deployments')} rolled back`;
    case 'task-start-impaired':
    case 'placement-failure':
      return plural('report', 'reports');
    default: {
      const never: never = alertClass;
      throw new Error(`unknown alert class ${String(never)}`);
    }
  }
}
