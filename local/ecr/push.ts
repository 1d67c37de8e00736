/**
 * Pushes images the way `docker buildx` and `cosign` would, without anyone writing manifests: an
 * image manifest per platform, an index over them when multi-arch, a cosign signature tagged
 * `sha256-<hex>.sig`, an OCI 1.1 attestation with `subject`. Everything goes through PutImage, so
 * digests, sizes and events are exactly what the API computes.
 */

import type { Scope } from '../aws/store';
import type { Digest } from '../image-reference';
import type { EcrImages } from './images';
import { MediaType, sha256Digest } from './manifest';

export interface PushImageInput {
  repositoryName: string;
  accountId?: string;
  region?: string;
  tag?: string;
  /** More tags for the same image (the first one is pushed first). */
  tags?: string[];
  /** Two or more platforms → an index (tagged) over untagged per-platform manifests. */
  platforms?: string[];
  /** Sum of layer sizes of each image manifest; 30 MB by default. */
  sizeBytes?: number;
  pushedAt?: Date;
  signature?: boolean;
  attestation?: boolean;
  /** Distinguishes otherwise identical pushes; a counter is used when absent. */
  seed?: string;
  /** Emit `ECR Image Action` events (default true; world loading turns them off). */
  emit?: boolean;
}

export interface PushedImage {
  repositoryName: string;
  /** The digest the tag points to: the index for multi-arch pushes, else the image manifest. */
  digest: Digest;
  tags: string[];
  manifestMediaType: string;
  /** Per-platform image manifests of an index, untagged. */
  children: { platform: string; digest: Digest }[];
  signatureDigest?: Digest;
  attestationDigest?: Digest;
}

const DEFAULT_SIZE = 30 * 1024 * 1024;

export class ImagePusher {
  private counter = 0;

  constructor(
    private readonly images: EcrImages,
    private readonly defaults: Scope,
  ) {}

  push(input: PushImageInput): PushedImage {
    const scope: Scope = {
      accountId: input.accountId ?? this.defaults.accountId,
      region: input.region ?? this.defaults.region,
    };
    const seed = input.seed ?? `push-${++this.counter}`;
    const tags = [...(input.tag !== undefined ? [input.tag] : []), ...(input.tags ?? [])];
    const size = input.sizeBytes ?? DEFAULT_SIZE;
    const options = {
      ...(input.pushedAt ? { pushedAt: input.pushedAt } : {}),
      ...(input.emit !== undefined ? { emit: input.emit } : {}),
    };
    const put = (manifest: string, tag?: string): Digest =>
      this.images.put(
        scope,
        {
          repositoryName: input.repositoryName,
          imageManifest: manifest,
          ...(tag !== undefined ? { imageTag: tag } : {}),
        },
        options,
      ).digest;

    const platforms = input.platforms ?? [];
    const children: PushedImage['children'] = [];
    let top: string;
    let mediaType: string;
    if (platforms.length > 1) {
      const entries = platforms.map((platform) => {
        const manifest = imageManifest(`${input.repositoryName}/${seed}/${platform}`, size);
        const digest = put(manifest);
        children.push({ platform, digest });
        return {
          mediaType: MediaType.ociManifest,
          digest,
          size: Buffer.byteLength(manifest),
          platform: platformOf(platform),
        };
      });
      top = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: entries });
      mediaType = MediaType.ociIndex;
    } else {
      top = imageManifest(`${input.repositoryName}/${seed}/${platforms[0] ?? 'linux/amd64'}`, size);
      mediaType = MediaType.ociManifest;
    }
    const digest = tags.length === 0 ? put(top) : tags.map((t) => put(top, t))[0];
    const pushed: PushedImage = {
      repositoryName: input.repositoryName,
      digest: digest as Digest,
      tags,
      manifestMediaType: mediaType,
      children,
    };
    const subject = { mediaType, digest: pushed.digest, size: Buffer.byteLength(top) };
    if (input.signature) {
      pushed.signatureDigest = put(signatureManifest(seed), `${pushed.digest.replace(':', '-')}.sig`);
    }
    if (input.attestation) pushed.attestationDigest = put(attestationManifest(seed, subject));
    return pushed;
  }
}

function platformOf(platform: string) {
  const [os, architecture, variant] = platform.split('/');
  return { os, architecture, ...(variant ? { variant } : {}) };
}

function imageManifest(seed: string, size: number): string {
  // Two layers, like a base image plus an application layer; their sizes add up to `size`.
  const base = Math.floor(size * 0.7);
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: sha256Digest(`${seed}/config`), size: 1469 },
    layers: [
      { mediaType: MediaType.ociLayer, digest: sha256Digest(`${seed}/layer/0`), size: base },
      { mediaType: MediaType.ociLayer, digest: sha256Digest(`${seed}/layer/1`), size: size - base },
    ],
  });
}

function signatureManifest(seed: string): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: sha256Digest(`${seed}/sig-config`), size: 248 },
    layers: [
      {
        mediaType: MediaType.cosignSimpleSigning,
        digest: sha256Digest(`${seed}/sig-payload`),
        size: 256,
        annotations: { 'dev.cosignproject.cosign/signature': Buffer.from(seed).toString('base64') },
      },
    ],
  });
}

function attestationManifest(
  seed: string,
  subject: { mediaType: string; digest: string; size: number },
): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType: MediaType.inToto,
    config: { mediaType: MediaType.ociEmpty, digest: sha256Digest('{}'), size: 2 },
    layers: [{ mediaType: MediaType.inToto, digest: sha256Digest(`${seed}/attestation`), size: 4096 }],
    subject,
  });
}
