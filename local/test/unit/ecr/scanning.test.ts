/** ECR basic scanning in the local cloud: scan on push, findings as declared, the scan event, the scan APIs. */
import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { EcrBackend } from '../../../ecr';
import { AwsServiceError } from '../../../errors';
import { ACCOUNT, ctx, makeCore, REGION } from './core';

type Ops = EcrBackend['operations'];
let setup: ReturnType<typeof makeCore>;
let ecr: EcrBackend;
// biome-ignore lint/suspicious/noExplicitAny: responses are plain JSON, checked by the assertions
type Json = any;
const call = (op: string, input: Record<string, unknown>) =>
  (ecr.operations[op] as NonNullable<Ops[string]>)(input, ctx) as Json;
const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

function manifest(seed: string) {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(`${seed}c`), size: 10 },
    layers: [
      { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(`${seed}0`), size: 100 },
    ],
  });
}
const put = (seed: string, imageTag?: string, repositoryName = 'shop/api') =>
  call('PutImage', { repositoryName, imageManifest: manifest(seed), ...(imageTag ? { imageTag } : {}) }).image
    .imageId.imageDigest as string;
const detail = (digest: string) =>
  call('DescribeImages', { repositoryName: 'shop/api', imageIds: [{ imageDigest: digest }] }).imageDetails[0];
const findings = (imageId: Record<string, string>, more: Record<string, unknown> = {}) =>
  call('DescribeImageScanFindings', { repositoryName: 'shop/api', imageId, ...more });
const scanEvents = () => setup.bus.history.filter((e) => e['detail-type'] === 'ECR Image Scan');

function errorOf(fn: () => unknown): AwsServiceError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AwsServiceError) return err;
    throw err;
  }
  throw new Error('expected an AWS error');
}

const CRITICAL = {
  tag: 'latest',
  findings: [
    {
      name: 'CVE-2024-3094',
      severity: 'CRITICAL',
      package: 'xz-utils',
      version: '5.6.0',
      uri: 'https://x/3094',
    },
    { name: 'CVE-2023-4911', severity: 'HIGH', package: 'glibc', version: '2.37' },
    { name: 'CVE-2023-0001', severity: 'CRITICAL', package: 'openssl', version: '3.0.1' },
  ],
  severityCounts: { HIGH: 40 },
} as const;

beforeEach(() => {
  setup = makeCore();
  ecr = new EcrBackend(setup.core);
  call('CreateRepository', { repositoryName: 'shop/api', imageScanningConfiguration: { scanOnPush: true } });
});

describe('scan on push', () => {
  it('is IN_PROGRESS at once, COMPLETE after scanSeconds of simulated time, then emits ECR Image Scan', async () => {
    ecr.scanning.declare(ecr.registry.get({ accountId: ACCOUNT, region: REGION }, 'shop/api'), {
      ...CRITICAL,
      findings: [...CRITICAL.findings],
      status: 'COMPLETE',
    });
    const digest = put('a', 'latest');
    expect(detail(digest).imageScanStatus).toEqual({ status: 'IN_PROGRESS' });
    expect(detail(digest).imageScanFindingsSummary).toBeUndefined();
    expect(findings({ imageTag: 'latest' })).toEqual({
      registryId: ACCOUNT,
      repositoryName: 'shop/api',
      imageId: { imageDigest: digest, imageTag: 'latest' },
      imageScanStatus: { status: 'IN_PROGRESS' },
    });
    await setup.clock.advance(29_000);
    expect(scanEvents()).toHaveLength(0);
    await setup.clock.advance(1_000);

    const completedAt = Date.parse('2026-03-01T12:00:30Z') / 1000;
    expect(detail(digest)).toMatchObject({
      imageScanStatus: { status: 'COMPLETE', description: 'The scan was completed successfully.' },
      imageScanFindingsSummary: {
        imageScanCompletedAt: completedAt,
        vulnerabilitySourceUpdatedAt: completedAt,
        findingSeverityCounts: { CRITICAL: 2, HIGH: 40 },
      },
    });
    const events = scanEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      source: 'aws.ecr',
      account: ACCOUNT,
      region: REGION,
      time: '2026-03-01T12:00:30Z',
      resources: [`arn:aws:ecr:${REGION}:${ACCOUNT}:repository/shop/api`],
      detail: {
        'scan-status': 'COMPLETE',
        'repository-name': 'shop/api',
        'finding-severity-counts': { CRITICAL: 2, HIGH: 40 },
        'image-digest': digest,
        'image-tags': ['latest'],
      },
    });
    // The push event went out before the scan's (and a second push of the tag is scanned on its own).
    expect(setup.bus.history.map((e) => e['detail-type'])).toEqual(['ECR Image Action', 'ECR Image Scan']);
  });

  it('lists the findings worst first, with basic scanning attributes, paged by maxResults and nextToken', async () => {
    ecr.scanning.declare(ecr.registry.get({ accountId: ACCOUNT, region: REGION }, 'shop/api'), {
      ...CRITICAL,
      findings: [...CRITICAL.findings],
      status: 'COMPLETE',
    });
    const digest = put('a', 'latest');
    await setup.clock.advance(30_000);
    const first = findings({ imageDigest: digest }, { maxResults: 2 });
    expect(first.imageScanFindings.findings).toEqual([
      {
        name: 'CVE-2023-0001',
        severity: 'CRITICAL',
        attributes: [
          { key: 'package_version', value: '3.0.1' },
          { key: 'package_name', value: 'openssl' },
        ],
      },
      {
        name: 'CVE-2024-3094',
        severity: 'CRITICAL',
        uri: 'https://x/3094',
        attributes: [
          { key: 'package_version', value: '5.6.0' },
          { key: 'package_name', value: 'xz-utils' },
        ],
      },
    ]);
    expect(first.imageScanFindings.findingSeverityCounts).toEqual({ CRITICAL: 2, HIGH: 40 });
    expect(first.nextToken).toEqual(expect.any(String));
    const second = findings({ imageDigest: digest }, { maxResults: 2, nextToken: first.nextToken });
    expect(second.imageScanFindings.findings.map((f: Json) => f.name)).toEqual(['CVE-2023-4911']);
    expect(second.nextToken).toBeUndefined();
    expect(errorOf(() => findings({ imageDigest: digest }, { nextToken: 'forged' })).code).toBe(
      'InvalidParameterException',
    );
    expect(errorOf(() => findings({ imageDigest: digest }, { maxResults: 1001 })).code).toBe(
      'ValidationException',
    );
  });

  it('scans clean without a declaration, and a declaration by digest wins over one by tag', async () => {
    const repo = ecr.registry.get({ accountId: ACCOUNT, region: REGION }, 'shop/api');
    const pinned = sha(manifest('b'));
    ecr.scanning.declare(repo, { ...CRITICAL, findings: [...CRITICAL.findings], status: 'COMPLETE' });
    ecr.scanning.declare(repo, {
      digest: pinned,
      status: 'FAILED',
      description: 'UnsupportedImageError: scratch',
      findings: [],
    });
    const clean = put('a', 'v1');
    put('b', 'latest');
    await setup.clock.advance(30_000);
    expect(detail(clean).imageScanFindingsSummary.findingSeverityCounts).toEqual({});
    expect(findings({ imageDigest: clean }).imageScanFindings.findings).toEqual([]);
    expect(detail(pinned).imageScanStatus).toEqual({
      status: 'FAILED',
      description: 'UnsupportedImageError: scratch',
    });
    expect(detail(pinned).imageScanFindingsSummary).toBeUndefined();
    expect(findings({ imageDigest: pinned }).imageScanFindings).toBeUndefined();
    expect(scanEvents().map((e) => e.detail)).toEqual([
      {
        'scan-status': 'COMPLETE',
        'repository-name': 'shop/api',
        'finding-severity-counts': {},
        'image-digest': clean,
        'image-tags': ['v1'],
      },
      {
        'scan-status': 'FAILED',
        'repository-name': 'shop/api',
        'image-digest': pinned,
        'image-tags': ['latest'],
      },
    ]);
  });

  it('does not scan where scanOnPush is off, nor an index; an image deleted while scanning has no event', async () => {
    call('CreateRepository', { repositoryName: 'shop/web' });
    const unscanned = put('w', 'latest', 'shop/web');
    const described = call('DescribeImages', {
      repositoryName: 'shop/web',
      imageIds: [{ imageDigest: unscanned }],
    });
    expect(described.imageDetails[0].imageScanStatus).toBeUndefined();
    expect(
      errorOf(() =>
        call('DescribeImageScanFindings', {
          repositoryName: 'shop/web',
          imageId: { imageDigest: unscanned },
        }),
      ).code,
    ).toBe('ScanNotFoundException');

    const child = put('c');
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: child, size: 1 }],
    });
    const indexDigest = call('PutImage', {
      repositoryName: 'shop/api',
      imageManifest: index,
      imageTag: 'multi',
    }).image.imageId.imageDigest;
    expect(detail(indexDigest).imageScanStatus).toBeUndefined();
    expect(detail(child).imageScanStatus.status).toBe('IN_PROGRESS');
    const gone = put('d', 'gone');
    call('BatchDeleteImage', { repositoryName: 'shop/api', imageIds: [{ imageDigest: gone }] });
    await setup.clock.advance(30_000);
    expect(scanEvents().map((e) => [e.detail['image-digest'], e.detail['image-tags']])).toEqual([
      [child, []],
    ]);
  });
});

describe('StartImageScan and PutImageScanningConfiguration', () => {
  it('turns scan on push on and off, and scans an image on demand once a day', async () => {
    call('CreateRepository', { repositoryName: 'shop/web' });
    expect(
      call('PutImageScanningConfiguration', {
        repositoryName: 'shop/web',
        imageScanningConfiguration: { scanOnPush: true },
      }),
    ).toEqual({
      registryId: ACCOUNT,
      repositoryName: 'shop/web',
      imageScanningConfiguration: { scanOnPush: true },
    });
    expect(
      call('DescribeRepositories', { repositoryNames: ['shop/web'] }).repositories[0]
        .imageScanningConfiguration,
    ).toEqual({ scanOnPush: true });
    call('PutImageScanningConfiguration', {
      repositoryName: 'shop/web',
      imageScanningConfiguration: { scanOnPush: false },
    });
    const digest = put('w', 'v1', 'shop/web');
    const started = call('StartImageScan', { repositoryName: 'shop/web', imageId: { imageTag: 'v1' } });
    expect(started).toEqual({
      registryId: ACCOUNT,
      repositoryName: 'shop/web',
      imageId: { imageDigest: digest, imageTag: 'v1' },
      imageScanStatus: { status: 'IN_PROGRESS' },
    });
    expect(
      errorOf(() => call('StartImageScan', { repositoryName: 'shop/web', imageId: { imageTag: 'v1' } })),
    ).toMatchObject({ code: 'LimitExceededException' });
    await setup.clock.advance(30_000);
    expect(scanEvents()).toHaveLength(1);
    await setup.clock.advance(24 * 3600_000);
    expect(
      call('StartImageScan', { repositoryName: 'shop/web', imageId: { imageDigest: digest } })
        .imageScanStatus,
    ).toEqual({ status: 'IN_PROGRESS' });
  });

  it('refuses an index, an unknown image and an unknown repository with ECR errors', () => {
    const child = put('c');
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: child, size: 1 }],
    });
    call('PutImage', { repositoryName: 'shop/api', imageManifest: index, imageTag: 'multi' });
    expect(
      errorOf(() => call('StartImageScan', { repositoryName: 'shop/api', imageId: { imageTag: 'multi' } })),
    ).toMatchObject({
      code: 'UnsupportedImageTypeException',
      message:
        "An artifact with media type 'application/vnd.oci.image.index.v1+json' cannot be scanned. For more information, see the Amazon ECR documentation.",
    });
    expect(errorOf(() => findings({ imageTag: 'nope' })).code).toBe('ImageNotFoundException');
    expect(
      errorOf(() => call('StartImageScan', { repositoryName: 'shop/nope', imageId: { imageTag: 'v1' } }))
        .code,
    ).toBe('RepositoryNotFoundException');
    expect(errorOf(() => call('DescribeImageScanFindings', { repositoryName: 'shop/api' })).code).toBe(
      'ValidationException',
    );
  });
});

describe('world', () => {
  it('declares scanOnPush and findings by tag; world images are scanned already, without events', () => {
    const world = new EcrBackend(makeCore().core);
    world.loadWorld({
      repositories: [
        {
          name: 'shop/api',
          scanOnPush: true,
          scanFindings: [{ tag: 'v1', findings: [{ name: 'CVE-1', severity: 'MEDIUM' }] }],
          images: [{ tag: 'v1', pushedDaysAgo: 2 }, { tag: 'v2' }],
        },
      ],
    });
    const [v1, v2] = world.images(ACCOUNT, REGION, 'shop/api');
    expect(v1?.imageScanFindingsSummary?.findingSeverityCounts).toEqual({ MEDIUM: 1 });
    expect(v1?.imageScanFindingsSummary?.imageScanCompletedAt).toBe(v1?.imagePushedAt);
    expect(v2?.imageScanStatus?.status).toBe('COMPLETE');
    expect(v2?.imageScanFindingsSummary?.findingSeverityCounts).toEqual({});
  });

  it('refuses a declaration that names no image, or counts fewer than it lists', () => {
    const world = new EcrBackend(makeCore().core);
    expect(() =>
      world.loadWorld({ repositories: [{ name: 'shop/api', scanFindings: [{ findings: [] }] }] }),
    ).toThrow(/exactly one of tag or digest/);
    expect(() =>
      world.loadWorld({
        repositories: [
          {
            name: 'shop/api',
            scanFindings: [
              { tag: 'v1', findings: [{ name: 'CVE-1', severity: 'HIGH' }], severityCounts: { HIGH: 0 } },
            ],
          },
        ],
      }),
    ).toThrow(/fewer than the 1 HIGH findings listed/);
  });
});
