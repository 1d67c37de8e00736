/**
 * Deletes a repository's planned images: wave by wave (an index before its children), 100 ids a call,
 * reading the per-image `failures[]` BatchDeleteImage returns instead of throwing. An image already gone is
 * not a failure: a retried or repeated run reaches the same end state.
 */
import {
  BatchDeleteImageCommand,
  type BatchDeleteImageCommandOutput,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { errorMessage } from '../errors';
import type { Digest } from '../image-ref';
import type { DeletedImage } from './model';
import type { Repository } from './read';

export const BATCH_DELETE_MAX = 100;

export interface DeleteFailure {
  digest: Digest;
  code: string;
  reason: string;
}

export interface DeleteResult {
  repositoryName: string;
  deleted: Digest[];
  alreadyGone: Digest[];
  failures: DeleteFailure[];
}

export async function deleteImages(
  ecr: ECRClient,
  repo: Repository,
  planned: readonly DeletedImage[],
): Promise<DeleteResult> {
  const result: DeleteResult = {
    repositoryName: repo.repositoryName,
    deleted: [],
    alreadyGone: [],
    failures: [],
  };
  const waves = new Map<number, Digest[]>();
  for (const p of planned) {
    const list = waves.get(p.wave);
    if (list) list.push(p.image.digest);
    else waves.set(p.wave, [p.image.digest]);
  }
  for (const wave of [...waves.keys()].sort((a, b) => a - b)) {
    const digests = waves.get(wave) ?? [];
    for (let i = 0; i < digests.length; i += BATCH_DELETE_MAX) {
      const batch = digests.slice(i, i + BATCH_DELETE_MAX);
      let out: BatchDeleteImageCommandOutput;
      try {
        out = await ecr.send(
          new BatchDeleteImageCommand({
            registryId: repo.registryId,
            repositoryName: repo.repositoryName,
            imageIds: batch.map((imageDigest) => ({ imageDigest })),
          }),
        );
      } catch (err) {
        // The whole call failed (after the SDK's retries): every image of the batch is reported.
        const reason = errorMessage(err);
        const code = (err as Error).name ?? 'Error';
        for (const digest of batch) result.failures.push({ digest, code, reason });
        continue;
      }
      for (const id of out.imageIds ?? []) {
        if (id.imageDigest) result.deleted.push(id.imageDigest as Digest);
      }
      for (const f of out.failures ?? []) {
        const digest = (f.imageId?.imageDigest ?? '?') as Digest;
        if (f.failureCode === 'ImageNotFound') result.alreadyGone.push(digest);
        else
          result.failures.push({ digest, code: f.failureCode ?? 'Unknown', reason: f.failureReason ?? '' });
      }
    }
  }
  // A digest with several tags can be listed once per tag in imageIds: count each image once.
  result.deleted = [...new Set(result.deleted)];
  return result;
}
