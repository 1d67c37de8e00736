/**
 * AWS's own answers for EventBridge patterns (../shared/conformance/eventbridge-patterns.json: LocalStack's
 * test cases, each validated against AWS): the local router matches, refuses to match, or rejects the
 * pattern exactly as AWS's TestEventPattern did, with AWS's reason.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compilePattern, PatternError } from '../../../router/pattern';

interface PatternCase {
  name: string;
  from: string;
  expected: 'match' | 'no-match' | 'invalid';
  pattern: unknown;
  event: unknown;
  awsError?: string;
}

const FILE = fileURLToPath(
  new URL('../../../../../shared/conformance/eventbridge-patterns.json', import.meta.url),
);

function cases(): PatternCase[] {
  // CI and every session have ../shared beside the clone; without it this test cannot say anything.
  if (!existsSync(FILE)) throw new Error(`${FILE} is missing: clone the repository with ../shared beside it`);
  return (JSON.parse(readFileSync(FILE, 'utf8')) as { cases: PatternCase[] }).cases;
}

describe("AWS's answers to EventBridge patterns", () => {
  it.each(cases().map((c) => [`${c.expected}: ${c.name}`, c] as const))('%s', (_, c) => {
    if (c.expected === 'invalid') {
      expect(
        () => compilePattern(c.pattern),
        `AWS said: ${c.awsError ?? 'InvalidEventPatternException'}`,
      ).toThrow(PatternError);
      // The reason reads as AWS's did; ours then says where (AWS gives the line and column of its JSON text).
      if (c.awsError) expect(() => compilePattern(c.pattern)).toThrow(c.awsError);
      return;
    }
    expect(compilePattern(c.pattern)(c.event)).toBe(c.expected === 'match');
  });
});
