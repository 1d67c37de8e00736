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

/**
 * A pattern EventBridge would refuse, worded as its InvalidEventPatternException ("Event pattern is not valid.
 * Reason: ..."), with the field's path where AWS would give a line and column of the JSON text.
 */
export class PatternError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`Event pattern is not valid. Reason: ${reason}${path ? ` (at ${path})` : ''}`);
    this.name = 'InvalidEventPatternException';
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
  const [base, mask] = cidr.split('/');
  const ip = parseIp(base ?? '');
  const prefix = Number(mask);
  if (!ip || !Number.isInteger(prefix) || prefix < 0 || prefix > ip.bits) return undefined;
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
// Validation: what EventBridge's PutRule rejects, with the reason it gives. EventBridge compiles patterns with
// aws/event-ruler, so each reason below is the one event-ruler's rule compiler gives for the same mistake (AWS's
// recorded answers in ../shared/conformance show them verbatim); the path says where, as serverless.yml has no
// line and column to point at.

export function validatePattern(pattern: unknown): void {
  if (!isObject(pattern)) throw new PatternError('', 'Filter is not an object');
  validateObject(pattern, '');
}

function validateObject(pattern: Record<string, unknown>, path: string): void {
  const entries = Object.entries(pattern);
  // `{}` would match every event, nested or not; event-ruler refuses it like an empty array.
  if (entries.length === 0) throw new PatternError(path, 'Empty objects are not allowed');
  for (const [key, rule] of entries) {
    const at = path ? `${path}.${key}` : key;
    if (key === '$or') validateOr(rule, at);
    else if (Array.isArray(rule)) validateField(rule, at);
    else if (isObject(rule)) validateObject(rule, at);
    else throw new PatternError(at, `"${key}" must be an object or an array`);
  }
}

/** `$or` is always the OR primitive (event-ruler never reads it as a field name). */
function validateOr(rule: unknown, at: string): void {
  if (!Array.isArray(rule)) throw new PatternError(at, 'It must be an Array followed with $or.');
  for (const [i, branch] of rule.entries()) {
    if (!isObject(branch)) {
      throw new PatternError(at, 'Only JSON object is allowed in array of $or relationship.');
    }
    validateObject(branch, `${at}[${i}]`);
  }
  if (rule.length < 2) throw new PatternError(at, 'There must have at least 2 Objects in $or relationship.');
}

function validateField(rules: unknown[], at: string): void {
  for (const rule of rules) {
    if (isObject(rule)) validateMatch(rule, at);
    else if (rule !== null && !['string', 'number', 'boolean'].includes(typeof rule)) {
      throw new PatternError(at, 'Match value must be String, number, true, false, or null');
    }
  }
  // A field no value can match: the rule could never fire.
  if (rules.length === 0) throw new PatternError(at, 'Empty arrays are not allowed');
  if (wildcardComplexity(wildcardsOf(rules)) > MAX_WILDCARD_COMPLEXITY) {
    throw new PatternError(
      at,
      'Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character',
    );
  }
}

/** How event-ruler's JSON parser names a value it did not expect (Jackson's token text). */
function tokenText(value: unknown): string {
  if (value === undefined) return ']';
  if (Array.isArray(value)) return '[';
  if (isObject(value)) return '{';
  return String(value);
}

/** One match expression (`{"prefix": "us-"}`...): event-ruler reads its first key, then wants no other. */
function validateMatch(expression: Record<string, unknown>, at: string): void {
  const fail = (reason: string) => new PatternError(at, reason);
  const keys = Object.keys(expression);
  const op = keys[0];
  if (op === undefined) throw fail('Match expression name not found');
  const arg = expression[op];
  switch (op) {
    case 'prefix':
    case 'suffix':
      if (isObject(arg)) validateIgnoreCaseAffix(op, arg, fail);
      else if (typeof arg !== 'string') throw fail(`${op} match pattern must be a string`);
      break;
    case 'equals-ignore-case':
      if (typeof arg !== 'string') throw fail('equals-ignore-case match pattern must be a string');
      break;
    case 'wildcard':
      if (typeof arg !== 'string') throw fail('wildcard match pattern must be a string');
      validateWildcard(arg, fail);
      break;
    case 'cidr':
      if (typeof arg !== 'string') throw fail('prefix match pattern must be a string');
      validateCidr(arg, fail);
      break;
    case 'exists':
      if (typeof arg !== 'boolean') throw fail('exists match pattern must be either true or false.');
      break;
    case 'numeric':
      validateNumeric(arg, fail);
      break;
    case 'anything-but':
      validateAnythingBut(arg, fail);
      break;
    default:
      throw fail(`Unrecognized match type ${op}`);
  }
  if (keys.length > 1) {
    // event-ruler's wording for a second key after numeric and anything-but, odd as it reads.
    throw fail(
      op === 'numeric' || op === 'anything-but'
        ? 'Too many elements in numeric expression'
        : 'Only one key allowed in match expression',
    );
  }
}

function validateIgnoreCaseAffix(
  op: 'prefix' | 'suffix',
  arg: Record<string, unknown>,
  fail: (reason: string) => PatternError,
): void {
  const keys = Object.keys(arg);
  const inner = keys[0];
  const name = op === 'prefix' ? 'Prefix' : 'Suffix';
  if (inner === undefined) throw fail(`${name} expression name not found`);
  if (inner !== 'equals-ignore-case') throw fail(`Unsupported ${op} pattern: ${inner}`);
  if (typeof arg[inner] !== 'string') throw fail('equals-ignore-case match pattern must be a string');
  if (keys.length > 1) throw fail('Only one key allowed in match expression');
}

/** `*` is a wildcard, `\*` and `\\` escapes; positions count UTF-8 bytes of the quoted value, as event-ruler does. */
function validateWildcard(glob: string, fail: (reason: string) => PatternError): void {
  const pos = (i: number) => 1 + Buffer.byteLength(glob.slice(0, i));
  for (let i = 0; i < glob.length; i++) {
    if (glob[i] === '*' && glob[i + 1] === '*')
      throw fail(`Consecutive wildcard characters at pos ${pos(i)}`);
    if (glob[i] !== '\\') continue;
    if (glob[i + 1] !== '*' && glob[i + 1] !== '\\') throw fail(`Invalid escape character at pos ${pos(i)}`);
    i++;
  }
}

function validateCidr(cidr: string, fail: (reason: string) => PatternError): void {
  // Java's split drops trailing empty strings: "10.0.0.0/" has no mask at all.
  const parts = cidr.split('/');
  while (parts.length > 0 && parts.at(-1) === '') parts.pop();
  const [base, mask] = parts;
  if (parts.length !== 2 || base === undefined || mask === undefined) {
    throw fail("Malformed CIDR, one '/' required");
  }
  if (!/^[+-]?\d+$/.test(mask)) throw fail('Malformed CIDR, mask bits must be an integer');
  const bits = Number(mask);
  if (bits < 0) throw fail('Malformed CIDR, mask bits must not be negative');
  const ip = parseIp(base);
  if (!ip) throw fail(`Nonstandard IP address: ${base}`);
  // event-ruler refuses a range of one address (/32, /128): match the address itself instead.
  if (ip.bits === 32 && bits > 31) throw fail('IPv4 mask bits must be < 32');
  if (ip.bits === 128 && bits > 127) throw fail('IPv6 mask bits must be < 128');
}

/** `[op, n]` or `[> or >=, n, < or <=, m]`, checked in the order event-ruler reads them. */
function validateNumeric(arg: unknown, fail: (reason: string) => PatternError): void {
  if (!Array.isArray(arg)) throw fail('Value of numeric must be an array.');
  const [op, value, ...rest] = arg as unknown[];
  const isNumber = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);
  if (typeof op !== 'string') throw fail(`Invalid member in numeric match: ${tokenText(op)}`);
  if (!['=', '<', '<=', '>', '>='].includes(op)) throw fail(`Unrecognized numeric range operator: ${op}`);
  if (!isNumber(value)) throw fail(`Value of ${op === '=' ? 'equals' : op} must be numeric`);
  if (rest.length === 0) return;
  if (op !== '>' && op !== '>=') throw fail('Too many elements in numeric expression');
  const [upperOp, upper] = rest;
  if (typeof upperOp !== 'string') throw fail(`Bad value in numeric range: ${tokenText(upperOp)}`);
  if (upperOp !== '<' && upperOp !== '<=') throw fail(`Bad numeric range operator: ${upperOp}`);
  if (!isNumber(upper)) throw fail(`Value of ${upperOp} must be numeric`);
  if (rest.length > 2) throw fail('Too many terms in numeric range expression');
  if (value >= upper) throw fail('Bottom must be less than top');
}

function validateAnythingBut(arg: unknown, fail: (reason: string) => PatternError): void {
  let kind = '';
  let values = arg;
  if (isObject(arg)) {
    const keys = Object.keys(arg);
    kind = keys[0] ?? '';
    if (keys.length === 0) throw fail('Anything-But expression name not found');
    if (!['equals-ignore-case', 'prefix', 'suffix', 'wildcard'].includes(kind)) {
      throw fail(`Unsupported anything-but pattern: ${kind}`);
    }
    if (keys.length > 1) throw fail('Too many elements in numeric expression');
    values = arg[kind];
  }
  if (!Array.isArray(values) && typeof values !== 'string' && typeof values !== 'number') {
    throw fail('Value of anything-but must be an array or single string/number value.');
  }
  // Excluding nothing: refused like every other empty array (event-ruler itself words the plain case as a
  // mixed-type list, and lets an empty prefix/suffix/wildcard set through, where it would exclude nothing).
  if (Array.isArray(values) && values.length === 0) throw fail('Empty arrays are not allowed');
  const list: unknown[] = Array.isArray(values) ? values : [values];
  if (kind === '') {
    if (!list.every((v) => typeof v === 'string' || typeof v === 'number')) {
      throw fail('Inside anything but list, start|null|boolean is not supported.');
    }
    const strings = list.filter((v) => typeof v === 'string').length;
    if (strings !== 0 && strings !== list.length) {
      throw fail(
        'Inside anything but list, either all values are number or string, mixed type is not supported',
      );
    }
    return;
  }
  for (const item of list) {
    if (typeof item !== 'string') {
      if (kind === 'equals-ignore-case') {
        throw fail(
          'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.',
        );
      }
      throw fail(
        kind === 'wildcard'
          ? 'wildcard match pattern must be a string'
          : 'prefix/suffix match pattern must be a string',
      );
    }
    // A plain {"prefix": ""} matches every string; excluding every string is refused.
    if ((kind === 'prefix' || kind === 'suffix') && item === '') throw fail('Null prefix/suffix not allowed');
    if (kind === 'wildcard') validateWildcard(item, fail);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Wildcard complexity, as aws/event-ruler's MachineComplexityEvaluator measures it: the most wildcard-pattern
// prefixes one input value can match at once, over the distinct wildcards of a field. AWS's documentation only
// says to use fewer wildcards and fewer repeating character sequences after a wildcard, without a number;
// event-ruler's README suggests a limit of 10 when each rule is checked on its own, as PutRule does. Every
// answer we have from AWS fits 10: accepted 7 ("/Users/*/dir/dir/dir/dir/dir/doc.txt") and 8 (two of
// "*/datasync/*.tif"-like keys, or four "*.tif"-like ones), refused 11 ("*:*:*:*:*:event-bus/*") and 16 (four
// "*/datasync/*.tif"-like keys). See local/docs/local-router.md.

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
  // A glob listed twice is one pattern to event-ruler; a glob without a star is an exact match.
  const patterns = [...new Set(globs)].map(globTokens).filter((tokens) => tokens.some((t) => t.star));
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
