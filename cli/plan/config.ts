/**
 * The config a plan runs with: the functions' own. Against AWS that is harborpilot.yml (serverless.yml hands
 * it to every function); against the local cloud it is harborpilot.yml with the world's `config:` merged
 * over it, so `--world` does the same merge the local cloud does (`mergeConfig`, not a copy of it), and the
 * plan uses the local cloud's simulated time, as its functions do.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as z from 'zod';
import { type Config, ConfigSchema, mergeConfig, parseConfig } from '../../shared/config';
import { configDocument } from '../../shared/config-file';
import { errorMessage } from '../../shared/errors';

export class PlanConfigError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'PlanConfigError';
  }
}

export interface PlanConfigOptions {
  /** harborpilot.yml to start from. */
  file: string;
  /** false when the file is the default: a missing default means the defaults, a missing --config an error. */
  explicit: boolean;
  /** A world file whose `config:` the local cloud merges over the file. */
  world?: string;
}

export async function loadPlanConfig(options: PlanConfigOptions): Promise<Config> {
  const { file, explicit, world } = options;
  let base: unknown = {};
  if (explicit || existsSync(file)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new PlanConfigError(file, `cannot read the config: ${errorMessage(err, { name: false })}`);
    }
    base = configDocument(text, file);
  }
  if (world === undefined) return parseConfig(base, file);
  // Loaded only here: planning against AWS needs none of the local cloud.
  const { loadWorldFile } = await import('../../local/world');
  const worldConfig = loadWorldFile(world, { config: ConfigSchema }).config ?? {};
  return mergeConfig(base, worldConfig, `${file} + ${world} config`);
}

const LocalClock = z.object({ now: z.iso.datetime() });

/**
 * The local cloud's simulated time (its admin API): the functions there plan with it, and it runs ahead of
 * the wall clock (×10 in the demo), so a plan made with the wall clock would age images differently.
 */
export async function localCloudNow(endpoint: string): Promise<Date> {
  const url = `${endpoint.replace(/\/+$/, '')}/_harborpilot/clock`;
  let body: unknown;
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    body = await res.json();
  } catch (err) {
    throw new PlanConfigError(
      url,
      `--world needs the local cloud's clock: ${errorMessage(err, { name: false })}`,
    );
  }
  const parsed = LocalClock.safeParse(body);
  if (!parsed.success) throw new PlanConfigError(url, 'not the local cloud admin API (no clock "now")');
  return new Date(parsed.data.now);
}
