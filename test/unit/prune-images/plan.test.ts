import { describe, expect, it } from 'vitest';
import type { Digest } from '../../../shared/image-ref';
import type { EcrImage, InUseSet, KeepReason, PruneRules } from '../../../shared/prune-images/model';
import { planPrune } from '../../../shared/prune-images/plan';
import { d, image, NOW, OCI_INDEX, repo } from '../../fixtures/ecr-image-builders';

type Expect = Record<string, 'deleted' | KeepReason['rule']>;

interface Case {
  name: string;
  images: EcrImage[];
  inUse?: Record<string, string[]>;
  rules?: Partial<PruneRules>;
  /** image name → 'deleted' or the first keep rule expected. */
  expect: Expect;
}

const hex = (name: string) => d(name).slice('sha256:'.length);

/** A multi-arch image: a tagged index over two untagged children, with a cosign signature and an attestation. */
function multiArch(name: string, days: number, tags: string[]): EcrImage[] {
  return [
    image(`${name}-amd64`, days, { sizeBytes: 30 }),
    image(`${name}-arm64`, days, { sizeBytes: 20 }),
    image(name, days, {
      tags,
      mediaType: OCI_INDEX,
      sizeBytes: 30,
      children: [d(`${name}-amd64`), d(`${name}-arm64`)],
    }),
    image(`${name}-sig`, days - 0.5, { tags: [`sha256-${hex(name)}.sig`], sizeBytes: 1 }),
    image(`${name}-att`, days - 0.5, { subjectDigest: d(name), sizeBytes: 2 }),
  ];
}

const CASES: Case[] = [
  {
    name: 'keepLast and keepDays: the newest two tagged and everything within 7 days stay',
    images: [
      image('r1', 30, { tags: ['build-1'] }),
      image('r2', 20, { tags: ['build-2'] }),
      image('r3', 10, { tags: ['build-3'] }),
      image('r4', 9, { tags: ['build-4'] }),
      image('r5', 3, { tags: ['build-5'] }),
    ],
    expect: { r1: 'deleted', r2: 'deleted', r3: 'deleted', r4: 'keep-last', r5: 'keep-last' },
  },
  {
    name: 'keepDays keeps recent images beyond keepLast',
    images: [
      image('r1', 6, { tags: ['build-1'] }),
      image('r2', 5, { tags: ['build-2'] }),
      image('r3', 4, { tags: ['build-3'] }),
      image('r4', 8, { tags: ['build-4'] }),
    ],
    rules: { keepLast: 1 },
    expect: { r1: 'keep-days', r2: 'keep-days', r3: 'keep-last', r4: 'deleted' },
  },
  {
    name: 'protected tags keep old images; other tags do not',
    images: [
      image('old-latest', 90, { tags: ['latest'] }),
      image('old-prod', 80, { tags: ['prod-2025-01'] }),
      image('old-release', 70, { tags: ['v1.0.0', 'build-9'] }),
      image('old-build', 60, { tags: ['build-10'] }),
      image('new-1', 1, { tags: ['build-11'] }),
      image('new-2', 1, { tags: ['build-12'] }),
    ],
    rules: { keepLast: 0, keepDays: 0 },
    expect: {
      'old-latest': 'protected-tag',
      'old-prod': 'protected-tag',
      'old-release': 'protected-tag',
      'old-build': 'deleted',
      'new-1': 'deleted',
      'new-2': 'deleted',
    },
  },
  {
    name: 'an old digest pinned by an ACTIVE deployment is kept although nothing else would keep it',
    images: [
      image('pinned', 60, { tags: ['build-1'] }),
      image('r2', 3, { tags: ['build-2'] }),
      image('r3', 2, { tags: ['build-3'] }),
      image('r4', 1, { tags: ['build-4'] }),
    ],
    inUse: { pinned: ['ECS service prod/api ACTIVE deployment ecs-svc/123 pinned container app'] },
    expect: { pinned: 'in-use', r2: 'keep-days', r3: 'keep-last', r4: 'keep-last' },
  },
  {
    name: 'an old digest run by an EKS pod under a tag that has since moved is kept, untagged',
    images: [image('was-latest', 40), image('now-latest', 1, { tags: ['latest'] })],
    inUse: { 'was-latest': ['EKS pod default/api-7d9 container api (imageID)'] },
    expect: { 'was-latest': 'in-use', 'now-latest': 'protected-tag' },
  },
  {
    name: 'untagged orphans follow keepDays when expireUntaggedAfterDays is null',
    images: [image('orphan-old', 30), image('orphan-new', 3)],
    expect: { 'orphan-old': 'deleted', 'orphan-new': 'keep-days' },
  },
  {
    name: 'expireUntaggedAfterDays replaces keepDays for untagged images, and keepLast never counts them',
    images: [
      image('orphan-2d', 2),
      image('orphan-5d', 5),
      image('tagged-5d', 5, { tags: ['build-1'] }),
      image('tagged-50d', 50, { tags: ['build-0'] }),
    ],
    rules: { expireUntaggedAfterDays: 3, keepLast: 0 },
    expect: {
      'orphan-2d': 'untagged-recent',
      'orphan-5d': 'deleted',
      'tagged-5d': 'keep-days',
      'tagged-50d': 'deleted',
    },
  },
  {
    name: 'a kept multi-arch index keeps its children, its signature and its attestation',
    images: [...multiArch('mx', 100, ['v2.0.0'])],
    rules: { keepLast: 0, keepDays: 0 },
    expect: {
      mx: 'protected-tag',
      'mx-amd64': 'child-of-kept-index',
      'mx-arm64': 'child-of-kept-index',
      'mx-sig': 'attached-to-kept-image',
      'mx-att': 'attached-to-kept-image',
    },
  },
  {
    name: 'an expired multi-arch index goes with its children and artifacts, although they are untagged',
    images: [...multiArch('old', 100, ['build-1']), ...multiArch('new', 1, ['build-2'])],
    rules: { keepLast: 1, expireUntaggedAfterDays: 1000 },
    expect: {
      old: 'deleted',
      'old-amd64': 'deleted',
      'old-arm64': 'deleted',
      'old-sig': 'deleted',
      'old-att': 'deleted',
      new: 'keep-last',
      'new-amd64': 'child-of-kept-index',
      'new-sig': 'attached-to-kept-image',
    },
  },
  {
    name: 'a running child keeps its whole multi-arch image (ECS reports the platform digest on some hosts)',
    images: [...multiArch('mx', 100, ['build-1'])],
    rules: { keepLast: 0 },
    inUse: { 'mx-arm64': ['ECS task prod/abc container app'] },
    expect: {
      mx: 'with-kept-image',
      'mx-arm64': 'in-use',
      'mx-amd64': 'child-of-kept-index',
      'mx-att': 'attached-to-kept-image',
    },
  },
  {
    name: 'a child shared by two indexes is kept while either index is kept',
    images: [
      image('shared', 100),
      image('idx-old', 100, { tags: ['build-1'], mediaType: OCI_INDEX, children: [d('shared')] }),
      image('idx-new', 1, { tags: ['build-2'], mediaType: OCI_INDEX, children: [d('shared')] }),
    ],
    rules: { keepLast: 1 },
    expect: { shared: 'child-of-kept-index', 'idx-new': 'keep-last', 'idx-old': 'with-kept-image' },
  },
  {
    name: 'a signature whose subject is gone follows the untagged rules; one whose subject runs elsewhere stays',
    images: [
      image('sig-gone', 30, { tags: [`sha256-${hex('gone')}.sig`] }),
      image('sig-running', 30, { tags: [`sha256-${hex('running-elsewhere')}.sig`] }),
    ],
    inUse: { 'running-elsewhere': ['ECS task prod/xyz container app'] },
    expect: { 'sig-gone': 'deleted', 'sig-running': 'attached-to-kept-image' },
  },
];

function inUseOf(c: Case): InUseSet {
  return new Map(
    Object.entries(c.inUse ?? {}).map(([name, users]) => [d(name), users] as [Digest, string[]]),
  );
}

describe('planPrune', () => {
  it.each(CASES)('$name', (c) => {
    const plan = planPrune([repo(c.images, c.rules)], inUseOf(c), NOW);
    const [rp] = plan.repositories;
    if (!rp) throw new Error('no repository plan');
    const names = new Map(c.images.map((i) => [i.digest, i]));
    const nameOf = (digest: Digest) => Object.keys(c.expect).find((n) => d(n) === digest) ?? digest;
    const outcome: Record<string, string> = {};
    for (const k of rp.kept) outcome[nameOf(k.image.digest)] = k.reasons[0]?.rule ?? 'kept without reason';
    for (const x of rp.deleted) outcome[nameOf(x.image.digest)] = 'deleted';
    for (const [name, want] of Object.entries(c.expect))
      expect({ name, got: outcome[name] }).toEqual({ name, got: want });
    // every image is decided exactly once, and every kept image says why
    expect(rp.kept.length + rp.deleted.length).toBe(names.size);
    for (const k of rp.kept) expect(k.reasons.length).toBeGreaterThan(0);
  });

  it('deletes artifacts before their subject, and an index before its children', () => {
    const images = multiArch('old', 100, ['build-1']);
    const plan = planPrune([repo(images, { keepLast: 0 })], new Map(), NOW);
    const waves = Object.fromEntries(
      plan.repositories[0]?.deleted.map((x) => [x.image.digest, x.wave]) ?? [],
    );
    expect(waves[d('old-sig')]).toBe(0);
    expect(waves[d('old-att')]).toBe(0);
    expect(waves[d('old')]).toBeGreaterThan(0);
    expect(waves[d('old-amd64')]).toBeGreaterThan(waves[d('old')] as number);
    expect(waves[d('old-arm64')]).toBeGreaterThan(waves[d('old')] as number);
    // in deletion order
    const order = plan.repositories[0]?.deleted.map((x) => x.wave) ?? [];
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('frees the bytes of manifests, not the index (ECR reports its largest child as its size)', () => {
    const plan = planPrune([repo(multiArch('old', 100, ['build-1']), { keepLast: 0 })], new Map(), NOW);
    expect(plan.repositories[0]?.bytesFreed).toBe(30 + 20 + 1 + 2);
    expect(plan.totals).toEqual({ images: 5, kept: 0, deleted: 5, bytesFreed: 53 });
  });

  it('says why an image is deleted', () => {
    const plan = planPrune([repo([image('r1', 30, { tags: ['build-1'] })], { keepLast: 0 })], new Map(), NOW);
    expect(plan.repositories[0]?.deleted[0]?.why).toBe(
      'tags build-1, pushed 30 days ago: older than 7 days, not among the newest 0, no protected tag, not in use',
    );
  });

  it('is idempotent: planning again over what is left deletes nothing more', () => {
    const images = [
      ...multiArch('a', 100, ['build-1']),
      ...multiArch('b', 50, ['build-2']),
      ...multiArch('c', 20, ['build-3']),
      image('orphan', 40),
      image('pinned', 90),
      image('recent', 2, { tags: ['build-4'] }),
    ];
    const inUse: InUseSet = new Map([[d('pinned'), ['ECS task']]]);
    const first = planPrune([repo(images)], inUse, NOW);
    const gone = new Set(first.repositories[0]?.deleted.map((x) => x.image.digest));
    expect(gone.size).toBeGreaterThan(0);
    const second = planPrune([repo(images.filter((i) => !gone.has(i.digest)))], inUse, NOW);
    expect(second.repositories[0]?.deleted).toEqual([]);
  });

  it('plans each repository under its own rules', () => {
    const images = [image('r1', 30, { tags: ['build-1'] }), image('r2', 20, { tags: ['build-2'] })];
    const plan = planPrune(
      [repo(images, { keepLast: 0 }, 'shop/api'), repo(images, { keepLast: 5 }, 'shop/web')],
      new Map(),
      NOW,
    );
    expect(plan.repositories.map((r) => [r.repository.repositoryName, r.deleted.length])).toEqual([
      ['shop/api', 2],
      ['shop/web', 0],
    ]);
  });
});
