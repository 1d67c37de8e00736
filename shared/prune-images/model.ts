/** What pruneImages knows about a repository and what it decides: the input and output of the pure plan. */
import type { Digest, RepositoryRef } from '../image-ref';

/** One image of a repository, as DescribeImages (and BatchGetImage, for indexes) report it. */
export interface EcrImage {
  digest: Digest;
  tags: string[];
  pushedAt: Date;
  /** ECR's `lastRecordedPullTime` (refreshed at least once every 24 hours); absent for an image never pulled. */
  lastPulledAt?: Date;
  /** For an index ECR reports its largest child; bytes freed count only non-index images. */
  sizeBytes: number;
  /** `imageManifestMediaType`, e.g. an OCI image index or a Docker manifest list. */
  mediaType?: string;
  /** `artifactMediaType`: set for signatures, attestations, SBOMs. */
  artifactMediaType?: string;
  /** OCI 1.1 referrers: the image this artifact is about (`subjectManifestDigest`). */
  subjectDigest?: Digest;
  /** Manifests an index references (read with BatchGetImage); undefined for non-index images. */
  children?: Digest[];
}

export interface PruneRules {
  keepLast: number;
  keepDays: number;
  protectTags: string[];
  /** null: untagged images follow keepDays like the others. */
  expireUntaggedAfterDays: number | null;
}

export interface RepositoryImages {
  repository: RepositoryRef;
  rules: PruneRules;
  images: EcrImage[];
}

/** Why an image is kept. Every kept image carries at least one. */
export type KeepReason =
  | { rule: 'in-use'; detail: string }
  | { rule: 'protected-tag'; detail: string }
  | { rule: 'keep-days'; detail: string }
  | { rule: 'keep-last'; detail: string }
  | { rule: 'untagged-recent'; detail: string }
  | { rule: 'child-of-kept-index'; detail: string }
  | { rule: 'attached-to-kept-image'; detail: string }
  | { rule: 'with-kept-image'; detail: string };

export interface KeptImage {
  image: EcrImage;
  reasons: KeepReason[];
}

export interface DeletedImage {
  image: EcrImage;
  /** Why nothing kept it, for the human reading the plan. */
  why: string;
  /**
   * Deletion wave: ECR refuses to delete a manifest an index references even when the index is in the same
   * request, so indexes (and the artifacts about an image) go in an earlier wave than what they reference.
   */
  wave: number;
}

export interface RepositoryPlan {
  repository: RepositoryRef;
  rules: PruneRules;
  kept: KeptImage[];
  deleted: DeletedImage[];
  bytesFreed: number;
}

export interface PrunePlan {
  now: Date;
  repositories: RepositoryPlan[];
  totals: { images: number; kept: number; deleted: number; bytesFreed: number };
}

/** Digests in use, each with the places that use it (for the reasons in the plan). */
export type InUseSet = ReadonlyMap<Digest, readonly string[]>;
