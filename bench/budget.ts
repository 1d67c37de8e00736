import { ECSClient } from '@aws-sdk/client-ecs';
import { createLocalCloud } from '../cli/local/cloud';
import scheduled from '../events/scheduled.json';
import type { RedeploySummary } from '../shared/redeploy-ecs/handler';
import { type Figure, figure } from './figures';
import { LARGE_FLEET } from './redeploy';
import { benchRedeployEcs, cloudClientConfig, lambdaContext } from './redeploy-function';
import { buildFleet, DEFAULT_FLEET, type FleetShape } from './redeploy-world';

/** What AWS would run: the default budget, redeployEcs's timeout in serverless.yml. */
const AWS_READS_PER_SECOND = 5;
const TIMEOUT_MS = 120_000;
/** The bench's time runs this many times faster than AWS's. */
const SPEEDUP = 10;
/** The reconcile schedule in serverless.yml: a pass of N turns spans N runs of it. */
const RECONCILE_EVERY_MINUTES = 15;

/** The most of these times (ms) that fall within any one-second window. */
export function busiestSecond(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let from = 0;
  for (let to = 0; to < sorted.length; to++) {
    while ((sorted[to] as number) - (sorted[from] as number) >= 1000) from += 1;
    best = Math.max(best, to - from + 1);
  }
  return best;
}

/** One fleet's reconcile pass at the budget, turn after turn, as the reconcile schedule would run it. */
async function measurePass(shape: FleetShape, log: (l: string) => void) {
  const fleet = buildFleet(shape);
  const n = fleet.services.length;
  const requests: { op: string }[] = [];
  const cloud = await createLocalCloud({
    port: 0,
    speed: 0,
    world: fleet.world,
    startRouter: false,
    onApiCall: (line) => requests.push({ op: line.split(' ')[0] as string }),
  });
  try {
    const clientConfig = cloudClientConfig(cloud);
    const readsPerSecond = AWS_READS_PER_SECOND * SPEEDUP;
    // When each ECS call leaves the function (the budget paces starts; the cloud's log would add its latency).
    const ecs = new ECSClient(clientConfig);
    /** Start times of the ECS calls, by invocation (the budget is each invocation's). */
    const ecsStarts: number[][] = [];
    ecs.middlewareStack.add(
      (next) => async (args) => {
        ecsStarts.at(-1)?.push(performance.now());
        return next(args);
      },
      { step: 'initialize', name: 'benchEcsCallClock' },
    );
    const redeploy = benchRedeployEcs(cloud, { ecs, maxReadsPerSecond: readsPerSecond });
    const reconcile = (turn: number) => ({
      ...scheduled,
      id: `bench-reconcile-${turn}`,
      account: cloud.world.accountId,
      region: cloud.world.region,
    });

    // Every pass after the first finds the task definitions in the state table: a first pass at full speed
    // stores them, as the bench's other scans would.
    log(`budget: storing the task definitions of ${n} services (one unpaced scan)`);
    await benchRedeployEcs(cloud, { maxReadsPerSecond: 1000 })(reconcile(0));

    log(`budget: a reconcile pass at ${readsPerSecond} reads/s, ${SPEEDUP}× AWS's pace`);
    const first = requests.length;
    const started = performance.now();
    const turns: RedeploySummary[] = [];
    for (let turn = 1; turn <= 100; turn++) {
      ecsStarts.push([]);
      const summary = await redeploy(reconcile(turn), lambdaContext(TIMEOUT_MS, SPEEDUP));
      turns.push(summary);
      log(
        `budget: turn ${turn}: ${summary.services} services, ${summary.pass?.clustersRemaining ?? 0} clusters left`,
      );
      if (summary.index !== 'pass continues') break;
    }
    const wallMs = performance.now() - started;
    const last = turns.at(-1);
    if (last?.index !== 'pass complete' && last?.index !== 'rebuilt')
      throw new Error(`the pass did not complete: ${last?.index}`);
    const servicesRead = turns.reduce((a, t) => a + t.services, 0);
    if (servicesRead !== n) throw new Error(`the pass read ${servicesRead} services, not ${n}`);
    const pass = requests.slice(first);
    const ecsReads = pass.filter((r) => r.op.startsWith('ecs.'));
    if (ecsReads.length !== ecsStarts.flat().length)
      throw new Error('ECS calls from another client during the pass');
    const dynamodb = pass.filter((r) => r.op.startsWith('dynamodb.')).length;
    const busiest = Math.max(...ecsStarts.map(busiestSecond));
    if (busiest > readsPerSecond)
      throw new Error(`${busiest} ECS calls in one second, above the budget of ${readsPerSecond}`);
    return {
      shape,
      services: n,
      turns,
      ecsReads: ecsReads.length,
      dynamodb,
      busiest,
      wallMs,
      byOperation: Object.fromEntries(
        [...new Set(pass.map((r) => r.op))].map((op) => [op, pass.filter((r) => r.op === op).length]),
      ),
    };
  } finally {
    await cloud.stop();
  }
}

export async function runBudgetBench(
  options: { fleets?: FleetShape[]; progress?: (l: string) => void } = {},
) {
  const log = options.progress ?? (() => {});
  const readsPerSecond = AWS_READS_PER_SECOND * SPEEDUP;
  const readsPerTurn = ((TIMEOUT_MS - 30_000) / 1000) * AWS_READS_PER_SECOND;
  const figures: Figure[] = [];
  const details: Record<string, unknown> = { readsPerSecond, speedup: SPEEDUP };
  for (const shape of options.fleets ?? [DEFAULT_FLEET, LARGE_FLEET]) {
    const m = await measurePass(shape, log);
    const label = `reconcile of ${m.services.toLocaleString('en-US')} services`;
    const awsMinutes = m.ecsReads / AWS_READS_PER_SECOND / 60;
    figures.push(
      figure({
        bench: 'budget',
        metric: `${label}: ECS calls in the busiest second`,
        value: m.busiest,
        unit: 'calls',
        note: `budget ${readsPerSecond}/s (${AWS_READS_PER_SECOND}/s at AWS's pace, run ${SPEEDUP}× faster); ${m.ecsReads.toLocaleString('en-US')} reads (${(m.ecsReads / m.services).toFixed(2)} a service) in ${(m.wallMs / 1000).toFixed(1)} s`,
      }),
      figure({
        bench: 'budget',
        metric: `${label}: invocations a pass`,
        value: m.turns.length,
        unit: 'turns',
        note: `at most ${readsPerTurn} reads a turn (90 s of a 120-s timeout at ${AWS_READS_PER_SECOND}/s); in AWS ${awsMinutes.toFixed(1)} min of reading, the pass done after ${m.turns.length} run(s) of rate(${RECONCILE_EVERY_MINUTES} minutes); ${m.dynamodb.toLocaleString('en-US')} DynamoDB calls`,
      }),
    );
    details[`fleet${m.services}`] = {
      fleet: m.shape,
      turns: m.turns.map((t) => ({ services: t.services, index: t.index, pass: t.pass })),
      ecsReads: m.ecsReads,
      byOperation: m.byOperation,
      busiestSecond: m.busiest,
      wallMs: Math.round(m.wallMs),
    };
  }
  return {
    figures,
    details,
    footnotes: [
      `budget: each pass runs ${SPEEDUP}× faster than in AWS: ${readsPerSecond} reads/s against a Lambda context whose remaining time also runs ${SPEEDUP}× faster, so a turn reads what it would at ${AWS_READS_PER_SECOND}/s in 90 s. Task definitions come from the state table (an unpaced scan stored them first), as on every pass after a new install's first. The busiest second is counted within each invocation: the budget is each invocation's.`,
    ],
  };
}
