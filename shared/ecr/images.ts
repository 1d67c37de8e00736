/** Reads the tagged images of ECR repositories, for reconcile runs. */
import { DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import type { ImagePush } from '../ecs/model';
import { isDigest, type RepositoryRef } from '../image-ref';

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
