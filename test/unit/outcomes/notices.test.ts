/**
 * Deployment notices (pure): when a push's notice is due (all settled, slow, the follow-up, the quiet minute),
 * what each level tells, twenty workloads in one email, and the email itself with every field escaped.
 */
import { describe, expect, it } from 'vitest';
import type { DeploymentRecord, PushGroup } from '../../../shared/outcomes/model';
import { planNotices } from '../../../shared/outcomes/notices';
import { duration, renderNotice } from '../../../shared/outcomes/render';

const NOW = new Date('2026-01-14T12:00:00.000Z');
const REG = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const V1 = `sha256:${'1'.repeat(64)}`;
const V2 = `sha256:${'2'.repeat(64)}`;
const rec = (name: string, r: Partial<DeploymentRecord> = {}): DeploymentRecord => ({
  recordId: `deployment#ecs/prod/${name}#ecs-svc/${name}`,
  workload: `ecs/prod/${name}`,
  platform: 'ecs',
  ref: `ecs-svc/${name}`,
  cause: { kind: 'push', eventId: 'e1' },
  pushes: [
    {
      repository: { accountId: '123456789012', region: 'eu-west-1', repositoryName: 'shop/api' },
      tag: 'latest',
      digest: V2,
      pushedAt: '2026-01-14T11:00:00.000Z',
    },
  ],
  changes: [
    {
      container: 'app',
      fromImage: `${REG}/shop/api:latest`,
      fromDigest: V1,
      toImage: `${REG}/shop/api:latest`,
      toDigest: V2,
    },
  ],
  startedAt: '2026-01-14T11:00:10.000Z',
  notify: 'all',
  state: 'completed',
  settledAt: '2026-01-14T11:03:40.000Z',
  reason: 'completed',
  ...r,
});
const group = (records: DeploymentRecord[], g: Partial<PushGroup> = {}): PushGroup => ({
  eventId: 'e1',
  cause: { kind: 'push', eventId: 'e1' },
  deployments: records.map((r) => r.recordId),
  firstAt: '2026-01-14T11:00:10.000Z',
  lastAt: '2026-01-14T11:00:12.000Z',
  notice: 'pending',
  ...g,
});
const plan = (records: DeploymentRecord[], g: Partial<PushGroup> = {}, now = NOW) =>
  planNotices([group(records, g)], new Map(records.map((r) => [r.recordId, r])), now, { slowMinutes: 30 });

describe('planNotices', () => {
  it('sends one notice for a push whose deployments have all settled', () => {
    const records = Array.from({ length: 20 }, (_, i) => rec(`svc${i}`));
    const p = plan(records);
    expect(p.send).toHaveLength(1);
    expect(p.send[0]).toMatchObject({ kind: 'settled', from: 'pending', to: 'done' });
    expect(p.send[0]?.told).toHaveLength(20);
  });

  it('waits while one is in progress, and for a quiet minute after the last deployment joined', () => {
    const recent = { firstAt: '2026-01-14T11:55:00.000Z', lastAt: '2026-01-14T11:55:02.000Z' };
    expect(plan([rec('a'), rec('b', { state: 'in-progress' })], recent).waiting).toBe(1);
    expect(plan([rec('a')], { lastAt: '2026-01-14T11:59:30.000Z' }).waiting).toBe(1);
  });

  it('says which are still in progress after slowMinutes, then follows up with what ended since', () => {
    const slow = plan(
      [rec('a', { settledAt: '2026-01-14T11:02:00.000Z' }), rec('b', { state: 'in-progress' })],
      {
        firstAt: '2026-01-14T11:29:00.000Z',
      },
    );
    expect(slow.send[0]).toMatchObject({ kind: 'slow', from: 'pending', to: 'slow' });
    const followUp = plan(
      [
        rec('a', { settledAt: '2026-01-14T11:02:00.000Z' }),
        rec('b', { state: 'rolled-back', settledAt: '2026-01-14T11:45:00.000Z' }),
      ],
      { notice: 'slow', slowAt: '2026-01-14T11:31:00.000Z' },
    );
    expect(followUp.send[0]).toMatchObject({ kind: 'follow-up', from: 'slow', to: 'done' });
    expect(followUp.send[0]?.told.map((r) => r.workload)).toEqual(['ecs/prod/b']);
    expect(plan([rec('b', { state: 'in-progress' })], { notice: 'slow' }).waiting).toBe(1);
  });

  it('tells at each workload level: off never, failures only failures (and slow ones), all everything', () => {
    const records = [
      rec('quiet', { notify: 'off', state: 'rolled-back' }),
      rec('fine', { notify: 'failures' }),
      rec('broke', { notify: 'failures', state: 'failed' }),
      rec('chatty', { notify: 'all' }),
    ];
    expect(plan(records).send[0]?.told.map((r) => r.workload)).toEqual(['ecs/prod/broke', 'ecs/prod/chatty']);
    // Nothing to tell: done without an email.
    const none = plan([rec('fine', { notify: 'failures' }), rec('quiet', { notify: 'off' })]);
    expect(none.send).toEqual([]);
    expect(none.close).toEqual([{ eventId: 'e1', from: 'pending', to: 'done' }]);
    const slow = plan([rec('slow', { notify: 'failures', state: 'in-progress' })], {
      firstAt: '2026-01-14T11:00:00.000Z',
    });
    expect(slow.send[0]?.kind).toBe('slow');
  });

  it('a push whose records expired is closed; one already done is left alone', () => {
    expect(planNotices([group([rec('a')])], new Map(), NOW, { slowMinutes: 30 }).close).toHaveLength(1);
    expect(plan([rec('a')], { notice: 'done' })).toEqual({ send: [], close: [], waiting: 0 });
  });
});

describe('renderNotice', () => {
  it('one email for twenty workloads: counts in the subject, each from → to with tag, digest and time taken', () => {
    const records = [
      ...Array.from({ length: 19 }, (_, i) => rec(`svc${String(i).padStart(2, '0')}`)),
      rec('api', {
        state: 'rolled-back',
        reason: 'ECS deployment circuit breaker: tasks failed to start',
        settledAt: '2026-01-14T11:05:10.000Z',
      }),
    ];
    const [n] = plan(records).send;
    if (!n) throw new Error('no notice planned');
    const email = renderNotice(n, NOW);
    expect(email.subject).toBe('[harborpilot] shop/api:latest: 1 rolled back, 19 deployed');
    expect(email.text).toContain(
      `- ecs/prod/api: rolled back after 5 min (ECS deployment ecs-svc/api, started 2026-01-14 11:00:10 UTC)`,
    );
    expect(email.text).toContain(`    app: shop/api:latest (${V1}) -> shop/api:latest (${V2})`);
    expect(email.text).toContain('    why: ECS deployment circuit breaker: tasks failed to start');
    expect(email.text).toContain('- ecs/prod/svc00: deployed after 3 min 30 s');
    expect(email.text).toContain(`shop/api:latest → ${V2}, pushed 2026-01-14 11:00:00 UTC`);
    expect(email.html).toContain('border-top:4px solid #dc2626');
    expect(email.html).toContain('shop/api:latest (sha256:111111111111)</span>');
    expect(email.html.match(/<tr>/g)).toHaveLength(21);
  });

  it('escapes every field from the cloud, and keeps control characters out of the subject', () => {
    const evil = rec('x', {
      workload: 'ecs/prod/<script>alert(1)</script>',
      state: 'failed',
      reason: '<img src=x onerror=alert(1)> & "quotes"',
      pushes: [
        {
          repository: { accountId: '1', region: 'r', repositoryName: 'shop/api' },
          tag: 'v1\r\nBcc: victim@example.com',
          digest: V2,
        },
      ],
      changes: [
        { container: '<b>c</b>', fromImage: 'not an image <x>', toImage: `${REG}/shop/api:v2`, toDigest: V2 },
      ],
    });
    const [n] = plan([evil]).send;
    if (!n) throw new Error('no notice planned');
    const email = renderNotice(n, NOW);
    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.html).not.toContain('<script>');
    expect(email.html).not.toContain('<img');
    expect(email.html).not.toContain('<b>c</b>');
    expect(email.html).not.toContain('<x>');
    expect(email.html).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;');
    expect(email.html).toContain('ecs/prod/&lt;script&gt;');
  });

  it('a slow notice says how many are still in progress and for how long', () => {
    const [n] = plan([rec('a'), rec('b', { state: 'in-progress', settledAt: undefined })], {
      firstAt: '2026-01-14T11:00:10.000Z',
    }).send;
    if (!n) throw new Error('no notice planned');
    const email = renderNotice(n, NOW);
    expect(email.subject).toBe(
      '[harborpilot] shop/api:latest: 1 deployment still in progress after 59 min 50 s',
    );
    expect(email.text).toContain('- ecs/prod/b: still in progress after 59 min 50 s so far');
    expect(email.html).toContain('border-top:4px solid #d97706');
  });

  it('durations read at a glance', () => {
    expect([45_000, 60_000, 200_000, 3_600_000, 3_900_000].map(duration)).toEqual([
      '45 s',
      '1 min',
      '3 min 20 s',
      '1 h',
      '1 h 5 min',
    ]);
  });
});
