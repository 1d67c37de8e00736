/**
 * EventBridge event patterns, as documented in "Amazon EventBridge event patterns" and "Content filtering":
 * exact values (arrays are OR), nested fields, null, `prefix`, `suffix` (and their `equals-ignore-case` forms),
 * `anything-but` (value, list, prefix, suffix, equals-ignore-case, wildcard), `numeric`, `exists`,
 * `equals-ignore-case`, `wildcard`, `cidr` (IPv4) and `$or`. An array in the event matches when any element does.
 */

export type Pattern = Record<string, unknown>;

export class PatternError extends Error {
  constructor(reason: string) {
    super(`invalid event pattern: ${reason}`);
    this.name = 'PatternError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function matchesPattern(pattern: Pattern, event: unknown): boolean {
  if (!isObject(pattern)) throw new PatternError('a pattern is a JSON object');
  return matchObject(pattern, event);
}

function matchObject(pattern: Record<string, unknown>, value: unknown): boolean {
  for (const [key, rule] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!Array.isArray(rule) || rule.length < 2)
        throw new PatternError('$or takes an array of at least two patterns');
      if (!rule.some((p) => isObject(p) && matchObject(p, value))) return false;
      continue;
    }
    const field = isObject(value) ? value[key] : undefined;
    const present = isObject(value) && key in value;
    if (Array.isArray(rule)) {
      if (!matchField(rule, field, present)) return false;
    } else if (isObject(rule)) {
      if (!isObject(field)) return false;
      if (!matchObject(rule, field)) return false;
    } else {
      throw new PatternError(`the value of "${key}" must be an array or an object`);
    }
  }
  return true;
}

/** A leaf: the rule is a list of alternatives; the field may be absent, a scalar or an array of scalars. */
function matchField(rules: unknown[], field: unknown, present: boolean): boolean {
  const values = Array.isArray(field) ? field : [field];
  return rules.some((rule) => {
    if (isObject(rule) && 'exists' in rule) {
      const wantsPresent = rule.exists === true;
      return wantsPresent ? present && field !== undefined : !present || field === undefined;
    }
    if (!present) return false;
    if (isObject(rule) && 'anything-but' in rule) {
      // anything-but holds for the field only when no element is excluded.
      return values.every((v) => !excluded(rule['anything-but'], v));
    }
    return values.some((v) => matchValue(rule, v));
  });
}

function matchValue(rule: unknown, value: unknown): boolean {
  if (!isObject(rule)) return rule === value; // exact: strings, numbers, booleans, null
  const [op, arg] = Object.entries(rule)[0] ?? [];
  switch (op) {
    case 'prefix':
      return typeof value === 'string' && affix(arg, value, (v, a) => v.startsWith(a));
    case 'suffix':
      return typeof value === 'string' && affix(arg, value, (v, a) => v.endsWith(a));
    case 'equals-ignore-case':
      return (
        typeof value === 'string' && typeof arg === 'string' && value.toLowerCase() === arg.toLowerCase()
      );
    case 'wildcard':
      return typeof value === 'string' && typeof arg === 'string' && wildcard(arg).test(value);
    case 'numeric':
      return typeof value === 'number' && numeric(arg, value);
    case 'cidr':
      return typeof value === 'string' && typeof arg === 'string' && inCidr(value, arg);
    default:
      throw new PatternError(`unknown operator ${JSON.stringify(op)}`);
  }
}

function affix(arg: unknown, value: string, test: (v: string, a: string) => boolean): boolean {
  if (typeof arg === 'string') return test(value, arg);
  if (isObject(arg) && typeof arg['equals-ignore-case'] === 'string') {
    return test(value.toLowerCase(), arg['equals-ignore-case'].toLowerCase());
  }
  throw new PatternError('prefix/suffix take a string or {"equals-ignore-case": string}');
}

function excluded(arg: unknown, value: unknown): boolean {
  if (Array.isArray(arg)) return arg.some((a) => excluded(a, value));
  if (isObject(arg)) {
    const [op, inner] = Object.entries(arg)[0] ?? [];
    if (op === 'equals-ignore-case' && Array.isArray(inner))
      return inner.some((i) => matchValue({ [op]: i }, value));
    return matchValue(arg, value);
  }
  return arg === value;
}

function wildcard(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 's');
}

function numeric(arg: unknown, value: number): boolean {
  if (!Array.isArray(arg) || arg.length % 2 !== 0) throw new PatternError('numeric takes [op, number, ...]');
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const n = arg[i + 1];
    if (typeof n !== 'number') throw new PatternError('numeric compares with numbers');
    const ok =
      op === '='
        ? value === n
        : op === '>'
          ? value > n
          : op === '>='
            ? value >= n
            : op === '<'
              ? value < n
              : op === '<='
                ? value <= n
                : undefined;
    if (ok === undefined) throw new PatternError(`numeric operator ${JSON.stringify(op)}`);
    if (!ok) return false;
  }
  return true;
}

function ipv4(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    const b = Number(p);
    if (!/^\d{1,3}$/.test(p) || b > 255) return undefined;
    n = n * 256 + b;
  }
  return n;
}

function inCidr(value: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const a = ipv4(value);
  const b = ipv4(base ?? '');
  if (b === undefined || !(bits >= 0 && bits <= 32)) throw new PatternError(`cidr ${cidr}`);
  if (a === undefined) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(a / size) === Math.floor(b / size);
}
