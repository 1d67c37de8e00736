/** Reads the tagged images of ECR repositories: what a tag points to now, and every tag for reconcile runs. */
import { DescribeImagesCommand, type ECRClient, type ImageDetail } from '@aws-sdk/client-ecr';
import { errorMessage } from '../errors';
import type { ImagePush } from '../events/image-push';
import { type Digest, ecrRepositoryOf, isDigest, type RepositoryRef, repositoryKey } from '../image-ref';

/**
 * The digest of a newer push that moved the pushed tag on, or undefined. A push event can arrive late (a slow
 * delivery, a Lambda retry) after the tag was pushed again: ECR then holds both images, the tag on the newer
 * one. Undefined when the tag still names the pushed digest, when ECR knows only one of them (a deleted tag or
 * image, an event written by hand), or when the tag went back to an older image (a re-tag is a push of its own).
 */
export async function supersedingDigest(
  ecr: ECRClient,
  push: Pick<ImagePush, 'repository' | 'digest'> & { tag: string },
): Promise<Digest | undefined> {
  let details: ImageDetail[];
  try {
    const out = await ecr.send(
      new DescribeImagesCommand({
        registryId: push.repository.accountId,
        repositoryName: push.repository.repositoryName,
        imageIds: [{ imageTag: push.tag }, { imageDigest: push.digest }],
      }),
    );
    details = out.imageDetails ?? [];
  } catch (err) {
    if ((err as { name?: string }).name === 'ImageNotFoundException') return undefined;
    throw err;
  }
  const pushed = details.find((d) => d.imageDigest === push.digest);
  const tagged = details.find((d) => d.imageTags?.includes(push.tag));
  const now = tagged?.imageDigest;
  if (!pushed || !now || now === push.digest || !isDigest(now)) return undefined;
  const newer = !tagged.imagePushedAt || !pushed.imagePushedAt || tagged.imagePushedAt > pushed.imagePushedAt;
  return newer ? now : undefined;
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
      for (const tag of image.imageTags ?? []) {
        pushes.push({
          repository,
          tag,
          digest: image.imageDigest,
          ...(image.imagePushedAt ? { pushedAt: image.imagePushedAt } : {}),
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
