/** `ECR Image Action` from aws.ecr, as EventBridge delivers it. */

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
