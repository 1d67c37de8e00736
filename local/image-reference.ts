/**
 * The local cloud's own reading of container image references (`[host[:port]/]path[:tag][@algorithm:hex]`, the
 * distribution reference grammar), as a registry and a container runtime read them. Written apart from the
 * product's parser on purpose: a bug in one is then seen by the tests that run the other against it.
 */

/** A content digest, `algorithm:hex`. ECR and containerd hand out sha256; a reference may name another. */
export type Digest = `${string}:${string}`;

export interface ImageReference {
  /** The registry host (with its port); undefined for a Docker Hub short name such as `nginx`. */
  host?: string;
  /** The path within the registry: the ECR repository name. */
  path: string;
  tag?: string;
  digest?: Digest;
  /** The account and Region of an ECR private registry host. */
  ecr?: { accountId: string; region: string };
}

export class ImageReferenceError extends Error {
  constructor(
    readonly reference: string,
    reason: string,
  ) {
    super(`invalid image reference "${reference}": ${reason}`);
    this.name = 'ImageReferenceError';
  }
}

// distribution/reference's digest: an algorithm, then at least 32 hex digits (so sha512 too).
const DIGEST_SOURCE = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const GRAMMAR = new RegExp(
  `^(?:(?<host>(?:[a-zA-Z0-9-]+\\.)*[a-zA-Z0-9-]+(?::\\d+)?)/)?` +
    `(?<path>${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)` +
    '(?::(?<tag>[\\w][\\w.-]{0,127}))?' +
    '(?:@(?<digest>' +
    DIGEST_SOURCE +
    '))?$',
);
const ECR_HOST = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

export function isDigest(value: string): value is Digest {
  return new RegExp(`^${DIGEST_SOURCE}$`).test(value);
}

/** Reads a reference; throws ImageReferenceError when it is not one. */
export function readImageReference(reference: string): ImageReference {
  const m = GRAMMAR.exec(reference);
  const groups = m?.groups;
  if (!groups?.path)
    throw new ImageReferenceError(reference, 'not [registry/]repository[:tag][@sha256:digest]');
  let { host, path } = groups;
  // A first component is a host only when it looks like one (a dot, a port, or localhost), as Docker reads it.
  if (host !== undefined && !(host.includes('.') || host.includes(':') || host === 'localhost')) {
    path = `${host}/${path}`;
    host = undefined;
    if (!new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`).test(path)) {
      throw new ImageReferenceError(reference, `repository "${path}" is not a valid name`);
    }
  }
  const out: ImageReference = { path };
  if (host !== undefined) {
    out.host = host;
    const ecr = ECR_HOST.exec(host);
    if (ecr?.[1] && ecr[2]) out.ecr = { accountId: ecr[1], region: ecr[2] };
  }
  if (groups.tag !== undefined) out.tag = groups.tag;
  if (groups.digest !== undefined) out.digest = groups.digest as Digest;
  return out;
}

/** The host of an account's private ECR registry in a Region. */
export function ecrRegistryHost(accountId: string, region: string): string {
  return `${accountId}.dkr.ecr.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** What containerd reports as a pulled image's id: the fully qualified repository (no tag) @ the digest. */
export function imageIdOf(reference: string, digest: string): string {
  try {
    const ref = readImageReference(reference);
    const host = ref.host ?? 'docker.io';
    const path = ref.host || ref.path.includes('/') ? ref.path : `library/${ref.path}`;
    return `${host}/${path}@${digest}`;
  } catch {
    return `${reference}@${digest}`;
  }
}
