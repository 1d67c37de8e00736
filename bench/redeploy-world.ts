/**
 * The fleet the redeploy bench runs against: N clusters × M services, half on EC2 container instances and
 * half on Fargate, each service with a task definition family of its own (the common layout, and the
 * costly one: every family must be described). A handful of services in different clusters run the pushed
 * repository's `latest`; the rest run other repositories.
 */
import type { WorldInput } from '../local/world';

export const PUSHED_REPOSITORY = 'shop/api';
const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
export const REGISTRY = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;

export interface FleetShape {
  clusters: number;
  servicesPerCluster: number;
  /** Services running the pushed repository, spread over different clusters. */
  pushedServices: number;
  /** Repositories the other services run (round robin). */
  otherRepositories: number;
}

export const DEFAULT_FLEET: FleetShape = {
  clusters: 20,
  servicesPerCluster: 50,
  pushedServices: 5,
  otherRepositories: 50,
};

export interface Fleet {
  world: WorldInput;
  /** Services, by cluster, and which of them run the pushed repository. */
  services: {
    cluster: string;
    name: string;
    family: string;
    launchType: 'EC2' | 'FARGATE';
    pushed: boolean;
  }[];
}

export function buildFleet(
  shape: FleetShape = DEFAULT_FLEET,
  start = new Date('2026-11-25T10:00:00Z'),
): Fleet {
  // The pushed services sit in clusters spread evenly over the fleet, one per cluster.
  const stride = Math.max(1, Math.floor(shape.clusters / Math.max(1, shape.pushedServices)));
  const pushedAt = new Set(
    Array.from({ length: Math.min(shape.pushedServices, shape.clusters) }, (_, k) => `c${k * stride}/0`),
  );
  const services: Fleet['services'] = [];
  const taskDefinitions: NonNullable<NonNullable<WorldInput['ecs']>['taskDefinitions']> = [];
  const clusters: NonNullable<NonNullable<WorldInput['ecs']>['clusters']> = [];
  let other = 0;
  for (let c = 0; c < shape.clusters; c++) {
    const cluster = `cluster-${String(c).padStart(2, '0')}`;
    const clusterServices = [];
    for (let s = 0; s < shape.servicesPerCluster; s++) {
      const pushed = pushedAt.has(`c${c}/${s}`);
      const launchType: 'EC2' | 'FARGATE' = s % 2 === 0 ? 'EC2' : 'FARGATE';
      const name = `svc-${String(s).padStart(2, '0')}`;
      const family = `${cluster}-${name}`;
      const repository = pushed ? PUSHED_REPOSITORY : `team-${other++ % shape.otherRepositories}/app`;
      taskDefinitions.push({
        family,
        ...(launchType === 'FARGATE'
          ? { requiresCompatibilities: ['FARGATE' as const], cpu: 256, memory: 512 }
          : {}),
        containers: [{ name: 'app', image: `${REGISTRY}/${repository}:latest`, cpu: 256, memory: 512 }],
      });
      clusterServices.push({ name, taskDefinition: family, launchType, desiredCount: 1 });
      services.push({ cluster, name, family, launchType, pushed });
    }
    // EC2 services: 256 CPU / 512 MiB each, 8 a 2048/4096 instance.
    const ec2 = clusterServices.filter((s) => s.launchType === 'EC2').length;
    clusters.push({
      name: cluster,
      containerInstances:
        ec2 > 0 ? [{ kind: 'EC2', cpu: 2048, memory: 4096, count: Math.ceil(ec2 / 8) }] : [],
      services: clusterServices,
    });
  }
  const repositories = [
    PUSHED_REPOSITORY,
    ...Array.from({ length: shape.otherRepositories }, (_, k) => `team-${k}/app`),
  ].map((name) => ({
    name,
    images: [
      { tag: 'v1', pushedDaysAgo: 7 },
      { tag: 'latest', pushedDaysAgo: 1 },
    ],
  }));
  return {
    world: {
      clock: { start: start.toISOString(), speed: 0 },
      ecr: { repositories },
      ecs: { taskDefinitions, clusters },
    },
    services,
  };
}
