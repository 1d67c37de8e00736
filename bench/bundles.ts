/**
 * What each function costs before it runs: its deployment package (zip, and the single .cjs inside it) as
 * `npx serverless package` builds it, and how long a fresh Node takes to require that bundle with the
 * environment the packaged template gives the function (the cold-start share that is ours, not Lambda's).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import * as z from 'zod';
import { type Figure, figure, median } from './figures';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const FUNCTIONS = [
  'redeployEcs',
  'rollEks',
  'pruneImages',
  'alertTaskFailures',
  'checkCapacity',
  'trackDeployments',
] as const;

/** The parts of the packaged CloudFormation template this bench reads. */
const Template = z.object({
  Resources: z.record(
    z.string(),
    z.object({
      Type: z.string(),
      Properties: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
});
const LambdaProperties = z.object({
  FunctionName: z.string(),
  Code: z.object({ S3Key: z.string() }),
  Environment: z.object({ Variables: z.record(z.string(), z.unknown()) }).optional(),
});

export class BundleBenchError extends Error {
  constructor(
    message: string,
    readonly functionName?: string,
  ) {
    super(message);
    this.name = 'BundleBenchError';
  }
}

export interface BundlesBenchOptions {
  /** Fresh processes per function; the median is reported. */
  samples?: number;
  progress?: (line: string) => void;
}

interface LoadSample {
  /** performance.now() around require() inside the child. */
  requireMs: number;
  /** spawn → exit, seen from here: Node's own start-up included. */
  processMs: number;
}

/** One fresh `node` that requires the bundle, prints how long require() took, and exits. */
async function loadOnce(bundle: string, env: Record<string, string>): Promise<LoadSample> {
  const script =
    'const t=performance.now();require(process.argv[1]);' +
    'process.stdout.write(String(performance.now()-t));process.exit(0)';
  const started = performance.now();
  const { stdout } = await run(process.execPath, ['-e', script, bundle], { env, timeout: 60_000 });
  const processMs = performance.now() - started;
  const requireMs = Number(stdout.trim());
  if (!Number.isFinite(requireMs)) throw new BundleBenchError(`no timing from ${bundle}: ${stdout}`);
  return { requireMs, processMs };
}

/**
 * The yardstick for a function's load time: a bundle of just the SDK clients its module builds (the same
 * esbuild settings as serverless.yml's), constructed as its module scope constructs them. What a function
 * loads beyond it is ours to answer for.
 */
async function buildSdkTwin(name: string, dir: string): Promise<{ bundle: string; clients: string[] }> {
  const source = await readFile(join(REPO_ROOT, 'functions', `${name}.ts`), 'utf8');
  const imports = [...source.matchAll(/import \{ (\w+Client) \} from '(@aws-sdk\/client-[\w-]+)';/g)];
  if (imports.length === 0) throw new BundleBenchError('imports no SDK client', name);
  const entry = join(dir, `${name}-sdk-twin.mjs`);
  await writeFile(
    entry,
    `${imports.map(([, cls, pkg]) => `import { ${cls} } from '${pkg}';`).join('\n')}\n` +
      `export const clients = [${imports.map(([, cls]) => `new ${cls}({})`).join(', ')}];\n`,
  );
  const bundle = join(dir, `${name}-sdk-twin.cjs`);
  await build({
    entryPoints: [entry],
    outfile: bundle,
    bundle: true,
    minify: true,
    keepNames: true,
    sourcemap: false,
    target: 'node22',
    platform: 'node',
    format: 'cjs',
    nodePaths: [join(REPO_ROOT, 'node_modules')],
    logLevel: 'error',
  });
  return { bundle, clients: imports.map(([, cls]) => cls as string) };
}

export async function runBundlesBench(options: BundlesBenchOptions = {}) {
  const samples = options.samples ?? 5;
  const log = options.progress ?? (() => {});
  // A directory of our own rather than .serverless/: another package run (a test, a colleague) cannot race it.
  const dir = await mkdtemp(join(tmpdir(), 'harborpilot-bench-'));
  try {
    log(`bundles: npx serverless package --package ${dir}`);
    const packageStarted = performance.now();
    await run('npx', ['serverless', 'package', '--package', dir], {
      cwd: REPO_ROOT,
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_REGION: 'us-east-1' },
      timeout: 300_000,
    });
    const packageMs = performance.now() - packageStarted;
    const template = Template.parse(
      JSON.parse(await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')),
    );
    const lambdas = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => LambdaProperties.parse(r.Properties));

    const figures: Figure[] = [
      figure({
        bench: 'bundle',
        metric: 'serverless package',
        value: Math.round(packageMs),
        unit: 'ms',
        note: `all ${lambdas.length} functions, offline, esbuild minified cjs`,
      }),
    ];
    const details: Record<string, unknown> = { packageMs: Math.round(packageMs), functions: {} };
    for (const name of FUNCTIONS) {
      const fn = lambdas.find((l) => l.FunctionName.endsWith(`-${name}`));
      if (!fn) throw new BundleBenchError('not in the packaged template', name);
      const zip = join(dir, basename(fn.Code.S3Key));
      const unzipped = join(dir, name);
      await run('unzip', ['-q', '-o', zip, '-d', unzipped]);
      const bundle = await findCjs(unzipped, name);
      const zipBytes = (await stat(zip)).size;
      const cjsBytes = (await stat(bundle)).size;
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'x',
        AWS_SECRET_ACCESS_KEY: 'x',
        AWS_LAMBDA_FUNCTION_NAME: fn.FunctionName,
      };
      for (const [k, v] of Object.entries(fn.Environment?.Variables ?? {}))
        if (typeof v === 'string') env[k] = v;
      const twin = await buildSdkTwin(name, dir);
      log(`bundles: ${name}: ${samples} fresh node processes, each paired with its SDK-only twin`);
      const loads: LoadSample[] = [];
      const twinLoads: LoadSample[] = [];
      // In turn, function then twin: a ratio per pair holds when the machine's speed drifts.
      for (let i = 0; i < samples; i++) {
        loads.push(await loadOnce(bundle, env));
        twinLoads.push(await loadOnce(twin.bundle, env));
      }
      const requireMs = median(loads.map((l) => l.requireMs));
      const processMs = median(loads.map((l) => l.processMs));
      const ratio = median(loads.map((l, i) => l.requireMs / (twinLoads[i] as LoadSample).requireMs));
      figures.push(
        figure({
          bench: 'bundle',
          metric: `${name} zip`,
          value: kib(zipBytes),
          unit: 'KiB',
          note: basename(zip),
        }),
        figure({
          bench: 'bundle',
          metric: `${name} .cjs`,
          value: kib(cjsBytes),
          unit: 'KiB',
          note: 'unzipped, minified, SDK bundled',
        }),
        figure({
          bench: 'bundle',
          metric: `${name} load`,
          value: round1(requireMs),
          unit: 'ms',
          note: `require() median of ${samples}; whole process ${round1(processMs)} ms`,
        }),
        figure({
          bench: 'bundle',
          metric: `${name} load / SDK clients alone`,
          value: Math.round(ratio * 100) / 100,
          unit: '×',
          note: `median of ${samples} pairs; the twin (${twin.clients.join(', ')}) loads in ${round1(median(twinLoads.map((l) => l.requireMs)))} ms`,
        }),
      );
      (details.functions as Record<string, unknown>)[name] = {
        zipBytes,
        cjsBytes,
        requireMs: loads.map((l) => round1(l.requireMs)),
        processMs: loads.map((l) => round1(l.processMs)),
        sdkTwinRequireMs: twinLoads.map((l) => round1(l.requireMs)),
      };
    }
    const footnotes = [
      `bundle load: a fresh \`node\` (${process.version} here; Lambda runs nodejs22.x on arm64) requires the .cjs ` +
        'with the environment the packaged template gives the function; module scope builds the config and SDK clients, no network.',
    ];
    return { figures, details, footnotes };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function findCjs(dir: string, name: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true });
  const cjs = entries.filter((e) => e.endsWith('.cjs'));
  if (cjs.length !== 1) throw new BundleBenchError(`expected one .cjs in the zip, found ${cjs.length}`, name);
  return join(dir, cjs[0] as string);
}

const kib = (bytes: number) => Math.round((bytes / 1024) * 10) / 10;
const round1 = (n: number) => Math.round(n * 10) / 10;
