/**
 * The `ecr` section of a world file: repositories and the images already in them. Images are
 * described, not hand-written: each becomes real manifests through `EcrBackend.pushImage`, so their
 * digests are what PutImage would compute.
 */
import * as z from 'zod';

const Platform = z.string().regex(/^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/, 'must look like linux/amd64');

export const EcrWorldImageSchema = z
  .object({
    /** Tags of the image; none makes an untagged image. */
    tag: z.string().min(1).max(300).optional(),
    tags: z.array(z.string().min(1).max(300)).optional(),
    /** Multi-arch: an index (tagged) over one untagged image manifest per platform. */
    platforms: z.array(Platform).min(1).optional(),
    /** Sum of the layer sizes of each image manifest. */
    sizeBytes: z.number().int().nonnegative().optional(),
    /** Age of the push, in days before the world's start time. */
    pushedDaysAgo: z.number().nonnegative().optional(),
    /** Absolute push time (wins over pushedDaysAgo). */
    pushedAt: z.coerce.date().optional(),
    /** A cosign signature, stored as an artifact tagged `sha256-<hex>.sig`. */
    signature: z.boolean().optional(),
    /** An OCI 1.1 referrer (in-toto attestation, untagged, with `subject`). */
    attestation: z.boolean().optional(),
    /** Makes the digests differ from another image with the same fields. */
    seed: z.string().optional(),
  })
  .strict();

export const EcrWorldRepositorySchema = z
  .object({
    name: z.string().min(2).max(256),
    accountId: z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
    region: z.string().min(1).optional(),
    /** Repository tags, e.g. per-repository pruning overrides read by pruneImages. */
    tags: z.record(z.string(), z.string()).default({}),
    imageTagMutability: z.enum(['MUTABLE', 'IMMUTABLE']).default('MUTABLE'),
    /** Pushed in order, oldest first, so tags move the way they would have. */
    images: z.array(EcrWorldImageSchema).default([]),
  })
  .strict();

export const EcrWorldSchema = z
  .object({
    repositories: z.array(EcrWorldRepositorySchema).default([]),
  })
  .strict();

export type EcrWorld = z.input<typeof EcrWorldSchema>;
export type EcrWorldImage = z.infer<typeof EcrWorldImageSchema>;
