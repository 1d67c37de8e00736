import { describe, expect, it } from 'vitest';
import { formatPolicy, PolicyError, parsePolicy, selectUpdate, shouldUpdate } from '../../../shared/policy';

describe('parsePolicy', () => {
  it.each(['force', 'never', 'patch', 'minor', 'major', 'all', 'glob:release-*', 'regexp:^build-[0-9]+$'])(
    'round-trips %s',
    (value) => expect(formatPolicy(parsePolicy(value))).toBe(value),
  );

  it.each([
    ['sometimes', /expected one of force, patch/],
    ['glob:', /glob: needs a pattern/],
    ['regexp:', /regexp: needs a pattern/],
    ['regexp:([', /bad regular expression/],
    ['Force', /expected one of/],
  ])('rejects %j with a clear error', (value, message) => {
    expect(() => parsePolicy(value)).toThrow(PolicyError);
    expect(() => parsePolicy(value)).toThrow(message);
  });
});

describe('shouldUpdate', () => {
  const cases: [policy: string, current: string | undefined, pushed: string, update: boolean][] = [
    // force: the running mutable tag was pushed again
    ['force', 'latest', 'latest', true],
    ['force', 'prod', 'latest', false],
    ['force', undefined, 'latest', false],
    ['force', '1.2.3', '1.2.4', false],
    // never
    ['never', 'latest', 'latest', false],
    ['never', '1.0.0', '2.0.0', false],
    // patch
    ['patch', '1.2.3', '1.2.4', true],
    ['patch', '1.2.3', '1.3.0', false],
    ['patch', '1.2.3', '2.0.0', false],
    ['patch', '1.2.3', '1.2.3', false],
    ['patch', '1.2.3', '1.2.2', false],
    // minor
    ['minor', '1.2.3', '1.2.4', true],
    ['minor', '1.2.3', '1.9.0', true],
    ['minor', '1.2.3', '2.0.0', false],
    ['minor', '1.2.3', '1.1.0', false],
    // major and all: any higher version
    ['major', '1.2.3', '2.0.0', true],
    ['major', '1.2.3', '1.2.4', true],
    ['all', '1.2.3', '5.0.0', true],
    ['all', '1.2.3', '1.0.0', false],
    // leading v, on either side
    ['patch', 'v1.2.3', 'v1.2.4', true],
    ['minor', 'v1.2.3', '1.3.0', true],
    ['patch', '1.2.3', 'v1.2.4', true],
    // pre-releases: only replace a pre-release with the same label
    ['patch', '1.2.0-rc.1', '1.2.0-rc.2', true],
    ['patch', '1.2.0-rc.1', '1.2.0-beta.2', false],
    ['patch', '1.2.0', '1.2.1-rc.1', false],
    // `all` takes pre-releases (what sets it apart from `major`, as in Keel); the others keep to their label.
    ['all', '1.2.0', '2.0.0-rc.1', true],
    ['major', '1.2.0', '2.0.0-rc.1', false],
    ['all', '1.4.5-xx', '1.4.5-yy', true],
    ['all', '1.0.0', '1.0.1-rc.1', true],
    ['minor', '1.2.0-rc.1', '1.3.0-rc.1', true],
    ['patch', '1.2.0-rc.1', '1.2.0', true],
    // non-semver: never satisfies, never moved
    ['all', '1.2.3', 'latest', false],
    ['all', 'latest', '1.2.3', false],
    // partial versions are versions (1.25 is 1.25.0), as Keel, Flux and Argo CD Image Updater read them
    ['minor', '1.2', '1.3', true],
    ['minor', '1.25', '1.26', true],
    ['patch', '1.4', '1.4.6', true],
    ['patch', '1.4', '1.5', false],
    ['all', '1.4.5', '3050', false],
    ['patch', '1.2.3', '1.2.4.5', false],
    // glob / regexp: the pushed tag matches and is not the running one
    ['glob:release-*', 'release-1', 'release-2', true],
    ['glob:release-*', 'release-1', 'release-1', false],
    ['glob:release-*', 'release-1', 'hotfix-2', false],
    ['regexp:^build-[0-9]+$', 'build-41', 'build-42', true],
    ['regexp:^build-[0-9]+$', 'build-41', 'build-42a', false],
    ['regexp:^build-[0-9]+$', undefined, 'build-42', true],
    // never to a tag that sorts below the running one (numbers as numbers): re-pushing an old build tag
    ['regexp:^build-[0-9]+$', 'build-117', 'build-42', false],
    ['regexp:^build-[0-9]+$', 'build-42', 'build-117', true],
    ['glob:latest.*', 'latest.20251321', 'latest.20241321', false],
    // a tag of another shape does not sort against the running one: it moves as before
    ['glob:release-*', 'release-1', 'release-b', true],
  ];

  it.each(cases)('%s: %s → %s is %s', (policy, current, pushed, update) => {
    const decision = shouldUpdate(parsePolicy(policy), current, pushed);
    expect(decision.update).toBe(update);
    expect(decision.reason).not.toBe('');
  });
});

describe('selectUpdate (reconcile)', () => {
  const t = (tag: string, day: number) => ({ tag, pushedAt: new Date(Date.UTC(2026, 0, day)) });
  const tags = [
    t('1.2.3', 1),
    t('1.2.9', 2),
    t('1.3.0', 3),
    t('2.0.0', 4),
    t('latest', 5),
    t('2.1.0-rc.1', 6),
  ];

  it.each([
    ['patch', '1.2.3', '1.2.9'],
    ['minor', '1.2.3', '1.3.0'],
    ['major', '1.2.3', '2.0.0'],
    ['all', '1.2.3', '2.1.0-rc.1'],
    ['force', 'latest', 'latest'],
    ['never', '1.2.3', undefined],
    ['patch', '1.2.9', undefined],
  ])('%s from %s picks %s', (policy, current, expected) => {
    expect(selectUpdate(parsePolicy(policy), current, tags)?.tag).toBe(expected);
  });

  it('glob picks the most recently pushed match', () => {
    const rel = [t('release-b', 3), t('release-a', 9), t('other', 10)];
    expect(selectUpdate(parsePolicy('glob:release-*'), 'release-0', rel)?.tag).toBe('release-a');
  });
});
