/**
 * The holds of one plan, as redeployEcs, rollEks and `harborpilot plan push` use them: read the freezes and
 * approvals of the workloads a draft plan would move (one batch), make the gates, and keep what they hold
 * (`held#<workload>`, a pending `approval#<id>`) so the release schedule can apply it once released.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { errorMessage } from '../errors';
import type { ImagePush } from '../events/image-push';
import type { Gate, GateChange, Hold } from '../gates';
import { prepareScanGate, type ScanGateInput, type ScanPlan, scanGate } from '../scan/gate';
import { formatWorkloadId, type WorkloadId } from '../workload';
import {
  approvalIdOfCandidate,
  type HoldSettings,
  type HoldsConfig,
  holdGates,
  resolveSettings,
  type WorkloadHoldSettings,
} from './gates';
import { type HeldItem, type HeldPush, type HoldState, type HoldsStore, holdVersion } from './store';

export interface HoldCandidate {
  workload: WorkloadId;
  settings: HoldSettings;
  changes: readonly GateChange[];
}

export interface PlanGates {
  gates: Gate[];
  state: HoldState;
  /** Settings that could not be read (a bad window): the workload is held, and the invocation fails naming it. */
  problems: { item: string; error: string }[];
  /** The scan gate's view of the plan (scans, thresholds), for its notices. */
  scan?: ScanPlan;
}

export interface HoldsOptions extends HoldsConfig {
  approvalExpiryHours: number;
  heldExpiryDays: number;
}

/** An approval is requested: the notices helper's email hooks in here (log only until then). */
export type ApprovalNotice = (notice: {
  approvalId: string;
  workload: string;
  changes: string[];
  expiresAt: string;
  approve: string;
  reject: string;
}) => Promise<void>;

export async function planGates(
  store: Pick<HoldsStore, 'read'>,
  config: HoldsConfig,
  candidates: readonly HoldCandidate[],
  now: Date,
  /** The scan gate's config and the pushes with their scans; none: no scan gate. */
  scan?: ScanGateInput,
): Promise<PlanGates> {
  const settings = new Map<string, WorkloadHoldSettings>();
  const problems: { item: string; error: string }[] = [];
  for (const c of candidates) {
    const key = formatWorkloadId(c.workload);
    const s = resolveSettings(key, c.settings, config);
    settings.set(key, s);
    if (s.problem) problems.push({ item: key, error: s.problem });
  }
  const approvalIds = candidates
    .filter((c) => settings.get(formatWorkloadId(c.workload))?.approvalRequired)
    .map(approvalIdOfCandidate);
  const scanPlan = scan
    ? prepareScanGate(
        scan,
        candidates.map((c) => ({ workload: c.workload, setting: c.settings.scanGate, changes: c.changes })),
      )
    : undefined;
  if (scanPlan) problems.push(...scanPlan.problems);
  const state = await store.read(
    candidates.map((c) => formatWorkloadId(c.workload)),
    approvalIds,
    scanPlan?.recordKeys,
  );
  const scanning = scanPlan ? scanGate(scanPlan, state.scans ?? new Map()) : undefined;
  return {
    gates: holdGates(settings, state, now, scanning),
    state,
    problems,
    ...(scanPlan ? { scan: scanPlan } : {}),
  };
}

export interface PlannedHold {
  workload: WorkloadId;
  hold: Hold;
  /** The platform's action, as the plan kept it. */
  action: object;
  changes: readonly GateChange[];
}

const describeChange = (c: GateChange) => `${c.containerName}: ${c.fromImage} → ${c.toImage} (${c.toDigest})`;

export const heldPush = (p: ImagePush): HeldPush => ({
  repository: { ...p.repository },
  digest: p.digest,
  ...(p.tag !== undefined ? { tag: p.tag } : {}),
  ...(p.pushedAt ? { pushedAt: p.pushedAt.toISOString() } : {}),
});

export const fromHeldPush = (p: HeldPush): ImagePush => ({
  repository: p.repository,
  digest: p.digest as ImagePush['digest'],
  ...(p.tag !== undefined ? { tag: p.tag } : {}),
  ...(p.pushedAt ? { pushedAt: new Date(p.pushedAt) } : {}),
});

/**
 * Keeps each freeze, window and approval hold as `held#<workload>` (a newer push replaces it), and asks for
 * approval where the approval gate held it. A rejected approval keeps nothing: that push is dropped.
 */
export async function keepHolds(
  store: HoldsStore,
  options: HoldsOptions,
  holds: readonly PlannedHold[],
  pushes: readonly ImagePush[],
  gated: PlanGates,
  now: Date,
  logger: Logger,
  notice?: ApprovalNotice,
): Promise<void> {
  for (const h of holds) {
    const { gate } = h.hold;
    if (gate !== 'freeze' && gate !== 'window' && gate !== 'approval' && gate !== 'scan') continue;
    // A scan still running is not kept: its end is an event of its own, which plans the push again.
    if (h.hold.transient) continue;
    const workload = formatWorkloadId(h.workload);
    const digests = new Set(h.changes.map((c) => c.toDigest));
    const kept = pushes.filter((p) => digests.has(p.digest)).map(heldPush);
    const approvalId = approvalIdOfCandidate({ workload: h.workload, changes: h.changes });
    if (gate === 'approval' && gated.state.approvals.get(approvalId)?.status === 'rejected') {
      logger.info('push dropped: approval rejected', { workload, approvalId, reason: h.hold.reason });
      continue;
    }
    const item: HeldItem = {
      workload,
      gate,
      reason: h.hold.reason,
      heldAt: now.toISOString(),
      version: holdVersion(h.action, kept),
      pushedAt: kept.reduce((m, p) => (p.pushedAt && p.pushedAt > m ? p.pushedAt : m), ''),
      action: h.action as Record<string, unknown>,
      pushes: kept,
      ...(gate === 'approval' ? { approvalId } : {}),
    };
    const stored = await store.putHeld(item, options.heldExpiryDays);
    logger.info(stored ? 'push held' : 'push held: a newer held push stays', {
      workload,
      gate,
      reason: h.hold.reason,
    });
    if (gate !== 'approval') continue;
    const expiresAt = new Date(now.getTime() + options.approvalExpiryHours * 3600_000).toISOString();
    const changes = h.changes.map(describeChange);
    if (
      await store.requestApproval(
        { approvalId, workload, status: 'pending', changes, requestedAt: now.toISOString(), expiresAt },
        now.toISOString(),
      )
    ) {
      const approve = `npx harborpilot approve ${approvalId}`;
      const reject = `npx harborpilot reject ${approvalId}`;
      logger.info('approval requested', { approvalId, workload, changes, expiresAt, approve, reject });
      await notice?.({ approvalId, workload, changes, expiresAt, approve, reject });
    }
  }
}

/**
 * An ApprovalNotice whose failure joins the invocation's failures instead of stopping it: the other workloads of
 * the push are still deployed, then the invocation fails naming the approval whose email did not go.
 */
export function approvalNotice(
  notice: ApprovalNotice | undefined,
  failures: { item: string; error: string }[],
): ApprovalNotice | undefined {
  if (!notice) return undefined;
  return async (n) => {
    try {
      await notice(n);
    } catch (err) {
      failures.push({
        item: n.workload,
        error: `approval ${n.approvalId} requested, its email failed: ${errorMessage(err)}`,
      });
    }
  };
}

/** The release schedule's rule name ends so (serverless.yml); the reconcile's does not. */
export const RELEASE_RULE_SUFFIX = '-release-holds';

export function isReleaseSchedule(event: unknown): boolean {
  const e = event as { source?: unknown; resources?: unknown } | null;
  return (
    e?.source === 'aws.events' &&
    Array.isArray(e.resources) &&
    typeof e.resources[0] === 'string' &&
    e.resources[0].endsWith(RELEASE_RULE_SUFFIX)
  );
}

/** The event's time (simulated in the local cloud): what windows, freezes and expiries are judged at. */
export function eventNow(event: unknown): Date {
  const time = (event as { time?: unknown } | null)?.time;
  const ms = typeof time === 'string' ? Date.parse(time) : Number.NaN;
  return Number.isNaN(ms) ? new Date() : new Date(ms);
}
