import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config';
import { collectInUse, InUseSourceError } from '../../../shared/prune-images/in-use/model';
import { resolveInUse } from '../../../shared/prune-images/in-use/resolve';
import { renderPruneEmail } from '../../../shared/prune-images/report';
import { PruneRuleError, rulesFor } from '../../../shared/prune-images/rules';
import { d, image, NOW, REG, repo } from '../../fixtures/ecr-image-builders';

describe('resolveInUse: in use means the digest', () => {
  const repos = [repo([image('v1', 30, { tags: ['v1', 'stable'] }), image('v2', 1, { tags: ['latest'] })])];
  it.each([
    {
      name: 'a digest a task reports, whatever its tag says now',
      ref: { image: `${REG}/shop/api:latest`, digest: d('old') },
      want: ['old', 'v2'],
    },
    { name: 'a digest-pinned image', ref: { image: `${REG}/shop/api@${d('v1')}` }, want: ['v1'] },
    {
      name: 'a tag, resolved to the digest it points at now',
      ref: { image: `${REG}/shop/api:stable` },
      want: ['v1'],
    },
    { name: 'no tag means latest', ref: { image: `${REG}/shop/api` }, want: ['v2'] },
    { name: 'an image of another registry names none of ours', ref: { image: 'nginx:latest' }, want: [] },
    { name: 'a tag that exists nowhere', ref: { image: `${REG}/shop/api:gone` }, want: [] },
    {
      name: 'another region is another registry',
      ref: { image: `${REG.replace('us-east-1', 'eu-west-1')}/shop/api:stable` },
      want: [],
    },
  ])('$name', ({ ref, want }) => {
    const set = resolveInUse([{ ...ref, usedBy: 'ECS task prod/t1' }], repos);
    expect([...set.keys()].sort()).toEqual(want.map(d).sort());
  });

  it('keeps who uses a digest, once each', () => {
    const set = resolveInUse(
      [
        { digest: d('v1'), usedBy: 'pod a' },
        { digest: d('v1'), usedBy: 'pod a' },
        { digest: d('v1'), usedBy: 'task b' },
      ],
      repos,
    );
    expect(set.get(d('v1'))).toEqual(['pod a', 'task b']);
  });

  it('names a task once when its tag still points at the digest it runs', () => {
    const set = resolveInUse(
      [{ image: `${REG}/shop/api:latest`, digest: d('v2'), usedBy: 'ECS task prod/t1' }],
      repos,
    );
    expect(set.get(d('v2'))).toEqual(['ECS task prod/t1']);
  });
});

describe('collectInUse: fails closed', () => {
  it('throws naming every failing source, even when others succeeded', async () => {
    const err = await collectInUse([
      { name: 'ecs', collect: async () => [{ digest: d('a'), usedBy: 'x' }] },
      { name: 'eks:prod', collect: async () => Promise.reject(new Error('connect ECONNREFUSED')) },
    ]).catch((e) => e);
    expect(err).toBeInstanceOf(InUseSourceError);
    expect(err.message).toBe(
      'in-use set incomplete, nothing deleted: source eks:prod failed: connect ECONNREFUSED',
    );
  });
});

describe('rulesFor: repository tags override the config', () => {
  const prune = parseConfig({}, 'test').prune;
  it('reads every override', () => {
    expect(
      rulesFor(prune, 'shop/api', [
        { Key: 'harborpilot:keep-last', Value: '3' },
        { Key: 'harborpilot:keep-days', Value: ' 30 ' },
        { Key: 'harborpilot:protect-tags', Value: 'release-*, stable' },
        { Key: 'harborpilot:expire-untagged-after-days', Value: '2' },
      ]),
    ).toEqual({
      enabled: true,
      rules: { keepLast: 3, keepDays: 30, protectTags: ['release-*', 'stable'], expireUntaggedAfterDays: 2 },
    });
  });
  it('defaults without tags, and never means untagged images follow keep-days', () => {
    const s = rulesFor(prune, 'shop/api', [
      { Key: 'harborpilot:expire-untagged-after-days', Value: 'never' },
    ]);
    expect(s.rules).toEqual({
      keepLast: 10,
      keepDays: 14,
      protectTags: ['latest', 'prod*', 'v*'],
      expireUntaggedAfterDays: null,
    });
  });
  it.each([
    ['harborpilot:keep-last', '-1'],
    ['harborpilot:keep-days', 'two weeks'],
    ['harborpilot:prune', 'off'],
  ])('refuses %s=%s naming the repository', (Key, Value) => {
    expect(() => rulesFor(prune, 'shop/api', [{ Key, Value }])).toThrow(PruneRuleError);
    expect(() => rulesFor(prune, 'shop/api', [{ Key, Value }])).toThrow(
      `repository shop/api: tag ${Key}="${Value}"`,
    );
  });
});

describe('renderPruneEmail', () => {
  it('escapes every field in the HTML part', () => {
    const plan = {
      now: NOW,
      totals: { images: 1, kept: 1, deleted: 0, bytesFreed: 0 },
      repositories: [
        {
          ...repo([]),
          kept: [
            {
              image: image('x', 1, { tags: ['v1'] }),
              reasons: [
                { rule: 'in-use' as const, detail: 'ECS task prod/t1 container <script>alert(1)</script>' },
              ],
            },
          ],
          deleted: [],
          bytesFreed: 0,
        },
      ],
    };
    const email = renderPruneEmail(plan, { dryRun: true, accountId: '123456789012', region: 'us-east-1' });
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(email.text).toContain('<script>'); // the text part is plain text
  });
});
