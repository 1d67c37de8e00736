/** Manifest media types and the cosign tag scheme that tell indexes and attached artifacts apart. */
import type { Digest } from '../image-ref';

export const INDEX_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);

export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && INDEX_MEDIA_TYPES.has(mediaType);
}

/** cosign stores signatures, attestations and SBOMs under `sha256-<hex>.sig|.att|.sbom` tags of their subject. */
const COSIGN_TAG = /^sha256-([a-f0-9]{64})\.(sig|att|sbom)$/;

/** The subject digest a cosign-style tag points at, if the tag is one. */
export function cosignSubject(tag: string): Digest | undefined {
  const m = COSIGN_TAG.exec(tag);
  return m?.[1] ? `sha256:${m[1]}` : undefined;
}

export function isCosignTag(tag: string): boolean {
  return COSIGN_TAG.test(tag);
}
