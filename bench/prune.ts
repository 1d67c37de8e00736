/**
 * pruneImages at scale: 10 000 images across 50 repositories (a quarter of them multi-arch with an
 * attestation), 2 000 task definitions (100 families × 20 revisions), 200 services with running tasks,
 * against mocked clients that count API calls. Prints calls by operation, wall time and peak memory for a
 * dry run and a real run. Not part of CI: `npx tsx bench/prune.ts`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EKSClient } from '@aws-sdk/client-eks';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import scheduled from '../events/scheduled.json';
import { parseConfig } from '../shared/config';
import { makePrune } from '../shared/ecr/prune';
import type { EcrImage } from '../shared/ecr/prune-model';
import { d, image, NOW, OCI_INDEX, REG } from '../test/unit/prune/images';
import {
  type FakeService,
  type FakeTask,
  type FakeTaskDefinition,
  type FakeWorld,
  fakeCloud,
} from '../test/unit/prune/world';

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

async function measure(label: string, dryRun: boolean) {
  const cloud = fakeCloud(world());
  const config = parseConfig(
    { prune: { dryRun, keepLast: 10, keepDays: 30 }, alerts: { to: ['platform@example.com'] } },
    'bench',
  );
  const prune = makePrune({
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
  const total = Object.values(cloud.calls).reduce((a, b) => a + b, 0);
  console.log(`\n## ${label}`);
  console.log(
    `images ${summary.images}, planned ${summary.planned}, deleted ${summary.deleted}, ` +
      `bytes freed ${summary.bytesFreed}, emailed ${summary.emailed}`,
  );
  console.log(
    `time ${ms.toFixed(0)} ms, peak rss ${(peakRss / 2 ** 20).toFixed(0)} MiB, peak heap ${(peakHeap / 2 ** 20).toFixed(0)} MiB`,
  );
  console.log(`API calls: ${total}`);
  for (const [op, n] of Object.entries(cloud.calls).sort()) console.log(`  ${op.padEnd(32)} ${n}`);
  const maxBatch = Math.max(0, ...cloud.deleteCalls.map((c) => c.digests.length));
  if (!dryRun) console.log(`largest BatchDeleteImage: ${maxBatch} ids`);
}

await measure('dry run (default)', true);
await measure('real run', false);
