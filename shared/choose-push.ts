/**
 * Which pushed image, if any, a container running `image` moves to under its update policy: the decision
 * redeployEcs and rollEks share. How the move is made (a new deployment, a revision, a patch) is theirs.
 */

import type { ImagePush } from './events/image-push';
import { type Digest, type ImageRef, isInRepository, parseImageRef } from './image-ref';
import { type CandidateTag, selectUpdate, shouldUpdate, type UpdatePolicy } from './policy';

export type PushCandidate = CandidateTag & { digest: Digest };

export type PushChoice =
  | { skip: string }
  /** `reason` says why the policy moves the container (for logs, plans and emails). */
  | { ref: ImageRef; chosen: PushCandidate; reason: string };

/** Undefined when the image is not of a pushed repository (or not an image reference at all). */
export function choosePush(
  image: string,
  pushes: readonly ImagePush[],
  policy: UpdatePolicy,
): PushChoice | undefined {
  let ref: ImageRef;
  try {
    ref = parseImageRef(image);
  } catch {
    return undefined; // Not an image we can reason about (e.g. a build placeholder): never ours to move.
  }
  const candidates: PushCandidate[] = pushes
    .filter((p): p is ImagePush & { tag: string } => p.tag !== undefined && isInRepository(ref, p.repository))
    .map((p) => ({ tag: p.tag, digest: p.digest, ...(p.pushedAt ? { pushedAt: p.pushedAt } : {}) }));
  if (candidates.length === 0) {
    const untagged = pushes.some((p) => p.tag === undefined && isInRepository(ref, p.repository));
    return untagged ? { skip: 'pushed image has no tag' } : undefined;
  }
  const chosen = selectUpdate(policy, ref.tag, candidates);
  if (!chosen) {
    // Explain with the newest candidate: that is what a user expects to have been considered.
    const last = candidates[candidates.length - 1] as PushCandidate;
    return { skip: shouldUpdate(policy, ref.tag, last.tag).reason };
  }
  return { ref, chosen, reason: shouldUpdate(policy, ref.tag, chosen.tag).reason };
}
