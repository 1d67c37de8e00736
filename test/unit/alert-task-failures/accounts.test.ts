/**
 * Alerts from workload accounts (docs/organisation.md): events forwarded to harborpilot's bus carry the
 * workload account and region in their envelope. Their windows never share a key with the same cluster and
 * service name in another account (the home account's keys unchanged), and their emails name the account.
 */
import { describe, expect, it } from 'vitest';
import imagePull from '../../../events/ecs-task-image-pull.json';
import { classify } from '../../../shared/alert-task-failures/classify';
import { parseTrigger } from '../../../shared/alert-task-failures/handler';
import { type AlertGroup, alertKey, type Occurrence } from '../../../shared/alert-task-failures/model';
import type { Alert } from '../../../shared/alert-task-failures/plan';
import { accountNamer, render } from '../../../shared/alert-task-failures/render';

const STAGING = '111111111111';

/** The sample stopped task, as it happened in another account and region. */
function forwarded(account: string, region: string) {
  const arn = (s: string) => s.replace(':us-east-1:000000000000:', `:${region}:${account}:`);
  return {
    ...imagePull,
    account,
    region,
    resources: imagePull.resources.map(arn),
    detail: {
      ...imagePull.detail,
      clusterArn: arn(imagePull.detail.clusterArn),
      taskArn: arn(imagePull.detail.taskArn),
    },
  };
}

function occurrenceOf(event: unknown): Occurrence {
  const trigger = parseTrigger(event);
  if (trigger.kind !== 'ecs') throw new Error('not an ECS event');
  const c = classify(trigger.event);
  if (c.kind !== 'failure') throw new Error(c.reason);
  return c.occurrence;
}

const alertOf = (group: AlertGroup): Alert => ({
  key: alertKey(group, 'image-pull'),
  group,
  alertClass: 'image-pull',
  count: 3,
  firstSeen: '2026-11-25T10:00:10Z',
  lastSeen: '2026-11-25T10:08:55Z',
  exitCodes: [],
  imageDigests: [],
  samples: [],
  reasonCounts: [['CannotPullContainerError: not found', 3]],
  otherReasons: 0,
  windows: [],
  context: [],
});

const targets = [
  { account: STAGING, name: 'staging', regions: ['us-west-2'], role: 'harborpilot' },
  { account: '222222222222', regions: ['eu-west-1'], role: 'harborpilot' },
];

describe('alerts from workload accounts', () => {
  it("keys the same cluster and service in two accounts apart; the home account's key is as before", () => {
    const home = occurrenceOf(imagePull);
    const staging = occurrenceOf(forwarded(STAGING, 'us-west-2'));
    expect(staging.group).toMatchObject({ accountId: STAGING, region: 'us-west-2', clusterName: 'prod' });
    expect(alertKey(home.group, 'image-pull')).toBe(
      'arn:aws:ecs:us-east-1:000000000000:cluster/prod|service:api-service|image-pull',
    );
    expect(alertKey(staging.group, 'image-pull')).toBe(
      `arn:aws:ecs:us-west-2:${STAGING}:cluster/prod|service:api-service|image-pull`,
    );
    expect(staging.dedupeKey).not.toBe(home.dedupeKey);
  });

  it("names a configured account by its name, others by their id, and the home account's not at all", () => {
    const name = accountNamer(targets);
    const group = occurrenceOf(forwarded(STAGING, 'us-west-2')).group;
    expect(name?.(group)).toBe(`staging (${STAGING}), us-west-2`);
    expect(name?.({ ...group, accountId: '222222222222', region: 'eu-west-1' })).toBe(
      '222222222222, eu-west-1',
    );
    expect(name?.(occurrenceOf(imagePull).group)).toBeUndefined();
    expect(accountNamer([])).toBeUndefined();
  });

  it('the email names the account and region in its subject and body; a home alert reads as before', () => {
    const accountOf = accountNamer(targets);
    const options = { windowMinutes: 10, ...(accountOf ? { accountOf } : {}) };
    const staging = alertOf(occurrenceOf(forwarded(STAGING, 'us-west-2')).group);
    const email = render({ kind: 'alert', alert: staging }, options);
    expect(email.subject).toBe(
      `[harborpilot] api-service in prod (account staging (${STAGING}), us-west-2): 3 tasks failed — image pull`,
    );
    expect(email.text).toContain(`Account:       staging (${STAGING}), us-west-2\n`);
    expect(email.text).toContain(`Cluster:       prod (${STAGING}, us-west-2)\n`);
    expect(email.html).toContain(`staging (${STAGING}), us-west-2`);

    const home = alertOf(occurrenceOf(imagePull).group);
    const before = render({ kind: 'alert', alert: home }, { windowMinutes: 10 });
    expect(render({ kind: 'alert', alert: home }, options)).toEqual(before);
    expect(before.subject).toBe('[harborpilot] api-service in prod: 3 tasks failed — image pull');

    // A digest tells the two prod clusters apart.
    const digest = render({ kind: 'digest', alerts: [home, staging] }, options);
    expect(digest.subject).toBe(
      `[harborpilot] 2 alerts in prod, prod (account staging (${STAGING}), us-west-2): api-service in prod: 3 tasks failed — image pull, and 1 more`,
    );
  });
});
