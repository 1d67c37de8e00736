/**
 * The local cloud never imports harborpilot: biome's noRestrictedImports (biome.json, overrides for local/**)
 * fails any import of shared/, functions/, cli/, bench/ or the product's tests from inside local/.
 */
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const probe = `local/boundary-probe-${process.pid}.ts`;

async function lint(source: string): Promise<{ ok: boolean; output: string }> {
  await writeFile(`${ROOT}${probe}`, source);
  try {
    const { stdout, stderr } = await run(`${ROOT}node_modules/.bin/biome`, ['lint', probe], { cwd: ROOT });
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as { stdout: string; stderr: string };
    return { ok: false, output: e.stdout + e.stderr };
  }
}

afterEach(() => rm(`${ROOT}${probe}`, { force: true }));

describe('the package boundary', () => {
  it.each([
    ["import { ConfigSchema } from '../shared/config';", 'shared/'],
    ["import { handler } from '../functions/redeployEcs';", 'functions/'],
    ["import { main } from '../cli/local';", 'cli/'],
    ["import { manifest } from '../test/support/cloud';", "the product's tests"],
  ])('fails %s (%s)', async (line) => {
    const { ok, output } = await lint(`${line}\nexport const used = [${line.split(' ')[2]}];\n`);
    expect(ok).toBe(false);
    expect(output).toContain('lint/style/noRestrictedImports');
    expect(output).toContain('never imports harborpilot');
  });

  it('passes an import of the local cloud itself', async () => {
    const { ok, output } = await lint(
      "import { readImageReference } from './image-reference';\nexport const used = [readImageReference];\n",
    );
    expect(output).not.toContain('noRestrictedImports');
    expect(ok).toBe(true);
  });
});
