/** Reads the tagged images of ECR repositories, for reconcile runs. */
import { DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { errorMessage } from '../errors';
import type { ImagePush } from '../events/image-push';
import { ecrRepositoryOf, isDigest, type RepositoryRef, repositoryKey } from '../image-ref';

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
