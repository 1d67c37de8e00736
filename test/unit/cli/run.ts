/** Runs `harborpilot plan …` in process (cli/plan.ts main) and captures what a user would see. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';
import { main } from '../../../cli/plan';

export interface PlanRun {
  code: number;
  stdout: string;
  stderr: string;
}

// bin/harborpilot.mjs prints its own line about Node 22 and turns the AWS SDK's warning off; run in process,
// main() must see the same environment, or the SDK's warning lands in whichever run creates the first client.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** stderr is not a terminal unless `tty` is set: progress lines then need --progress. */
export async function runPlan(args: string[], options: { tty?: boolean } = {}): Promise<PlanRun> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
  Object.defineProperty(process.stderr, 'isTTY', { value: options.tty === true, configurable: true });
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    if (tty) Object.defineProperty(process.stderr, 'isTTY', tty);
    else delete (process.stderr as { isTTY?: boolean }).isTTY;
  }
}

/** A harborpilot.yml in a temporary directory. */
export function configFile(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'hp-plan-unit-')), 'harborpilot.yml');
  writeFileSync(file, yaml);
  return file;
}
