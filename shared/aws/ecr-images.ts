/** Reads the tagged images of ECR repositories: what a tag points to now, and every tag for reconcile runs. */
import { DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { errorMessage } from '../errors';
import type { ImagePush } from '../events/image-push';
import { type Digest, ecrRepositoryOf, isDigest, type RepositoryRef, repositoryKey } from '../image-ref';

/**
 * The digest a pushed tag points to now, or undefined when ECR has no such tag (deleted since) or names no
 * digest. A push event can arrive late (a Lambda retry, a slow delivery) after the tag moved on.
 */
export async function currentTagDigest(
  ecr: ECRClient,
  push: Pick<ImagePush, 'repository'> & { tag: string },
): Promise<Digest | undefined> {
  try {
    const out = await ecr.send(
      new DescribeImagesCommand({
        registryId: push.repository.accountId,
        repositoryName: push.repository.repositoryName,
        imageIds: [{ imageTag: push.tag }],
      }),
    );
    const digest = out.imageDetails?.[0]?.imageDigest;
    return digest && isDigest(digest) ? digest : undefined;
  } catch (err) {
    if ((err as { name?: string }).name === 'ImageNotFoundException') return undefined;
    throw err;
  }
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
