/** `harborpilot bench --only X` keeps the other benches' rows of bench/results.json instead of dropping them. */
import { describe, expect, it } from 'vitest';
import type { Figure, Results } from '../../../bench/figures';
import { mergeResults } from '../../../bench/index';

const machine = {
  node: 'v20',
  platform: 'linux',
  arch: 'x64',
  cpuModel: 'cpu',
  cpuCount: 2,
  memoryGiB: 24,
  date: '2026-12-04T00:00:00.000Z',
};
const row = (bench: string, name: string, value: number): Figure => ({
  bench,
  metric: name,
  value,
  unit: 'ms',
  note: '',
});
const results = (figures: Figure[], details: Record<string, unknown>, footnotes: string[] = []): Results => ({
  machine,
  durationMs: 1,
  figures,
  footnotes,
  details,
});

describe('mergeResults', () => {
  it('replaces the rows of the benches run, keeps the others, in the order a whole run lists them', () => {
    const before = results(
      [row('redeploy', 'push', 1), row('bundle', 'load', 2), row('prune', 'wall', 3)],
      { redeploy: 'r', bundle: 'old', prune: 'p' },
      ['a'],
    );
    const now = results([row('bundle', 'load', 9), row('bundle', 'zip', 8)], { bundle: 'new' }, ['a', 'b']);
    const merged = mergeResults(before, now, ['bundle']);
    expect(merged.figures.map((f) => `${f.bench}:${f.metric}:${f.value}`)).toEqual([
      'redeploy:push:1',
      'bundle:load:9',
      'bundle:zip:8',
      'prune:wall:3',
    ]);
    expect(merged.details).toEqual({ redeploy: 'r', bundle: 'new', prune: 'p' });
    expect(merged.footnotes).toEqual(['a', 'b']);
    expect(mergeResults(undefined, now, ['bundle'])).toBe(now);
  });
});
