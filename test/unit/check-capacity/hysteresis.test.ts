import { describe, expect, it } from 'vitest';
import { planNotification, type Told } from '../../../shared/check-capacity/hysteresis';
import type { Finding, Severity } from '../../../shared/check-capacity/model';

const f = (key: string, severity: Severity): Finding => ({
  key,
  severity,
  kind: 'no-room',
  cluster: 'ECS prod',
  subject: key.split(':')[2] ?? key,
  title: `title of ${key}`,
  detail: 'numbers',
});
const changes = (told: Told, findings: Finding[]) =>
  planNotification(told, findings).changes.map((c) => `${c.change} ${c.key}`);

describe('alert on change only', () => {
  const told = planNotification({}, [f('ecs:prod:service/api:no-room', 'critical')]).next;

  it('a new finding is news; the same finding again is not', () => {
    expect(changes({}, [f('ecs:prod:service/api:no-room', 'critical')])).toEqual([
      'new ecs:prod:service/api:no-room',
    ]);
    expect(changes(told, [f('ecs:prod:service/api:no-room', 'critical')])).toEqual([]);
  });

  it('a change of severity is news, either way', () => {
    expect(changes(told, [f('ecs:prod:service/api:no-room', 'warning')])).toEqual([
      'better ecs:prod:service/api:no-room',
    ]);
    const warned = planNotification({}, [f('k', 'warning')]).next;
    expect(changes(warned, [f('k', 'critical')])).toEqual(['worse k']);
  });

  it('a cleared finding is told once, with what it was', () => {
    const n = planNotification(told, []);
    expect(n.changes).toEqual([
      expect.objectContaining({
        change: 'cleared',
        key: 'ecs:prod:service/api:no-room',
        previous: 'critical',
        title: 'title of ecs:prod:service/api:no-room',
      }),
    ]);
    expect(n.next).toEqual({});
    expect(changes(n.next, [])).toEqual([]);
  });

  it('info findings never make an email; a finding falling to info clears', () => {
    expect(changes({}, [f('i', 'info')])).toEqual([]);
    expect(changes(told, [f('ecs:prod:service/api:no-room', 'info')])).toEqual([
      'cleared ecs:prod:service/api:no-room',
    ]);
  });

  it('unchanged findings ride along as still open when something else changes', () => {
    const n = planNotification(told, [
      f('ecs:prod:service/api:no-room', 'critical'),
      f('ecs:prod:service/web:no-room', 'warning'),
    ]);
    expect(n.changes.map((c) => c.key)).toEqual(['ecs:prod:service/web:no-room']);
    expect(n.open.map((o) => o.key)).toEqual(['ecs:prod:service/api:no-room']);
  });
});
