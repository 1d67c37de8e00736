/**
 * ECR basic scanning in the local cloud as a user drives it: findings declared through the admin API, scan on
 * push turned on and images pushed with the AWS CLI (v1 on PATH and Debian's v2, each skipped only when not
 * installed), `aws ecr wait image-scan-complete`, describe-image-scan-findings paged by the CLI, start-image-scan,
 * and the `ECR Image Scan` event on the bus.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import { digestOf, manifest, onPath } from '../../support/cloud';

const run = promisify(execFile);

const CLIS = [
  { name: 'v1 (aws on PATH)', path: onPath('aws'), repository: 'scan/v1' },
  {
    name: 'v2 (/usr/bin/aws)',
    path: existsSync('/usr/bin/aws') ? '/usr/bin/aws' : undefined,
    repository: 'scan/v2',
  },
];

let cloud: LocalCloud;
const dir = mkdtempSync(join(tmpdir(), 'hp-scan-'));

beforeAll(async () => {
  cloud = await createLocalCloud({
    speed: 0,
    startRouter: false,
    world: { ecr: { repositories: CLIS.map((c) => ({ name: c.repository })) } },
  });
});
afterAll(() => cloud?.stop());

async function admin(
  path: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${cloud.endpoint}/_harborpilot/${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe.each(CLIS)('AWS CLI $name', ({ path, repository }) => {
  const aws = async (args: string[]) => {
    try {
      const { stdout } = await run(
        path as string,
        ['--endpoint-url', cloud.endpoint, '--output', 'json', ...args],
        {
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? '/tmp',
            AWS_ACCESS_KEY_ID: 'test',
            AWS_SECRET_ACCESS_KEY: 'test',
            AWS_DEFAULT_REGION: 'us-east-1',
            AWS_PAGER: '',
            AWS_CONFIG_FILE: '/dev/null',
            AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          },
          timeout: 30_000,
        },
      );
      return { code: 0, out: JSON.parse(stdout || '{}') as Record<string, unknown>, err: '' };
    } catch (e) {
      const err = e as { code?: number; stderr?: string };
      return { code: err.code ?? -1, out: {}, err: err.stderr ?? '' };
    }
  };

  it.skipIf(!path)(
    'scans a push with the declared findings, waits for it and pages its findings',
    async () => {
      const declared = await admin('ecr/scan-findings', {
        repository,
        tag: 'latest',
        findings: [
          { name: 'CVE-2024-3094', severity: 'CRITICAL', package: 'xz-utils', version: '5.6.0' },
          { name: 'CVE-2023-4911', severity: 'HIGH', package: 'glibc', version: '2.37' },
          { name: 'CVE-2022-0001', severity: 'LOW', package: 'zlib', version: '1.2.11' },
        ],
      });
      expect(declared.status).toBe(201);

      const on = await aws([
        'ecr',
        'put-image-scanning-configuration',
        '--repository-name',
        repository,
        '--image-scanning-configuration',
        'scanOnPush=true',
      ]);
      expect(on.out).toMatchObject({ imageScanningConfiguration: { scanOnPush: true } });
      const file = join(dir, `${repository.replace('/', '-')}.json`);
      writeFileSync(file, manifest(repository));
      const pushed = await aws([
        'ecr',
        'put-image',
        '--repository-name',
        repository,
        '--image-tag',
        'latest',
        '--image-manifest',
        `file://${file}`,
      ]);
      expect(pushed.code).toBe(0);
      const digest = digestOf(manifest(repository));
      const status = await aws([
        'ecr',
        'describe-images',
        '--repository-name',
        repository,
        '--image-ids',
        'imageTag=latest',
        '--query',
        'imageDetails[0].imageScanStatus',
      ]);
      expect(status.out).toEqual({ status: 'IN_PROGRESS' });

      await cloud.clock.advance(30_000);
      const waited = await aws([
        'ecr',
        'wait',
        'image-scan-complete',
        '--repository-name',
        repository,
        '--image-id',
        'imageTag=latest',
      ]);
      expect(waited.code).toBe(0);

      // The CLI follows nextToken itself: one finding a page, all three in the end, worst first.
      const all = await aws([
        'ecr',
        'describe-image-scan-findings',
        '--repository-name',
        repository,
        '--image-id',
        `imageDigest=${digest}`,
        '--page-size',
        '1',
      ]);
      expect(all.out).toMatchObject({
        imageScanStatus: { status: 'COMPLETE' },
        imageScanFindings: { findingSeverityCounts: { CRITICAL: 1, HIGH: 1, LOW: 1 } },
      });
      const names = (all.out.imageScanFindings as { findings: { name: string }[] }).findings.map(
        (f) => f.name,
      );
      expect(names).toEqual(['CVE-2024-3094', 'CVE-2023-4911', 'CVE-2022-0001']);
      const summary = await aws([
        'ecr',
        'describe-images',
        '--repository-name',
        repository,
        '--query',
        'imageDetails[0].imageScanFindingsSummary.findingSeverityCounts',
      ]);
      expect(summary.out).toEqual({ CRITICAL: 1, HIGH: 1, LOW: 1 });

      const event = cloud.bus.history.find(
        (e) => e['detail-type'] === 'ECR Image Scan' && e.detail['repository-name'] === repository,
      );
      expect(event?.detail).toEqual({
        'scan-status': 'COMPLETE',
        'repository-name': repository,
        'finding-severity-counts': { CRITICAL: 1, HIGH: 1, LOW: 1 },
        'image-digest': digest,
        'image-tags': ['latest'],
      });

      const again = await aws([
        'ecr',
        'start-image-scan',
        '--repository-name',
        repository,
        '--image-id',
        'imageTag=latest',
      ]);
      expect(again.code).not.toBe(0);
      expect(again.err).toMatch(/LimitExceededException/);
      const never = await aws([
        'ecr',
        'describe-image-scan-findings',
        '--repository-name',
        repository,
        '--image-id',
        'imageTag=nope',
      ]);
      expect(never.err).toMatch(/ImageNotFoundException/);
    },
  );
});

describe('admin API', () => {
  it('lists declarations, and names what is wrong with one', async () => {
    const bad = await admin('ecr/scan-findings', {
      repository: 'scan/v1',
      tag: 'x',
      findings: [{ name: 'CVE-1', severity: 'SEVERE' }],
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toMatch(/findings\.0\.severity/);
    const missing = await admin('ecr/scan-findings', { repository: 'nope/nope', tag: 'x' });
    expect(missing.status).toBe(404);
    await admin('ecr/scan-findings', {
      repository: 'scan/v1',
      digest: `sha256:${'a'.repeat(64)}`,
      status: 'FAILED',
    });
    const list = (await (await fetch(`${cloud.endpoint}/_harborpilot/ecr/scan-findings`)).json()) as {
      scanFindings: { repository: string; declared: { digest?: string; status: string } }[];
    };
    expect(list.scanFindings).toContainEqual(
      expect.objectContaining({
        repository: 'scan/v1',
        accountId: '000000000000',
        declared: expect.objectContaining({ digest: `sha256:${'a'.repeat(64)}`, status: 'FAILED' }),
      }),
    );
  });
});
