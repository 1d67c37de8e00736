/** Which images a held push's release looks at: those of the pushed repositories. */
import type { ImagePush } from '../events/image-push';
import { ecrRepositoryOf, repositoryKey } from '../image-ref';

export function ecsRepositoryImages(pushes: readonly ImagePush[]): (image: string) => boolean {
  const keys = new Set(pushes.map((p) => repositoryKey(p.repository)));
  return (image) => {
    const repo = ecrRepositoryOf(image);
    return repo !== undefined && keys.has(repositoryKey(repo));
  };
}
