/**
 * `ECR Image Action` and `ECR Image Scan` from aws.ecr, and Amazon Inspector's `Inspector2 Scan` (the end of an
 * enhanced scan's first scan of an image), as EventBridge delivers them.
 */

import { OCI_DIGEST } from '../image-ref';
import * as z from '../zod';
import { envelope } from './envelope';

export const EcrImageActionDetail = z.object({
  'action-type': z.enum(['PUSH', 'DELETE']),
  result: z.enum(['SUCCESS', 'FAILURE']),
  'repository-name': z.string().check(z.minLength(2)),
  'image-digest': z
    .string()
    .check(z.regex(OCI_DIGEST, 'must be a digest, algorithm:encoded (e.g. sha256:<hex>)')),
  // Absent for untagged pushes: multi-arch children, attestations.
  'image-tag': z.optional(z.string().check(z.minLength(1))),
  'manifest-media-type': z.optional(z.string()),
  'artifact-media-type': z.optional(z.string()),
});

export const EcrImageActionEvent = envelope('aws.ecr', 'ECR Image Action', EcrImageActionDetail);
export type EcrImageActionEvent = z.infer<typeof EcrImageActionEvent>;

/**
 * `ECR Replication Action` from aws.ecr: an image replicated into this account and Region (cross-Region or
 * cross-account replication), sent in the destination with the source's account and Region (ECR user guide,
 * "Amazon ECR events and EventBridge"). The replica is a push there: workloads that pull it move to it.
 */
export const EcrReplicationActionDetail = z.object({
  'action-type': z.string().check(z.minLength(1)),
  result: z.enum(['SUCCESS', 'FAILURE']),
  'repository-name': z.string().check(z.minLength(2)),
  'image-digest': z
    .string()
    .check(z.regex(OCI_DIGEST, 'must be a digest, algorithm:encoded (e.g. sha256:<hex>)')),
  'image-tag': z.optional(z.string().check(z.minLength(1))),
  'source-account': z.optional(z.string()),
  'source-region': z.optional(z.string()),
});

export const EcrReplicationActionEvent = envelope(
  'aws.ecr',
  'ECR Replication Action',
  EcrReplicationActionDetail,
);

/**
 * `ECR Image Scan` from aws.ecr: a scan ended (ECR user guide, "Amazon ECR events and EventBridge"). Counts come
 * only for severities found; `image-tags` are the image's tags when the scan ended (none for an untagged image).
 */
export const EcrImageScanDetail = z.object({
  'scan-status': z.string().check(z.minLength(1)),
  'repository-name': z.string().check(z.minLength(2)),
  'image-digest': z
    .string()
    .check(z.regex(OCI_DIGEST, 'must be a digest, algorithm:encoded (e.g. sha256:<hex>)')),
  'image-tags': z._default(z.array(z.string().check(z.minLength(1))), []),
  'finding-severity-counts': z.optional(z.record(z.string(), z.int().check(z.gte(0)))),
});

export const EcrImageScanEvent = envelope('aws.ecr', 'ECR Image Scan', EcrImageScanDetail);
export type EcrImageScanEvent = z.infer<typeof EcrImageScanEvent>;

/**
 * `Inspector2 Scan` from aws.inspector2: enhanced scanning's first scan of an image ended (ECR user guide, "EventBridge
 * events sent for enhanced scanning"). AWS's example gives the repository's ARN in `repository-name`, so either form
 * is read (trigger.ts); the counts include a `TOTAL`.
 */
// The same fields as ECR's own scan event; only the repository name's form differs (see trigger.ts).
export const InspectorScanDetail = EcrImageScanDetail;

export const InspectorScanEvent = envelope('aws.inspector2', 'Inspector2 Scan', InspectorScanDetail);
export type InspectorScanEvent = z.infer<typeof InspectorScanEvent>;
