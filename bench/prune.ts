/**
 * pruneImages at scale: 10 000 images across 50 repositories (a quarter of them multi-arch with an
 * attestation), 2 000 task definitions (100 families × 20 revisions), 200 services with running tasks,
 * against mocked clients that count API calls: calls by operation, wall time and peak memory for a dry run
 * and a real run. Run by `npm run bench` (bench/index.ts); not part of CI.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EKSClient } from '@aws-sdk/client-eks';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import scheduled from '../events/scheduled.json';
import { parseConfig } from '../shared/config';
import { makePruneImages } from '../shared/prune-images/handler';
import type { EcrImage } from '../shared/prune-images/model';
import { d, image, NOW, OCI_INDEX, REG } from '../test/fixtures/ecr-image-builders';
import {
  type FakeService,
  type FakeTask,
  type FakeTaskDefinition,
  type FakeWorld,
  fakeCloud,
} from '../test/fixtures/fake-registry';
import { type Figure, figure } from './figures';

const REPOSITORIES = 50;
const IMAGES_PER_REPOSITORY = 200;
const FAMILIES = 100;
const REVISIONS = 20;

function world(): FakeWorld {
  const repositories = [];
  for (let r = 0; r < REPOSITORIES; r++) {
    const images: EcrImage[] = [];
    // 200 images a repository: 30 logical multi-arch images of 5 manifests (index, 2 children, signature,
    // attestation) and 50 single-manifest ones, one pushed a day, newest last.
    for (let i = 0; images.length < IMAGES_PER_REPOSITORY; i++) {
      const days = 400 - i * 4;
      const name = `r${r}i${i}`;
      if (i % 2 === 0 && images.length + 5 <= IMAGES_PER_REPOSITORY - 50) {
        images.push(
          image(`${name}a`, days),
          image(`${name}b`, days),
          image(name, days, {
            tags: [`build-${i}`],
            mediaType: OCI_INDEX,
            children: [d(`${name}a`), d(`${name}b`)],
          }),
          image(`${name}s`, days, { tags: [`sha256-${d(name).slice(7)}.sig`] }),
          image(`${name}t`, days, { subjectDigest: d(name) }),
        );
      } else images.push(image(name, days, i % 7 === 0 ? {} : { tags: [`build-${i}`] }));
    }
    repositories.push({ name: `team${r}/svc`, images });
  }
  const taskDefinitions: FakeTaskDefinition[] = [];
  const services: FakeService[] = [];
  const tasks: FakeTask[] = [];
  for (let f = 0; f < FAMILIES; f++) {
    const repo = `team${f % REPOSITORIES}/svc`;
    for (let rev = 1; rev <= REVISIONS; rev++) {
      taskDefinitions.push({ family: `fam${f}`, revision: rev, images: [`${REG}/${repo}:build-${rev * 2}`] });
    }
    for (let s = 0; s < 2; s++) {
      const cluster = `cluster${f % 4}`;
      const name = `svc${f}-${s}`;
      services.push({
        cluster,
        name,
        deployments: [
          { id: `ecs-svc/${f}${s}`, status: 'PRIMARY', taskDefinition: `fam${f}:${REVISIONS}`, running: 3 },
        ],
      });
      for (let t = 0; t < 3; t++) {
        tasks.push({
          cluster,
          id: `${name}-${t}`,
          taskDefinition: `fam${f}:${REVISIONS}`,
          containers: [
            { name: 'c0', image: `${REG}/${repo}:latest`, imageDigest: d(`r${f % REPOSITORIES}i3`) },
          ],
        });
      }
    }
  }
  return {
    repositories,
    clusters: ['cluster0', 'cluster1', 'cluster2', 'cluster3'],
    taskDefinitions,
    services,
    tasks,
  };
}

export interface PruneRun {
  label: string;
  dryRun: boolean;
  images: number;
  planned: number;
  deleted: number;
  bytesFreed: number;
  emailed: boolean;
  wallMs: number;
  peakRssMiB: number;
  peakHeapMiB: number;
  calls: Record<string, number>;
  /** Ids in the largest BatchDeleteImage call (ECR takes at most 100). */
  largestBatchDelete: number;
}

async function measure(label: string, dryRun: boolean): Promise<PruneRun> {
  const cloud = fakeCloud(world());
  const config = parseConfig(
    {
      prune: { dryRun, keepLast: 10, keepDays: 30 },
      alerts: { to: ['platform@example.com'] },
      // Calls are counted here, over mocks; the pace of the account's ECS budget is the budget bench's.
      ecs: { maxReadsPerSecond: 1000 },
    },
    'bench',
  );
  const prune = makePruneImages({
    ecr: new ECRClient({ region: 'us-east-1' }),
    ecs: new ECSClient({ region: 'us-east-1' }),
    ses: new SESv2Client({ region: 'us-east-1' }),
    eks: new EKSClient({ region: 'us-east-1' }),
    config,
    logger: new Logger({ serviceName: 'pruneImages', logLevel: 'SILENT' }),
    region: 'us-east-1',
    now: () => NOW,
  });
  global.gc?.();
  let peakRss = 0;
  let peakHeap = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const timer = setInterval(sample, 5);
  const started = performance.now();
  const summary = await prune(scheduled);
  const ms = performance.now() - started;
  clearInterval(timer);
  sample();
  return {
    label,
    dryRun,
    images: summary.images,
    planned: summary.planned,
    deleted: summary.deleted,
    bytesFreed: summary.bytesFreed,
    emailed: summary.emailed,
    wallMs: Math.round(ms),
    peakRssMiB: Math.round(peakRss / 2 ** 20),
    peakHeapMiB: Math.round(peakHeap / 2 ** 20),
    calls: { ...cloud.calls },
    largestBatchDelete: Math.max(0, ...cloud.deleteCalls.map((c) => c.digests.length)),
  };
}

/**
 * A dry run then a real run. The fake cloud stubs the SDK clients' prototypes (aws-sdk-client-mock), so the
 * runner calls this last: any client created afterwards in this process would talk to the fake.
 */
export async function runPruneBench(options: { progress?: (line: string) => void } = {}) {
  const log = options.progress ?? (() => {});
  const runs: PruneRun[] = [];
  for (const [label, dryRun] of [
    ['dry run', true],
    ['real run', false],
  ] as const) {
    log(`prune: ${label} over ${REPOSITORIES * IMAGES_PER_REPOSITORY} images`);
    runs.push(await measure(label, dryRun));
  }
  const figures: Figure[] = runs.flatMap((r) => {
    const total = Object.values(r.calls).reduce((a, b) => a + b, 0);
    const byOp = Object.entries(r.calls)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([op, n]) => `${op} ${n}`)
      .join(', ');
    return [
      figure({
        bench: 'prune',
        metric: `${r.label}: images / planned / deleted`,
        value: r.planned,
        unit: 'planned',
        note: `${r.images} images read, ${r.deleted} deleted, ${(r.bytesFreed / 2 ** 30).toFixed(1)} GiB freed${r.dryRun ? ' (would be)' : ''}`,
      }),
      figure({
        bench: 'prune',
        metric: `${r.label}: API calls`,
        value: total,
        unit: '',
        note: `most: ${byOp} (all in results.json)`,
      }),
      figure({
        bench: 'prune',
        metric: `${r.label}: wall time`,
        value: r.wallMs,
        unit: 'ms',
        note: `mocked clients (no network); peak RSS ${r.peakRssMiB} MiB, heap ${r.peakHeapMiB} MiB${r.dryRun ? '' : `; largest BatchDeleteImage ${r.largestBatchDelete} ids`}`,
      }),
    ];
  });
  const footnotes = [
    'prune: aws-sdk-client-mock clients over an in-memory registry (test/fixtures/fake-registry.ts) enforcing AWS page and ' +
      'batch limits; 50 repositories × 200 images, 100 task definition families × 20 revisions, 200 services.',
  ];
  return { figures, details: { runs }, footnotes };
}
