/**
 * The prune plan: a pure function of (images, in-use digests, rules, now). No I/O, so every decision is
 * table-tested and the dry-run email shows exactly what a real run would do.
 *
 * Images that must live and die together form a group: an index with its children, and every signature,
 * attestation or referrer attached to any of them (a child shared by two indexes joins both groups into one).
 * The rules judge groups; a group is kept when any member has a reason, and then every member is kept.
 */
import picomatch from 'picomatch';
import type { Digest } from '../image-ref';
import { cosignSubject, isCosignTag, isIndexMediaType } from './media-types';
import type {
  DeletedImage,
  EcrImage,
  InUseSet,
  KeepReason,
  KeptImage,
  PrunePlan,
  PruneRules,
  RepositoryImages,
  RepositoryPlan,
} from './model';

const DAY_MS = 86_400_000;

export function planPrune(repositories: readonly RepositoryImages[], inUse: InUseSet, now: Date): PrunePlan {
  const plans = repositories.map((r) => planRepository(r, inUse, now));
  const totals = { images: 0, kept: 0, deleted: 0, bytesFreed: 0 };
  for (const p of plans) {
    totals.images += p.kept.length + p.deleted.length;
    totals.kept += p.kept.length;
    totals.deleted += p.deleted.length;
    totals.bytesFreed += p.bytesFreed;
  }
  return { now, repositories: plans, totals };
}

/** The digest an artifact is about: its OCI `subject`, else the digest named by its cosign tag. */
export function subjectOf(image: EcrImage): Digest | undefined {
  if (image.subjectDigest) return image.subjectDigest;
  for (const tag of image.tags) {
    const subject = cosignSubject(tag);
    if (subject) return subject;
  }
  return undefined;
}

/** Tags a person gave the image; cosign's `sha256-….sig` tags are bookkeeping, not releases. */
function releaseTags(image: EcrImage): string[] {
  return image.tags.filter((t) => !isCosignTag(t));
}

interface Group {
  members: EcrImage[];
  /** Members nothing else in the group references: the image a person pushed (or an index). */
  heads: EcrImage[];
  tagged: boolean;
  /** Newest push of a non-artifact member: a signature added later does not make the image newer. */
  pushedAt: Date;
}

function daysAgo(now: Date, at: Date): number {
  return Math.floor((now.getTime() - at.getTime()) / DAY_MS);
}

export function planRepository(repo: RepositoryImages, inUse: InUseSet, now: Date): RepositoryPlan {
  const { rules } = repo;
  const byDigest = new Map(repo.images.map((i) => [i.digest, i]));
  // dependents: for each digest, the images that reference it (its indexes, its artifacts).
  const dependents = new Map<Digest, Digest[]>();
  const parentIndex = new Map<Digest, Digest>();
  const addEdge = (from: Digest, to: Digest) => {
    const list = dependents.get(to);
    if (list) list.push(from);
    else dependents.set(to, [from]);
  };
  for (const image of repo.images) {
    for (const child of image.children ?? []) {
      if (!byDigest.has(child) || child === image.digest) continue;
      addEdge(image.digest, child);
      parentIndex.set(child, image.digest);
    }
    const subject = subjectOf(image);
    if (subject && subject !== image.digest && byDigest.has(subject)) addEdge(image.digest, subject);
  }

  const groups = groupImages(repo.images, dependents, byDigest);
  const protectors = rules.protectTags.map((pattern) => ({ pattern, isMatch: picomatch(pattern) }));
  const reasons = new Map<Digest, KeepReason[]>();
  const addReason = (digest: Digest, reason: KeepReason) => {
    const list = reasons.get(digest);
    if (list) list.push(reason);
    else reasons.set(digest, [reason]);
  };

  // Member-level reasons: in use (by digest), protected tag, artifact of an in-use image in another repository.
  for (const image of repo.images) {
    const users = inUse.get(image.digest);
    if (users && users.length > 0) addReason(image.digest, { rule: 'in-use', detail: summarize(users) });
    for (const tag of releaseTags(image)) {
      const protector = protectors.find((p) => p.isMatch(tag));
      if (protector) {
        addReason(image.digest, {
          rule: 'protected-tag',
          detail: `tag "${tag}" matches "${protector.pattern}"`,
        });
      }
    }
    const subject = subjectOf(image);
    if (subject && !byDigest.has(subject) && inUse.has(subject)) {
      addReason(image.digest, {
        rule: 'attached-to-kept-image',
        detail: `artifact of ${subject}, in use (its subject lives in another repository)`,
      });
    }
  }

  // Group-level rules, attached to the heads: newest N tagged, pushed within D days, recent untagged.
  const ranked = groups.filter((g) => g.tagged).sort(byNewest);
  // They go on the group's newest head: the other heads (an older index sharing a child) are kept with it.
  ranked.slice(0, rules.keepLast).forEach((g, i) => {
    addReason(g.heads[0]?.digest as Digest, {
      rule: 'keep-last',
      detail: `#${i + 1} of the newest ${rules.keepLast} tagged images`,
    });
  });
  for (const g of groups) {
    const head = g.heads[0]?.digest as Digest;
    const age = daysAgo(now, g.pushedAt);
    const recentMs = now.getTime() - g.pushedAt.getTime();
    const untaggedLimit = g.tagged ? null : rules.expireUntaggedAfterDays;
    if (untaggedLimit !== null) {
      if (recentMs < untaggedLimit * DAY_MS) {
        addReason(head, {
          rule: 'untagged-recent',
          detail: `untagged, pushed ${age} days ago, within ${untaggedLimit} days (expireUntaggedAfterDays)`,
        });
      }
    } else if (recentMs < rules.keepDays * DAY_MS) {
      addReason(head, { rule: 'keep-days', detail: `pushed ${age} days ago, within ${rules.keepDays} days` });
    }
  }

  const kept: KeptImage[] = [];
  const deleted: DeletedImage[] = [];
  for (const g of groups) {
    const keep = g.members.some((m) => reasons.has(m.digest));
    if (keep) {
      for (const m of g.members) kept.push({ image: m, reasons: reasons.get(m.digest) ?? [derived(m, g)] });
    } else {
      const why = whyDeleted(g, rules, now);
      const waves = deletionWaves(g.members, dependents);
      for (const m of g.members) {
        const wave = waves.get(m.digest) ?? 0;
        deleted.push({ image: m, why: m === g.heads[0] ? why : memberWhy(m, g, why), wave });
      }
    }
  }
  kept.sort((a, b) => b.image.pushedAt.getTime() - a.image.pushedAt.getTime());
  deleted.sort((a, b) => a.wave - b.wave || a.image.pushedAt.getTime() - b.image.pushedAt.getTime());
  const bytesFreed = deleted.reduce(
    (sum, d) => sum + (isIndexMediaType(d.image.mediaType) ? 0 : d.image.sizeBytes),
    0,
  );
  return { repository: repo.repository, rules, kept, deleted, bytesFreed };
}

function byNewest(a: Group, b: Group): number {
  const d = b.pushedAt.getTime() - a.pushedAt.getTime();
  if (d !== 0) return d;
  const ha = a.heads[0]?.digest ?? '';
  const hb = b.heads[0]?.digest ?? '';
  return ha < hb ? -1 : ha > hb ? 1 : 0;
}

/** Union-find over the index→child and artifact→subject edges. */
function groupImages(
  images: readonly EcrImage[],
  dependents: ReadonlyMap<Digest, Digest[]>,
  byDigest: ReadonlyMap<Digest, EcrImage>,
): Group[] {
  const parent = new Map<Digest, Digest>();
  const find = (d: Digest): Digest => {
    let root = d;
    for (let p = parent.get(root); p !== undefined && p !== root; p = parent.get(root)) root = p;
    // path compression keeps 10 000-image repositories linear
    let cur = d;
    while (cur !== root) {
      const next = parent.get(cur) ?? root;
      parent.set(cur, root);
      cur = next;
    }
    return root;
  };
  for (const image of images) parent.set(image.digest, image.digest);
  for (const [to, froms] of dependents) {
    for (const from of froms) {
      const a = find(from);
      const b = find(to);
      if (a !== b) parent.set(a, b);
    }
  }
  const members = new Map<Digest, EcrImage[]>();
  for (const image of images) {
    const root = find(image.digest);
    const list = members.get(root);
    if (list) list.push(image);
    else members.set(root, [image]);
  }
  const referenced = new Set<Digest>();
  for (const image of images) {
    for (const c of image.children ?? []) if (byDigest.has(c)) referenced.add(c);
  }
  const groups: Group[] = [];
  for (const list of members.values()) {
    const persons = list.filter((m) => subjectOf(m) === undefined || !byDigest.has(subjectOf(m) as Digest));
    const nonArtifacts = list.filter((m) => subjectOf(m) === undefined);
    let heads = persons.filter((m) => !referenced.has(m.digest));
    if (heads.length === 0) heads = persons.length > 0 ? persons : list;
    heads.sort((a, b) => b.pushedAt.getTime() - a.pushedAt.getTime() || (a.digest < b.digest ? -1 : 1));
    const dated = nonArtifacts.length > 0 ? nonArtifacts : list;
    const pushedAt = new Date(Math.max(...dated.map((m) => m.pushedAt.getTime())));
    const tagged = nonArtifacts.some((m) => releaseTags(m).length > 0);
    groups.push({ members: list, heads, tagged, pushedAt });
  }
  return groups;
}

/** Why a member without a reason of its own is kept: it belongs to a kept image. */
function derived(member: EcrImage, group: Group): KeepReason {
  const index = group.members.find((m) => m.children?.includes(member.digest));
  if (index) return { rule: 'child-of-kept-index', detail: `child of index ${index.digest}` };
  const subject = subjectOf(member);
  if (subject && group.members.some((m) => m.digest === subject)) {
    return { rule: 'attached-to-kept-image', detail: `${artifactKind(member)} of ${subject}` };
  }
  return { rule: 'with-kept-image', detail: `shares a child or artifact with ${group.heads[0]?.digest}` };
}

function artifactKind(image: EcrImage): string {
  if (image.tags.some((t) => t.endsWith('.sig'))) return 'signature';
  if (image.tags.some((t) => t.endsWith('.att'))) return 'attestation';
  if (image.tags.some((t) => t.endsWith('.sbom'))) return 'SBOM';
  return 'referrer';
}

function whyDeleted(group: Group, rules: PruneRules, now: Date): string {
  const age = daysAgo(now, group.pushedAt);
  if (!group.tagged) {
    const orphanArtifact = group.heads.every((h) => subjectOf(h) !== undefined);
    const limit = rules.expireUntaggedAfterDays ?? rules.keepDays;
    const setting = rules.expireUntaggedAfterDays === null ? 'keepDays' : 'expireUntaggedAfterDays';
    const what = orphanArtifact
      ? `artifact of ${subjectOf(group.heads[0] as EcrImage)} (not here)`
      : 'untagged';
    return `${what}, pushed ${age} days ago (older than ${limit} days, ${setting}), not in use`;
  }
  const tags = group.members.flatMap(releaseTags).join(', ');
  return (
    `tags ${tags}, pushed ${age} days ago: older than ${rules.keepDays} days, ` +
    `not among the newest ${rules.keepLast}, no protected tag, not in use`
  );
}

function memberWhy(member: EcrImage, group: Group, why: string): string {
  const index = group.members.find((m) => m.children?.includes(member.digest));
  if (index) return `child of deleted index ${index.digest}`;
  const subject = subjectOf(member);
  if (subject && group.members.some((m) => m.digest === subject)) {
    return `${artifactKind(member)} of deleted image ${subject}`;
  }
  return why;
}

/** Dependents first: wave(x) = 0 when nothing references x, else one after the latest of its dependents. */
function deletionWaves(members: readonly EcrImage[], dependents: ReadonlyMap<Digest, Digest[]>) {
  const waves = new Map<Digest, number>();
  const inGroup = new Set(members.map((m) => m.digest));
  const visit = (d: Digest, seen: Set<Digest>): number => {
    const known = waves.get(d);
    if (known !== undefined) return known;
    if (seen.has(d)) return 0; // digests cannot form cycles; guard against a malformed manifest anyway
    seen.add(d);
    let wave = 0;
    for (const dep of dependents.get(d) ?? []) {
      if (inGroup.has(dep)) wave = Math.max(wave, visit(dep, seen) + 1);
    }
    waves.set(d, wave);
    return wave;
  };
  for (const m of members) visit(m.digest, new Set());
  return waves;
}

function summarize(users: readonly string[]): string {
  const shown = users.slice(0, 3).join('; ');
  return users.length > 3 ? `${shown}; and ${users.length - 3} more` : shown;
}
