/**
 * Reads the tagged images of ECR repositories: what a tag points to now (and the pushed image's scan), and every
 * tag for reconcile runs.
 */
import { DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { errorMessage } from '../errors';
import type { ImagePush } from '../events/image-push';
import { type Digest, ecrRepositoryOf, isDigest, type RepositoryRef, repositoryKey } from '../image-ref';
import { type ImageScanState, scanStateOf } from '../scan/severity';

/** What ECR says of a pushed image now: the tags a newer push moved on, its scan, when it was pushed. */
export interface PushedImageNow {
  /** Each of the asked tags that a newer push moved on, and the digest it names now. */
  superseded: Map<string, Digest>;
  /** The pushed image's scan (undefined: ECR has none for it, or the image is gone). */
  scan?: ImageScanState;
  pushedAt?: Date;
}

/**
 * One DescribeImages of the pushed digest and its tags: which tags a newer push moved on (a push event can arrive
 * late, after the tag was pushed again: ECR then holds both images, the tag on the newer one), and the pushed
 * image's scan status, for the scan gate. A tag still on the pushed digest, or one ECR no longer knows, is not
 * superseded; neither is one that went back to an older image (a re-tag is a push of its own).
 */
export async function describePushedImage(
  ecr: ECRClient,
  push: Pick<ImagePush, 'repository' | 'digest'> & { tags: readonly string[] },
): Promise<PushedImageNow> {
  const describe = async (imageIds: { imageTag?: string; imageDigest?: string }[]) => {
    try {
      const out = await ecr.send(
        new DescribeImagesCommand({
          registryId: push.repository.accountId,
          repositoryName: push.repository.repositoryName,
          imageIds,
        }),
      );
      return out.imageDetails ?? [];
    } catch (err) {
      if ((err as { name?: string }).name === 'ImageNotFoundException') return undefined;
      throw err;
    }
  };
  // A tag deleted since fails the whole call: the digest alone still tells its scan (the gate must not pass an
  // image for want of reading it).
  const details =
    (await describe([...push.tags.map((imageTag) => ({ imageTag })), { imageDigest: push.digest }])) ??
    (push.tags.length > 0 ? await describe([{ imageDigest: push.digest }]) : undefined) ??
    [];
  const pushed = details.find((d) => d.imageDigest === push.digest);
  const superseded = new Map<string, Digest>();
  for (const tag of push.tags) {
    const tagged = details.find((d) => d.imageTags?.includes(tag));
    const now = tagged?.imageDigest;
    if (!pushed || !now || now === push.digest || !isDigest(now)) continue;
    if (!tagged.imagePushedAt || !pushed.imagePushedAt || tagged.imagePushedAt > pushed.imagePushedAt)
      superseded.set(tag, now);
  }
  const scan = scanStateOf(pushed);
  return {
    superseded,
    ...(scan ? { scan } : {}),
    ...(pushed?.imagePushedAt ? { pushedAt: pushed.imagePushedAt } : {}),
  };
}

/**
 * The pushes a push trigger stands for: its tag (and, from a scan event, the image's other tags), less those a newer
 * push moved on, each with the image's scan and push time as read now. Empty: every tag moved on (`superseded`).
 */
export function livePushes(
  push: ImagePush & { tag: string },
  otherTags: readonly string[],
  now: PushedImageNow,
): { pushes: (ImagePush & { tag: string })[]; superseded?: { tag: string; digest: Digest } } {
  const pushes: (ImagePush & { tag: string })[] = [];
  let superseded: { tag: string; digest: Digest } | undefined;
  for (const tag of [push.tag, ...otherTags]) {
    const newer = now.superseded.get(tag);
    if (newer) {
      superseded ??= { tag, digest: newer };
      continue;
    }
    const pushedAt = push.pushedAt ?? now.pushedAt;
    pushes.push({ ...push, tag, ...(pushedAt ? { pushedAt } : {}), ...(now.scan ? { scan: now.scan } : {}) });
  }
  return { pushes, ...(pushes.length === 0 && superseded ? { superseded } : {}) };
}

/**
 * Pushes as ECR has them now, each tagged one read with describePushedImage: with its scan as it is now, or the
 * first a newer push moved its tag on from (a held push planned again must not pin an older digest).
 */
export async function pushesNow(
  ecr: ECRClient,
  pushes: readonly ImagePush[],
): Promise<{ pushes: ImagePush[] } | { superseded: { tag: string; digest: Digest } }> {
  const out: ImagePush[] = [];
  for (const p of pushes) {
    if (p.tag === undefined) {
      out.push(p);
      continue;
    }
    const now = await describePushedImage(ecr, { ...p, tags: [p.tag] });
    const newer = now.superseded.get(p.tag);
    if (newer) return { superseded: { tag: p.tag, digest: newer } };
    out.push(now.scan ? { ...p, scan: now.scan } : p);
  }
  return { pushes: out };
}

/** Every tag of the repository as a candidate push (one per tag), newest first. */
export async function describeTaggedImages(ecr: ECRClient, repository: RepositoryRef): Promise<ImagePush[]> {
  const pushes: ImagePush[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecr.send(
      new DescribeImagesCommand({
        registryId: repository.accountId,
        repositoryName: repository.repositoryName,
        filter: { tagStatus: 'TAGGED' },
        maxResults: 1000,
        nextToken,
      }),
    );
    for (const image of page.imageDetails ?? []) {
      if (!image.imageDigest || !isDigest(image.imageDigest)) continue;
      // The scan rides along: the reconcile's gate reads it from this same page (a scan event that never came).
      const scan = scanStateOf(image);
      for (const tag of image.imageTags ?? []) {
        pushes.push({
          repository,
          tag,
          digest: image.imageDigest,
          ...(image.imagePushedAt ? { pushedAt: image.imagePushedAt } : {}),
          ...(scan ? { scan } : {}),
        });
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return pushes.sort((a, b) => (a.pushedAt?.getTime() ?? 0) - (b.pushedAt?.getTime() ?? 0));
}

/**
 * Reconcile's candidate pushes: the tags of every ECR repository the given images (those `isRelevant` keeps)
 * come from, each repository read once. A repository that cannot be read is a failure, not a stop.
 */
export async function reconcilePushes(
  ecr: ECRClient,
  images: Iterable<string>,
  isRelevant: (image: string) => boolean,
): Promise<{ pushes: ImagePush[]; failures: { item: string; error: string }[] }> {
  const repos = new Map<string, RepositoryRef>();
  for (const image of images) {
    const repo = isRelevant(image) ? ecrRepositoryOf(image) : undefined;
    if (repo) repos.set(repositoryKey(repo), repo);
  }
  const pushes: ImagePush[] = [];
  const failures: { item: string; error: string }[] = [];
  for (const [key, repo] of repos) {
    try {
      pushes.push(...(await describeTaggedImages(ecr, repo)));
    } catch (err) {
      failures.push({ item: `repository ${key}`, error: errorMessage(err) });
    }
  }
  return { pushes, failures };
}
