/**
 * pruneImages end to end over real HTTP, against a world of 690 manifests in 10 repositories (multi-arch
 * indexes with signatures and attestations, untagged orphans, ages spread over 120 days) and an ECS
 * cluster whose services run old images: the dry run deletes nothing and emails the plan; the real run
 * deletes exactly the planned images and never one that runs, a child of a kept index or a protected tag;
 * a second real run deletes nothing more.
 */
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  ECRClient,
  type ImageDetail,
  paginateDescribeImages,
} from '@aws-sdk/client-ecr';
import { DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import type { WorldInput } from '../../../local/world';
import type { PruneSummary } from '../../../shared/prune-images/handler';
import { clientConfig, REGISTRY, until } from '../../support/cloud';

const REPOS = 10;
const IMAGES_PER_REPO = 52;
const KEEP_LAST = 5;
const KEEP_DAYS = 7;
const SIZE = 20 * 1024 * 1024;

interface ImageSpec {
  i: number;
  tags: string[];
  multiArch: boolean;
  attestation: boolean;
  pushedDaysAgo: number;
}

/** Image i of repository r: ages from 120 days down to 2, every 10th multi-arch and signed, every 9th an untagged orphan. */
function imageSpec(r: number, i: number): ImageSpec {
  const multiArch = i % 10 === 4;
  const untagged = !multiArch && i % 9 === 7;
  const tags = untagged ? [] : [`build-${i}`];
  if (i === 6) tags.push(`v1.${r}.0`); // an old release: protected by `v*`
  if (i === IMAGES_PER_REPO - 1) tags.push('latest');
  const pushedDaysAgo = Math.round((120 - (i * 118) / (IMAGES_PER_REPO - 1)) * 100) / 100;
  return { i, tags, multiArch, attestation: multiArch && i % 20 === 14, pushedDaysAgo };
}

/** Manifests one push makes: the image, or an index over two platform images; plus its signature and attestation. */
const manifestsOf = (s: ImageSpec) => (s.multiArch ? 3 : 1) + (s.multiArch ? 1 : 0) + (s.attestation ? 1 : 0);

/** Old images the ECS services run: repository index → image index (14 is a signed, attested multi-arch index). */
const RUNNING: Record<number, number> = { 0: 3, 1: 14, 2: 20 };

const repoName = (r: number) => `app/svc-${r}`;

function world(dryRun: boolean): WorldInput {
  return {
    config: {
      alerts: { from: 'harborpilot@example.com', to: ['platform@example.com'] },
      prune: { dryRun, keepLast: KEEP_LAST, keepDays: KEEP_DAYS, expireUntaggedAfterDays: null },
    },
    ses: { identities: ['example.com'] },
    ecr: {
      repositories: Array.from({ length: REPOS }, (_, r) => ({
        name: repoName(r),
        images: Array.from({ length: IMAGES_PER_REPO }, (_, i) => {
          const s = imageSpec(r, i);
          return {
            ...(s.tags.length > 0 ? { tags: s.tags } : {}),
            ...(s.multiArch ? { platforms: ['linux/amd64', 'linux/arm64'], signature: true } : {}),
            ...(s.attestation ? { attestation: true } : {}),
            sizeBytes: SIZE,
            pushedDaysAgo: s.pushedDaysAgo,
            seed: `${repoName(r)}#${i}`,
          };
        }),
      })),
    },
    ecs: {
      taskDefinitions: Object.entries(RUNNING).map(([r, i]) => ({
        family: `svc-${r}`,
        requiresCompatibilities: ['FARGATE' as const],
        cpu: 256,
        memory: 512,
        containers: [{ name: 'app', image: `${REGISTRY}/${repoName(Number(r))}:build-${i}` }],
      })),
      clusters: [
        {
          name: 'prod',
          services: Object.keys(RUNNING).map((r) => ({
            name: `svc-${r}`,
            taskDefinition: `svc-${r}`,
            launchType: 'FARGATE' as const,
            desiredCount: 2,
          })),
        },
      ],
    },
  };
}

/**
 * The expected plan, from the rules as docs/prune.md states them: a push (with its children and artifacts) is
 * kept when it runs, carries a protected tag (`latest`, `v*`), is among the newest KEEP_LAST tagged pushes, or
 * was pushed within KEEP_DAYS days (untagged ones too, expireUntaggedAfterDays being null).
 */
function expected() {
  let total = 0;
  let deleted = 0;
  const perRepo = new Map<string, { total: number; deleted: number }>();
  for (let r = 0; r < REPOS; r++) {
    const specs = Array.from({ length: IMAGES_PER_REPO }, (_, i) => imageSpec(r, i));
    const newestTagged = new Set(
      specs
        .filter((s) => s.tags.length > 0)
        .slice(-KEEP_LAST)
        .map((s) => s.i),
    );
    let repoTotal = 0;
    let repoDeleted = 0;
    for (const s of specs) {
      const kept =
        RUNNING[r] === s.i ||
        s.tags.some((t) => t === 'latest' || t.startsWith('v')) ||
        newestTagged.has(s.i) ||
        s.pushedDaysAgo < KEEP_DAYS;
      repoTotal += manifestsOf(s);
      if (!kept) repoDeleted += manifestsOf(s);
    }
    perRepo.set(repoName(r), { total: repoTotal, deleted: repoDeleted });
    total += repoTotal;
    deleted += repoDeleted;
  }
  return { total, deleted, perRepo };
}

let cloud: LocalCloud | undefined;
afterEach(async () => {
  await cloud?.stop();
  cloud = undefined;
});

async function start(dryRun: boolean) {
  const c = await createLocalCloud({
    port: 0,
    speed: 0,
    world: world(dryRun),
    // The plan is logged in full (hundreds of digests): keep the test output readable.
    functionEnv: { POWERTOOLS_LOG_LEVEL: 'WARN' },
  });
  cloud = c;
  const ecr = new ECRClient(clientConfig(c));
  const ecs = new ECSClient(clientConfig(c));
  // Tasks start on the simulated clock: run it until every service's tasks run.
  await until(c, 'services running', async () => (await runningDigests(ecs)).length === 6);
  return { c, ecr, ecs };
}

async function imagesOf(ecr: ECRClient, repositoryName: string): Promise<ImageDetail[]> {
  const out: ImageDetail[] = [];
  for await (const page of paginateDescribeImages({ client: ecr }, { repositoryName, maxResults: 1000 }))
    out.push(...(page.imageDetails ?? []));
  return out;
}

async function allDigests(ecr: ECRClient): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  for (let r = 0; r < REPOS; r++)
    out.set(repoName(r), new Set((await imagesOf(ecr, repoName(r))).map((d) => String(d.imageDigest))));
  return out;
}

const count = (digests: Map<string, Set<string>>) => [...digests.values()].reduce((n, s) => n + s.size, 0);

/** [repository, digest] of every container of every RUNNING task in `prod`. */
async function runningDigests(ecs: ECSClient): Promise<[string, string][]> {
  const { taskArns = [] } = await ecs.send(
    new ListTasksCommand({ cluster: 'prod', desiredStatus: 'RUNNING' }),
  );
  if (taskArns.length === 0) return [];
  const { tasks = [] } = await ecs.send(new DescribeTasksCommand({ cluster: 'prod', tasks: taskArns }));
  return tasks
    .filter((t) => t.lastStatus === 'RUNNING')
    .flatMap((t) => t.containers ?? [])
    .filter((c) => c.imageDigest)
    .map((c) => {
      const repo = String(c.image).replace(`${REGISTRY}/`, '').split(':')[0] ?? '';
      return [repo, String(c.imageDigest)];
    });
}

async function prune(c: LocalCloud): Promise<PruneSummary> {
  const invocations = await c.router.runSchedule('pruneImages');
  expect(invocations.map((i) => [i.status, i.error])).toEqual([['succeeded', undefined]]);
  return invocations[0]?.result as PruneSummary;
}

describe('pruneImages against a world of 690 images', () => {
  const plan = expected();

  it('the world is as large as the test says and the plan deletes most of it', () => {
    expect(plan.total).toBe(690);
    expect(plan.deleted).toBe(623);
  });

  it('dry run: nothing is deleted; one email names every repository and what would go', async () => {
    const { c, ecr } = await start(true);
    const before = await allDigests(ecr);
    expect(count(before)).toBe(plan.total);

    const summary = await prune(c);
    expect(summary).toMatchObject({ dryRun: true, repositories: REPOS, planned: plan.deleted, deleted: 0 });

    expect(count(await allDigests(ecr))).toBe(plan.total);
    const mails = c.ses.messages();
    expect(mails).toHaveLength(1);
    const text = mails[0]?.Body.text_part ?? '';
    expect(mails[0]?.Subject).toContain(`would delete ${plan.deleted} images`);
    expect(text).toContain('Dry run: nothing was deleted');
    for (const [repo, p] of plan.perRepo)
      expect(text).toContain(`${repo}: ${p.total - p.deleted} kept, ${p.deleted} would delete`);
  }, 30_000);

  it('real run: exactly the planned images go; running, children of kept indexes and protected tags stay; a rerun deletes nothing', async () => {
    const { c, ecr, ecs } = await start(false);
    const running = await runningDigests(ecs);
    expect(new Set(running.map(([repo]) => repo))).toEqual(new Set(['app/svc-0', 'app/svc-1', 'app/svc-2']));

    // The multi-arch index svc-1 runs: its platform images and signature/attestation must survive with it.
    const [, indexDigest] = running.find(([repo]) => repo === 'app/svc-1') ?? ['', ''];
    const { images = [] } = await ecr.send(
      new BatchGetImageCommand({ repositoryName: 'app/svc-1', imageIds: [{ imageDigest: indexDigest }] }),
    );
    const children: string[] = (JSON.parse(images[0]?.imageManifest ?? '{}').manifests ?? []).map(
      (m: { digest: string }) => m.digest,
    );
    expect(children).toHaveLength(2);

    const summary = await prune(c);
    expect(summary).toMatchObject({
      dryRun: false,
      planned: plan.deleted,
      deleted: plan.deleted,
      failures: 0,
    });

    const after = await allDigests(ecr);
    expect(count(after)).toBe(plan.total - plan.deleted);
    for (const [repo, p] of plan.perRepo) expect(after.get(repo)?.size, repo).toBe(p.total - p.deleted);
    for (const [repo, digest] of running)
      expect(after.get(repo)?.has(digest), `${repo}@${digest}`).toBe(true);
    for (const child of children) expect(after.get('app/svc-1')?.has(child), child).toBe(true);

    const svc1 = await imagesOf(ecr, 'app/svc-1');
    const svc1Tags = svc1.flatMap((d) => d.imageTags ?? []);
    expect(svc1Tags).toContain(`${indexDigest.replace(':', '-')}.sig`);
    // The attestation: an untagged OCI referrer of the index, besides the two platform images.
    expect(
      svc1.filter((d) => !d.imageTags?.length && !children.includes(String(d.imageDigest))),
    ).toHaveLength(1);

    for (let r = 0; r < REPOS; r++) {
      const tags = (await imagesOf(ecr, repoName(r))).flatMap((d) => d.imageTags ?? []);
      expect(tags, repoName(r)).toEqual(expect.arrayContaining(['latest', `v1.${r}.0`]));
      expect(tags, repoName(r)).not.toContain('build-0');
    }
    expect(c.ses.messages()).toHaveLength(1);
    expect(c.ses.messages()[0]?.Subject).toContain(`deleted ${plan.deleted} images`);

    // Idempotent: the same schedule again finds nothing left to delete and has nothing to email.
    const again = await prune(c);
    expect(again).toMatchObject({ dryRun: false, planned: 0, deleted: 0, failures: 0 });
    expect(count(await allDigests(ecr))).toBe(plan.total - plan.deleted);
    expect(c.ses.messages()).toHaveLength(1);
    const { imageDetails = [] } = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'app/svc-0', imageIds: [{ imageTag: 'build-3' }] }),
    );
    expect(imageDetails).toHaveLength(1);
  }, 30_000);
});
