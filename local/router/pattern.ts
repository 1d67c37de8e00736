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
  // EventBridge reads field names as dotted paths on both sides: "detail.state" is detail → state.
  const valid = expandDottedKeys(pattern) as Pattern;
  return (event) => matchObject(valid, expandDottedKeys(event));
}

/**
 * `{"a.b": x}` as `{"a": {"b": x}}`, recursively, merging with what is already there; where two values land on
 * one path they become an array (either may match, as two values of one field do). Arrays of objects keep
 * their elements apart. An object without a dotted key comes back as it is.
 */
function expandDottedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.some(hasDottedKey) ? value.map(expandDottedKeys) : value;
  if (!isObject(value) || !hasDottedKey(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    // `$or` branches are patterns of their own: expanded inside, never split.
    const path = key === '$or' ? [key] : key.split('.');
    let at = out;
    for (const part of path.slice(0, -1)) {
      const next = at[part];
      if (!isObject(next)) at[part] = next === undefined ? {} : next;
      if (!isObject(at[part])) return value; // a leaf and an object on one path: leave the event as AWS would see it
      at = at[part] as Record<string, unknown>;
    }
    const last = path.at(-1) as string;
    const expanded = expandDottedKeys(child);
    at[last] = last in at ? mergeValues(at[last], expanded) : expanded;
  }
  return out;
}

function hasDottedKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasDottedKey);
  if (!isObject(value)) return false;
  return Object.entries(value).some(([k, v]) => (k !== '$or' && k.includes('.')) || hasDottedKey(v));
}

function mergeValues(a: unknown, b: unknown): unknown {
  if (isObject(a) && isObject(b)) {
    const merged: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) merged[k] = k in merged ? mergeValues(merged[k], v) : v;
    return merged;
  }
  return [...(Array.isArray(a) ? a : [a]), ...(Array.isArray(b) ? b : [b])];
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
      if (rule.length === 0) throw new PatternError(at, 'Empty arrays are not allowed');
      for (const r of rule) validateRule(r, at);
      if (wildcardComplexity(wildcardsOf(rule)) > MAX_WILDCARD_COMPLEXITY) {
        throw new PatternError(
          at,
          'Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character',
        );
      }
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
    if (arg.length === 0) throw fail('Empty arrays are not allowed');
    const strings = arg.every((a) => typeof a === 'string');
    const numbers = arg.every((a) => typeof a === 'number');
    if (strings || numbers) return;
    throw fail('a list holds only strings or only numbers');
  }
  if (isObject(arg) && Object.keys(arg).length === 1) {
    const [op, inner] = Object.entries(arg)[0] as [string, unknown];
    const list = Array.isArray(inner) ? inner : [inner];
    if (['prefix', 'suffix', 'equals-ignore-case', 'wildcard'].includes(op)) {
      if (list.length === 0) throw fail('Empty arrays are not allowed');
      for (const item of list) {
        if (typeof item !== 'string') throw fail(`${op} takes a string or a list of strings`);
        // A plain {"prefix": ""} matches every string; excluding every string is refused.
        if ((op === 'prefix' || op === 'suffix') && item === '') throw fail('Null prefix/suffix not allowed');
        if (op === 'wildcard') validateWildcard(item, fail);
      }
      return;
    }
  }
  throw fail('takes a value, a list, or one of prefix, suffix, equals-ignore-case, wildcard');
}

// ---------------------------------------------------------------------------------------------------------------
// Wildcard complexity, as aws/event-ruler's MachineComplexityEvaluator measures it: the most wildcard-pattern
// prefixes one input value can match at once, over every wildcard of a field. EventBridge refuses a rule above
// a limit its documentation does not state; AWS's recorded answers put it between 7 (accepted:
// "/Users/*/dir/dir/dir/dir/dir/doc.txt") and 11 (refused: "*:*:*:*:*:event-bus/*"), and event-ruler's README
// suggests 10 per rule: the limit here.

const MAX_WILDCARD_COMPLEXITY = 10;

/** The wildcard globs among a field's rules, `anything-but` ones included. */
function wildcardsOf(rules: unknown[]): string[] {
  return rules.flatMap((rule) => {
    if (!isObject(rule)) return [];
    if (typeof rule.wildcard === 'string') return [rule.wildcard];
    const but = rule['anything-but'];
    if (isObject(but) && 'wildcard' in but) {
      const inner = but.wildcard;
      return (Array.isArray(inner) ? inner : [inner]).filter((g): g is string => typeof g === 'string');
    }
    return [];
  });
}

type GlobToken = { star: true } | { star: false; char: string };

function globTokens(glob: string): GlobToken[] {
  const tokens: GlobToken[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '\\') tokens.push({ star: false, char: glob[++i] ?? '' });
    else tokens.push(c === '*' ? { star: true } : { star: false, char: c });
  }
  return tokens;
}

/**
 * The globs as one automaton whose states are (glob, prefix length); every set of states some input reaches
 * is visited (subset construction over the globs' characters and one character none of them has), and the
 * largest set, less the empty prefixes, is the complexity. Stops as soon as it passes the limit.
 */
export function wildcardComplexity(globs: readonly string[]): number {
  const patterns = globs.filter((g) => g.includes('*')).map(globTokens);
  if (patterns.length === 0) return 0;
  const key = (p: number, i: number) => `${p}:${i}`;
  const close = (states: Map<string, [number, number]>) => {
    const stack = [...states.values()];
    while (stack.length > 0) {
      const [p, i] = stack.pop() as [number, number];
      const tokens = patterns[p] as GlobToken[];
      // A star may match nothing: its state and the one after it are reached together.
      if (tokens[i]?.star && !states.has(key(p, i + 1))) {
        states.set(key(p, i + 1), [p, i + 1]);
        stack.push([p, i + 1]);
      }
    }
    return states;
  };
  const alphabet = new Set<string>(['\u0000']);
  for (const tokens of patterns) for (const t of tokens) if (!t.star) alphabet.add(t.char);
  const start = close(new Map(patterns.map((_, p) => [key(p, 0), [p, 0] as [number, number]])));
  const seen = new Set<string>([[...start.keys()].sort().join()]);
  const queue = [start];
  let most = 0;
  while (queue.length > 0) {
    const states = queue.pop() as Map<string, [number, number]>;
    for (const char of alphabet) {
      const next = new Map<string, [number, number]>();
      for (const [p, i] of states.values()) {
        const tokens = patterns[p] as GlobToken[];
        const token = tokens[i];
        if (token && !token.star && token.char === char) next.set(key(p, i + 1), [p, i + 1]);
        // The state right after a star takes any character and stays.
        if (i > 0 && tokens[i - 1]?.star) next.set(key(p, i), [p, i]);
      }
      if (next.size === 0) continue;
      close(next);
      const id = [...next.keys()].sort().join();
      if (seen.has(id)) continue;
      seen.add(id);
      queue.push(next);
      most = Math.max(most, [...next.values()].filter(([, i]) => i > 0).length);
      if (most > MAX_WILDCARD_COMPLEXITY) return most;
    }
  }
  return most;
}
