import { ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { createLocalCloud } from '../cli/local/cloud';
import type { CloudEvent } from '../local/bus';
import { errorMessage } from '../shared/errors';
import type { RedeploySummary } from '../shared/redeploy-ecs/handler';
import { manifest } from '../test/support/cloud';
import { type Figure, figure } from './figures';
import { benchRedeployEcs, cloudClientConfig, lambdaContext } from './redeploy-function';
import { buildFleet, DEFAULT_FLEET, PUSHED_REPOSITORY } from './redeploy-world';

const PUSHES = 100;
const MINUTE_MS = 60_000;

interface ArmResult {
  arm: 'index' | 'full scan';
  otherCalls: number;
  otherThrottled: number;
  harborpilotThrottled: number;
  ecsCalls: number;
  handled: number;
  failed: number;
  firstError?: string;
  throttledBy: Record<string, number>;
  wallMs: number;
}

async function runArm(arm: ArmResult['arm'], log: (l: string) => void): Promise<ArmResult> {
  const fleet = buildFleet(DEFAULT_FLEET);
  let ecsCalls = 0;
  const cloud = await createLocalCloud({
    port: 0,
    speed: 1,
    world: fleet.world,
    startRouter: false,
    onApiCall: (line) => {
      if (line.startsWith('ecs.')) ecsCalls += 1;
    },
  });
  try {
    const clientConfig = cloudClientConfig(cloud);
    // harborpilot's throttles by operation, every attempt (below the SDK's retries).
    const throttledBy: Record<string, number> = {};
    const ecs = new ECSClient(clientConfig);
    ecs.middlewareStack.add(
      (next, ctx) => async (args) => {
        try {
          return await next(args);
        } catch (err) {
          if ((err as { name?: string }).name === 'ThrottlingException') {
            const op = String(ctx.commandName).replace(/Command$/, '');
            throttledBy[op] = (throttledBy[op] ?? 0) + 1;
          }
          throw err;
        }
      },
      { step: 'finalizeRequest', priority: 'low', name: 'benchThrottleCount' },
    );
    // Before the index, every push scanned at full speed; through the index only a cold one scans.
    const redeploy = benchRedeployEcs(cloud, {
      ecs,
      maxReadsPerSecond: 1000,
      withoutFleetIndex: arm === 'full scan',
    });
    // The index is built (and task definitions stored) before the minute starts, throttling off: the steady
    // state of an installation, not its first push.
    log(`throttling (${arm}): building the index of ${fleet.services.length} services`);
    await redeploy({
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      id: `bench-warmup-${arm}`,
      version: '0',
      account: cloud.world.accountId,
      region: cloud.world.region,
      time: cloud.clock.now().toISOString(),
      resources: [],
      detail: {},
    });
    const added = cloud.faults.add({ kind: 'rateLimits', service: 'ecs' });
    if (!('fault' in added)) throw new Error('the rateLimits fault was not added');
    const faultId = added.fault.id;

    const invocations: Promise<RedeploySummary | Error>[] = [];
    const unsubscribe = cloud.bus.subscribe((event: CloudEvent) => {
      if (event['detail-type'] !== 'ECR Image Action') return;
      if ((event.detail as { 'repository-name'?: string })['repository-name'] !== PUSHED_REPOSITORY) return;
      invocations.push(redeploy(event, lambdaContext()).catch((err: unknown) => err as Error));
    });
    // The other caller: no retries, so a throttle is a failed step of its pipeline.
    const other = new ECSClient({ ...clientConfig, maxAttempts: 1 });
    const otherService = fleet.services.find((s) => !s.pushed) ?? fleet.services[0];
    let otherCalls = 0;
    let otherThrottled = 0;
    const ecr = new ECRClient(clientConfig);
    log(`throttling (${arm}): ${PUSHES} pushes in a minute, another caller every second`);
    const started = performance.now();
    const otherLoop = (async () => {
      while (performance.now() - started < MINUTE_MS) {
        otherCalls += 1;
        await other
          .send(
            new DescribeServicesCommand({
              cluster: otherService?.cluster,
              services: [otherService?.name ?? ''],
            }),
          )
          .catch((err: unknown) => {
            if ((err as { name?: string }).name === 'ThrottlingException') otherThrottled += 1;
            else throw err;
          });
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    for (let i = 0; i < PUSHES; i++) {
      const due = started + (i * MINUTE_MS) / PUSHES;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
      await ecr.send(
        new PutImageCommand({
          repositoryName: PUSHED_REPOSITORY,
          imageTag: 'latest',
          imageManifest: manifest(`throttle-${arm}-${i}`),
        }),
      );
    }
    await otherLoop;
    log(`throttling (${arm}): waiting for the ${invocations.length} invocations to end`);
    const results = await Promise.all(invocations);
    const wallMs = performance.now() - started;
    unsubscribe();
    const fault = cloud.faults.list().find((f) => f.id === faultId);
    const failures = results.filter((r): r is Error => r instanceof Error);
    return {
      arm,
      otherCalls,
      otherThrottled,
      harborpilotThrottled: (fault?.throttled ?? 0) - otherThrottled,
      ecsCalls,
      handled: results.length - failures.length,
      failed: failures.length,
      ...(failures[0] ? { firstError: errorMessage(failures[0]).slice(0, 300) } : {}),
      throttledBy,
      wallMs,
    };
  } finally {
    await cloud.stop();
  }
}

export async function runThrottlingBench(options: { progress?: (l: string) => void } = {}) {
  const log = options.progress ?? (() => {});
  const index = await runArm('index', log);
  const fullScan = await runArm('full scan', log);
  const figures: Figure[] = [];
  for (const r of [index, fullScan]) {
    figures.push(
      figure({
        bench: 'throttling',
        metric: `${PUSHES} pushes in a minute, ${r.arm}: the other caller's throttles`,
        value: r.otherThrottled,
        unit: `of ${r.otherCalls}`,
        note: `harborpilot throttled ${r.harborpilotThrottled.toLocaleString('en-US')} times (${Object.entries(
          r.throttledBy,
        )
          .sort((a, b) => b[1] - a[1])
          .map(([op, n]) => `${op} ${n}`)
          .join(
            ', ',
          )}; its SDK retries); ${r.handled} pushes handled, ${r.failed} failed after the SDK's retries (Lambda would retry them); ${r.ecsCalls.toLocaleString('en-US')} ECS calls in ${(r.wallMs / 1000).toFixed(0)} s`,
      }),
    );
  }
  return {
    figures,
    details: { pushes: PUSHES, index, fullScan },
    footnotes: [
      `throttling: the local cloud's rateLimits fault on ECS (AWS's buckets per account, Region and action category: e.g. DescribeServices and ListServices share 100 burst / 20 a second), its clock at real speed; the fleet index built and task definitions stored before the minute starts. "full scan" is every push scanning the fleet at full speed, as before the fleet index.`,
    ],
  };
}
