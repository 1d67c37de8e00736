/**
 * Container image references: `[registry/]repository[:tag][@sha256:digest]`.
 * ECR registries are `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`; anything else is a
 * foreign image that harborpilot reads but never matches against an ECR push.
 */

/** An OCI content digest, `algorithm:encoded` (sha256 almost always). */
export type Digest = `${string}:${string}`;

export interface ImageRef {
  /** Registry host (with port, if any); undefined for Docker Hub short names like `nginx`. */
  registry?: string;
  repository: string;
  tag?: string;
  digest?: Digest;
  /** Set when the registry is an ECR private registry. */
  ecr?: { accountId: string; region: string };
}

export class ImageRefError extends Error {
  constructor(
    readonly image: string,
    reason: string,
  ) {
    super(`invalid image reference "${image}": ${reason}`);
    this.name = 'ImageRefError';
  }
}

const ECR_HOST = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;
// The OCI image spec's digest grammar (descriptor.md): algorithm components joined by + . _ -, then an
// encoded part. Not a fixed sha256 length: AWS's own sample ECR event carries a 60-character digest, and
// registries may use sha512 or other algorithms; a digest is compared as a whole string, never decoded.
export const OCI_DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const DIGEST = OCI_DIGEST;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

export function isDigest(value: string): value is Digest {
  return DIGEST.test(value);
}

export function parseImageRef(image: string): ImageRef {
  if (image.trim() !== image || image === '') throw new ImageRefError(image, 'empty or padded with spaces');
  let rest = image;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d))
      throw new ImageRefError(image, `digest "${d}" is not algorithm:encoded (e.g. sha256:<hex>)`);
    digest = d;
    rest = rest.slice(0, at);
  }
  // The first path part is a registry when it looks like a host: has a dot or a numeric port, or is localhost.
  let registry: string | undefined;
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || /:\d+$/.test(first) || first === 'localhost') {
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new ImageRefError(image, `tag "${tag}" is not a valid tag`);
  }
  if (!REPOSITORY.test(rest)) throw new ImageRefError(image, `repository "${rest}" is not a valid name`);
  const ref: ImageRef = { repository: rest };
  if (registry !== undefined) {
    ref.registry = registry;
    const m = ECR_HOST.exec(registry);
    if (m?.[1] && m[2]) ref.ecr = { accountId: m[1], region: m[2] };
  }
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

export function formatImageRef(ref: Omit<ImageRef, 'ecr'>): string {
  let s = ref.registry ? `${ref.registry}/${ref.repository}` : ref.repository;
  if (ref.tag) s += `:${ref.tag}`;
  if (ref.digest) s += `@${ref.digest}`;
  return s;
}

export function ecrRegistryHost(accountId: string, region: string): string {
  return `${accountId}.dkr.ecr.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** Identifies one ECR repository across accounts and regions. */
export interface RepositoryRef {
  accountId: string;
  region: string;
  repositoryName: string;
}

export function isInRepository(ref: ImageRef, repo: RepositoryRef): boolean {
  return (
    ref.ecr !== undefined &&
    ref.ecr.accountId === repo.accountId &&
    ref.ecr.region === repo.region &&
    ref.repository === repo.repositoryName
  );
}

/** The ECR repository an image lives in; undefined for other registries and for references that do not parse. */
export function ecrRepositoryOf(image: string): RepositoryRef | undefined {
  try {
    const ref = parseImageRef(image);
    return ref.ecr ? { ...ref.ecr, repositoryName: ref.repository } : undefined;
  } catch {
    return undefined;
  }
}

export function repositoryKey(repo: RepositoryRef): string {
  return `${repo.accountId}/${repo.region}/${repo.repositoryName}`;
}
