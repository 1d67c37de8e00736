import { describe, expect, it } from 'vitest';
import type { AlertGroup } from '../../../shared/alert-task-failures/model';
import {
  alertWindows,
  CLAIM_TIMEOUT_MS,
  planEmails,
  planFlush,
} from '../../../shared/alert-task-failures/plan';
import type { AlertWindow, KeyState } from '../../../shared/alert-task-failures/store';
import { recipientChunks } from '../../../shared/email/send';

const MIN = 60_000;
const WINDOW = 10 * MIN;
const T0 = Date.parse('2026-11-25T10:00:00Z');
const group = (name: string): AlertGroup => ({
  accountId: '000000000000',
  region: 'us-east-1',
  clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/prod',
  clusterName: 'prod',
  kind: 'service',
  name,
});
const win = (name: string, over: Partial<AlertWindow> = {}): AlertWindow => ({
  id: `alert#window#${name}#${over.seq ?? 0}`,
  key: name,
  seq: 0,
  group: group(name),
  alertClass: 'image-pull',
  count: 3,
  firstSeen: '2026-11-25T10:00:10Z',
  lastSeen: '2026-11-25T10:00:50Z',
  exitCodes: [],
  imageDigests: [],
  samples: [],
  reasonCounts: [],
  otherReasons: 0,
  ...over,
});
const keys = (...states: KeyState[]) => new Map(states.map((s) => [s.key, s]));

describe('planFlush: at most one email per key per window', () => {
  it.each([
    ['a key never emailed is due at once', undefined, T0, true],
    ['a key emailed 9 minutes ago waits', T0 - 9 * MIN, T0, false],
    ['a key emailed exactly one window ago is due', T0 - WINDOW, T0, true],
    ['a key emailed long ago is due', T0 - 3 * WINDOW, T0, true],
  ])('%s', (_name, lastEmailAt, now, due) => {
    const w = win('api');
    const plan = planFlush(
      [w],
      keys({ key: 'api', seq: 0, ...(lastEmailAt !== undefined ? { lastEmailAt } : {}) }),
      now,
      WINDOW,
    );
    expect(plan.due.map((x) => x.id)).toEqual(due ? [w.id] : []);
    if (!due) expect(plan.waiting[0]?.dueAt).toBe((lastEmailAt ?? 0) + WINDOW);
  });

  it('a crash loop on a fake clock: one prompt email, then one per window, counts adding up', () => {
    // Simulates the store: failures every 20 s for 35 minutes, a flush every minute.
    let lastEmailAt: number | undefined;
    let open = 0;
    const sent: { at: number; count: number }[] = [];
    for (let t = T0; t <= T0 + 35 * MIN; t += 20_000) {
      open += 1;
      if ((t - T0) % MIN === 0) {
        const plan = planFlush(
          [win('api', { count: open })],
          keys({ key: 'api', seq: 0, ...(lastEmailAt !== undefined ? { lastEmailAt } : {}) }),
          t,
          WINDOW,
        );
        if (plan.due.length > 0) {
          sent.push({ at: (t - T0) / MIN, count: open });
          lastEmailAt = t;
          open = 0;
        }
      }
    }
    expect(sent.map((s) => s.at)).toEqual([0, 10, 20, 30]);
    expect(sent[0]?.count).toBe(1);
    expect(sent[1]?.count).toBe(30); // 10 minutes of failures every 20 s, none counted twice
    expect(sent.reduce((n, s) => n + s.count, 0) + open).toBe(35 * 3 + 1);
  });

  it('a window claimed by another flush is left alone until its claim goes stale', () => {
    const claimed = win('api', { closedAt: T0 });
    expect(planFlush([claimed], keys(), T0 + MIN, WINDOW).due).toEqual([]);
    expect(planFlush([claimed], keys(), T0 + CLAIM_TIMEOUT_MS, WINDOW).due).toEqual([claimed]);
  });

  it('sent and empty windows owe nothing', () => {
    const plan = planFlush([win('a', { sentAt: T0 }), win('b', { count: 0 })], keys(), T0, WINDOW);
    expect(plan.due).toEqual([]);
    expect(plan.waiting).toEqual([]);
  });
});

describe('planEmails', () => {
  it('one email per key, windows of the same key merged with their counts added', () => {
    const emails = planEmails(
      [
        win('api', { seq: 1, count: 4, lastSeen: '2026-11-25T10:09:00Z', exitCodes: [1] }),
        win('api', { seq: 2, count: 6, firstSeen: '2026-11-25T09:59:00Z', exitCodes: [137] }),
        win('web', { count: 1 }),
      ],
      { digestAbove: 10, digestSize: 50 },
    );
    expect(emails).toHaveLength(2);
    const api = emails[0];
    if (api?.kind !== 'alert') throw new Error('expected a single alert');
    expect(api.alert).toMatchObject({
      count: 10,
      firstSeen: '2026-11-25T09:59:00Z',
      lastSeen: '2026-11-25T10:09:00Z',
      exitCodes: [1, 137],
    });
  });

  it('a burst across more services than digestAbove becomes digests, every alert in exactly one', () => {
    const burst = Array.from({ length: 120 }, (_, i) => win(`svc-${String(i).padStart(3, '0')}`));
    const emails = planEmails(burst, { digestAbove: 10, digestSize: 50 });
    expect(emails.map((e) => (e.kind === 'digest' ? e.alerts.length : 1))).toEqual([50, 50, 20]);
    const listed = emails.flatMap((e) => (e.kind === 'digest' ? e.alerts.map((a) => a.key) : []));
    expect(new Set(listed).size).toBe(120);
  });

  it('splits recipients into messages of at most 50', () => {
    const to = Array.from({ length: 120 }, (_, i) => `ops${i}@example.com`);
    expect(recipientChunks(to).map((c) => c.length)).toEqual([50, 50, 20]);
    expect(recipientChunks([])).toEqual([]);
  });
});

describe('context: deployment and service events of a service with failing tasks', () => {
  const tasks = (over: Partial<AlertWindow> = {}) => win('api', { key: 'api|image-pull', ...over });
  const ctx = (alertClass: AlertWindow['alertClass'], over: Partial<AlertWindow> = {}) =>
    win('api', {
      id: `alert#window#${alertClass}`,
      key: `arn:aws:ecs:us-east-1:000000000000:cluster/prod|service:api|${alertClass}`,
      alertClass,
      count: 1,
      ...over,
    });
  const taskKey = 'arn:aws:ecs:us-east-1:000000000000:cluster/prod|service:api|image-pull';

  it('the first flush sends one email: task failures, with the deployment failure, rollback and impaired report inside', () => {
    const windows = [
      tasks({ count: 6 }),
      ctx('deployment-failed', { count: 2 }),
      ctx('deployment-rollback'),
      ctx('task-start-impaired', { count: 2 }),
    ];
    const plan = planFlush(windows, keys(), T0, WINDOW);
    expect(plan.due).toHaveLength(4);
    const emails = planEmails(plan.due, { digestAbove: 10, digestSize: 50 });
    expect(emails).toHaveLength(1);
    const only = emails[0];
    if (only?.kind !== 'alert') throw new Error('expected a single alert');
    expect(only.alert.alertClass).toBe('image-pull');
    expect(only.alert.count).toBe(6);
    expect(only.alert.context.map((c) => [c.alertClass, c.count])).toEqual([
      ['deployment-failed', 2],
      ['deployment-rollback', 1],
      ['task-start-impaired', 2],
    ]);
    // Every window is answered for by the one email: nothing lost, nothing left to send alone later.
    expect(alertWindows(only.alert)).toHaveLength(4);
  });

  it('a deployment failure after the task-failure email waits for the next one instead of going alone', () => {
    const late = ctx('deployment-failed');
    const sentAt = T0 - 3 * MIN;
    const k = keys({ key: taskKey, seq: 1, lastEmailAt: sentAt });
    // Tasks keep failing: the context follows the task window's due time.
    const open = planFlush([tasks({ key: taskKey, count: 4 }), late], k, T0, WINDOW);
    expect(open.due).toEqual([]);
    expect(open.waiting.find((w) => w.window === late)?.dueAt).toBe(sentAt + WINDOW);
    // No task failure open: it still waits out the window of the last task-failure email.
    const quiet = planFlush([late], k, T0, WINDOW);
    expect(quiet.waiting.map((w) => w.dueAt)).toEqual([sentAt + WINDOW]);
    // Then it goes alone, counted, if no task failure came to carry it.
    const alone = planFlush([late], k, sentAt + WINDOW, WINDOW);
    expect(alone.due).toEqual([late]);
    expect(planEmails(alone.due, { digestAbove: 10, digestSize: 50 })).toMatchObject([
      { kind: 'alert', alert: { alertClass: 'deployment-failed', count: 1, context: [] } },
    ]);
  });

  it('a deployment failing on health checks with no stopped task reaching us is emailed alone, at once', () => {
    const plan = planFlush([ctx('deployment-failed'), ctx('deployment-rollback')], keys(), T0, WINDOW);
    const emails = planEmails(plan.due, { digestAbove: 10, digestSize: 50 });
    expect(emails.map((e) => (e.kind === 'alert' ? e.alert.alertClass : 'digest'))).toEqual([
      'deployment-failed',
      'deployment-rollback',
    ]);
  });

  it('another service’s task failures do not carry this service’s deployment failure', () => {
    const other = win('web', { key: 'web|image-pull', count: 3 });
    const emails = planEmails(planFlush([other, ctx('deployment-failed')], keys(), T0, WINDOW).due, {
      digestAbove: 10,
      digestSize: 50,
    });
    expect(emails).toHaveLength(2);
  });
});
