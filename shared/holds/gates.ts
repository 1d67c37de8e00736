/**
 * The freeze, approval and window gates: pure over the state a handler read before planning (freezes and
 * approvals from the state table, each workload's `window` and `approval` settings, the event's time).
 * Order: a freeze says most, then an approval (it can be given at any hour), then the window.
 */
import type { Gate, GateCandidate, Hold } from '../gates';
import { formatWorkloadId } from '../workload';
import { failedDigestGate } from './failed-digest';
import { type Approval, approvalIdOf, type Freeze, type HoldState } from './store';
import { inWindow, type MaintenanceWindow, nextOpening, parseWindows, WindowError } from './window';

/** A workload's own settings: ECS tags `harborpilot:window` / `harborpilot:approval`, annotations `harborpilot.io/…`. */
export interface HoldSettings {
  window?: string;
  approval?: string;
  /** The scan gate's threshold for this workload (tag harborpilot:scan-gate, annotation harborpilot.io/scan-gate). */
  scanGate?: string;
}

export interface HoldsConfig {
  /** Default window for workloads without their own; undefined: any time. */
  window?: string | undefined;
}

/** A freeze in force at `now` (one whose `until` has passed no longer holds). */
export function activeFreeze(freeze: Freeze | undefined, now: Date): Freeze | undefined {
  if (!freeze) return undefined;
  return freeze.until && Date.parse(freeze.until) <= now.getTime() ? undefined : freeze;
}

export function freezeGate(state: HoldState, now: Date): Gate {
  return ({ workload }) => {
    const f = activeFreeze(state.freezes.get(formatWorkloadId(workload)), now);
    if (!f) return undefined;
    return {
      gate: 'freeze',
      reason: `frozen by ${f.by} at ${f.at}${f.until ? ` until ${f.until}` : ''}: ${f.reason}`,
    };
  };
}

/** What a workload's settings say, or the problem with them (which holds it: never deploy on a typo). */
export interface WorkloadHoldSettings {
  windows?: MaintenanceWindow[];
  approvalRequired: boolean;
  problem?: string;
}

export function resolveSettings(
  workload: string,
  settings: HoldSettings,
  config: HoldsConfig,
): WorkloadHoldSettings {
  const out: WorkloadHoldSettings = { approvalRequired: false };
  const approval = settings.approval?.trim().toLowerCase();
  if (approval === 'required') out.approvalRequired = true;
  else if (approval !== undefined && approval !== '' && approval !== 'none')
    out.problem = `${workload}: approval setting "${settings.approval}" is not "required" or "none"`;
  const spec = settings.window ?? config.window;
  if (spec !== undefined && spec.trim() !== '' && spec.trim().toLowerCase() !== 'any') {
    try {
      out.windows = parseWindows(spec);
    } catch (err) {
      out.problem = `${workload}: ${err instanceof WindowError ? err.message : String(err)}`;
    }
  }
  return out;
}

/** The approval that would let this change through: same workload, same digests. */
export const approvalIdOfCandidate = (c: GateCandidate): string =>
  approvalIdOf(
    formatWorkloadId(c.workload),
    c.changes.map((ch) => ch.toDigest),
  );

function approvalHold(a: Approval | undefined, id: string, now: Date): Hold | undefined {
  if (a?.status === 'approved') return undefined;
  if (a?.status === 'rejected')
    return {
      gate: 'approval',
      reason: `approval ${id} rejected by ${a.decidedBy ?? '?'} at ${a.decidedAt ?? '?'}`,
    };
  const alive = a && Date.parse(a.expiresAt) > now.getTime();
  return {
    gate: 'approval',
    reason: `awaiting approval ${id}${alive ? ` (expires ${a.expiresAt})` : ''}: npx harborpilot approve ${id} (or reject ${id})`,
  };
}

export function approvalGate(settings: Map<string, WorkloadHoldSettings>, state: HoldState, now: Date): Gate {
  return (candidate) => {
    const s = settings.get(formatWorkloadId(candidate.workload));
    if (!s?.approvalRequired) return undefined;
    const id = approvalIdOfCandidate(candidate);
    return approvalHold(state.approvals.get(id), id, now);
  };
}

export function windowGate(settings: Map<string, WorkloadHoldSettings>, now: Date): Gate {
  // Many workloads share a window: its next opening is worked out once per plan.
  const openings = new Map<string, Date | undefined>();
  return ({ workload }) => {
    const key = formatWorkloadId(workload);
    const s = settings.get(key);
    if (s?.problem) return { gate: 'window', reason: `held, settings unreadable: ${s.problem}` };
    if (!s?.windows || inWindow(s.windows, now)) return undefined;
    const text = s.windows.map((w) => w.text).join(', ');
    if (!openings.has(text)) openings.set(text, nextOpening(s.windows, now));
    const opens = openings.get(text);
    return {
      gate: 'window',
      reason: `outside maintenance window ${text}${opens ? `; opens ${opens.toISOString()}` : ''}`,
    };
  };
}

/**
 * The gates in order, over one plan's state. A failed digest comes second and the scan gate third: no approval or
 * window would let either through.
 */
export function holdGates(
  settings: Map<string, WorkloadHoldSettings>,
  state: HoldState,
  now: Date,
  scan?: Gate,
): Gate[] {
  return [
    freezeGate(state, now),
    failedDigestGate(state.failed),
    ...(scan ? [scan] : []),
    approvalGate(settings, state, now),
    windowGate(settings, now),
  ];
}

/** The hold settings of a workload from its tags or annotations (`read` gets `window`, `approval` or `scan-gate`). */
export function holdSettingsOf(
  read: (key: 'window' | 'approval' | 'scan-gate') => string | undefined,
): HoldSettings | undefined {
  const window = read('window');
  const approval = read('approval');
  const scanGate = read('scan-gate');
  if (window === undefined && approval === undefined && scanGate === undefined) return undefined;
  return {
    ...(window !== undefined ? { window } : {}),
    ...(approval !== undefined ? { approval } : {}),
    ...(scanGate !== undefined ? { scanGate } : {}),
  };
}
