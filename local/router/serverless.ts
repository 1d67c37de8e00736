/**
 * Reads serverless.yml the way the router needs it: each function's handler module, its EventBridge patterns,
 * its schedules, its on-failure destination, its retry count, timeout and reserved concurrency.
 * CloudFormation tags (!Ref, !GetAtt, !Sub...) parse into their long form (`{ "Fn::GetAtt": [...] }`), kept
 * as opaque values; `${...}` variables stay strings except `${self:service}`, `${sls:stage}` and `${opt:stage...}`
 * in names, which the router resolves for rule and function names.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type CollectionTag, parse, type ScalarTag, type YAMLMap, type YAMLSeq } from 'yaml';
import { compilePattern, type Pattern, PatternError } from './pattern';
import { parseSchedule, type Schedule } from './schedule';

export interface ScheduleRoute {
  /** The rule's name (the schedule's `name`, or serverless's default), used in the event's `resources`. */
  ruleName: string;
  expression: string;
  schedule: Schedule;
}

export interface FunctionRoute {
  name: string;
  /** Deployed name: `<service>-<stage>-<name>`, what Lambda's context calls functionName. */
  functionName: string;
  /** Absolute path of the handler module (`functions/redeployEcs.ts`). */
  modulePath: string;
  exportName: string;
  patterns: Pattern[];
  /** The patterns, validated and compiled: an event routes here when any of them matches. */
  matches: (event: unknown) => boolean;
  schedules: ScheduleRoute[];
  /** `destinations.onFailure` as written (an ARN string or a CloudFormation intrinsic such as !GetAtt). */
  onFailure: unknown;
  /** Lambda's asynchronous retries after the first attempt, 0 to 2 (default 2). */
  maximumRetryAttempts: number;
  /** Seconds before Lambda stops an invocation (`timeout`, else provider.timeout, else 6). */
  timeoutSeconds: number;
  /** `reservedConcurrency` when set: the router never runs more at once for this function. */
  reservedConcurrency: number | undefined;
  /**
   * provider.environment with the function's own `environment:` over it: the entries that are plain strings
   * (an unresolved `${...}` is left for the caller of the router to supply, e.g. HARBORPILOT_CONFIG).
   */
  environment: Record<string, string>;
  /** `memorySize`, else provider.memorySize, else Lambda's default 1024 (MB). */
  memorySize: number;
}

export class ServerlessYmlError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'ServerlessYmlError';
  }
}

/** The short-form intrinsic functions CloudFormation accepts in YAML, each parsed into its long form. */
const INTRINSICS = [
  'Ref',
  'Condition',
  'Base64',
  'Cidr',
  'FindInMap',
  'GetAtt',
  'GetAZs',
  'ImportValue',
  'Join',
  'Select',
  'Split',
  'Sub',
  'Transform',
  'And',
  'Equals',
  'If',
  'Not',
  'Or',
];

function longForm(name: string, value: unknown): Record<string, unknown> {
  if (name === 'Ref' || name === 'Condition') return { [name]: value };
  // `!GetAtt Queue.Arn` is the short form of `Fn::GetAtt: [Queue, Arn]`.
  if (name === 'GetAtt' && typeof value === 'string') {
    const dot = value.indexOf('.');
    return { 'Fn::GetAtt': [value.slice(0, dot), value.slice(dot + 1)] };
  }
  return { [`Fn::${name}`]: value };
}

const CLOUDFORMATION_TAGS: (ScalarTag | CollectionTag)[] = INTRINSICS.flatMap((name) => [
  { tag: `!${name}`, resolve: (value: string) => longForm(name, value) },
  {
    tag: `!${name}`,
    collection: 'seq' as const,
    resolve: (seq: YAMLSeq.Parsed | YAMLMap.Parsed) => longForm(name, seq.toJSON()),
  },
  {
    tag: `!${name}`,
    collection: 'map' as const,
    resolve: (map: YAMLSeq.Parsed | YAMLMap.Parsed) => longForm(name, map.toJSON()),
  },
]);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses serverless.yml text; CloudFormation tags become plain long-form objects. */
export function parseServerlessYml(text: string, file = 'serverless.yml'): Json {
  let doc: unknown;
  try {
    doc = parse(text, { customTags: CLOUDFORMATION_TAGS });
  } catch (err) {
    throw new ServerlessYmlError(file, `not valid YAML: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw new ServerlessYmlError(file, 'not a YAML mapping');
  return doc;
}

export interface ReadOptions {
  /** The stage in names (`${sls:stage}`), `dev` by default like `serverless deploy`. */
  stage?: string;
}

export function readServerlessYml(file: string, options: ReadOptions = {}): FunctionRoute[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ServerlessYmlError(file, `cannot read: ${(err as Error).message}`);
  }
  const doc = parseServerlessYml(text, file);
  if (!isObject(doc.functions)) throw new ServerlessYmlError(file, 'no functions: section');
  const service = typeof doc.service === 'string' ? doc.service : 'service';
  const stage = options.stage ?? 'dev';
  const names = (s: string) => resolveNameVariables(s, service, stage);
  const provider = isObject(doc.provider) ? doc.provider : {};
  const root = dirname(file);
  return Object.entries(doc.functions).map(([name, spec]) => {
    const fail = (reason: string) => new ServerlessYmlError(file, `functions.${name}: ${reason}`);
    if (!isObject(spec) || typeof spec.handler !== 'string' || !spec.handler.includes('.')) {
      throw fail('handler must be "path/module.export"');
    }
    const dot = spec.handler.lastIndexOf('.');
    const patterns: Pattern[] = [];
    const schedules: ScheduleRoute[] = [];
    (Array.isArray(spec.events) ? spec.events : []).forEach((event: unknown, i: number) => {
      if (!isObject(event)) return;
      const eb = event.eventBridge;
      if (isObject(eb) && eb.pattern !== undefined) {
        try {
          compilePattern(eb.pattern);
        } catch (err) {
          if (err instanceof PatternError) {
            // The rule as `serverless deploy` names it, so the message points at what PutRule would refuse.
            const rule = eventBridgeRuleName(`${service}-${stage}-${name}`, i + 1);
            throw fail(`events[${i}].eventBridge.pattern (rule ${rule}): ${err.message}`);
          }
          throw err;
        }
        patterns.push(eb.pattern as Pattern);
      }
      if (event.schedule !== undefined) {
        for (const s of readSchedules(
          event.schedule,
          `${service}-${stage}-${name}-schedule-${schedules.length}`,
          names,
        )) {
          try {
            schedules.push({ ...s, schedule: parseSchedule(s.expression) });
          } catch (err) {
            throw fail(`events[${i}].schedule: ${(err as Error).message}`);
          }
        }
      }
    });
    const compiled = patterns.map((p) => compilePattern(p));
    const retries = spec.maximumRetryAttempts;
    if (
      retries !== undefined &&
      !(Number.isInteger(retries) && (retries as number) >= 0 && (retries as number) <= 2)
    ) {
      throw fail('maximumRetryAttempts is 0, 1 or 2');
    }
    const timeout = spec.timeout ?? provider.timeout ?? 6;
    const reserved = spec.reservedConcurrency;
    const environment = { ...plainStrings(provider.environment), ...plainStrings(spec.environment) };
    const memorySize = spec.memorySize ?? provider.memorySize ?? 1024;
    return {
      name,
      functionName: `${service}-${stage}-${name}`,
      modulePath: resolve(root, `${spec.handler.slice(0, dot)}.ts`),
      exportName: spec.handler.slice(dot + 1),
      patterns,
      matches: (event: unknown) => compiled.some((m) => m(event)),
      schedules,
      onFailure: isObject(spec.destinations) ? spec.destinations.onFailure : undefined,
      maximumRetryAttempts: typeof retries === 'number' ? retries : 2,
      timeoutSeconds: typeof timeout === 'number' && timeout > 0 ? timeout : 6,
      reservedConcurrency: typeof reserved === 'number' && reserved >= 0 ? reserved : undefined,
      environment,
      memorySize: typeof memorySize === 'number' && memorySize > 0 ? memorySize : 1024,
    };
  });
}

/**
 * The EventBridge rule serverless creates for a function's eventBridge event: `<function>-rule-<n>`, n counting
 * the function's events from 1; a name over EventBridge's 64 characters is shortened with an MD5 of it, as
 * serverless does.
 */
export function eventBridgeRuleName(functionName: string, n: number): string {
  const suffix = `rule-${n}`;
  const name = `${functionName}-${suffix}`;
  if (name.length <= 64) return name;
  return `${name.slice(0, 31 - suffix.length)}${createHash('md5').update(name).digest('hex')}-${suffix}`;
}

/** The entries of an `environment:` mapping whose values are plain strings, with nothing left to resolve. */
function plainStrings(environment: unknown): Record<string, string> {
  return Object.fromEntries(
    Object.entries(isObject(environment) ? environment : {}).filter(
      (e): e is [string, string] => typeof e[1] === 'string' && !e[1].includes('${'),
    ),
  );
}

/** `schedule: rate(...)`, or `schedule: { rate: expr | [expr...], name, enabled }` (disabled ones are skipped). */
function readSchedules(
  schedule: unknown,
  defaultName: string,
  names: (s: string) => string,
): { ruleName: string; expression: string }[] {
  if (typeof schedule === 'string') return [{ ruleName: defaultName, expression: schedule }];
  if (!isObject(schedule) || schedule.enabled === false) return [];
  const rates = (Array.isArray(schedule.rate) ? schedule.rate : [schedule.rate]).filter(
    (r): r is string => typeof r === 'string',
  );
  const ruleName = typeof schedule.name === 'string' ? names(schedule.name) : defaultName;
  return rates.map((expression, i) => ({ ruleName: i === 0 ? ruleName : `${ruleName}-${i}`, expression }));
}

/** Resolves the variables names are usually built from; anything else is left as written. */
function resolveNameVariables(s: string, service: string, stage: string): string {
  return s
    .replace(/\$\{self:service\}/g, service)
    .replace(/\$\{(?:sls:stage|self:provider\.stage|opt:stage(?:,[^}]*)?)\}/g, stage);
}
