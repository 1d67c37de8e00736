/**
 * After a plan's holds are kept: the scan gate's notices. A push waiting for its scan is logged (`awaiting scan`);
 * an image the gate holds gets its `scan#` item and one email (SES, to alerts.to) with the findings that held it,
 * sent by whichever function held it first, once however many workloads, functions and deliveries.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  DescribeImageScanFindingsCommand,
  type ECRClient,
  type EnhancedImageScanFinding,
  type ImageScanFinding,
} from '@aws-sdk/client-ecr';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { recipientChunks, sendEmail } from '../email/send';
import { errorMessage } from '../errors';
import type { PlanGates, PlannedHold } from '../holds/plan-holds';
import { formatWorkloadId } from '../workload';
import { holds, judge, releaseCommand, type ScanJudgement, shortImage, verdictReason } from './gate';
import { renderScanHold, type ShownFinding } from './render';
import { rank } from './severity';
import type { ScanRecords } from './store';

/** How many findings an email lists (the rest: counted, and one CLI command away). */
const SHOWN = 10;

export interface ScanNoticeDeps {
  records: ScanRecords;
  ecr: ECRClient;
  /** None: the email is logged instead (as with alerts.dryRun). */
  ses?: SESv2Client | undefined;
  alerts: { from: string; to: string[]; dryRun?: boolean | undefined };
  logger: Logger;
  /** redeployEcs or rollEks, named in the email. */
  heldBy: string;
}

/** Logs what waits for a scan and tells the team of each newly held image; the failures, for the invocation. */
export async function noticeScanHolds(
  deps: ScanNoticeDeps,
  planned: readonly PlannedHold[],
  gated: PlanGates,
  now: Date,
  eventId: string,
): Promise<{ item: string; error: string }[]> {
  const plan = gated.scan;
  if (!plan) return [];
  const awaiting = new Map<string, { j: ScanJudgement; workloads: string[] }>();
  const held = new Map<string, { j: ScanJudgement; workloads: string[] }>();
  for (const h of planned) {
    if (h.hold.gate !== 'scan') continue;
    const workload = formatWorkloadId(h.workload);
    const threshold = plan.thresholds.get(workload);
    if (typeof threshold !== 'string') continue;
    for (const j of judge(plan, h.changes, threshold)) {
      if (j.verdict.kind === 'awaiting') {
        const a = awaiting.get(j.image) ?? { j, workloads: [] };
        a.workloads.push(workload);
        awaiting.set(j.image, a);
      } else if (holds(j.verdict, plan.config) && !gated.state.scans?.get(j.image)?.releasedAt) {
        const e = held.get(j.image) ?? { j, workloads: [] };
        e.workloads.push(workload);
        held.set(j.image, e);
      }
    }
  }
  for (const { j, workloads } of awaiting.values())
    deps.logger.info('awaiting scan', {
      eventId,
      image: shortImage(j.push),
      digest: j.push.digest,
      status: j.scan.status,
      workloads,
      next: 'the scan event (ECR Image Scan) plans the push again; the reconcile reads the scan if it never comes',
    });

  const failures: { item: string; error: string }[] = [];
  for (const [image, e] of held) {
    // Told already (its item was read with the plan's holds): nothing to write or send.
    if (gated.state.scans?.has(image)) continue;
    const { j } = e;
    const tags = plan.scans.get(image)?.tags ?? [];
    const reason = verdictReason(j);
    const first = await deps.records.recordHold(
      {
        image,
        repository: { ...j.push.repository },
        digest: j.push.digest,
        tags,
        reason,
        heldAt: now.toISOString(),
        workloads: [...new Set(e.workloads)],
      },
      now.toISOString(),
    );
    if (!first) continue;
    try {
      await tellTeam(deps, j, tags, [...new Set(e.workloads)], now);
      deps.logger.info('scan hold: team told', { image, reason, workloads: e.workloads });
    } catch (err) {
      // The item goes, so the retry this failure causes tells the team.
      await deps.records.forgetHold(image);
      deps.logger.error('scan hold: email failed', { image, error: errorMessage(err) });
      failures.push({ item: `scan hold email for ${shortImage(j.push)}`, error: errorMessage(err) });
    }
  }
  return failures;
}

async function tellTeam(
  deps: ScanNoticeDeps,
  j: ScanJudgement,
  tags: string[],
  workloads: string[],
  now: Date,
): Promise<void> {
  let findings: ShownFinding[] = [];
  let more = 0;
  let unreadable: string | undefined;
  if (j.verdict.kind === 'findings') {
    const threshold = j.verdict.threshold;
    const total = Object.values(j.verdict.counts).reduce((a, b) => a + b, 0);
    try {
      const all = (await readFindings(deps.ecr, j)).filter((f) => rank(f.severity) <= rank(threshold));
      findings = all.slice(0, SHOWN);
      more = Math.max(0, total - findings.length);
    } catch (err) {
      unreadable = errorMessage(err);
      deps.logger.warn('scan hold: findings unreadable', { image: j.image, error: unreadable });
    }
  }
  const email = renderScanHold({
    repository: j.push.repository.repositoryName,
    digest: j.push.digest,
    tags,
    verdict: verdictReason(j).replace(/^scan of \S+ /, ''),
    findings,
    more,
    ...(unreadable ? { findingsUnreadable: unreadable } : {}),
    workloads,
    release: releaseCommand(j.push),
    heldBy: deps.heldBy,
    at: now.toISOString(),
  });
  if (deps.alerts.to.length === 0 || deps.alerts.dryRun || !deps.ses) {
    deps.logger.info('scan hold email not sent', {
      why: deps.alerts.to.length === 0 ? 'alerts.to is empty' : 'alerts.dryRun',
      subject: email.subject,
      text: email.text,
    });
    return;
  }
  for (const to of recipientChunks(deps.alerts.to)) await sendEmail(deps.ses, deps.alerts.from, to, email);
}

/** The first page of the image's findings (100, more than an email shows), worst first; basic or enhanced. */
async function readFindings(ecr: ECRClient, j: ScanJudgement): Promise<ShownFinding[]> {
  const out = await ecr.send(
    new DescribeImageScanFindingsCommand({
      registryId: j.push.repository.accountId,
      repositoryName: j.push.repository.repositoryName,
      imageId: { imageDigest: j.push.digest },
      maxResults: 100,
    }),
  );
  const found = out.imageScanFindings;
  const shown = [
    ...(found?.findings ?? []).map(basicFinding),
    ...(found?.enhancedFindings ?? []).map(enhancedFinding),
  ];
  return shown.sort((a, b) => rank(a.severity) - rank(b.severity) || (a.name < b.name ? -1 : 1));
}

function basicFinding(f: ImageScanFinding): ShownFinding {
  const attr = (key: string) => f.attributes?.find((a) => a.key === key)?.value;
  const pkg = attr('package_name');
  const version = attr('package_version');
  return {
    name: f.name ?? '?',
    severity: f.severity ?? 'UNDEFINED',
    ...(pkg ? { package: pkg } : {}),
    ...(version ? { version } : {}),
    ...(f.uri ? { uri: f.uri } : {}),
  };
}

function enhancedFinding(f: EnhancedImageScanFinding): ShownFinding {
  const v = f.packageVulnerabilityDetails;
  const p = v?.vulnerablePackages?.[0];
  return {
    name: v?.vulnerabilityId ?? f.title ?? '?',
    severity: f.severity ?? 'UNDEFINED',
    ...(p?.name ? { package: p.name } : {}),
    ...(p?.version ? { version: p.version } : {}),
    ...(v?.sourceUrl ? { uri: v.sourceUrl } : {}),
  };
}
