/**
 * One capacity report across targets (shared/check-capacity/targets.ts and the email): keys of their own per
 * account and region, the home target's as before; a target not read keeps its findings told; the email under a
 * heading per target, and as before when every finding is the home target's.
 */
import { describe, expect, it } from 'vitest';
import { planNotification } from '../../../shared/check-capacity/hysteresis';
import type { Finding } from '../../../shared/check-capacity/model';
import { renderCapacityEmail } from '../../../shared/check-capacity/render';
import {
  prefixOfKey,
  qualifyFindings,
  unreadAcross,
  unreadableFinding,
} from '../../../shared/check-capacity/targets';
import type { Target } from '../../../shared/targets';

const HOME: Target = { home: true, region: 'us-east-1' };
const STAGING: Target = {
  home: false,
  accountId: '111111111111',
  region: 'us-west-2',
  name: 'staging',
  roleArn: 'arn:aws:iam::111111111111:role/harborpilot',
};
const PROD: Target = {
  home: false,
  accountId: '222222222222',
  region: 'us-west-2',
  roleArn: 'arn:aws:iam::222222222222:role/harborpilot',
};

const noRoom: Finding = {
  key: 'ecs:prod:service/api:no-room',
  severity: 'critical',
  kind: 'no-room',
  cluster: 'ECS prod',
  subject: 'service/api',
  title: 'no room for another task of api',
  detail: '0 of 2 instances have 256 CPU units',
};

describe('finding keys per target', () => {
  it("keeps the home target's keys, and gives another target's its account and region", () => {
    expect(qualifyFindings(HOME, [noRoom])).toEqual([noRoom]);
    const [staging] = qualifyFindings(STAGING, [noRoom]);
    expect(staging).toEqual({
      ...noRoom,
      key: '111111111111/us-west-2/ecs:prod:service/api:no-room',
      target: 'staging (111111111111) us-west-2',
    });
    expect(qualifyFindings(PROD, [noRoom])[0]?.target).toBe('222222222222 us-west-2');
    expect(prefixOfKey(staging?.key ?? '')).toBe('111111111111/us-west-2/');
    expect(prefixOfKey(noRoom.key)).toBe('');
    expect(prefixOfKey('ecs:account:fargate-vcpu-quota')).toBe('');
  });

  it("two accounts' prod clusters never share a told finding", () => {
    const findings = [...qualifyFindings(STAGING, [noRoom]), ...qualifyFindings(PROD, [noRoom])];
    const n = planNotification({}, findings);
    expect(Object.keys(n.next)).toEqual([
      '111111111111/us-west-2/ecs:prod:service/api:no-room',
      '222222222222/us-west-2/ecs:prod:service/api:no-room',
    ]);
    // Staging recovers: only staging's clears.
    const later = planNotification(n.next, qualifyFindings(PROD, [noRoom]));
    expect(later.changes).toEqual([
      expect.objectContaining({
        change: 'cleared',
        key: '111111111111/us-west-2/ecs:prod:service/api:no-room',
        target: 'staging (111111111111) us-west-2',
      }),
    ]);
  });

  it('a target not read keeps its findings told; one read asks its own turn; one no longer configured clears', () => {
    const told = planNotification({}, [
      noRoom,
      ...qualifyFindings(STAGING, [noRoom]),
      ...qualifyFindings(PROD, [noRoom]),
    ]).next;
    const unread = unreadAcross(
      new Map([
        ['', { read: true as const, unread: (k: string) => k === noRoom.key }],
        ['111111111111/us-west-2/', { read: false as const }],
      ]),
    );
    const n = planNotification(told, [unreadableFinding(STAGING, 'could not assume …')], unread);
    expect(n.changes.map((c) => [c.change, c.key])).toEqual([
      ['new', '111111111111/us-west-2/target:unreadable'],
      ['cleared', '222222222222/us-west-2/ecs:prod:service/api:no-room'],
    ]);
    expect(Object.keys(n.next).sort()).toEqual([
      '111111111111/us-west-2/ecs:prod:service/api:no-room',
      '111111111111/us-west-2/target:unreadable',
      noRoom.key,
    ]);
  });

  it("a target that cannot be read is a warning naming it and AWS's words", () => {
    expect(
      unreadableFinding(STAGING, 'could not assume arn:aws:iam::111111111111:role/harborpilot: AccessDenied'),
    ).toEqual({
      key: '111111111111/us-west-2/target:unreadable',
      severity: 'warning',
      kind: 'target-unreadable',
      cluster: 'Access',
      subject: 'arn:aws:iam::111111111111:role/harborpilot',
      title: 'capacity of staging (111111111111) us-west-2 could not be read',
      detail: 'could not assume arn:aws:iam::111111111111:role/harborpilot: AccessDenied',
      target: 'staging (111111111111) us-west-2',
    });
  });
});

describe('the email across targets', () => {
  it('only the home target: no target headings, as before targets existed', () => {
    const email = renderCapacityEmail(planNotification({}, [noRoom]), '2026-01-01T00:00:00.000Z');
    expect(email.subject).toBe('[harborpilot] capacity shortage: no room for another task of api (ECS prod)');
    expect(email.text.split('\n').slice(0, 4)).toEqual([
      email.subject,
      '',
      '== ECS prod',
      '- [new] critical: service/api: no room for another task of api',
    ]);
    expect(email.html).toContain('<h2 style="font-size:16px;margin:24px 0 8px">ECS prod</h2>');
    expect(email.text).not.toContain('# ');
  });

  it('a heading per target, the home target first, each with its clusters', () => {
    const n = planNotification({}, [
      ...qualifyFindings(STAGING, [noRoom]),
      { ...noRoom, severity: 'warning', kind: 'deployment-headroom', key: 'ecs:prod:service/api:x' },
      unreadableFinding(PROD, 'could not assume arn:aws:iam::222222222222:role/harborpilot: AccessDenied'),
    ]);
    const email = renderCapacityEmail(n, '2026-01-01T00:00:00.000Z', undefined, 'us-east-1 (home)');
    expect(email.subject).toBe(
      '[harborpilot] capacity shortage: no room for another task of api (ECS prod in staging (111111111111) us-west-2), and 2 more change(s)',
    );
    const text = email.text;
    const at = (s: string) => text.indexOf(s);
    expect(at('# us-east-1 (home)')).toBeGreaterThan(0);
    expect(at('# 222222222222 us-west-2')).toBeGreaterThan(at('# us-east-1 (home)'));
    expect(at('# staging (111111111111) us-west-2')).toBeGreaterThan(at('# 222222222222 us-west-2'));
    expect(text).toContain(
      '# 222222222222 us-west-2\n\n== Access\n- [new] warning: arn:aws:iam::222222222222:role/harborpilot: capacity of 222222222222 us-west-2 could not be read\n    could not assume arn:aws:iam::222222222222:role/harborpilot: AccessDenied',
    );
    expect(text).toContain(
      '# staging (111111111111) us-west-2\n\n== ECS prod\n- [new] critical: service/api: no room for another task of api',
    );
    expect(email.html).toContain('>staging (111111111111) us-west-2</h2>');
    expect(email.html).toContain('<h3 style="font-size:16px;margin:24px 0 8px">ECS prod</h3>');
  });
});
