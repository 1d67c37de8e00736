/** The freeze, approval and window gates: pure over freezes, approvals, settings and the time. */
import { describe, expect, it } from 'vitest';
import type { GateCandidate } from '../../../shared/gates';
import { firstHold } from '../../../shared/gates';
import {
  approvalIdOfCandidate,
  holdGates,
  resolveSettings,
  type WorkloadHoldSettings,
} from '../../../shared/holds/gates';
import type { Approval, Freeze, HoldState } from '../../../shared/holds/store';
import { parseWorkloadId } from '../../../shared/workload';

const W = 'ecs/prod/api';
const candidate: GateCandidate = {
  workload: parseWorkloadId(W),
  changes: [
    { containerName: 'app', fromImage: 'r/api:1', toImage: 'r/api:2', toDigest: `sha256:${'2'.repeat(64)}` },
  ],
};
// Wednesday 14 January 2026, 20:00 UTC: 21:00 in Berlin.
const NOW = new Date('2026-01-14T20:00:00Z');
const freeze = (f: Partial<Freeze> = {}): Freeze => ({
  workload: W,
  by: 'arn:aws:iam::1:user/ana',
  at: '2026-01-14T10:00:00Z',
  reason: 'incident 42',
  ...f,
});
const approval = (a: Partial<Approval> = {}): Approval => ({
  approvalId: approvalIdOfCandidate(candidate),
  workload: W,
  status: 'pending',
  changes: [],
  requestedAt: '2026-01-14T19:00:00Z',
  expiresAt: '2026-01-17T19:00:00Z',
  ...a,
});

function hold(o: {
  freeze?: Freeze;
  approval?: Approval;
  settings?: { window?: string; approval?: string };
  defaultWindow?: string;
}) {
  const state: HoldState = {
    freezes: new Map(o.freeze ? [[W, o.freeze]] : []),
    approvals: new Map(o.approval ? [[o.approval.approvalId, o.approval]] : []),
  };
  const settings = new Map<string, WorkloadHoldSettings>([
    [W, resolveSettings(W, o.settings ?? {}, { window: o.defaultWindow })],
  ]);
  return firstHold(holdGates(settings, state, NOW), candidate);
}

describe('freeze gate', () => {
  it('holds a frozen workload, naming who froze it and why', () => {
    expect(hold({ freeze: freeze() })).toEqual({
      gate: 'freeze',
      reason: 'frozen by arn:aws:iam::1:user/ana at 2026-01-14T10:00:00Z: incident 42',
    });
  });
  it('lets it go once `until` has passed, and holds it before', () => {
    expect(hold({ freeze: freeze({ until: '2026-01-14T19:59:59Z' }) })).toBeUndefined();
    expect(hold({ freeze: freeze({ until: '2026-01-14T20:00:01Z' }) })?.reason).toMatch(
      /until 2026-01-14T20:00:01Z/,
    );
  });
  it('comes before every other gate', () => {
    expect(
      hold({ freeze: freeze(), settings: { approval: 'required', window: 'Mon 01:00-02:00 UTC' } })?.gate,
    ).toBe('freeze');
  });
});

describe('approval gate', () => {
  const required = { approval: 'required' };
  it('holds a workload that requires approval, saying how to approve', () => {
    const id = approvalIdOfCandidate(candidate);
    expect(id).toMatch(/^[0-9a-z]{8}$/);
    expect(hold({ settings: required })).toEqual({
      gate: 'approval',
      reason: `awaiting approval ${id}: npx harborpilot approve ${id} (or reject ${id})`,
    });
  });
  it('lets an approved change through, and only that change', () => {
    expect(hold({ settings: required, approval: approval({ status: 'approved' }) })).toBeUndefined();
    const other = approval({ status: 'approved', approvalId: 'zzzzzzzz' });
    expect(hold({ settings: required, approval: other })?.gate).toBe('approval');
  });
  it('holds a rejected change, naming who rejected it', () => {
    const rejected = approval({
      status: 'rejected',
      decidedBy: 'arn:aws:iam::1:user/bo',
      decidedAt: '2026-01-14T19:30:00Z',
    });
    expect(hold({ settings: required, approval: rejected })?.reason).toMatch(
      /rejected by arn:aws:iam::1:user\/bo/,
    );
  });
  it('is off without the setting or with "none"', () => {
    expect(hold({})).toBeUndefined();
    expect(hold({ settings: { approval: 'none' } })).toBeUndefined();
  });
});

describe('window gate', () => {
  it('holds outside the window, saying when it opens', () => {
    expect(hold({ settings: { window: 'Mon-Fri 09:00-17:00 Europe/Berlin' } })).toEqual({
      gate: 'window',
      reason: 'outside maintenance window Mon-Fri 09:00-17:00 Europe/Berlin; opens 2026-01-15T08:00:00.000Z',
    });
  });
  it('lets it go inside the window (New York is at 15:00)', () => {
    expect(hold({ settings: { window: 'Mon-Fri 09:00-17:00 America/New_York' } })).toBeUndefined();
  });
  it('uses holds.window where the workload has none, its own where it has one', () => {
    expect(hold({ defaultWindow: 'Mon-Fri 09:00-17:00 Europe/Berlin' })?.gate).toBe('window');
    expect(
      hold({ defaultWindow: 'Mon-Fri 09:00-17:00 Europe/Berlin', settings: { window: 'any' } }),
    ).toBeUndefined();
  });
  it('holds a workload whose settings cannot be read, naming it and what is wrong', () => {
    expect(hold({ settings: { window: 'weekdays 9-5' } })?.reason).toMatch(
      /ecs\/prod\/api: invalid maintenance window "weekdays 9-5": "weekdays 9-5" should be three fields/,
    );
    expect(resolveSettings(W, { approval: 'yes' }, {}).problem).toBe(
      'ecs/prod/api: approval setting "yes" is not "required" or "none"',
    );
  });
  it('an approved change outside its window waits for the window', () => {
    expect(
      hold({
        settings: { approval: 'required', window: 'Mon-Fri 09:00-17:00 Europe/Berlin' },
        approval: approval({ status: 'approved' }),
      })?.gate,
    ).toBe('window');
  });
});
