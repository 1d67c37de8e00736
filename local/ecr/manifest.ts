/**
 * Image manifests as ECR stores them: the digest is the sha256 of the exact bytes pushed, so the
 * manifest text is kept verbatim and only read here for what ECR derives from it (media types,
 * size, index children, OCI `subject`).
 */
import { createHash } from 'node:crypto';
import { AwsServiceError } from '../errors';
import type { Digest } from '../image-reference';

export const MediaType = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifestV1: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  cosignSimpleSigning: 'application/vnd.dev.cosign.simplesigning.v1+json',
  inToto: 'application/vnd.in-toto+json',
} as const;

const INDEX_TYPES: ReadonlySet<string> = new Set([MediaType.ociIndex, MediaType.dockerManifestList]);

export function isIndexMediaType(mediaType: string): boolean {
  return INDEX_TYPES.has(mediaType);
}

export function sha256Digest(bytes: string): Digest {
  return `sha256:${createHash('sha256').update(bytes, 'utf8').digest('hex')}`;
}

/** What ECR derives from a manifest's text. */
export interface ParsedManifest {
  manifestMediaType: string;
  /** `artifactType`, else the config's media type; absent for indexes without artifactType. */
  artifactMediaType?: string;
  /** Sum of the layer sizes (image manifests); 0 for indexes, whose size ECR takes from their children. */
  layerBytes: number;
  /** Digests an index references; each must already be in the repository. */
  children: Digest[];
  /** OCI 1.1 `subject`: this manifest is a referrer (signature, attestation, SBOM) of that digest. */
  subject?: Digest;
}

interface Descriptor {
  mediaType?: unknown;
  digest?: unknown;
  size?: unknown;
}

interface RawManifest {
  schemaVersion?: unknown;
  mediaType?: unknown;
  artifactType?: unknown;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
  subject?: Descriptor;
}

const invalidManifest = (reason: string) =>
  new AwsServiceError(
    'InvalidParameterException',
    `Invalid parameter at 'imageManifest' failed to satisfy constraint: '${reason}'`,
  );

/**
 * Parses a manifest as PutImage does. `declaredMediaType` is `imageManifestMediaType` from the
 * request; it must agree with the manifest's own `mediaType` when both are present.
 */
export function parseManifest(text: string, declaredMediaType?: string): ParsedManifest {
  let raw: RawManifest;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    raw = value as RawManifest;
  } catch {
    throw invalidManifest('Invalid JSON syntax');
  }
  const own = typeof raw.mediaType === 'string' ? raw.mediaType : undefined;
  if (own && declaredMediaType && own !== declaredMediaType) {
    throw new AwsServiceError(
      'InvalidParameterException',
      `Invalid parameter at 'ImageManifestMediaType' failed to satisfy constraint: 'Manifest media type '${own}' does not match '${declaredMediaType}''`,
    );
  }
  const manifestMediaType = own ?? declaredMediaType ?? inferMediaType(raw);
  const parsed: ParsedManifest = { manifestMediaType, layerBytes: 0, children: [] };
  if (isIndexMediaType(manifestMediaType)) {
    if (!Array.isArray(raw.manifests)) throw invalidManifest('Image index must have a manifests array');
    parsed.children = raw.manifests.map((m) => descriptorDigest(m, 'manifests'));
  } else {
    for (const layer of raw.layers ?? []) {
      if (typeof layer.size === 'number' && layer.size >= 0) parsed.layerBytes += layer.size;
    }
  }
  const artifact =
    typeof raw.artifactType === 'string'
      ? raw.artifactType
      : typeof raw.config?.mediaType === 'string'
        ? raw.config.mediaType
        : undefined;
  if (artifact) parsed.artifactMediaType = artifact;
  if (raw.subject !== undefined) parsed.subject = descriptorDigest(raw.subject, 'subject');
  return parsed;
}

function inferMediaType(raw: RawManifest): string {
  if (raw.schemaVersion === 1) return MediaType.dockerManifestV1;
  if (Array.isArray(raw.manifests)) return MediaType.ociIndex;
  return raw.config?.mediaType === MediaType.dockerConfig ? MediaType.dockerManifest : MediaType.ociManifest;
}

function descriptorDigest(d: Descriptor, field: string): Digest {
  if (typeof d?.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(d.digest)) {
    throw invalidManifest(`Invalid digest in ${field}`);
  }
  return d.digest as Digest;
}
