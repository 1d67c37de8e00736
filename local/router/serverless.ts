/**
 * Reads serverless.yml the way the router needs it: each function's handler module, its EventBridge
 * patterns, its schedules and its retry count. CloudFormation tags (!Ref, !GetAtt, !Sub...) are kept as
 * plain values and `${...}` variables stay unresolved: routing needs neither.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import type { Pattern } from './pattern';

export interface FunctionRoute {
  name: string;
  /** Absolute path of the handler module (`functions/redeployEcs.ts`). */
  modulePath: string;
  exportName: string;
  patterns: Pattern[];
  /** Schedule expressions: `rate(15 minutes)`, `cron(0 3 * * ? *)`. */
  schedules: string[];
  /** Lambda's asynchronous retries (default 2). */
  maximumRetryAttempts: number;
}

export class ServerlessYmlError extends Error {
  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'ServerlessYmlError';
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function readServerlessYml(file: string): FunctionRoute[] {
  const doc = parse(readFileSync(file, 'utf8'), { logLevel: 'silent' }) as unknown;
  if (!isObject(doc) || !isObject(doc.functions)) throw new ServerlessYmlError(file, 'no functions: section');
  const root = dirname(file);
  return Object.entries(doc.functions).map(([name, spec]) => {
    if (!isObject(spec) || typeof spec.handler !== 'string') {
      throw new ServerlessYmlError(file, `functions.${name}.handler is missing`);
    }
    const dot = spec.handler.lastIndexOf('.');
    const patterns: Pattern[] = [];
    const schedules: string[] = [];
    for (const event of Array.isArray(spec.events) ? spec.events : []) {
      if (!isObject(event)) continue;
      const eb = event.eventBridge;
      if (isObject(eb) && isObject(eb.pattern)) patterns.push(eb.pattern);
      const schedule = event.schedule;
      if (typeof schedule === 'string') schedules.push(schedule);
      else if (isObject(schedule) && schedule.enabled !== false) {
        const rates = Array.isArray(schedule.rate) ? schedule.rate : [schedule.rate];
        for (const r of rates) if (typeof r === 'string') schedules.push(r);
      }
    }
    const retries = spec.maximumRetryAttempts;
    return {
      name,
      modulePath: resolve(root, `${spec.handler.slice(0, dot)}.ts`),
      exportName: spec.handler.slice(dot + 1),
      patterns,
      schedules,
      maximumRetryAttempts: typeof retries === 'number' ? retries : 2,
    };
  });
}

const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/**
 * The next time a schedule fires after `from`. `rate(N unit)` fires every N units; `cron(min hour dom month
 * dow year)` supports numbers, `*`, `?`, lists, ranges and steps (not L, W or #).
 */
export function nextFire(expression: string, from: Date): Date {
  const rate = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (rate) {
    const unit = UNIT_MS[(rate[2] as string).replace(/s$/, '')] as number;
    return new Date(from.getTime() + Number(rate[1]) * unit);
  }
  const cron = /^cron\((.+)\)$/.exec(expression.trim());
  if (!cron) throw new Error(`unsupported schedule expression ${expression}`);
  const fields = (cron[1] as string).trim().split(/\s+/);
  if (fields.length !== 6)
    throw new Error(`cron needs 6 fields (min hour day-of-month month day-of-week year): ${expression}`);
  const [min, hour, dom, month, dow, year] = fields.map((f, i) =>
    parseCronField(f, CRON_RANGES[i] as [number, number]),
  );
  const t = new Date(Math.floor(from.getTime() / 60_000) * 60_000 + 60_000);
  for (let i = 0; i < 527_040; i++, t.setTime(t.getTime() + 60_000)) {
    if (
      min?.(t.getUTCMinutes()) &&
      hour?.(t.getUTCHours()) &&
      dom?.(t.getUTCDate()) &&
      month?.(t.getUTCMonth() + 1) &&
      dow?.(t.getUTCDay() + 1) &&
      year?.(t.getUTCFullYear())
    ) {
      return new Date(t);
    }
  }
  throw new Error(`schedule ${expression} never fires within a year`);
}

const CRON_RANGES: [number, number][] = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [1, 7],
  [1970, 2199],
];

function parseCronField(field: string, [lo, hi]: [number, number]): (n: number) => boolean {
  if (field === '*' || field === '?') return () => true;
  const tests = field.split(',').map((part) => {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    let from = lo;
    let to = hi;
    if (range !== '*') {
      const [a, b] = (range as string).split('-');
      from = Number(a);
      to = b === undefined ? (stepText === undefined ? from : hi) : Number(b);
    }
    if (![from, to, step].every(Number.isInteger)) throw new Error(`unsupported cron field ${field}`);
    return (n: number) => n >= from && n <= to && (n - from) % step === 0;
  });
  return (n) => tests.some((t) => t(n));
}
