/**
 * Keel's own update-policy tables (../shared/conformance/keel-policy.json, from keel-hq/keel's policy tests):
 * every case gives Keel's answer, or harborpilot's where the file records a deliberate difference.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parsePolicy, shouldUpdate } from '../../../shared/policy';

interface KeelCase {
  from: string;
  name: string;
  policy: string;
  current: string;
  new: string;
  keel?: boolean;
  keelError?: boolean;
  harborpilot?: { update: boolean; reason: string };
}

const FILE = fileURLToPath(new URL('../../../../shared/conformance/keel-policy.json', import.meta.url));

function cases(): KeelCase[] {
  // CI and every session have ../shared beside the clone; without it this test cannot say anything.
  if (!existsSync(FILE)) throw new Error(`${FILE} is missing: clone the repository with ../shared beside it`);
  return (JSON.parse(readFileSync(FILE, 'utf8')) as { cases: KeelCase[] }).cases;
}

describe("Keel's policy tables", () => {
  it.each(cases().map((c) => [`${c.policy}: ${c.current} → ${c.new} (${c.name})`, c] as const))(
    '%s',
    (_, c) => {
      const expected = c.harborpilot?.update ?? (c.keelError ? false : c.keel);
      expect(shouldUpdate(parsePolicy(c.policy), c.current, c.new).update).toBe(expected);
    },
  );
});
