/**
 * Turns in-use references into digests: in use means the digest, not the tag. Digests reported by a source
 * count as they are; a tag is resolved to the digest it points at now, through the images already read.
 */

import { type Digest, parseImageRef, repositoryKey } from '../../image-ref';
import type { InUseSet, RepositoryImages } from '../model';
import type { InUseRef } from './model';

export function resolveInUse(refs: readonly InUseRef[], repositories: readonly RepositoryImages[]): InUseSet {
  const tagIndex = new Map<string, Map<string, Digest>>();
  for (const r of repositories) {
    const tags = new Map<string, Digest>();
    for (const image of r.images) for (const tag of image.tags) tags.set(tag, image.digest);
    tagIndex.set(repositoryKey(r.repository), tags);
  }
  const set = new Map<Digest, string[]>();
  const add = (digest: Digest, usedBy: string) => {
    const list = set.get(digest);
    if (list) {
      if (!list.includes(usedBy)) list.push(usedBy);
    } else set.set(digest, [usedBy]);
  };
  for (const ref of refs) {
    if (ref.digest) add(ref.digest, ref.usedBy);
    if (!ref.image) continue;
    let parsed: ReturnType<typeof parseImageRef>;
    try {
      parsed = parseImageRef(ref.image);
    } catch {
      continue; // not an image reference any registry would pull: it cannot name one of our images
    }
    if (parsed.digest) add(parsed.digest, ref.usedBy);
    // The image a tag names today also stays: the next task or pod started from this spec pulls it.
    if (parsed.ecr && (parsed.tag !== undefined || parsed.digest === undefined)) {
      const tag = parsed.tag ?? 'latest';
      const key = repositoryKey({ ...parsed.ecr, repositoryName: parsed.repository });
      const digest = tagIndex.get(key)?.get(tag);
      // Said once: when the tag still points at the digest the workload runs, `(tag …)` would repeat it.
      if (digest && digest !== ref.digest && digest !== parsed.digest)
        add(digest, `${ref.usedBy} (tag ${tag})`);
    }
  }
  return set;
}
