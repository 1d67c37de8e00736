/** `ECR Image Action` and `ECR Image Scan` from aws.ecr, as EventBridge delivers them. */
import * as z from 'zod';
import { OCI_DIGEST } from '../image-ref';
import { envelope } from './envelope';

export const EcrImageActionDetail = z.object({
  'action-type': z.enum(['PUSH', 'DELETE']),
  result: z.enum(['SUCCESS', 'FAILURE']),
  'repository-name': z.string().min(2),
  'image-digest': z.string().regex(OCI_DIGEST, 'must be a digest, algorithm:encoded (e.g. sha256:<hex>)'),
  // Absent for untagged pushes: multi-arch children, attestations.
  'image-tag': z.string().min(1).optional(),
  'manifest-media-type': z.string().optional(),
  'artifact-media-type': z.string().optional(),
});

export const EcrImageActionEvent = envelope('aws.ecr', 'ECR Image Action', EcrImageActionDetail);
export type EcrImageActionEvent = z.infer<typeof EcrImageActionEvent>;

/**
 * `ECR Image Scan` from aws.ecr: a scan ended (ECR user guide, "Amazon ECR events and EventBridge"). Counts come
 * only for severities found; `image-tags` are the image's tags when the scan ended (none for an untagged image).
 */
export const EcrImageScanDetail = z.object({
  'scan-status': z.string().min(1),
  'repository-name': z.string().min(2),
  'image-digest': z.string().regex(OCI_DIGEST, 'must be a digest, algorithm:encoded (e.g. sha256:<hex>)'),
  'image-tags': z.array(z.string().min(1)).default([]),
  'finding-severity-counts': z.record(z.string(), z.number().int().nonnegative()).optional(),
});

export const EcrImageScanEvent = envelope('aws.ecr', 'ECR Image Scan', EcrImageScanDetail);
export type EcrImageScanEvent = z.infer<typeof EcrImageScanEvent>;
