/**
 * What an ECR scan says about an image, for the scan gate: its status and severity counts (from DescribeImages,
 * the call the push path makes anyway), and the verdict against a threshold. Pure.
 */
import type { ImageDetail } from '@aws-sdk/client-ecr';

/** Thresholds of `scan.holdAtSeverity` and the `scan-gate` setting, worst first; `off`: no scan gate. */
export const SCAN_THRESHOLDS = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'off'] as const;
export type ScanThreshold = (typeof SCAN_THRESHOLDS)[number];

/** ECR's severities, worst first. INFORMATIONAL and UNDEFINED never hold an image. */
const SEVERITY_ORDER = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED'];

/** An image's scan as ECR reports it (`imageScanStatus`, `imageScanFindingsSummary`). */
export interface ImageScanState {
  /** IN_PROGRESS, PENDING, COMPLETE, ACTIVE (enhanced scanning), FAILED, UNSUPPORTED_IMAGE, ... */
  status: string;
  description?: string;
  /** Findings per severity; only severities found. Known once a scan is over. */
  counts?: Record<string, number>;
  completedAt?: Date;
}

export type ScanVerdict =
  /** No scan result to wait for: the repository does not scan (or not this image, e.g. a multi-arch index). */
  | { kind: 'unscanned' }
  | { kind: 'awaiting'; status: string }
  | { kind: 'passed' }
  | { kind: 'findings'; counts: Record<string, number>; threshold: Exclude<ScanThreshold, 'off'> }
  | { kind: 'failed'; status: string; description?: string };

/** Still scanning: basic scanning's IN_PROGRESS, enhanced scanning's PENDING. */
const AWAITING = new Set(['IN_PROGRESS', 'PENDING']);
/** A result to judge: basic scanning's COMPLETE, enhanced (continuous) scanning's ACTIVE. */
const SCANNED = new Set(['COMPLETE', 'ACTIVE']);

/** The scan of an image detail (DescribeImages), or undefined when ECR has none for it. */
export function scanStateOf(detail: ImageDetail | undefined): ImageScanState | undefined {
  const status = detail?.imageScanStatus?.status;
  if (!status) return undefined;
  const summary = detail.imageScanFindingsSummary;
  const counts = summary?.findingSeverityCounts;
  return {
    status,
    ...(detail.imageScanStatus?.description ? { description: detail.imageScanStatus.description } : {}),
    ...(counts ? { counts: Object.fromEntries(Object.entries(counts).filter(([, n]) => (n ?? 0) > 0)) } : {}),
    ...(summary?.imageScanCompletedAt ? { completedAt: summary.imageScanCompletedAt } : {}),
  } as ImageScanState;
}

/**
 * The verdict on a scan: still running, passed, findings at or above `threshold` (the counts at those
 * severities), or failed (FAILED, UNSUPPORTED_IMAGE, SCAN_ELIGIBILITY_EXPIRED, FINDINGS_UNAVAILABLE...: every
 * status that is neither running nor a result).
 */
export function scanVerdict(scan: ImageScanState | undefined, threshold: ScanThreshold): ScanVerdict {
  if (!scan || threshold === 'off') return { kind: 'unscanned' };
  if (AWAITING.has(scan.status)) return { kind: 'awaiting', status: scan.status };
  if (!SCANNED.has(scan.status))
    return {
      kind: 'failed',
      status: scan.status,
      ...(scan.description ? { description: scan.description } : {}),
    };
  const limit = SEVERITY_ORDER.indexOf(threshold);
  const counts: Record<string, number> = {};
  for (const [severity, n] of Object.entries(scan.counts ?? {})) {
    const rank = SEVERITY_ORDER.indexOf(severity);
    if (rank >= 0 && rank <= limit && n > 0) counts[severity] = n;
  }
  return Object.keys(counts).length > 0 ? { kind: 'findings', counts, threshold } : { kind: 'passed' };
}

/** `2 CRITICAL, 40 HIGH`, worst first. */
export function countsPhrase(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([severity, n]) => `${n} ${severity}`)
    .join(', ');
}

/** Worst first; unknown severities last. */
export function rank(severity: string): number {
  const i = SEVERITY_ORDER.indexOf(severity);
  return i < 0 ? SEVERITY_ORDER.length : i;
}

/** A workload's `scan-gate` setting: a threshold, or the problem with it (which holds it: never deploy on a typo). */
export function parseThreshold(value: string): ScanThreshold | undefined {
  const v = value.trim();
  if (v.toLowerCase() === 'off') return 'off';
  const upper = v.toUpperCase();
  return (SCAN_THRESHOLDS as readonly string[]).includes(upper) ? (upper as ScanThreshold) : undefined;
}
