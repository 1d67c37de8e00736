import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import type { Context } from 'aws-lambda';
import { createLocalCloud } from '../cli/local/cloud';
import type { CloudEvent } from '../local/bus';
import { makeRedeployEcs, type RedeploySummary } from '../shared/redeploy-ecs/handler';
import { manifest } from '../test/support/cloud';
import { type Figure, figure } from './figures';
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
    'ecs.ListTasks': m.servicesOnRepository,
    'ecs.DescribeTasks': m.servicesOnRepository - (m.servicesMidRollout ?? 0),
    ...(m.servicesMidRollout
      ? {
          'ecs.ListServiceDeployments': m.servicesMidRollout,
          'ecs.DescribeServiceRevisions': m.servicesMidRollout,
        }
      : {}),
    'ecs.UpdateService': m.servicesUpdated,
    'dynamodb.PutItem': m.servicesUpdated,
    'dynamodb.UpdateItem': m.servicesUpdated,
  };
}

export const MINIMUM_FORMULA =
  'ceil(C/100) ListClusters + Σ ceil(s_c/100) ListServices + Σ ceil(s_c/10) DescribeServices + T DescribeTaskDefinition ' +
  '+ ceil(T/100) BatchGetItem + ceil(T/25) BatchWriteItem (task definitions kept in the state table; a new container ' +
  'reads them back: ceil(T/100) BatchGetItem and no DescribeTaskDefinition; a warm one: neither) ' +
  '+ 2R (ListTasks + DescribeTasks; for a PRIMARY with no task yet, ListServiceDeployments + DescribeServiceRevisions ' +
  'instead of DescribeTasks) + U UpdateService + 2U DynamoDB (idempotency record)';

/** What Lambda hands the handler: the idempotency layer reads the time left from it. */
function lambdaContext(startedAt: number, timeoutMs = 120_000): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'harborpilot-bench-redeployEcs',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:harborpilot-bench-redeployEcs',
    memoryLimitInMB: '256',
    awsRequestId: 'bench',
    logGroupName: '/aws/lambda/harborpilot-bench-redeployEcs',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => startedAt + timeoutMs - Date.now(),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

export class RedeployBenchError extends Error {
  constructor(
    message: string,
    readonly summary?: RedeploySummary,
  ) {
    super(message);
    this.name = 'RedeployBenchError';
  }
}

export async function runRedeployBench(options: RedeployBenchOptions = {}) {
  const shape = options.fleet ?? DEFAULT_FLEET;
  const latencyMs = options.latencyMs ?? 50;
  const log = options.progress ?? (() => {});
  const fleet = buildFleet(shape);

  // Every request the cloud serves, as `service.Operation account/region`, with the real time it was served.
  const requests: { op: string; at: number }[] = [];
  const cloud = await createLocalCloud({
    port: 0,
    speed: 0,
    world: fleet.world,
    startRouter: false,
    onApiCall: (line) => requests.push({ op: line.split(' ')[0] as string, at: performance.now() }),
  });
  log(`redeploy: local cloud with ${fleet.services.length} services up in ${cloud.startupMs.toFixed(0)} ms`);
  try {
    const clientConfig = {
      endpoint: cloud.endpoint,
      region: cloud.world.region,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    const ecs = new ECSClient(clientConfig);
    // When each UpdateService answered, seen from the function's side.
    const updatesAnswered: number[] = [];
    ecs.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'UpdateServiceCommand') updatesAnswered.push(performance.now());
        return out;
      },
      { step: 'initialize', name: 'benchUpdateServiceClock' },
    );
    const container = () =>
      makeRedeployEcs({
        ecs,
        ecr: new ECRClient(clientConfig),
        dynamodb: new DynamoDBClient(clientConfig),
        config: cloud.config,
        logger: new Logger({ serviceName: 'redeployEcs', logLevel: 'SILENT' }),
        region: cloud.world.region,
      });
    cloud.faults.add({ kind: 'latency', ms: latencyMs });
    const ecr = new ECRClient(clientConfig);
    const onRepository = fleet.services.filter((s) => s.pushed).length;
    const servicesPerCluster = Array.from({ length: shape.clusters }, () => shape.servicesPerCluster);
    const distinctTaskDefinitions = new Set(fleet.services.map((s) => s.family)).size;

    /** One push, handled by `redeploy` as the router would: its calls, and when the updates answered. */
    const push = async (redeploy: ReturnType<typeof container>, image: string) => {
      let firstRequest = 0;
      let handlerStarted = 0;
      const handled = new Promise<RedeploySummary>((resolve, reject) => {
        const unsubscribe = cloud.bus.subscribe((event: CloudEvent) => {
          if (event['detail-type'] !== 'ECR Image Action') return;
          if ((event.detail as { 'repository-name'?: string })['repository-name'] !== PUSHED_REPOSITORY)
            return;
          unsubscribe();
          firstRequest = requests.length;
          handlerStarted = performance.now();
          redeploy(event, lambdaContext(Date.now())).then(resolve, reject);
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
      for (const r of requests.slice(firstRequest)) calls[r.op] = (calls[r.op] ?? 0) + 1;
      return {
        summary,
        calls,
        total: Object.values(calls).reduce((a, b) => a + b, 0),
        pushed,
        handlerStarted,
        finished,
        firstUpdate: Math.min(...updatesAnswered),
        lastUpdate: Math.max(...updatesAnswered),
      };
    };

    log(`redeploy: pushing ${PUSHED_REPOSITORY}:latest with ${latencyMs} ms on every call`);
    const first = container();
    const cold = await push(first, 'bench');
    log('redeploy: a second push to the same (warm) container, then one to a new container');
    const warm = await push(first, 'bench-2');
    const newContainer = await push(container(), 'bench-3');
    const { summary, calls, total, pushed, handlerStarted, finished, firstUpdate, lastUpdate } = cold;
    const minimum = minimumCalls({
      servicesPerCluster,
      distinctTaskDefinitions,
      servicesOnRepository: onRepository,
      servicesUpdated: summary.deployed.length,
    });
    const minimumOf = (taskDefinitionsFrom: 'table' | 'memory') =>
      Object.values(
        minimumCalls({
          servicesPerCluster,
          distinctTaskDefinitions,
          servicesOnRepository: onRepository,
          servicesUpdated: onRepository,
          taskDefinitionsFrom,
          // The clock is stopped: the previous push's deployments have no task yet.
          servicesMidRollout: onRepository,
        }),
      ).reduce((a, b) => a + b, 0);
    const minTotal = Object.values(minimum).reduce((a, b) => a + b, 0);
    const ops = [...new Set([...Object.keys(minimum), ...Object.keys(calls)])].sort();

    const figures: Figure[] = [
      figure({
        bench: 'redeploy',
        metric: 'fleet',
        value: fleet.services.length,
        unit: 'services',
        note: `${shape.clusters} clusters × ${shape.servicesPerCluster}, EC2/Fargate half each, ${onRepository} on ${PUSHED_REPOSITORY}; local cloud up in ${cloud.startupMs.toFixed(0)} ms`,
      }),
      ...ops.map((op) =>
        figure({
          bench: 'redeploy',
          metric: `calls ${op}`,
          value: calls[op] ?? 0,
          unit: '',
          note: `minimum ${minimum[op] ?? 0}`,
        }),
      ),
      figure({
        bench: 'redeploy',
        metric: 'calls total',
        value: total,
        unit: '',
        note: `minimum ${minTotal} (formula below)`,
      }),
      figure({
        bench: 'redeploy',
        metric: 'calls / minimum',
        value: Math.round((total / minTotal) * 100) / 100,
        unit: '×',
        note: '1.00 = no call wasted',
      }),
      figure({
        bench: 'redeploy',
        metric: 'push → last UpdateService',
        value: Math.round(lastUpdate - pushed),
        unit: 'ms',
        note:
          `${latencyMs} ms a call; floor with ${GATHER_CONCURRENCY} in flight ≈ ${Math.round((total * latencyMs) / GATHER_CONCURRENCY)} ms; ` +
          `first UpdateService at ${Math.round(firstUpdate - pushed)} ms`,
      }),
      figure({
        bench: 'redeploy',
        metric: 'calls, next push (warm container)',
        value: warm.total,
        unit: '',
        note: `minimum ${minimumOf('memory')}; DescribeTaskDefinition ${warm.calls['ecs.DescribeTaskDefinition'] ?? 0}: every revision is in memory; last UpdateService at ${Math.round(warm.lastUpdate - warm.pushed)} ms`,
      }),
      figure({
        bench: 'redeploy',
        metric: 'calls, next push (new container)',
        value: newContainer.total,
        unit: '',
        note: `minimum ${minimumOf('table')}; DescribeTaskDefinition ${newContainer.calls['ecs.DescribeTaskDefinition'] ?? 0}, BatchGetItem ${newContainer.calls['dynamodb.BatchGetItem'] ?? 0}: revisions read back from the state table; last UpdateService at ${Math.round(newContainer.lastUpdate - newContainer.pushed)} ms`,
      }),
    ];
    const details = {
      fleet: shape,
      latencyMs,
      calls,
      minimum,
      formula: MINIMUM_FORMULA,
      pushToHandlerMs: Math.round(handlerStarted - pushed),
      pushToFirstUpdateServiceMs: Math.round(firstUpdate - pushed),
      pushToLastUpdateServiceMs: Math.round(lastUpdate - pushed),
      pushToHandlerDoneMs: Math.round(finished - pushed),
      deployed: summary.deployed.map((d) => d.serviceArn),
      nextPushWarmContainer: {
        calls: warm.calls,
        pushToLastUpdateServiceMs: Math.round(warm.lastUpdate - warm.pushed),
      },
      nextPushNewContainer: {
        calls: newContainer.calls,
        pushToLastUpdateServiceMs: Math.round(newContainer.lastUpdate - newContainer.pushed),
      },
    };
    const footnotes = [
      `redeploy minimum = ${MINIMUM_FORMULA}; C clusters, s_c services in cluster c, T distinct task definitions, ` +
        `R services on the pushed repository, U services updated. Here: ${Object.entries(minimum)
          .map(([op, n]) => `${op.replace(/^\w+\./, '')} ${n}`)
          .join(' + ')} = ${minTotal}.`,
    ];
    return { figures, details, footnotes };
  } finally {
    await cloud.stop();
  }
}
