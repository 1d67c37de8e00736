/**
 * ECR basic scanning: scan on push (a repository's `imageScanningConfiguration.scanOnPush`) and StartImageScan,
 * IN_PROGRESS for `scanSeconds` of simulated time, then COMPLETE with the findings declared for the image (world
 * file or admin API; none: a clean scan) or FAILED / UNSUPPORTED_IMAGE as declared, and AWS's `ECR Image Scan`
 * event. Serves DescribeImageScanFindings (paged), StartImageScan and PutImageScanningConfiguration; DescribeImages
 * shows each image's scan through `scanStatusView` and `findingsSummaryView`.
 */
import type {
  DescribeImageScanFindingsResponse,
  ImageScanFinding,
  ImageScanFindingsSummary,
  ImageScanStatus,
  PutImageScanningConfigurationResponse,
  StartImageScanResponse,
} from '@aws-sdk/client-ecr';
import { readPage, readRequest } from '../aws/request';
import { epochSeconds, type Wire } from '../aws/response';
import type { Scope } from '../aws/store';
import { AwsServiceError } from '../errors';
import type { LocalCloudCore, RequestContext } from '../types';
import { isIndexMediaType, MediaType } from './manifest';
import {
  imageNotFound,
  lookup,
  type Registry,
  type Repository,
  registryOf,
  type StoredImage,
} from './registry';
import {
  DescribeImageScanFindingsRequest,
  ECR_PAGE,
  ecrDialect,
  PutImageScanningConfigurationRequest,
  StartImageScanRequest,
} from './requests';
import { type ScanFindings, ScanFindingsSchema, SEVERITIES, type Severity } from './world';

export type DeclaredScan = ScanFindings;
type DeclaredFinding = DeclaredScan['findings'][number];

export type ScanStatus = 'IN_PROGRESS' | 'COMPLETE' | 'FAILED' | 'UNSUPPORTED_IMAGE';

export interface ImageScan {
  status: ScanStatus;
  description?: string;
  startedAt: Date;
  completedAt?: Date;
  /** Worst first. */
  findings: DeclaredFinding[];
  /** Only severities with findings, as ECR reports them. */
  counts: Partial<Record<Severity, number>>;
}

const DAY_MS = 24 * 3600_000;
const DEFAULT_SCAN_SECONDS = 30;
/** AWS's words for a finished scan, and for an image whose operating system basic scanning cannot read. */
const COMPLETE_DESCRIPTION = 'The scan was completed successfully.';
const FAILED_DESCRIPTION =
  'UnsupportedImageError: The operating system and/or package manager are not supported.';
const UNSUPPORTED_DESCRIPTION = 'The image is not supported for scanning.';
/** Config media types of container images: anything else (an index, an in-toto attestation) is not scanned. */
const IMAGE_CONFIGS: ReadonlySet<string> = new Set([MediaType.ociConfig, MediaType.dockerConfig]);

/** A declaration as the admin API takes it: the repository (and its account and region) beside the findings. */
export interface ScanDeclaration {
  repository: string;
  accountId: string;
  region: string;
  declared: DeclaredScan;
}

export class EcrScanning {
  /** Simulated seconds from the start of a scan to its result (the world's `ecr.scanSeconds`). */
  scanSeconds = DEFAULT_SCAN_SECONDS;

  constructor(
    private readonly registry: Registry,
    private readonly core: LocalCloudCore,
  ) {}

  /**
   * A new image in `repo`: scanned when the repository scans on push and basic scanning can read it. A world's
   * images (`history`) were pushed before the cloud started: their scans are over, with no event.
   */
  onPush(repo: Repository, image: StoredImage, history: boolean): void {
    if (!repo.imageScanningConfiguration.scanOnPush || unscannable(image) !== undefined) return;
    if (history) {
      image.scan = { status: 'IN_PROGRESS', startedAt: image.pushedAt, findings: [], counts: {} };
      this.finish(repo, image, image.pushedAt);
      return;
    }
    this.start(repo, image);
  }

  /** Sets what scans of an image will find, from then on (a scan already over keeps its result). */
  declare(repo: Repository, declared: DeclaredScan): void {
    const key = declared.digest !== undefined ? `digest:${declared.digest}` : `tag:${declared.tag}`;
    repo.scanFindings.delete(key);
    repo.scanFindings.set(key, declared);
  }

  /** POST /_harborpilot/ecr/scan-findings: `{ repository, accountId?, region?, tag | digest, findings, ... }`. */
  declareFromAdmin(body: unknown, defaults: Scope): ScanDeclaration {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new ScanDeclarationError('body must be a JSON object');
    const { repository, accountId, region, ...rest } = body as Record<string, unknown>;
    if (typeof repository !== 'string' || repository === '')
      throw new ScanDeclarationError('repository: a repository name is required');
    const scope = {
      accountId: typeof accountId === 'string' && accountId !== '' ? accountId : defaults.accountId,
      region: typeof region === 'string' && region !== '' ? region : defaults.region,
    };
    const parsed = ScanFindingsSchema.safeParse(rest);
    if (!parsed.success)
      throw new ScanDeclarationError(
        parsed.error.issues
          .map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`)
          .join('; '),
      );
    this.declare(this.registry.get(scope, repository), parsed.data);
    return { repository, ...scope, declared: parsed.data };
  }

  /** Every declaration, per repository (GET /_harborpilot/ecr/scan-findings). */
  declarations(): ScanDeclaration[] {
    const out: ScanDeclaration[] = [];
    for (const [scope, repos] of this.registry.entries())
      for (const repo of repos.values())
        for (const declared of repo.scanFindings.values())
          out.push({ repository: repo.name, ...scope, declared });
    return out;
  }

  describeImageScanFindings(raw: unknown, ctx: RequestContext): Wire<DescribeImageScanFindingsResponse> {
    const input = readRequest(DescribeImageScanFindingsRequest, raw, ecrDialect);
    const repo = this.registry.get(registryOf(input, ctx), input.repositoryName);
    const image = lookup(repo, input.imageId);
    if (!image) throw imageNotFound(repo, input.imageId);
    const scan = image.scan;
    if (!scan) {
      throw new AwsServiceError(
        'ScanNotFoundException',
        `Image scan does not exist for the image with '{imageDigest:'${image.digest}', imageTag:'${input.imageId.imageTag ?? 'null'}'}' in the repository with name '${repo.name}' in the registry with id '${repo.accountId}'`,
      );
    }
    const base = {
      registryId: repo.accountId,
      repositoryName: repo.name,
      imageId: {
        imageDigest: image.digest,
        ...(input.imageId.imageTag !== undefined ? { imageTag: input.imageId.imageTag } : {}),
      },
      imageScanStatus: scanStatusView(scan),
    };
    // Findings exist only once a scan is over; the page token resumes after the last one returned.
    if (scan.status !== 'COMPLETE') return base;
    const page = readPage(
      scan.findings.map((f, i) => ({ f, key: String(i).padStart(8, '0') })),
      (e) => e.key,
      input,
      ECR_PAGE,
      ecrDialect,
    );
    return {
      ...base,
      imageScanFindings: {
        ...findingsSummaryView(scan),
        findings: page.items.map((e) => findingView(e.f)),
      },
      nextToken: page.nextToken,
    };
  }

  startImageScan(raw: unknown, ctx: RequestContext): Wire<StartImageScanResponse> {
    const input = readRequest(StartImageScanRequest, raw, ecrDialect);
    const repo = this.registry.get(registryOf(input, ctx), input.repositoryName);
    const image = lookup(repo, input.imageId);
    if (!image) throw imageNotFound(repo, input.imageId);
    const mediaType = unscannable(image);
    if (mediaType !== undefined) {
      throw new AwsServiceError(
        'UnsupportedImageTypeException',
        `An artifact with media type '${mediaType}' cannot be scanned. For more information, see the Amazon ECR documentation.`,
      );
    }
    // Basic scanning: once per image every 24 hours, the scan on push included.
    if (image.scan && this.core.clock.nowMs() - image.scan.startedAt.getTime() < DAY_MS) {
      throw new AwsServiceError(
        'LimitExceededException',
        'The scan quota per image has been exceeded. Wait and try again.',
      );
    }
    this.start(repo, image);
    return {
      registryId: repo.accountId,
      repositoryName: repo.name,
      imageId: {
        imageDigest: image.digest,
        ...(input.imageId.imageTag !== undefined ? { imageTag: input.imageId.imageTag } : {}),
      },
      imageScanStatus: scanStatusView(image.scan as ImageScan),
    };
  }

  putImageScanningConfiguration(
    raw: unknown,
    ctx: RequestContext,
  ): Wire<PutImageScanningConfigurationResponse> {
    const input = readRequest(PutImageScanningConfigurationRequest, raw, ecrDialect);
    const repo = this.registry.get(registryOf(input, ctx), input.repositoryName);
    repo.imageScanningConfiguration = { scanOnPush: input.imageScanningConfiguration.scanOnPush ?? false };
    return {
      registryId: repo.accountId,
      repositoryName: repo.name,
      imageScanningConfiguration: repo.imageScanningConfiguration,
    };
  }

  private start(repo: Repository, image: StoredImage): void {
    const startedAt = this.core.clock.now();
    image.scan = { status: 'IN_PROGRESS', startedAt, findings: [], counts: {} };
    this.core.clock.setTimer(this.scanSeconds * 1000, () => {
      // The image (or its repository) deleted meanwhile, or scanned again since: this scan's result is moot.
      if (this.registry.find(repo, repo.name) !== repo || repo.images.get(image.digest) !== image) return;
      if (image.scan?.startedAt !== startedAt) return;
      this.finish(repo, image, this.core.clock.now());
      this.emit(repo, image);
    });
  }

  /** The scan's result: what is declared for the image's digest, else for a tag it has now, else clean. */
  private finish(repo: Repository, image: StoredImage, at: Date): void {
    const declared =
      repo.scanFindings.get(`digest:${image.digest}`) ??
      [...repo.scanFindings.values()].find((d) => d.tag !== undefined && image.tags.has(d.tag));
    const scan = image.scan as ImageScan;
    scan.completedAt = at;
    scan.status = declared?.status ?? 'COMPLETE';
    if (scan.status !== 'COMPLETE') {
      scan.description =
        declared?.description ?? (scan.status === 'FAILED' ? FAILED_DESCRIPTION : UNSUPPORTED_DESCRIPTION);
      return;
    }
    scan.description = declared?.description ?? COMPLETE_DESCRIPTION;
    const rank = (s: Severity) => SEVERITIES.indexOf(s);
    scan.findings = [...(declared?.findings ?? [])].sort(
      (a, b) => rank(a.severity) - rank(b.severity) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
    scan.counts = {};
    for (const severity of SEVERITIES) {
      const n =
        declared?.severityCounts?.[severity] ?? scan.findings.filter((f) => f.severity === severity).length;
      if (n > 0) scan.counts[severity] = n;
    }
  }

  /** `ECR Image Scan`, as the ECR user guide shows it: counts only for severities found, tags as they are now. */
  private emit(repo: Repository, image: StoredImage): void {
    const scan = image.scan as ImageScan;
    this.core.bus.publish({
      source: 'aws.ecr',
      detailType: 'ECR Image Scan',
      account: repo.accountId,
      region: repo.region,
      resources: [repo.arn],
      detail: {
        'scan-status': scan.status,
        'repository-name': repo.name,
        ...(scan.status === 'COMPLETE' ? { 'finding-severity-counts': { ...scan.counts } } : {}),
        'image-digest': image.digest,
        'image-tags': [...image.tags],
      },
    });
  }
}

/** An admin declaration that is not one: the admin API answers 400 with this message. */
export class ScanDeclarationError extends Error {
  constructor(message: string) {
    super(`invalid scan findings: ${message}`);
    this.name = 'ScanDeclarationError';
  }
}

/** The media type basic scanning refuses for this image (an index, a non-image artifact), if any. */
function unscannable(image: StoredImage): string | undefined {
  if (isIndexMediaType(image.manifestMediaType)) return image.manifestMediaType;
  if (image.artifactMediaType !== undefined && !IMAGE_CONFIGS.has(image.artifactMediaType))
    return image.artifactMediaType;
  return undefined;
}

export function scanStatusView(scan: ImageScan): ImageScanStatus {
  return {
    status: scan.status,
    ...(scan.description !== undefined ? { description: scan.description } : {}),
  };
}

/** DescribeImages' `imageScanFindingsSummary`: only for a finished scan. */
export function findingsSummaryView(scan: ImageScan): Wire<ImageScanFindingsSummary> | undefined {
  if (scan.status !== 'COMPLETE' || !scan.completedAt) return undefined;
  const at = epochSeconds(scan.completedAt);
  return {
    imageScanCompletedAt: at,
    vulnerabilitySourceUpdatedAt: at,
    findingSeverityCounts: { ...scan.counts },
  };
}

function findingView(f: DeclaredFinding): ImageScanFinding {
  const attributes = [
    ...(f.version !== undefined ? [{ key: 'package_version', value: f.version }] : []),
    ...(f.package !== undefined ? [{ key: 'package_name', value: f.package }] : []),
  ];
  return {
    name: f.name,
    severity: f.severity,
    ...(f.description !== undefined ? { description: f.description } : {}),
    ...(f.uri !== undefined ? { uri: f.uri } : {}),
    attributes,
  };
}
