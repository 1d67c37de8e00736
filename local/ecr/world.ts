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

export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const ScanFindingSchema = z
  .object({
    /** A CVE id, as basic scanning names its findings. */
    name: z.string().min(1).max(256),
    severity: z.enum(SEVERITIES),
    uri: z.string().min(1).optional(),
    description: z.string().optional(),
    /** The package and its version (basic scanning's `package_name` and `package_version` attributes). */
    package: z.string().min(1).optional(),
    version: z.string().min(1).optional(),
  })
  .strict();

/** What a scan of an image finds (or why it fails): by digest, or by a tag the image has when its scan ends. */
export const ScanFindingsSchema = z
  .object({
    tag: z.string().min(1).max(300).optional(),
    digest: z
      .string()
      .regex(/^sha256:[a-f0-9]{64}$/, 'must be a sha256 digest')
      .optional(),
    /** COMPLETE (default), or a scan that fails: FAILED or UNSUPPORTED_IMAGE, with `description`. */
    status: z.enum(['COMPLETE', 'FAILED', 'UNSUPPORTED_IMAGE']).default('COMPLETE'),
    description: z.string().min(1).optional(),
    /** A few findings, listed in DescribeImageScanFindings. */
    findings: z.array(ScanFindingSchema).default([]),
    /** Counts per severity when there are more than listed (default: the listed findings counted). */
    severityCounts: z.partialRecord(z.enum(SEVERITIES), z.number().int().nonnegative()).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if ((s.tag === undefined) === (s.digest === undefined))
      ctx.addIssue({ code: 'custom', message: 'name the image by exactly one of tag or digest' });
    for (const severity of SEVERITIES) {
      const listed = s.findings.filter((f) => f.severity === severity).length;
      const counted = s.severityCounts?.[severity];
      if (counted !== undefined && counted < listed)
        ctx.addIssue({
          code: 'custom',
          path: ['severityCounts', severity],
          message: `${counted} is fewer than the ${listed} ${severity} findings listed`,
        });
    }
  });
export type ScanFindings = z.infer<typeof ScanFindingsSchema>;

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
    /** Basic scanning on push: each pushed image is scanned (its world images count as scanned already). */
    scanOnPush: z.boolean().default(false),
    /** What scans of its images find: by tag or digest; an image with none declared scans clean. */
    scanFindings: z.array(ScanFindingsSchema).default([]),
    /** Pushed in order, oldest first, so tags move the way they would have. */
    images: z.array(EcrWorldImageSchema).default([]),
  })
  .strict();

/** A registry's replication configuration, as PutReplicationConfiguration sets it. */
export const EcrWorldReplicationSchema = z
  .object({
    /** The source registry's account and region; the world's when absent. */
    accountId: z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
    region: z.string().min(1).optional(),
    rules: z
      .array(
        z
          .object({
            /** Where to: a region, and a registry (account) that defaults to the source's. */
            destinations: z
              .array(
                z
                  .object({
                    region: z.string().min(1),
                    registryId: z
                      .string()
                      .regex(/^\d{12}$/)
                      .optional(),
                  })
                  .strict(),
              )
              .min(1)
              .max(25),
            /** Repository name prefixes (PREFIX_MATCH); every repository when absent. */
            repositoryFilters: z.array(z.string().min(2).max(256)).min(1).max(100).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(10),
  })
  .strict();

export const EcrWorldSchema = z
  .object({
    repositories: z.array(EcrWorldRepositorySchema).default([]),
    /** Replication configurations per registry: images pushed after start-up replicate (world images do not). */
    replication: z.array(EcrWorldReplicationSchema).default([]),
    /** Simulated seconds from a push to its replicas and their `ECR Replication Action` events. */
    replicationSeconds: z.number().min(0).max(3600).default(10),
    /** Simulated seconds a basic scan takes, from push (or StartImageScan) to its result and event. */
    scanSeconds: z.number().min(0).max(3600).default(30),
  })
  .strict();

export type EcrWorld = z.input<typeof EcrWorldSchema>;
export type EcrWorldImage = z.infer<typeof EcrWorldImageSchema>;
