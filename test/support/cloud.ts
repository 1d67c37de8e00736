/** Helpers for integration tests that drive the local cloud over real HTTP. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { LocalCloud } from '../../cli/local/cloud';

// The SDK and AWS CLI settings are the local cloud's own test helpers: one definition for both halves.
export { ACCOUNT, cliEnv, clientConfig, REGION, REGISTRY } from '../../local/test/support';

/** A distinct, valid OCI image manifest per seed: what a `docker push` uploads last. */
export function manifest(seed: string): string {
  const blob = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: blob(`config-${seed}`),
      size: 1024,
    },
    layers: [
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: blob(`layer-${seed}`),
        size: 3_000_000,
      },
    ],
  });
}

export const digestOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/**
 * Moves the simulated clock and lets the router's asynchronous invocations finish before each step, until
 * `check` holds. Bounded by real time, not steps, so a loaded machine slows it down instead of failing it.
 */
export async function until(
  cloud: LocalCloud,
  what: string,
  check: () => Promise<boolean>,
  stepMs = 5_000,
  timeoutMs = 60_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await cloud.router.waitForIdle();
    await cloud.clock.advance(stepMs);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

/** The path of a command found on PATH, or undefined (the tests that drive a real CLI skip without it). */
export function onPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(`${dir}/${cmd}`)) return `${dir}/${cmd}`;
  }
  return undefined;
}

/** Whether a command runs and exits 0 with these arguments (a version query): the tool is there and works. */
export function commandRuns(cmd: string, args: readonly string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
