/**
 * `npm run bench` (= `harborpilot bench`): every figure issue 9 asks for, in one table on stdout and the same
 * as JSON in bench/results.json, with the machine it ran on. Progress goes to stderr. Not run by CI.
 *
 *   harborpilot bench [--only redeploy,budget,throttling,targets,alerts,bundle,prune] [--out FILE] [--no-write] [--samples N]
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import * as z from 'zod';
import { errorMessage } from '../shared/errors';
import { runAlertsBench } from './alerts';
import { runBudgetBench } from './budget';
import { runBundlesBench } from './bundles';
import { type Figure, machine, type Results, ResultsSchema, renderTable } from './figures';
import { runPruneBench } from './prune';
import { runRedeployBench } from './redeploy';
import { targetsBench } from './targets';
import { runThrottlingBench } from './throttling';

const DEFAULT_OUT = fileURLToPath(new URL('results.json', import.meta.url));

type Progress = (line: string) => void;
interface BenchOutput {
  figures: Figure[];
  details: unknown;
  footnotes?: string[];
}

/** In this order on purpose: prune stubs the SDK clients' prototypes, so it runs last. */
const BENCHES: Record<string, (progress: Progress, samples: number) => Promise<BenchOutput>> = {
  redeploy: (progress) => runRedeployBench({ progress }),
  budget: (progress) => runBudgetBench({ progress }),
  throttling: (progress) => runThrottlingBench({ progress }),
  targets: (progress) => targetsBench(progress),
  alerts: (progress) => runAlertsBench({ progress }),
  bundle: (progress, samples) => runBundlesBench({ progress, samples }),
  prune: (progress) => runPruneBench({ progress }),
};

const Options = z.object({
  only: z
    .string()
    .optional()
    .transform((s) => (s ? s.split(',').map((x) => x.trim()) : Object.keys(BENCHES)))
    .pipe(z.array(z.enum(Object.keys(BENCHES) as [string, ...string[]])).min(1)),
  out: z.string().default(DEFAULT_OUT),
  'no-write': z.boolean().default(false),
  samples: z.coerce.number().int().min(1).max(50).default(5),
  help: z.boolean().default(false),
});

const USAGE = `usage: harborpilot bench [--only ${Object.keys(BENCHES).join(',')}] [--out FILE] [--no-write] [--samples N]

Runs the benchmarks (about 35 s on 2 cores), prints one table, writes it as JSON to --out
(default bench/results.json; with --only, the other benches' rows there are kept). --samples: fresh node
processes per function for the load time (5).
See docs/bench.md.
`;

/** The committed results.json must pass `biome check .` (CI's lint): write it the way biome formats JSON. */
async function formatJson(file: string, progress: Progress): Promise<void> {
  const biome = fileURLToPath(new URL('../node_modules/.bin/biome', import.meta.url));
  try {
    await promisify(execFile)(biome, ['format', '--write', file]);
  } catch (err) {
    progress(
      `could not format ${file} with biome (run \`npx biome format --write ${file}\`): ${errorMessage(err, { name: false })}`,
    );
  }
}

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      only: { type: 'string' },
      out: { type: 'string' },
      'no-write': { type: 'boolean' },
      samples: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  const parsed = Options.safeParse(values);
  if (!parsed.success) {
    process.stderr.write(`harborpilot bench: ${z.prettifyError(parsed.error)}\n\n${USAGE}`);
    return 2;
  }
  const options = parsed.data;
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }

  const started = performance.now();
  const progress: Progress = (line) =>
    process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${line}\n`);
  const figures: Figure[] = [];
  const details: Record<string, unknown> = {};
  const footnotes: string[] = [];
  for (const name of Object.keys(BENCHES).filter((b) => options.only.includes(b))) {
    const bench = BENCHES[name] as (typeof BENCHES)[string];
    const out = await bench(progress, options.samples);
    figures.push(...out.figures);
    details[name] = out.details;
    footnotes.push(...(out.footnotes ?? []));
  }
  const results: Results = {
    machine: machine(),
    durationMs: Math.round(performance.now() - started),
    figures,
    footnotes,
    details,
  };
  process.stdout.write(`${renderTable(results)}\n`);
  if (!options['no-write']) {
    // A run of some benches replaces their rows in the file and keeps the others' (from the run that made them).
    const partial = options.only.length < Object.keys(BENCHES).length;
    const written = partial ? mergeResults(await readResults(options.out), results, options.only) : results;
    await writeFile(options.out, `${JSON.stringify(written, null, 2)}\n`);
    await formatJson(options.out, progress);
    progress(`wrote ${options.out}`);
  }
  return 0;
}

async function readResults(file: string): Promise<Results | undefined> {
  try {
    return ResultsSchema.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch {
    return undefined; // no file yet, or one of an older shape: this run's rows alone
  }
}

/** The earlier results with the benches of this run replaced; machine and duration are this run's. */
export function mergeResults(before: Results | undefined, now: Results, ran: readonly string[]): Results {
  if (!before) return now;
  return {
    ...now,
    // In the order the benches run, as a whole run would list them.
    figures: Object.keys(BENCHES).flatMap((b) =>
      (ran.includes(b) ? now : before).figures.filter((f) => f.bench === b),
    ),
    footnotes: [...new Set([...before.footnotes, ...now.footnotes])],
    details: { ...before.details, ...now.details },
  };
}
