/**
 * The scan gate: where a repository scans its images, a change to an image whose scan is still running waits for it
 * (a transient hold: the scan's event ends it), and one whose scan found anything at or above the workload's
 * threshold, or failed, is held until released. Pure over what was read before planning: each push's scan (from the
 * DescribeImages the push path makes anyway) and the images' `scan#` items (in the gates' one BatchGetItem).
 */
import type { ImagePush } from '../events/image-push';
import type { Gate, GateCandidate, GateChange, Hold } from '../gates';
import { ecrRepositoryOf } from '../image-ref';
import { formatWorkloadId, type WorkloadId } from '../workload';
import {
  countsPhrase,
  type ImageScanState,
  parseThreshold,
  type ScanThreshold,
  type ScanVerdict,
  scanVerdict,
} from './severity';
import { imageKeyOf, type ScanRecord } from './store';

export interface ScanConfig {
  holdAtSeverity: ScanThreshold;
  holdFailedScans: boolean;
}

export interface ScanGateInput {
  config: ScanConfig;
  /** The pushes the plan takes, each with the scan read with it. */
  pushes: readonly ImagePush[];
}

export interface ScanCandidate {
  workload: WorkloadId;
  /** The workload's `scan-gate` setting (tag harborpilot:scan-gate, annotation harborpilot.io/scan-gate). */
  setting?: string | undefined;
  changes: readonly GateChange[];
}

/** What the scan gate of one plan knows: thresholds per workload, scans per image, what to read of the state table. */
export interface ScanPlan {
  config: ScanConfig;
  /** Workload → its threshold, or the problem with its setting. */
  thresholds: Map<string, ScanThreshold | { problem: string }>;
  /** Image key → the image's scan, a push of it, and the tags the plan's pushes give it. */
  scans: Map<string, { scan: ImageScanState; push: ImagePush; tags: string[] }>;
  /** Images a verdict holds: their `scan#` items say whether they were released. */
  recordKeys: string[];
  problems: { item: string; error: string }[];
}

/** One image a change would deploy, with the verdict on its scan at the workload's threshold. */
export interface ScanJudgement {
  image: string;
  push: ImagePush;
  scan: ImageScanState;
  verdict: ScanVerdict;
}

/** The thresholds and scans of a plan's candidates (pure); the caller reads `recordKeys` before making the gate. */
export function prepareScanGate(input: ScanGateInput, candidates: readonly ScanCandidate[]): ScanPlan {
  const plan: ScanPlan = {
    config: input.config,
    thresholds: new Map(),
    scans: new Map(),
    recordKeys: [],
    problems: [],
  };
  for (const p of input.pushes) {
    if (!p.scan) continue;
    const key = imageKeyOf(p.repository, p.digest);
    const known = plan.scans.get(key) ?? { scan: p.scan, push: p, tags: [] };
    if (p.tag !== undefined && !known.tags.includes(p.tag)) known.tags.push(p.tag);
    plan.scans.set(key, known);
  }
  const keys = new Set<string>();
  for (const c of candidates) {
    const workload = formatWorkloadId(c.workload);
    const threshold = resolveThreshold(workload, c.setting, input.config);
    plan.thresholds.set(workload, threshold);
    if (typeof threshold !== 'string') {
      plan.problems.push({ item: workload, error: threshold.problem });
      continue;
    }
    for (const j of judge(plan, c.changes, threshold)) if (holds(j.verdict, input.config)) keys.add(j.image);
  }
  plan.recordKeys = [...keys];
  return plan;
}

export function resolveThreshold(
  workload: string,
  setting: string | undefined,
  config: ScanConfig,
): ScanThreshold | { problem: string } {
  if (setting === undefined || setting.trim() === '') return config.holdAtSeverity;
  return (
    parseThreshold(setting) ?? {
      problem: `${workload}: scan-gate setting "${setting}" is not CRITICAL, HIGH, MEDIUM, LOW or off`,
    }
  );
}

/** The images the changes would deploy that have a scan, each judged at `threshold`. */
export function judge(
  plan: Pick<ScanPlan, 'scans'>,
  changes: readonly GateChange[],
  threshold: ScanThreshold,
): ScanJudgement[] {
  const out: ScanJudgement[] = [];
  const seen = new Set<string>();
  for (const change of changes) {
    const repository = ecrRepositoryOf(change.toImage);
    if (!repository) continue;
    const image = imageKeyOf(repository, change.toDigest);
    const found = plan.scans.get(image);
    if (!found || seen.has(image)) continue;
    seen.add(image);
    out.push({ image, push: found.push, scan: found.scan, verdict: scanVerdict(found.scan, threshold) });
  }
  return out;
}

/** Whether a verdict holds the image until released (findings; a failed scan unless configured otherwise). */
export function holds(verdict: ScanVerdict, config: ScanConfig): boolean {
  return verdict.kind === 'findings' || (verdict.kind === 'failed' && config.holdFailedScans);
}

/** `shop/api@sha256:0123456789ab`: short enough for a log line, a reason, a subject. */
export function shortImage(push: ImagePush): string {
  return `${push.repository.repositoryName}@${push.digest.slice(0, 19)}`;
}

export const releaseCommand = (push: ImagePush) =>
  `npx harborpilot release ${push.repository.repositoryName}@${push.digest} --reason TEXT`;

/** Why a verdict holds the image, in the words of logs, emails and `harborpilot plan push`. */
export function verdictReason(j: ScanJudgement): string {
  const v = j.verdict;
  const what = shortImage(j.push);
  switch (v.kind) {
    case 'findings':
      return `scan of ${what} found ${countsPhrase(v.counts)} (holds at ${v.threshold} and above)`;
    case 'failed':
      return `scan of ${what} ${v.status}${v.description ? `: ${v.description}` : ''} (a scan that fails holds)`;
    case 'awaiting':
      return `awaiting scan of ${what} (${v.status})`;
    case 'passed':
    case 'unscanned':
      return `scan of ${what}: nothing at or above the threshold`;
    default: {
      const never: never = v;
      throw new Error(`unknown scan verdict ${JSON.stringify(never)}`);
    }
  }
}

/**
 * The gate: a workload whose setting cannot be read is held (never deploy on a typo); a scan still running holds
 * transiently; findings at or above the threshold, or a failed scan, hold until the image is released.
 */
export function scanGate(plan: ScanPlan, records: ReadonlyMap<string, ScanRecord>): Gate {
  return (candidate: GateCandidate): Hold | undefined => {
    const threshold = plan.thresholds.get(formatWorkloadId(candidate.workload)) ?? plan.config.holdAtSeverity;
    if (typeof threshold !== 'string')
      return { gate: 'scan', reason: `held, settings unreadable: ${threshold.problem}` };
    for (const j of judge(plan, candidate.changes, threshold)) {
      if (j.verdict.kind === 'awaiting') return { gate: 'scan', reason: verdictReason(j), transient: true };
      if (!holds(j.verdict, plan.config) || records.get(j.image)?.releasedAt) continue;
      return { gate: 'scan', reason: `${verdictReason(j)}; release: ${releaseCommand(j.push)}` };
    }
    return undefined;
  };
}
