/**
 * A push across an organisation (issue 16, docs/organisation.md): 10 workload accounts × 2 regions × 100
 * services, 10 of each target's services on the pushed repository, redeployed from harborpilot's own account
 * through each account's role. Figures: the calls a push makes, the STS AssumeRole calls (one per account per
 * credential lifetime: a new container assumes each role once, a warm one not at all), and when the first and
 * the last UpdateService answered.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { createLocalCloud } from '../cli/local/cloud';
import type { CloudEvent } from '../local/bus';
import type { WorldInput } from '../local/world';
import { TargetCredentials, targetClients } from '../shared/aws/target-clients';
import { makeRedeployEcs, type RedeploySummary } from '../shared/redeploy-ecs/handler';
import { targetsOf } from '../shared/targets';
import { manifest } from '../test/support/cloud';
import { type Figure, figure } from './figures';
import { cloudClientConfig, lambdaContext, latencySetter, timeUpdateService } from './redeploy-function';
import { PUSHED_REPOSITORY, REGISTRY } from './redeploy-world';

const HUB = '000000000000';
const REGIONS = ['us-east-1', 'us-west-2'];

export interface TargetsShape {
  accounts: number;
  servicesPerTarget: number;
  /** Of each target's services, this many run the pushed repository. */
  pushedPerTarget: number;
}

export const DEFAULT_TARGETS: TargetsShape = { accounts: 10, servicesPerTarget: 100, pushedPerTarget: 10 };

const accountId = (k: number) => String(111_111_111_100 + k);

/** The organisation: each account's role trusting the hub, one cluster per target, one family per service. */
export function buildOrganisation(shape: TargetsShape): { world: WorldInput; pushed: number } {
  const taskDefinitions = Array.from({ length: shape.servicesPerTarget }, (_, s) => ({
    family: `svc-${String(s).padStart(3, '0')}`,
    requiresCompatibilities: ['FARGATE' as const],
    cpu: 256,
    memory: 512,
    containers: [
      {
        name: 'app',
        image: `${REGISTRY}/${s < shape.pushedPerTarget ? PUSHED_REPOSITORY : `team-${s % 10}/app`}:latest`,
      },
    ],
  }));
  const accounts = Array.from({ length: shape.accounts }, (_, k) => accountId(k));
  const clusters = accounts.flatMap((account) =>
    REGIONS.map((region) => ({
      name: 'web',
      accountId: account,
      region,
      services: taskDefinitions.map((td) => ({
        name: td.family,
        taskDefinition: td.family,
        launchType: 'FARGATE' as const,
        desiredCount: 1,
      })),
    })),
  );
  const repositories = [PUSHED_REPOSITORY, ...Array.from({ length: 10 }, (_, k) => `team-${k}/app`)].map(
    (name) => ({ name, images: [{ tag: 'latest', pushedDaysAgo: 1 }] }),
  );
  return {
    world: {
      accountId: HUB,
      region: 'us-east-1',
      clock: { start: '2026-11-25T10:00:00Z', speed: 0 },
      roles: accounts.map((account) => ({
        accountId: account,
        name: 'harborpilot',
        trust: [HUB],
        externalId: 'hp-bench',
      })),
      config: {
        targets: accounts.map((account, k) => ({
          account,
          name: `team-${k}`,
          regions: REGIONS,
          role: 'harborpilot',
          externalId: 'hp-bench',
        })),
      },
      ecr: { repositories },
      ecs: { taskDefinitions, clusters },
    },
    pushed: shape.accounts * REGIONS.length * shape.pushedPerTarget,
  };
}

interface PushMeasure {
  calls: Record<string, number>;
  total: number;
  assumeRole: number;
  firstUpdateMs: number;
  lastUpdateMs: number;
  summary: RedeploySummary;
}

export async function runTargetsBench(
  o: { shape?: TargetsShape; latencyMs?: number; progress?: (line: string) => void } = {},
) {
  const shape = o.shape ?? DEFAULT_TARGETS;
  const latencyMs = o.latencyMs ?? 50;
  const log = o.progress ?? (() => {});
  const org = buildOrganisation(shape);
  const requests: string[] = [];
  const cloud = await createLocalCloud({
    port: 0,
    speed: 0,
    world: org.world,
    startRouter: false,
    onApiCall: (line) => requests.push(line.split(' ')[0] as string),
  });
  const targetCount = shape.accounts * REGIONS.length;
  log(
    `targets: local cloud with ${targetCount} targets × ${shape.servicesPerTarget} services up in ${cloud.startupMs.toFixed(0)} ms`,
  );
  try {
    const clientConfig = cloudClientConfig(cloud);
    const updatesAnswered: number[] = [];
    const instrument = (ecs: ECSClient) => timeUpdateService(ecs, updatesAnswered);
    /** A new redeployEcs container: its own clients, its own credential cache. */
    const container = () => {
      const home = instrument(new ECSClient(clientConfig));
      const credentials = new TargetCredentials({
        functionName: 'redeployEcs',
        stsRegion: 'us-east-1',
        stsClientConfig: { endpoint: cloud.endpoint, credentials: clientConfig.credentials },
      });
      const targets = targetClients(targetsOf(cloud.config, 'us-east-1'), home, credentials, (c) =>
        instrument(new ECSClient({ ...c, endpoint: cloud.endpoint })),
      );
      return makeRedeployEcs({
        ecs: home,
        targets,
        ecr: new ECRClient(clientConfig),
        dynamodb: new DynamoDBClient(clientConfig),
        config: { ...cloud.config, ecs: { ...cloud.config.ecs, maxReadsPerSecond: 1000 } },
        logger: new Logger({ serviceName: 'redeployEcs', logLevel: 'SILENT' }),
        region: 'us-east-1',
      });
    };
    const ecr = new ECRClient(clientConfig);
    const setLatency = latencySetter(cloud);
    const push = async (redeploy: ReturnType<typeof container>, image: string): Promise<PushMeasure> => {
      let firstRequest = 0;
      const handled = new Promise<RedeploySummary>((resolve, reject) => {
        const unsubscribe = cloud.bus.subscribe((event: CloudEvent) => {
          if (event['detail-type'] !== 'ECR Image Action') return;
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
      if (summary.deployed.length !== org.pushed)
        throw new Error(
          `targets bench: expected ${org.pushed} services redeployed, got ${summary.deployed.length}`,
        );
      const calls: Record<string, number> = {};
      for (const op of requests.slice(firstRequest)) calls[op] = (calls[op] ?? 0) + 1;
      return {
        calls,
        total: Object.values(calls).reduce((a, b) => a + b, 0),
        assumeRole: calls['sts.AssumeRole'] ?? 0,
        firstUpdateMs: Math.round(Math.min(...updatesAnswered) - pushed),
        lastUpdateMs: Math.round(Math.max(...updatesAnswered) - pushed),
        summary,
      };
    };

    const first = container();
    log(`targets: first push, no index yet: a full scan of ${targetCount} targets (no added latency)`);
    const fullScan = await push(first, 'org-1');
    setLatency(latencyMs);
    log(`targets: pushes through the indexes (${latencyMs} ms a call), same container and a new one`);
    const warm = await push(first, 'org-2');
    const fresh = await push(container(), 'org-3');
    return { shape, targets: targetCount, pushed: org.pushed, latencyMs, fullScan, warm, fresh };
  } finally {
    await cloud.stop();
  }
}

export async function targetsBench(progress: (line: string) => void): Promise<{
  figures: Figure[];
  details: unknown;
}> {
  const r = await runTargetsBench({ progress });
  const label = `push into ${r.shape.accounts} accounts × 2 regions × ${r.shape.servicesPerTarget} services (${r.pushed} on the repository)`;
  const f = (metric: string, value: number, unit: string, note = '') =>
    figure({ bench: 'targets', metric: `${label}: ${metric}`, value, unit, note });
  const figures: Figure[] = [
    f('calls, first push (full scan of every target)', r.fullScan.total, 'calls', `${r.targets} targets`),
    f(
      'AssumeRole, first push',
      r.fullScan.assumeRole,
      'calls',
      `one per account (${r.shape.accounts}), not per region`,
    ),
    f('calls, push through the indexes', r.warm.total, 'calls', `new container ${r.fresh.total}`),
    f(
      'AssumeRole, push through the indexes',
      r.warm.assumeRole,
      'calls',
      `warm container (credentials kept until 5 minutes before they expire); new container ${r.fresh.assumeRole}`,
    ),
    f(
      'first UpdateService',
      r.warm.firstUpdateMs,
      'ms',
      `${r.latencyMs} ms a call; new container ${r.fresh.firstUpdateMs} ms`,
    ),
    f(
      'last UpdateService',
      r.warm.lastUpdateMs,
      'ms',
      `${r.latencyMs} ms a call; new container ${r.fresh.lastUpdateMs} ms`,
    ),
  ];
  return {
    figures,
    details: {
      shape: r.shape,
      fullScan: { calls: r.fullScan.calls, firstUpdateServiceMs: r.fullScan.firstUpdateMs },
      warm: {
        calls: r.warm.calls,
        firstUpdateServiceMs: r.warm.firstUpdateMs,
        lastUpdateServiceMs: r.warm.lastUpdateMs,
      },
      newContainer: {
        calls: r.fresh.calls,
        firstUpdateServiceMs: r.fresh.firstUpdateMs,
        lastUpdateServiceMs: r.fresh.lastUpdateMs,
      },
    },
  };
}
