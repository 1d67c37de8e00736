/**
 * AWS's API rate quotas as token buckets: one bucket per account, Region and action category, each call
 * takes a token, a bucket refills every second up to its burst size. Off until a `rateLimits` fault (world
 * `faults:` or the admin API) turns it on; the HTTP layer then answers an empty bucket with AWS's
 * ThrottlingException. Time is the simulated clock's, like everything else the local cloud simulates.
 */
import { AccountRegionStore, type Scope } from './aws/store';

export interface BucketSpec {
  /** AWS's name for the action category, e.g. "Service read actions". */
  category: string;
  /** Bucket maximum capacity: the burst rate. */
  burst: number;
  /** Tokens added per second: the sustained rate. */
  refillPerSecond: number;
}

type Row = readonly [category: string, burst: number, refillPerSecond: number, actions: readonly string[]];

/** Amazon ECS API Reference, "Request throttling for the Amazon ECS API" (every category AWS lists). */
const ECS: readonly Row[] = [
  [
    'Cluster modify actions',
    20,
    1,
    [
      'CreateCluster',
      'DeleteCluster',
      'PutClusterCapacityProviders',
      'UpdateCluster',
      'UpdateClusterSettings',
    ],
  ],
  ['Cluster read actions', 50, 20, ['DescribeClusters', 'ListClusters']],
  ['Task definition modify actions', 20, 1, ['DeregisterTaskDefinition', 'RegisterTaskDefinition']],
  [
    'Task definition read actions',
    50,
    20,
    ['DescribeTaskDefinition', 'ListTaskDefinitions', 'ListTaskDefinitionFamilies'],
  ],
  ['Task definition deletion actions', 5, 1, ['DeleteTaskDefinitions']],
  [
    'Capacity provider modify actions',
    10,
    1,
    ['CreateCapacityProvider', 'DeleteCapacityProvider', 'UpdateCapacityProvider'],
  ],
  ['Capacity provider read actions', 50, 20, ['DescribeCapacityProviders']],
  ['Tag modify actions', 20, 10, ['TagResource', 'UntagResource']],
  ['Tag read actions', 50, 20, ['ListTagsForResource']],
  [
    'Setting modify actions',
    10,
    1,
    ['DeleteAccountSetting', 'PutAccountSetting', 'PutAccountSettingDefault'],
  ],
  ['Setting read actions', 50, 20, ['ListAccountSettings']],
  [
    'Cluster resource modify actions',
    100,
    40,
    [
      'DeleteAttributes',
      'DeregisterContainerInstance',
      'ExecuteCommand',
      'PutAttributes',
      'RunTask',
      'StartTask',
      'StopTask',
      'UpdateContainerAgent',
      'UpdateContainerInstancesStates',
    ],
  ],
  [
    'Cluster resource read actions',
    100,
    20,
    ['DescribeContainerInstances', 'DescribeTasks', 'ListAttributes', 'ListContainerInstances', 'ListTasks'],
  ],
  [
    'Agent modify actions',
    200,
    120,
    [
      'RegisterContainerInstance',
      'SubmitAttachmentStateChanges',
      'SubmitContainerStateChange',
      'SubmitTaskStateChange',
    ],
  ],
  ['Service modify actions', 50, 5, ['CreateService', 'DeleteService', 'UpdateService']],
  ['Service read actions', 100, 20, ['DescribeServices', 'ListServices']],
  ['Service deployment actions', 50, 20, ['DescribeServiceDeployments', 'ListServiceDeployments']],
  ['Service revision actions', 50, 20, ['DescribeServiceRevisions']],
  ['Task protection actions', 200, 80, ['UpdateTaskProtection', 'GetTaskProtection']],
  ['Cluster service resource read actions', 10, 1, ['ListServicesByNamespace']],
];

/**
 * Amazon ECR User Guide, "Amazon ECR service quotas": ECR publishes one rate per image push/pull action (no
 * separate burst), so the bucket holds one second's worth. ECR publishes no rate for the other actions
 * (DescribeImages, ListImages, BatchDeleteImage, DescribeRepositories ...): they are not throttled here.
 */
const ECR: readonly Row[] = [
  ['Rate of BatchCheckLayerAvailability requests', 1000, 1000, ['BatchCheckLayerAvailability']],
  ['Rate of BatchGetImage requests', 2000, 2000, ['BatchGetImage']],
];

function table(rows: readonly Row[]): ReadonlyMap<string, BucketSpec> {
  const byAction = new Map<string, BucketSpec>();
  for (const [category, burst, refillPerSecond, actions] of rows) {
    const spec = { category, burst, refillPerSecond };
    for (const action of actions) byAction.set(action, spec);
  }
  return byAction;
}

export const RATE_LIMITED_SERVICES = ['ecs', 'ecr'] as const;
export type RateLimitedService = (typeof RATE_LIMITED_SERVICES)[number];

const TABLES: Record<RateLimitedService, ReadonlyMap<string, BucketSpec>> = {
  ecs: table(ECS),
  ecr: table(ECR),
};

/** The bucket an action draws from, or undefined when AWS publishes no rate for it. */
export function bucketSpec(service: string, action: string): BucketSpec | undefined {
  return (TABLES as Record<string, ReadonlyMap<string, BucketSpec> | undefined>)[service]?.get(action);
}

interface Bucket {
  tokens: number;
  /** Simulated ms of the last refill. */
  at: number;
}

/** Token buckets per account and Region, keyed by service and category; `now` is simulated milliseconds. */
export class TokenBuckets {
  private readonly buckets = new AccountRegionStore<Map<string, Bucket>>(() => new Map());

  constructor(private readonly now: () => number) {}

  /**
   * Takes a token for one call; false when the bucket is empty (the call is throttled and takes nothing).
   * `scale` multiplies burst and refill (0.1: a tenth of AWS's quota, for small tests and demos).
   */
  take(where: Scope, service: string, spec: BucketSpec, scale = 1): boolean {
    const buckets = this.buckets.of(where);
    const key = `${service}/${spec.category}`;
    const capacity = Math.max(1, spec.burst * scale);
    const now = this.now();
    const bucket = buckets.get(key) ?? { tokens: capacity, at: now };
    const elapsedSeconds = Math.max(0, now - bucket.at) / 1000;
    bucket.tokens = Math.min(capacity, bucket.tokens + elapsedSeconds * spec.refillPerSecond * scale);
    bucket.at = now;
    buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Every bucket full again (a rate-limits fault removed and added back starts fresh, as after a quiet hour). */
  reset(): void {
    this.buckets.clear();
  }
}
