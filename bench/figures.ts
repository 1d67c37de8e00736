/**
 * What every bench returns: flat figures (one row of the one table `npm run bench` prints), plus the machine
 * they were measured on, so bench/results.json can be compared run to run and machine to machine.
 */
import { cpus, totalmem } from 'node:os';
import * as z from 'zod';

export const FigureSchema = z.object({
  /** Which bench: redeploy, prune, alerts, bundle. */
  bench: z.string().min(1),
  /** What was measured, e.g. `API calls: total` or `redeployEcs zip`. */
  metric: z.string().min(1),
  value: z.number(),
  unit: z.string(),
  /** How to read it (the formula, the comparison, the sample size). */
  note: z.string().default(''),
});
export type Figure = z.infer<typeof FigureSchema>;
export type FigureInput = z.input<typeof FigureSchema>;

export const MachineSchema = z.object({
  node: z.string(),
  platform: z.string(),
  arch: z.string(),
  cpuModel: z.string(),
  cpuCount: z.number().int(),
  memoryGiB: z.number(),
  date: z.string(),
});
export type Machine = z.infer<typeof MachineSchema>;

export const ResultsSchema = z.object({
  machine: MachineSchema,
  /** Real milliseconds the whole run took. */
  durationMs: z.number(),
  figures: z.array(FigureSchema),
  /** Printed under the table: what does not fit a cell (formulas, caveats). */
  footnotes: z.array(z.string()),
  /** Per-bench detail the table summarises (e.g. API calls by operation). */
  details: z.record(z.string(), z.unknown()),
});
export type Results = z.infer<typeof ResultsSchema>;

export function machine(now = new Date()): Machine {
  const cores = cpus();
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    cpuCount: cores.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    date: now.toISOString(),
  };
}

export const figure = (f: FigureInput): Figure => FigureSchema.parse(f);

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function formatValue(f: Figure): string {
  const n =
    f.unit === '×' || !Number.isInteger(f.value)
      ? f.value.toFixed(f.unit === '×' ? 2 : 1)
      : f.value.toLocaleString('en-US');
  return f.unit ? `${n} ${f.unit}` : n;
}

/** One Markdown table: readable in a terminal, pasteable into the README as is. */
export function renderTable(results: Results): string {
  const m = results.machine;
  const rows = results.figures.map((f) => [f.bench, f.metric, formatValue(f), f.note]);
  const header = ['bench', 'figure', 'value', 'how to read it'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 2 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (i === 2 ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [
    `harborpilot bench — ${m.date} — node ${m.node}, ${m.cpuCount} × ${m.cpuModel}, ${m.memoryGiB} GiB, ` +
      `${m.platform}/${m.arch}; run took ${(results.durationMs / 1000).toFixed(1)} s`,
    '',
    line(header),
    rule,
    ...rows.map(line),
    ...(results.footnotes.length > 0 ? ['', ...results.footnotes.map((n) => `* ${n}`)] : []),
  ].join('\n');
}
