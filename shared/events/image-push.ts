/** What every push path hands the plans: a pushed image from an ECR event, or each tag of a repository (reconcile). */
import type { Digest, RepositoryRef } from '../image-ref';
import type { ImageScanState } from '../scan/severity';

/** A pushed image (from the event), or every tag of a repository (reconcile). */
export interface ImagePush {
  repository: RepositoryRef;
  tag?: string;
  digest: Digest;
  pushedAt?: Date;
  /** The image's ECR scan, as read with it (none: the repository does not scan it): what the scan gate judges. */
  scan?: ImageScanState;
}
