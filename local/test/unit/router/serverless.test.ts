import { describe, expect, it } from 'vitest';
import { nextFire, parseSchedule } from '../../../router/schedule';
import { eventBridgeRuleName, parseServerlessYml } from '../../../router/serverless';

describe('serverless.yml parsing', () => {
  it('keeps CloudFormation intrinsics as their long form', () => {
    const doc = parseServerlessYml(`
a: !Ref Queue
b: !GetAtt Queue.Arn
c: !Sub 'arn:aws:sqs:\${AWS::Region}:\${AWS::AccountId}:q'
d: !Join [':', [a, !Ref B]]
e: !If [Cond, !Ref X, !Ref 'AWS::NoValue']
f: \${self:custom.stateTable}
g: !GetAtt [Queue, Arn]
`);
    expect(doc).toEqual({
      a: { Ref: 'Queue' },
      b: { 'Fn::GetAtt': ['Queue', 'Arn'] },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation ${} reference, not a template
      c: { 'Fn::Sub': 'arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:q' },
      d: { 'Fn::Join': [':', ['a', { Ref: 'B' }]] },
      e: { 'Fn::If': ['Cond', { Ref: 'X' }, { Ref: 'AWS::NoValue' }] },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: serverless variables stay unresolved
      f: '${self:custom.stateTable}',
      g: { 'Fn::GetAtt': ['Queue', 'Arn'] },
    });
  });
});

describe('EventBridge rule names, as serverless deploy creates them', () => {
  it('names the nth event of a function <function>-rule-<n>, hashed to 64 characters when longer', () => {
    expect(eventBridgeRuleName('harborpilot-dev-redeployEcs', 1)).toBe('harborpilot-dev-redeployEcs-rule-1');
    const long = eventBridgeRuleName(`harborpilot-dev-${'a'.repeat(60)}`, 2);
    expect(long).toHaveLength(64);
    expect(long).toMatch(/^harborpilot-dev-a{9}[0-9a-f]{32}-rule-2$/);
  });
});

describe('schedule expressions (UTC)', () => {
  it.each([
    ['rate(1 minute)', '2026-11-25T10:00:30Z', '2026-11-25T10:01:30Z'],
    ['rate(15 minutes)', '2026-11-25T10:00:00Z', '2026-11-25T10:15:00Z'],
    ['rate(2 hours)', '2026-11-25T10:00:00Z', '2026-11-25T12:00:00Z'],
    ['rate(1 day)', '2026-11-25T10:00:00Z', '2026-11-26T10:00:00Z'],
    ['cron(17 3 * * ? *)', '2026-11-25T10:00:00Z', '2026-11-26T03:17:00Z'],
    ['cron(17 3 * * ? *)', '2026-11-26T03:17:00Z', '2026-11-27T03:17:00Z'],
    ['cron(0/15 * * * ? *)', '2026-11-25T10:07:00Z', '2026-11-25T10:15:00Z'],
    ['cron(*/20 * * * ? *)', '2026-11-25T10:41:00Z', '2026-11-25T11:00:00Z'],
    ['cron(30 9 ? * 2-6 *)', '2026-11-28T10:00:00Z', '2026-11-30T09:30:00Z'],
    ['cron(30 9 ? * MON-FRI *)', '2026-11-28T10:00:00Z', '2026-11-30T09:30:00Z'],
    ['cron(0 8 1 * ? *)', '2026-11-25T10:00:00Z', '2026-12-01T08:00:00Z'],
    ['cron(0 0 L * ? *)', '2027-02-01T00:00:00Z', '2027-02-28T00:00:00Z'],
    ['cron(0 0 L * ? *)', '2028-02-01T00:00:00Z', '2028-02-29T00:00:00Z'],
    ['cron(0 12 ? * FRI#1 *)', '2026-11-25T10:00:00Z', '2026-12-04T12:00:00Z'],
    ['cron(0 12 ? * 6L *)', '2026-11-25T10:00:00Z', '2026-11-27T12:00:00Z'],
    ['cron(0 18 ? JAN,JUL MON *)', '2026-11-25T10:00:00Z', '2027-01-04T18:00:00Z'],
    ['cron(0 0 1 1 ? 2030)', '2026-11-25T10:00:00Z', '2030-01-01T00:00:00Z'],
  ])('%s after %s fires at %s', (expression, from, expected) => {
    expect(nextFire(expression, new Date(from)).toISOString()).toBe(new Date(expected).toISOString());
  });

  it.each([
    ['cron(0 3 * * * *)', /exactly one of day-of-month and day-of-week/],
    ['cron(0 3 ? * ? *)', /exactly one of day-of-month and day-of-week/],
    ['cron(0 3 * *)', /6 fields/],
    ['cron(61 3 * * ? *)', /not in 0-59/],
    ['cron(0 9 15W * ? *)', /W \(nearest weekday\) is not supported/],
    ['cron(0 0 1 1 ? 2020)', /never fires/],
    ['every 5 minutes', /expected rate/],
    ['rate(0 minutes)', /positive/],
  ])('rejects %s', (expression, message) => {
    expect(() => parseSchedule(expression).next(new Date('2026-11-25T00:00:00Z'))).toThrow(message);
  });
});
