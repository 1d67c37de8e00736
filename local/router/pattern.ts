/**
 * EventBridge event patterns, with the semantics of the documentation ("Event patterns", "Comparison operators",
 * "Arrays in event patterns", "Null values and empty strings") and of aws/event-ruler, the engine behind them:
 * - a pattern field's array lists alternatives (OR); fields AND; objects nest;
 * - an array in the event matches when any element does; arrays of objects are "crushed": a nested pattern
 *   matches when one element matches all of it;
 * - leaf operators: exact (string, number, boolean, null), `prefix`, `suffix` (each also with
 *   `{"equals-ignore-case": ...}`), `equals-ignore-case`, `wildcard` (`*`, `\*`, `\\`), `numeric`, `cidr` (IPv4 and
 *   IPv6), `exists` (leaves only: an object is not a leaf), `anything-but` (value, list, `prefix`, `suffix`,
 *   `equals-ignore-case`, `wildcard`);
 * - `$or`: an array of at least two patterns at any level.
 * Patterns are checked once with `validatePattern` (the router does it when it reads serverless.yml) so matching
 * an event never throws.
 */

export type Pattern = Record<string, unknown>;

export class PatternError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`invalid event pattern at ${path || '(root)'}: ${reason}`);
    this.name = 'PatternError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** True when `$or` is EventBridge's OR primitive rather than a field that happens to be named `$or`. */
const isOr = (key: string, rule: unknown): rule is Record<string, unknown>[] =>
  key === '$or' && Array.isArray(rule) && rule.length >= 2 && rule.every(isObject);

/** Validates once, then matches without re-checking: what the router keeps per rule. */
export function compilePattern(pattern: unknown): (event: unknown) => boolean {
  validatePattern(pattern);
  const valid = pattern as Pattern;
  return (event) => matchObject(valid, event);
}

/** One-off match (validates the pattern on every call). */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  return compilePattern(pattern)(event);
}

// ---------------------------------------------------------------------------------------------------------------
// Matching (the pattern is valid)

function matchObject(pattern: Record<string, unknown>, value: unknown): boolean {
  for (const [key, rule] of Object.entries(pattern)) {
    if (isOr(key, rule)) {
      if (!rule.some((p) => matchObject(p, value))) return false;
      continue;
    }
    const field = isObject(value) ? value[key] : undefined;
    if (Array.isArray(rule)) {
      if (!matchLeaf(rule, leafValues(field))) return false;
    } else if (!matchNested(rule as Record<string, unknown>, field)) {
      return false;
    }
  }
  return true;
}

/** A nested pattern against an object, an array of objects (any one element), or nothing. */
function matchNested(rule: Record<string, unknown>, field: unknown): boolean {
  const objects = flatten(field).filter(isObject);
  // No object to descend into: only `exists: false` (and `$or`s of it) can still match below.
  if (objects.length === 0) return matchObject(rule, undefined);
  return objects.some((o) => matchObject(rule, o));
}

function flatten(field: unknown): unknown[] {
  if (field === undefined) return [];
  return Array.isArray(field) ? field.flatMap(flatten) : [field];
}

/** The scalar values a field holds: none when absent or an object (objects are not leaves). */
function leafValues(field: unknown): unknown[] {
  return flatten(field).filter((v) => !isObject(v));
}

function matchLeaf(rules: unknown[], values: unknown[]): boolean {
  return rules.some((rule) => {
    if (isObject(rule) && 'exists' in rule) return rule.exists === values.length > 0;
    if (isObject(rule) && 'anything-but' in rule) {
      // Like event-ruler, each element of an array is a value of its own: one value not excluded is a match.
      return values.some((v) => !excluded(rule['anything-but'], v));
    }
    return values.some((v) => matchValue(rule, v));
  });
}

function matchValue(rule: unknown, value: unknown): boolean {
  if (!isObject(rule)) return rule === value;
  const [op, arg] = Object.entries(rule)[0] as [string, unknown];
  if (op === 'numeric') return typeof value === 'number' && numeric(arg as unknown[], value);
  if (typeof value !== 'string') return false;
  switch (op) {
    case 'prefix':
      return affix(arg, value, (v, a) => v.startsWith(a));
    case 'suffix':
      return affix(arg, value, (v, a) => v.endsWith(a));
    case 'equals-ignore-case':
      return value.toLowerCase() === (arg as string).toLowerCase();
    case 'wildcard':
      return wildcard(arg as string).test(value);
    case 'cidr':
      return inCidr(value, arg as string);
    default:
      return false;
  }
}

function affix(arg: unknown, value: string, test: (v: string, a: string) => boolean): boolean {
  if (typeof arg === 'string') return test(value, arg);
  const folded = (arg as Record<string, string>)['equals-ignore-case'] as string;
  return test(value.toLowerCase(), folded.toLowerCase());
}

function excluded(arg: unknown, value: unknown): boolean {
  if (Array.isArray(arg)) return arg.some((a) => a === value);
  if (!isObject(arg)) return arg === value;
  const [op, inner] = Object.entries(arg)[0] as [string, unknown];
  const alternatives = Array.isArray(inner) ? inner : [inner];
  return alternatives.some((a) => matchValue({ [op]: a }, value));
}

const wildcards = new Map<string, RegExp>();

/** `*` is any run of characters; `\*` a literal star and `\\` a literal backslash. */
function wildcard(glob: string): RegExp {
  let re = wildcards.get(glob);
  if (!re) {
    let source = '';
    for (let i = 0; i < glob.length; i++) {
      const c = glob[i] as string;
      if (c === '\\') source += `\\${glob[++i]}`;
      else if (c === '*') source += '.*';
      else source += c.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&');
    }
    re = new RegExp(`^${source}$`, 's');
    wildcards.set(glob, re);
  }
  return re;
}

function numeric(arg: unknown[], value: number): boolean {
  for (let i = 0; i < arg.length; i += 2) {
    const n = arg[i + 1] as number;
    switch (arg[i]) {
      case '=':
        if (value !== n) return false;
        break;
      case '>':
        if (!(value > n)) return false;
        break;
      case '>=':
        if (!(value >= n)) return false;
        break;
      case '<':
        if (!(value < n)) return false;
        break;
      case '<=':
        if (!(value <= n)) return false;
        break;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// IP addresses as bigints, so IPv4 and IPv6 share one comparison.

function ipv4(ip: string): bigint | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256n + BigInt(p), 0n);
}

function ipv6(ip: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(ip)) return undefined;
  const halves = ip.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string | undefined): string[] => (s ? s.split(':') : []);
  let head = groups(halves[0]);
  let tail = groups(halves[1]);
  // An IPv4 tail (::ffff:10.0.0.1) counts as two groups.
  const last = (halves.length === 2 ? tail : head).at(-1);
  if (last?.includes('.')) {
    const v4 = ipv4(last);
    if (v4 === undefined) return undefined;
    const pair = [(v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16)];
    if (halves.length === 2) tail = [...tail.slice(0, -1), ...pair];
    else head = [...head.slice(0, -1), ...pair];
  }
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return all.reduce((n, g) => n * 65536n + BigInt(`0x${g}`), 0n);
}

function parseIp(ip: string): { value: bigint; bits: number } | undefined {
  const v4 = ipv4(ip);
  if (v4 !== undefined) return { value: v4, bits: 32 };
  const v6 = ipv6(ip);
  return v6 === undefined ? undefined : { value: v6, bits: 128 };
}

function parseCidr(cidr: string): { value: bigint; bits: number; prefix: number } | undefined {
  const [base, prefixText] = cidr.split('/');
  const ip = parseIp(base ?? '');
  const prefix = Number(prefixText);
  if (!ip || !/^\d{1,3}$/.test(prefixText ?? '') || prefix > ip.bits) return undefined;
  return { ...ip, prefix };
}

function inCidr(value: string, cidr: string): boolean {
  const range = parseCidr(cidr) as { value: bigint; bits: number; prefix: number };
  const ip = parseIp(value);
  if (!ip || ip.bits !== range.bits) return false;
  const shift = BigInt(range.bits - range.prefix);
  return ip.value >> shift === range.value >> shift;
}

// ---------------------------------------------------------------------------------------------------------------
// Validation: what EventBridge's PutRule would reject, with the path of the offending field.

export function validatePattern(pattern: unknown): void {
  if (!isObject(pattern)) throw new PatternError('', 'a pattern is a JSON object');
  validateObject(pattern, '');
}

function validateObject(pattern: Record<string, unknown>, path: string): void {
  for (const [key, rule] of Object.entries(pattern)) {
    const at = path ? `${path}.${key}` : key;
    if (key === '$or' && Array.isArray(rule) && !isOr(key, rule)) {
      throw new PatternError(at, '$or takes an array of at least two patterns');
    }
    if (isOr(key, rule)) {
      for (const [i, p] of rule.entries()) validateObject(p, `${at}[${i}]`);
    } else if (Array.isArray(rule)) {
      for (const r of rule) validateRule(r, at);
    } else if (isObject(rule)) validateObject(rule, at);
    else throw new PatternError(at, 'a field takes an array of values or a nested pattern');
  }
}

const OPERATORS = [
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
  'numeric',
  'cidr',
  'exists',
  'anything-but',
];

function validateRule(rule: unknown, at: string): void {
  if (rule === null || ['string', 'number', 'boolean'].includes(typeof rule)) return;
  if (!isObject(rule))
    throw new PatternError(at, `${JSON.stringify(rule)} is neither a value nor an operator`);
  const keys = Object.keys(rule);
  const op = keys[0];
  if (keys.length !== 1 || op === undefined) {
    throw new PatternError(at, `an operator object has exactly one key, got ${JSON.stringify(keys)}`);
  }
  if (!OPERATORS.includes(op)) throw new PatternError(at, `unknown operator ${JSON.stringify(op)}`);
  validateOperator(op, rule[op], at);
}

function validateOperator(op: string, arg: unknown, at: string): void {
  const fail = (reason: string) => new PatternError(at, `${op}: ${reason}`);
  switch (op) {
    case 'prefix':
    case 'suffix':
      if (typeof arg === 'string') return;
      if (isObject(arg) && Object.keys(arg).length === 1 && typeof arg['equals-ignore-case'] === 'string')
        return;
      throw fail('takes a string or {"equals-ignore-case": string}');
    case 'equals-ignore-case':
      if (typeof arg !== 'string') throw fail('takes a string');
      return;
    case 'wildcard':
      if (typeof arg !== 'string') throw fail('takes a string');
      validateWildcard(arg, fail);
      return;
    case 'cidr':
      if (typeof arg !== 'string' || !parseCidr(arg))
        throw fail('takes an IPv4 or IPv6 range like 10.0.0.0/24');
      return;
    case 'exists':
      if (typeof arg !== 'boolean') throw fail('takes true or false');
      return;
    case 'numeric':
      validateNumeric(arg, fail);
      return;
    case 'anything-but':
      validateAnythingBut(arg, fail);
      return;
  }
}

function validateWildcard(glob: string, fail: (reason: string) => PatternError): void {
  if (glob.includes('**')) throw fail('consecutive * are not allowed');
  for (let i = 0; i < glob.length; i++) {
    if (glob[i] !== '\\') continue;
    const next = glob[++i];
    if (next !== '*' && next !== '\\') throw fail('a backslash escapes only * or \\');
  }
}

function validateNumeric(arg: unknown, fail: (reason: string) => PatternError): void {
  if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0 || arg.length > 4) {
    throw fail('takes [op, number] or [lower-op, number, upper-op, number]');
  }
  for (let i = 0; i < arg.length; i += 2) {
    if (!['=', '>', '>=', '<', '<='].includes(arg[i]))
      throw fail(`unknown comparison ${JSON.stringify(arg[i])}`);
    const n = arg[i + 1];
    if (typeof n !== 'number' || !Number.isFinite(n)) throw fail('compares with numbers');
  }
  if (arg.length === 4 && !(['>', '>='].includes(arg[0]) && ['<', '<='].includes(arg[2]))) {
    throw fail('a range is a lower bound (> or >=) then an upper bound (< or <=)');
  }
}

function validateAnythingBut(arg: unknown, fail: (reason: string) => PatternError): void {
  if (typeof arg === 'string' || typeof arg === 'number') return;
  if (Array.isArray(arg)) {
    const strings = arg.every((a) => typeof a === 'string');
    const numbers = arg.every((a) => typeof a === 'number');
    if (arg.length > 0 && (strings || numbers)) return;
    throw fail('a list holds only strings or only numbers');
  }
  if (isObject(arg) && Object.keys(arg).length === 1) {
    const [op, inner] = Object.entries(arg)[0] as [string, unknown];
    const list = Array.isArray(inner) ? inner : [inner];
    if (['prefix', 'suffix'].includes(op) && typeof inner === 'string') return;
    if (['equals-ignore-case', 'wildcard'].includes(op) && list.length > 0) {
      for (const item of list) {
        if (typeof item !== 'string') throw fail(`${op} takes a string or a list of strings`);
        if (op === 'wildcard') validateWildcard(item, fail);
      }
      return;
    }
  }
  throw fail('takes a value, a list, or one of prefix, suffix, equals-ignore-case, wildcard');
}
