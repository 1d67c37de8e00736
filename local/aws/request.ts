/**
 * Reading a request the way an AWS front end does, for every backend: the input is checked against
 * the operation's shape (a zod schema standing in for the service model: required members, types,
 * lengths, ranges, enums, patterns, list sizes) before the operation runs, and paged lists read their
 * page size and token here. What is wrong is answered in the service's own words (its dialect): a
 * Coral-style `ValidationException` naming every member for ECR, DynamoDB and EventBridge; a short
 * sentence as ECS, EKS and SES v2 write them.
 */
import * as z from 'zod';
import { AwsServiceError } from '../errors';
import type { RestRequest } from '../types';
import { type Page, type PageLimits, PageSizeError, PageTokenError, pageOf } from './paging';

/** What a member breaks: the service model's constraint traits. */
export type Constraint =
  | { kind: 'required' }
  | { kind: 'type'; expected: string }
  | { kind: 'length'; min?: number; max?: number }
  | { kind: 'range'; min?: number; max?: number }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'pattern'; pattern: string };

export interface MemberIssue {
  /** The member's path in the input, e.g. `['filter', 'tagStatus']` or `['imageIds', 0, 'imageTag']`. */
  path: readonly (string | number)[];
  value: unknown;
  constraint: Constraint;
  /** The operation's own wording for this member, when the schema gives one. */
  message?: string;
}

/** How one service words the errors of a request it refuses. */
export interface Dialect {
  /** Members that break the operation's shape. */
  invalid(issues: readonly MemberIssue[]): AwsServiceError;
  /** A page token this service did not issue. */
  badToken(member: string, token: string): AwsServiceError;
}

/** Marks issues the schema gave no wording of its own (zod calls a per-parse error map only then). */
const UNWORDED = '\u0000';

/**
 * The request's input as `schema` reads it, or the service's error naming what is wrong. JSON nulls
 * count as absent members, as the AWS JSON protocols treat them.
 */
export function readRequest<S extends z.ZodType>(schema: S, input: unknown, dialect: Dialect): z.output<S> {
  const result = schema.safeParse(withoutNulls(input ?? {}), { reportInput: true, error: () => UNWORDED });
  if (result.success) return result.data;
  throw dialect.invalid(result.error.issues.map(memberIssue));
}

/**
 * A restJson1 request as one input structure, as the service model binds it: path labels, query
 * string members (text: their shapes coerce numbers) and the JSON body's members.
 */
export function restInput(req: RestRequest): Record<string, unknown> {
  return { ...Object.fromEntries(req.query), ...req.params, ...req.body };
}

export interface PageMembers {
  /** Member names of the page size and the token: `maxResults`/`nextToken` unless the service differs. */
  size?: string;
  token?: string;
}

/**
 * A page of `items` for a paged request (its page size and token members as `limits` names them),
 * refused in the service's words when the size or the token is bad.
 */
export function readPage<T>(
  items: readonly T[],
  key: (item: T) => string,
  input: object,
  limits: PageLimits & PageMembers,
  dialect: Dialect,
): Page<T> {
  const sizeMember = limits.size ?? 'maxResults';
  const tokenMember = limits.token ?? 'nextToken';
  const size: unknown = (input as Record<string, unknown>)[sizeMember];
  const token: unknown = (input as Record<string, unknown>)[tokenMember];
  try {
    return pageOf(
      items,
      key,
      {
        size: typeof size === 'number' ? size : undefined,
        token: typeof token === 'string' ? token : undefined,
      },
      limits,
    );
  } catch (err) {
    if (err instanceof PageSizeError) {
      throw dialect.invalid([
        { path: [sizeMember], value: err.size, constraint: { kind: 'range', min: err.min, max: err.max } },
      ]);
    }
    if (err instanceof PageTokenError) throw dialect.badToken(tokenMember, err.token);
    throw err;
  }
}

function memberIssue(issue: z.core.$ZodIssue): MemberIssue {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const value = 'input' in issue ? issue.input : undefined;
  const worded = issue.message === UNWORDED ? {} : { message: issue.message };
  return { path, value, constraint: constraintOf(issue), ...worded };
}

function constraintOf(issue: z.core.$ZodIssue): Constraint {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? { kind: 'required' } : { kind: 'type', expected: issue.expected };
    case 'too_small':
      return issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint'
        ? { kind: 'range', min: Number(issue.minimum) }
        : { kind: 'length', min: Number(issue.minimum) };
    case 'too_big':
      return issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint'
        ? { kind: 'range', max: Number(issue.maximum) }
        : { kind: 'length', max: Number(issue.maximum) };
    case 'invalid_value':
      return { kind: 'enum', values: issue.values.map(String) };
    case 'invalid_format':
      return { kind: 'pattern', pattern: 'pattern' in issue ? String(issue.pattern) : issue.format };
    default:
      // Unions, custom checks, unknown keys: the member does not have the shape the model gives it.
      return { kind: 'type', expected: 'structure' };
  }
}

function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = withoutNulls(v);
  return out;
}

/**
 * A structure the local cloud keeps and returns as it came, without reading inside: typed as the SDK
 * types it (the caller's SDK serialised it from that type), checked only to be a structure.
 */
export function opaque<T>() {
  return z.custom<T>((v) => typeof v === 'object' && v !== null && !Array.isArray(v));
}

// ---- dialects ----

/**
 * Coral, the framework behind ECR, DynamoDB and EventBridge: `ValidationException` with
 * "N validation error(s) detected: Value 'v' at 'member' failed to satisfy constraint: Member must ...",
 * every failing member in one message; list items are named `member.N.member` (N from 1).
 */
export function coralDialect(options: {
  /** A page token the service did not issue (default: a ValidationException naming the member). */
  badToken?: (member: string, token: string) => AwsServiceError;
  /** DynamoDB names members in lowerCamelCase in its messages (`tableName`). */
  lowerCamel?: boolean;
}): Dialect {
  const name = (segment: string) =>
    options.lowerCamel ? segment.charAt(0).toLowerCase() + segment.slice(1) : segment;
  const memberPath = (path: readonly (string | number)[]) =>
    path.map((p) => (typeof p === 'number' ? `${p + 1}.member` : name(p))).join('.');
  return {
    invalid(issues) {
      const lines = issues.map(
        (i) =>
          i.message ??
          `Value ${coralValue(i.value)} at '${memberPath(i.path)}' failed to satisfy constraint: ${coralRule(i)}`,
      );
      const count = `${lines.length} validation error${lines.length === 1 ? '' : 's'} detected`;
      return new AwsServiceError('ValidationException', `${count}: ${lines.join('; ')}`);
    },
    badToken:
      options.badToken ??
      ((member, token) => new AwsServiceError('ValidationException', `Invalid ${member}: '${token}'`)),
  };
}

function coralRule({ constraint: c, value }: MemberIssue): string {
  switch (c.kind) {
    case 'required':
      return 'Member must not be null';
    case 'type':
      return `Member must be ${article(c.expected)}`;
    case 'length':
      return below(c.min, lengthOf(value))
        ? `Member must have length greater than or equal to ${c.min}`
        : `Member must have length less than or equal to ${c.max}`;
    case 'range':
      return below(c.min, Number(value))
        ? `Member must have value greater than or equal to ${c.min}`
        : `Member must have value less than or equal to ${c.max}`;
    case 'enum':
      return `Member must satisfy enum value set: [${c.values.join(', ')}]`;
    case 'pattern':
      return `Member must satisfy regular expression pattern: ${c.pattern}`;
    default: {
      const never: never = c;
      throw new Error(`unknown constraint ${JSON.stringify(never)}`);
    }
  }
}

/** Coral prints values as Java does: strings bare in quotes, lists as [a, b], null unquoted. */
function coralValue(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  const text = (v: unknown): string =>
    typeof v === 'string' ? v : Array.isArray(v) ? `[${v.map(text).join(', ')}]` : JSON.stringify(v);
  return `'${text(value)}'`;
}

/**
 * The services that answer in a sentence (ECS's `InvalidParameterException: Services cannot be
 * empty.`, EKS's, SES v2's `BadRequestException`) report the first member that is wrong, in the
 * schema's wording when it has one, else in a sentence of theirs: `<member> <missing>` for a
 * member left out, `<member> must be between 1 and 100` for a number out of range, and so on.
 */
export function sentenceDialect(options: {
  code: string;
  status?: number;
  /** How the service says a member is missing: `can not be blank` (ECS), `is required` (EKS, SES). */
  missing: string;
  /** ECS and SES end their sentences with a full stop; EKS does not. */
  stop: '.' | '';
  badToken: (member: string, token: string) => string;
}): Dialect {
  const error = (message: string) => new AwsServiceError(options.code, message, options.status ?? 400);
  const sentence = (member: string, c: Constraint): string => {
    switch (c.kind) {
      case 'required':
        return `${member} ${options.missing}`;
      case 'type':
        return `${member} must be ${article(c.expected)}`;
      case 'range':
        return `${member} must be ${bounds(c)}`;
      case 'length':
        return `${member} must have ${bounds(c)} items`;
      case 'enum':
        return `${member} must be one of ${c.values.join(', ')}`;
      case 'pattern':
        return `${member} is invalid`;
      default: {
        const never: never = c;
        throw new Error(`unknown constraint ${JSON.stringify(never)}`);
      }
    }
  };
  return {
    invalid(issues) {
      const first = issues[0];
      if (!first) return error('Invalid request.');
      // A list's item is reported as the list: `services must be a list of strings.`
      const named = first.path.filter((p): p is string => typeof p === 'string');
      const member = named.join('.') || 'input';
      const itemOfList = typeof first.path.at(-1) === 'number';
      const constraint: Constraint =
        itemOfList && first.constraint.kind === 'type'
          ? { kind: 'type', expected: `list of ${first.constraint.expected}s` }
          : first.constraint;
      return error(first.message ?? `${sentence(member, constraint)}${options.stop}`);
    },
    badToken: (member, token) => error(options.badToken(member, token)),
  };
}

/** `a string`, `an integer`, `a list of strings`. */
function article(expected: string): string {
  const nouns: Record<string, string> = { int: 'integer', array: 'list', object: 'structure', record: 'map' };
  const noun = nouns[expected] ?? expected;
  return `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
}

/** `between 1 and 100`, `>= 0`, `<= 10`: a range or length as ECS and its neighbours say it. */
function bounds(c: { min?: number; max?: number }): string {
  if (c.min !== undefined && c.max !== undefined) return `between ${c.min} and ${c.max}`;
  return c.min !== undefined ? `>= ${c.min}` : `<= ${c.max}`;
}

const below = (min: number | undefined, actual: number) => min !== undefined && actual < min;

function lengthOf(value: unknown): number {
  return typeof value === 'string' || Array.isArray(value) ? value.length : 0;
}
