import { ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { createLocalCloud } from '../cli/local/cloud';
import type { CloudEvent } from '../local/bus';
import type { RedeploySummary } from '../shared/redeploy-ecs/handler';
import { manifest } from '../test/support/cloud';
import { type Figure, figure } from './figures';
import {
  benchRedeployEcs,
  cloudClientConfig,
  lambdaContext,
  latencySetter,
  timeUpdateService,
} from './redeploy-function';
import { buildFleet, DEFAULT_FLEET, type FleetShape, PUSHED_REPOSITORY } from './redeploy-world';

/** shared/redeploy-ecs/gather.ts keeps this many ECS reads in flight: with a fixed latency it bounds the wall time. */
const GATHER_CONCURRENCY = 5;

export interface RedeployBenchOptions {
  fleet?: FleetShape;
  /** Real milliseconds the local cloud adds to every AWS call. */
  latencyMs?: number;
  progress?: (line: string) => void;
}

/** The fewest calls that answer "which services run this repository, and move them", by operation. */
export interface MinimumInput {
  /** Services per cluster (one entry per cluster). */
  servicesPerCluster: readonly number[];
  distinctTaskDefinitions: number;
  /** Services with a container in the pushed repository: their running digest must be read. */
  servicesOnRepository: number;
  /** Services that get a new deployment. */
  servicesUpdated: number;
  /**
   * Where the task definitions come from: `cold` (never read: described, then written to the state table in
   * batches of 25), `table` (a new container: read from the state table in batches of 100), `memory` (a warm
   * container: no call at all).
   */
  taskDefinitionsFrom?: 'cold' | 'table' | 'memory';
  /**
   * Services on the repository whose PRIMARY has no task reporting a digest yet (a push right after another,
   * the clock stopped): the digests ECS pinned are read from its service revision instead of its tasks.
   */
  servicesMidRollout?: number;
}

/**
 * ListClusters pages (100 a page) + ListServices pages per cluster (100 a page) + DescribeServices per
 * cluster in batches of 10 + DescribeTaskDefinition per distinct task definition (ECS has no batch read,
 * and only the task definition names the images) + ListTasks and DescribeTasks per service on the pushed
 * repository (what its PRIMARY deployment runs: a service already on the digest is left alone) +
 * UpdateService per updated service + 2 DynamoDB writes per update (the idempotency record: in progress,
 * then completed, so a duplicate delivery deploys nothing twice).
 */
export function minimumCalls(m: MinimumInput): Record<string, number> {
  const pages = (n: number, size: number) => Math.max(1, Math.ceil(n / size));
  const from = m.taskDefinitionsFrom ?? 'cold';
  const t = m.distinctTaskDefinitions;
  return {
    'ecs.ListClusters': pages(m.servicesPerCluster.length, 100),
    'ecs.ListServices': m.servicesPerCluster.reduce((a, n) => a + pages(n, 100), 0),
    'ecs.DescribeServices': m.servicesPerCluster.reduce((a, n) => a + Math.ceil(n / 10), 0),
    'ecs.DescribeTaskDefinition': from === 'cold' ? t : 0,
    'dynamodb.BatchGetItem': from === 'memory' ? 0 : Math.ceil(t / 100),
    'dynamodb.BatchWriteItem': from === 'cold' ? Math.ceil(t / 25) : 0,
    ...candidateCalls(m.servicesOnRepository, m.servicesMidRollout ?? 0, m.servicesUpdated),
  };
}

/**
 * What every push costs per service on the repository, however it found them: what its PRIMARY runs (ListTasks
 * + DescribeTasks, or the service revision for the P with no task yet), then the update and its idempotency
 * record for the U it moves.
 */
function candidateCalls(r: number, midRollout: number, updated: number): Record<string, number> {
  return {
    // Where the pushed tag points now (a push the tag has moved on from is superseded), beside the index read.
    'ecr.DescribeImages': 1,
    'ecs.ListTasks': r,
    'ecs.DescribeTasks': r - midRollout,
    ...(midRollout
      ? { 'ecs.ListServiceDeployments': midRollout, 'ecs.DescribeServiceRevisions': midRollout }
      : {}),
    'ecs.UpdateService': updated,
    'dynamodb.PutItem': updated,
    'dynamodb.UpdateItem': updated,
  };
}

export const MINIMUM_FORMULA =
  'ceil(C/100) ListClusters + Σ ceil(s_c/100) ListServices + Σ ceil(s_c/10) DescribeServices + T DescribeTaskDefinition ' +
  '+ ceil(T/100) BatchGetItem + ceil(T/25) BatchWriteItem (task definitions kept in the state table; a new container ' +
  'reads them back: ceil(T/100) BatchGetItem and no DescribeTaskDefinition; a warm one: neither) ' +
  '+ 2R (ListTasks + DescribeTasks; for a PRIMARY with no task yet, ListServiceDeployments + DescribeServiceRevisions ' +
  'instead of DescribeTasks) + U UpdateService + 2U DynamoDB (idempotency record) + 1 ECR DescribeImages (where the tag points now)';

export class RedeployBenchError extends Error {
  constructor(
    message: string,
    readonly summary?: RedeploySummary,
  ) {
    super(message);
    this.name = 'RedeployBenchError';
  }
}

/** The fleet of the second figure: a push to 5 services among 10 000 over 100 clusters. */
export const LARGE_FLEET: FleetShape = {
  clusters: 100,
  servicesPerCluster: 100,
  pushedServices: 5,
  otherRepositories: 50,
};

/**
 * The fewest calls a push makes through the fleet index: one read of the index, the candidates described again
 * (DescribeServices by cluster, 10 a call), what the PRIMARY of each runs (ListTasks + DescribeTasks, or its
 * service revision when no task reports a digest yet), the updates and their idempotency records. No term
 * grows with the fleet.
 */
export function indexedMinimumCalls(m: {
  candidatesPerCluster: readonly number[];
  servicesMidRollout: number;
  servicesUpdated: number;
  /** Task definitions not in the container's memory: read back from the state table (100 a call). */
  taskDefinitionsFromTable: number;
}): Record<string, number> {
  const r = m.candidatesPerCluster.reduce((a, b) => a + b, 0);
  return {
    'dynamodb.BatchGetItem': 1 + Math.ceil(m.taskDefinitionsFromTable / 100),
    'ecs.DescribeServices': m.candidatesPerCluster.reduce((a, n) => a + Math.ceil(n / 10), 0),
    ...candidateCalls(r, m.servicesMidRollout, m.servicesUpdated),
  };
}

const sum = (calls: Record<string, number>) => Object.values(calls).reduce((a, b) => a + b, 0);

interface PushMeasure {
  summary: RedeploySummary;
  calls: Record<string, number>;
  total: number;
  pushed: number;
  finished: number;
  firstUpdate: number;
  lastUpdate: number;
}

/**
 * One fleet: a first push with no index (the full scan every push made before the index, which now builds
 * it), then a push through the index from the same (warm) container, and one from a new container.
 */
async function runFleet(
  shape: FleetShape,
  o: { latencyMs: number; fullScanLatencyMs: number; log: (l: string) => void },
) {
  const fleet = buildFleet(shape);
  // Every request the cloud serves, as `service.Operation account/region`.
  const requests: string[] = [];
  const cloud = await createLocalCloud({
    port: 0,
    speed: 0,
    world: fleet.world,
    startRouter: false,
    onApiCall: (line) => requests.push(line.split(' ')[0] as string),
  });
  o.log(
    `redeploy: local cloud with ${fleet.services.length} services up in ${cloud.startupMs.toFixed(0)} ms`,
  );
  try {
    const clientConfig = cloudClientConfig(cloud);
    // When each UpdateService answered, seen from the function's side.
    const updatesAnswered: number[] = [];
    const ecs = timeUpdateService(new ECSClient(clientConfig), updatesAnswered);
    // The full scan as every push made it before the fleet index: at full speed, not at the account's read
    // budget (the budget bench has its own figures).
    const container = () => benchRedeployEcs(cloud, { ecs, maxReadsPerSecond: 1000 });
    const ecr = new ECRClient(clientConfig);
    const onRepository = fleet.services.filter((s) => s.pushed).length;
    const setLatency = latencySetter(cloud);

    /** One push, handled by `redeploy` as the router would: its calls, and when the updates answered. */
    const push = async (redeploy: ReturnType<typeof container>, image: string): Promise<PushMeasure> => {
      let firstRequest = 0;
      const handled = new Promise<RedeploySummary>((resolve, reject) => {
        const unsubscribe = cloud.bus.subscribe((event: CloudEvent) => {
          if (event['detail-type'] !== 'ECR Image Action') return;
          if ((event.detail as { 'repository-name'?: string })['repository-name'] !== PUSHED_REPOSITORY)
            return;
          unsubscribe();
          firstRequest = requests.length;
          redeploy(event, lambdaContext()).then(resolve, reject);
        });
      });
      updatesAnswered.length = 0;
      const pushed = performance.now();
      await ecr.send(
        new PutImageCommand({
          repositoryName: PUSHED_REPOSITORY,
          imageTag: 'latest',
          imageManifest: manifest(image),
        }),
      );
      const summary = await handled;
      const finished = performance.now();
      if (summary.deployed.length !== onRepository) {
        throw new RedeployBenchError(
          `expected ${onRepository} services redeployed, got ${summary.deployed.length}`,
          summary,
        );
      }
      const calls: Record<string, number> = {};
      for (const op of requests.slice(firstRequest)) calls[op] = (calls[op] ?? 0) + 1;
      return {
        summary,
        calls,
        total: sum(calls),
        pushed,
        finished,
        firstUpdate: Math.min(...updatesAnswered),
        lastUpdate: Math.max(...updatesAnswered),
      };
    };

    const first = container();
    setLatency(o.fullScanLatencyMs);
    o.log(
      `redeploy: first push, no index yet: a full scan of ${fleet.services.length} services (${o.fullScanLatencyMs} ms a call)`,
    );
    const fullScan = await push(first, 'bench');
    if (fullScan.summary.index !== 'rebuilt')
      throw new RedeployBenchError('the full scan did not build the index');
    setLatency(o.latencyMs);
    o.log(
      `redeploy: pushes through the index (${o.latencyMs} ms a call), from the same container and a new one`,
    );
    const warm = await push(first, 'bench-2');
    const newContainer = await push(container(), 'bench-3');
    for (const m of [warm, newContainer]) {
      if (m.summary.index !== 'used')
        throw new RedeployBenchError('a push after the index was built did not use it');
    }
    const candidatesPerCluster = [
      ...fleet.services
        .filter((s) => s.pushed)
        .reduce((m, s) => m.set(s.cluster, (m.get(s.cluster) ?? 0) + 1), new Map<string, number>())
        .values(),
    ];
    const fullScanMinimum = minimumCalls({
      servicesPerCluster: Array.from({ length: shape.clusters }, () => shape.servicesPerCluster),
      distinctTaskDefinitions: new Set(fleet.services.map((s) => s.family)).size,
      servicesOnRepository: onRepository,
      servicesUpdated: onRepository,
    });
    // With the clock stopped the previous push's deployments have no task yet: P = every candidate.
    const warmMinimum = indexedMinimumCalls({
      candidatesPerCluster,
      servicesMidRollout: onRepository,
      servicesUpdated: onRepository,
      taskDefinitionsFromTable: 0,
    });
    const newContainerMinimum = indexedMinimumCalls({
      candidatesPerCluster,
      servicesMidRollout: onRepository,
      servicesUpdated: onRepository,
      taskDefinitionsFromTable: onRepository,
    });
    return {
      fleet,
      shape,
      onRepository,
      fullScan,
      warm,
      newContainer,
      fullScanMinimum,
      warmMinimum,
      newContainerMinimum,
      startupMs: cloud.startupMs,
    };
  } finally {
    await cloud.stop();
  }
}

export async function runRedeployBench(options: RedeployBenchOptions = {}) {
  const latencyMs = options.latencyMs ?? 50;
  const log = options.progress ?? (() => {});
  // The 1 000-service fleet's full scan runs at the bench latency (as before the index: 20-some seconds); the
  // 10 000-service one's would take minutes, so its calls are counted at no latency and its time is the floor.
  const fleets = [
    await runFleet(options.fleet ?? DEFAULT_FLEET, { latencyMs, fullScanLatencyMs: latencyMs, log }),
    ...(options.fleet ? [] : [await runFleet(LARGE_FLEET, { latencyMs, fullScanLatencyMs: 0, log })]),
  ];
  const ms = (a: number, b: number) => Math.round(a - b);
  const figures: Figure[] = [];
  const details: Record<string, unknown> = { latencyMs, formula: MINIMUM_FORMULA };
  for (const f of fleets) {
    const n = f.fleet.services.length;
    const label = `${n.toLocaleString('en-US')} services`;
    const measuredScan = f === fleets[0];
    figures.push(
      figure({
        bench: 'redeploy',
        metric: `${label}: fleet`,
        value: n,
        unit: 'services',
        note: `${f.shape.clusters} clusters × ${f.shape.servicesPerCluster}, EC2/Fargate half each, ${f.onRepository} on ${PUSHED_REPOSITORY}; local cloud up in ${f.startupMs.toFixed(0)} ms`,
      }),
      figure({
        bench: 'redeploy',
        metric: `${label}: calls, push without index (full scan)`,
        value: f.fullScan.total,
        unit: '',
        note: `minimum ${sum(f.fullScanMinimum)} (the scan) + the index written (${(f.fullScan.calls['dynamodb.BatchWriteItem'] ?? 0).toLocaleString('en-US')} BatchWriteItem)`,
      }),
      figure({
        bench: 'redeploy',
        metric: `${label}: push → first / last UpdateService, full scan`,
        value: measuredScan
          ? ms(f.fullScan.firstUpdate, f.fullScan.pushed)
          : Math.round((sum(f.fullScanMinimum) * latencyMs) / GATHER_CONCURRENCY),
        unit: 'ms',
        note: measuredScan
          ? `last at ${ms(f.fullScan.lastUpdate, f.fullScan.pushed)} ms; ${latencyMs} ms a call`
          : `not run at ${latencyMs} ms a call (minutes): the floor, calls × ${latencyMs} ms ÷ ${GATHER_CONCURRENCY} in flight`,
      }),
      figure({
        bench: 'redeploy',
        metric: `${label}: calls, push through the index`,
        value: f.warm.total,
        unit: '',
        note: `minimum ${sum(f.warmMinimum)}; ${(f.fullScan.total / f.warm.total).toFixed(0)}× fewer than the full scan; from a new container ${f.newContainer.total} (minimum ${sum(f.newContainerMinimum)})`,
      }),
      figure({
        bench: 'redeploy',
        metric: `${label}: push → first / last UpdateService, index`,
        value: ms(f.warm.firstUpdate, f.warm.pushed),
        unit: 'ms',
        note: `last at ${ms(f.warm.lastUpdate, f.warm.pushed)} ms; ${latencyMs} ms a call; from a new container ${ms(f.newContainer.firstUpdate, f.newContainer.pushed)} / ${ms(f.newContainer.lastUpdate, f.newContainer.pushed)} ms`,
      }),
    );
    details[`fleet${n}`] = {
      shape: f.shape,
      fullScan: {
        calls: f.fullScan.calls,
        minimum: f.fullScanMinimum,
        latencyMs: measuredScan ? latencyMs : 0,
        firstUpdateServiceMs: ms(f.fullScan.firstUpdate, f.fullScan.pushed),
        lastUpdateServiceMs: ms(f.fullScan.lastUpdate, f.fullScan.pushed),
      },
      index: {
        calls: f.warm.calls,
        minimum: f.warmMinimum,
        firstUpdateServiceMs: ms(f.warm.firstUpdate, f.warm.pushed),
        lastUpdateServiceMs: ms(f.warm.lastUpdate, f.warm.pushed),
      },
      indexNewContainer: { calls: f.newContainer.calls, minimum: f.newContainerMinimum },
    };
  }
  const footnotes = [
    `redeploy full-scan minimum = ${MINIMUM_FORMULA}; C clusters, s_c services in cluster c, T distinct task definitions, R services on the pushed repository, U services updated.`,
    "redeploy index minimum = 1 BatchGetItem (the index) + 1 ECR DescribeImages (the tag, read beside it) + Σ ceil(r_c/10) DescribeServices over the clusters with candidates + R ListTasks + (R − P) DescribeTasks + P (ListServiceDeployments + DescribeServiceRevisions) + U UpdateService + 2U DynamoDB; no term grows with the fleet. P = R here: the clock is stopped, so the previous push's deployments have no task yet.",
  ];
  return { figures, details, footnotes };
}
