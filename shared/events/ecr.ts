/** `ECR Image Action` from aws.ecr, as EventBridge delivers it. */
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
