/** The scan gate's judgement: severities against thresholds, waiting for a scan, holding, releasing, settings. */
import { describe, expect, it } from 'vitest';
import type { ImagePush } from '../../../shared/events/image-push';
import type { GateCandidate } from '../../../shared/gates';
import { prepareScanGate, type ScanConfig, scanGate } from '../../../shared/scan/gate';
import {
  countsPhrase,
  type ImageScanState,
  parseThreshold,
  scanStateOf,
  scanVerdict,
} from '../../../shared/scan/severity';
import type { ScanRecord } from '../../../shared/scan/store';

const REGISTRY = '000000000000.dkr.ecr.us-east-1.amazonaws.com';
const DIGEST = `sha256:${'a'.repeat(64)}` as const;
const OTHER = `sha256:${'b'.repeat(64)}` as const;
const IMAGE = `000000000000/us-east-1/shop/api@${DIGEST}`;
const repository = { accountId: '000000000000', region: 'us-east-1', repositoryName: 'shop/api' };
const complete = (counts: Record<string, number>): ImageScanState => ({ status: 'COMPLETE', counts });
const CONFIG: ScanConfig = { holdAtSeverity: 'HIGH', holdFailedScans: true };

describe('scanVerdict', () => {
  it.each([
    ['no scan: the repository does not scan', undefined, 'HIGH', 'unscanned'],
    ['threshold off', complete({ CRITICAL: 3 }), 'off', 'unscanned'],
    ['IN_PROGRESS waits', { status: 'IN_PROGRESS' }, 'HIGH', 'awaiting'],
    ['PENDING (enhanced) waits', { status: 'PENDING' }, 'CRITICAL', 'awaiting'],
    ['a CRITICAL finding at HIGH', complete({ CRITICAL: 1 }), 'HIGH', 'findings'],
    ['a HIGH finding at HIGH (at or above)', complete({ HIGH: 2 }), 'HIGH', 'findings'],
    ['a HIGH finding at CRITICAL', complete({ HIGH: 2, MEDIUM: 7 }), 'CRITICAL', 'passed'],
    ['a LOW finding at LOW', complete({ LOW: 1 }), 'LOW', 'findings'],
    ['INFORMATIONAL and UNDEFINED never hold', complete({ INFORMATIONAL: 9, UNDEFINED: 4 }), 'LOW', 'passed'],
    ['a clean scan', complete({}), 'LOW', 'passed'],
    ['enhanced ACTIVE is a result', { status: 'ACTIVE', counts: { HIGH: 1 } }, 'HIGH', 'findings'],
    ['FAILED', { status: 'FAILED', description: 'UnsupportedImageError' }, 'HIGH', 'failed'],
    ['UNSUPPORTED_IMAGE', { status: 'UNSUPPORTED_IMAGE' }, 'HIGH', 'failed'],
    ['SCAN_ELIGIBILITY_EXPIRED', { status: 'SCAN_ELIGIBILITY_EXPIRED' }, 'CRITICAL', 'failed'],
  ] as const)('%s', (_name, scan, threshold, kind) => {
    expect(scanVerdict(scan as ImageScanState | undefined, threshold).kind).toBe(kind);
  });

  it('counts only the severities at or above the threshold, worst first in words', () => {
    const v = scanVerdict(complete({ LOW: 5, CRITICAL: 1, HIGH: 40 }), 'HIGH');
    expect(v).toEqual({ kind: 'findings', counts: { CRITICAL: 1, HIGH: 40 }, threshold: 'HIGH' });
    expect(countsPhrase({ HIGH: 40, CRITICAL: 1 })).toBe('1 CRITICAL, 40 HIGH');
  });

  it('reads DescribeImages: status, description, counts found (zeros dropped), completion time', () => {
    const at = new Date('2026-12-01T10:00:00Z');
    expect(
      scanStateOf({
        imageScanStatus: { status: 'COMPLETE', description: 'The scan was completed successfully.' },
        imageScanFindingsSummary: {
          imageScanCompletedAt: at,
          findingSeverityCounts: { CRITICAL: 0, HIGH: 2 },
        },
      }),
    ).toEqual({
      status: 'COMPLETE',
      description: 'The scan was completed successfully.',
      counts: { HIGH: 2 },
      completedAt: at,
    });
    expect(scanStateOf({ imageDigest: DIGEST })).toBeUndefined();
  });

  it.each([
    ['critical', 'CRITICAL'],
    [' High ', 'HIGH'],
    ['OFF', 'off'],
    ['CRITCAL', undefined],
    ['none', undefined],
  ])('reads the setting %j as %s', (value, expected) => {
    expect(parseThreshold(value)).toBe(expected);
  });
});

describe('scanGate', () => {
  const push = (scan: ImageScanState | undefined, digest = DIGEST): ImagePush => ({
    repository,
    tag: 'latest',
    digest,
    ...(scan ? { scan } : {}),
  });
  const candidate = (digest = DIGEST, service = 'api'): GateCandidate => ({
    workload: { platform: 'ecs', cluster: 'prod', service },
    changes: [
      {
        containerName: 'app',
        fromImage: `${REGISTRY}/shop/api:latest`,
        toImage: `${REGISTRY}/shop/api:latest`,
        toDigest: digest,
      },
    ],
  });
  const gateFor = (
    pushes: ImagePush[],
    o: { setting?: string; records?: Map<string, ScanRecord>; config?: ScanConfig } = {},
  ) => {
    const c = candidate();
    const plan = prepareScanGate({ config: o.config ?? CONFIG, pushes }, [
      { workload: c.workload, setting: o.setting, changes: c.changes },
    ]);
    return { plan, gate: scanGate(plan, o.records ?? new Map()) };
  };

  it('holds a push whose scan is running transiently, naming it, and reads no record for it', () => {
    const { plan, gate } = gateFor([push({ status: 'IN_PROGRESS' })]);
    expect(gate(candidate())).toEqual({
      gate: 'scan',
      reason: 'awaiting scan of shop/api@sha256:aaaaaaaaaaaa (IN_PROGRESS)',
      transient: true,
    });
    expect(plan.recordKeys).toEqual([]);
  });

  it('holds an image with findings at or above the threshold until released, with the command that releases it', () => {
    const { plan, gate } = gateFor([push(complete({ CRITICAL: 1, HIGH: 9, LOW: 3 }))]);
    expect(plan.recordKeys).toEqual([IMAGE]);
    expect(gate(candidate())).toEqual({
      gate: 'scan',
      reason: `scan of shop/api@sha256:aaaaaaaaaaaa found 1 CRITICAL, 9 HIGH (holds at HIGH and above); release: npx harborpilot release shop/api@${DIGEST} --reason TEXT`,
    });
    const told: ScanRecord = {
      image: IMAGE,
      repository,
      digest: DIGEST,
      tags: ['latest'],
      reason: 'x',
      heldAt: '2026-12-01T10:00:00Z',
      workloads: ['ecs/prod/api'],
    };
    expect(
      gateFor([push(complete({ CRITICAL: 1 }))], { records: new Map([[IMAGE, told]]) }).gate(candidate()),
    ).toMatchObject({ gate: 'scan' });
    const released = {
      ...told,
      releasedBy: 'arn:aws:iam::000000000000:user/sec',
      releasedAt: '2026-12-01T11:00:00Z',
    };
    expect(
      gateFor([push(complete({ CRITICAL: 1 }))], { records: new Map([[IMAGE, released]]) }).gate(candidate()),
    ).toBeUndefined();
  });

  it('lets through a clean scan, findings below the threshold, an unscanned image, and another digest', () => {
    expect(gateFor([push(complete({}))]).gate(candidate())).toBeUndefined();
    expect(gateFor([push(complete({ MEDIUM: 4 }))]).gate(candidate())).toBeUndefined();
    expect(gateFor([push(undefined)]).gate(candidate())).toBeUndefined();
    expect(gateFor([push(complete({ CRITICAL: 1 }), OTHER)]).gate(candidate())).toBeUndefined();
  });

  it('takes the workload setting over the default: off, a lower threshold; a typo holds and is a problem', () => {
    const critical = [push(complete({ CRITICAL: 1 }))];
    expect(gateFor(critical, { setting: 'off' }).gate(candidate())).toBeUndefined();
    expect(gateFor([push(complete({ MEDIUM: 1 }))], { setting: 'medium' }).gate(candidate())).toMatchObject({
      gate: 'scan',
      reason: expect.stringContaining('found 1 MEDIUM (holds at MEDIUM and above)'),
    });
    const typo = gateFor(critical, { setting: 'CRITCAL' });
    expect(typo.plan.problems).toEqual([
      {
        item: 'ecs/prod/api',
        error: 'ecs/prod/api: scan-gate setting "CRITCAL" is not CRITICAL, HIGH, MEDIUM, LOW or off',
      },
    ]);
    expect(typo.gate(candidate())).toMatchObject({
      gate: 'scan',
      reason: expect.stringMatching(/^held, settings unreadable/),
    });
  });

  it('holds a failed scan with its reason, unless holdFailedScans is false', () => {
    const failed = [push({ status: 'FAILED', description: 'UnsupportedImageError: scratch' })];
    expect(gateFor(failed).gate(candidate())).toMatchObject({
      gate: 'scan',
      reason: expect.stringContaining(
        'scan of shop/api@sha256:aaaaaaaaaaaa FAILED: UnsupportedImageError: scratch',
      ),
    });
    expect(
      gateFor(failed, { config: { ...CONFIG, holdFailedScans: false } }).gate(candidate()),
    ).toBeUndefined();
    expect(
      gateFor(failed, { config: { ...CONFIG, holdAtSeverity: 'off' } }).gate(candidate()),
    ).toBeUndefined();
  });
});
