/** Builders for prune tests: readable images with stable fake digests. */
import type { EcrImage, PruneRules, RepositoryImages } from '../../../shared/ecr/prune-model';
import type { Digest } from '../../../shared/image-ref';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const REG = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;
export const NOW = new Date('2026-11-25T10:00:00Z');
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** A digest that shows its name in failures: `d('api-1')` → sha256:<hex of the name, padded>. */
export function d(name: string): Digest {
  const hex = Buffer.from(name).toString('hex').slice(0, 64);
  return `sha256:${hex.padEnd(64, '0')}`;
}

export const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000);

export function image(name: string, days: number, opts: Partial<EcrImage> = {}): EcrImage {
  return {
    digest: d(name),
    tags: [],
    pushedAt: daysAgo(days),
    sizeBytes: 10_000_000,
    mediaType: OCI_MANIFEST,
    ...opts,
  };
}

export const RULES: PruneRules = {
  keepLast: 2,
  keepDays: 7,
  protectTags: ['latest', 'prod*', 'v*'],
  expireUntaggedAfterDays: null,
};

export function repo(
  images: EcrImage[],
  rules: Partial<PruneRules> = {},
  repositoryName = 'shop/api',
): RepositoryImages {
  return {
    repository: { accountId: ACCOUNT, region: REGION, repositoryName },
    rules: { ...RULES, ...rules },
    images,
  };
}
