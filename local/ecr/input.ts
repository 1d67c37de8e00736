/**
 * Reading request members the way AWS validates them: a model constraint that fails is a
 * `ValidationException` ("1 validation error detected: ..."), as the service front end reports it.
 */
import { validation } from '../errors';

const constraint = (member: string, value: unknown, rule: string) =>
  validation(
    `1 validation error detected: Value '${JSON.stringify(value)}' at '${member}' failed to satisfy constraint: ${rule}`,
  );

export function optionalString(input: Record<string, unknown>, member: string): string | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw constraint(member, value, 'Member must be a string');
  return value;
}

export function requiredString(
  input: Record<string, unknown>,
  member: string,
  min = 1,
  max = Number.POSITIVE_INFINITY,
): string {
  const value = optionalString(input, member);
  if (value === undefined) throw constraint(member, null, 'Member must not be null');
  if (value.length < min)
    throw constraint(member, value, `Member must have length greater than or equal to ${min}`);
  if (value.length > max)
    throw constraint(member, value, `Member must have length less than or equal to ${max}`);
  return value;
}

export function optionalInteger(
  input: Record<string, unknown>,
  member: string,
  min: number,
  max: number,
): number | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw constraint(member, value, 'Member must be an integer');
  }
  if (value < min) throw constraint(member, value, `Member must have value greater than or equal to ${min}`);
  if (value > max) throw constraint(member, value, `Member must have value less than or equal to ${max}`);
  return value;
}

export function optionalBoolean(input: Record<string, unknown>, member: string): boolean | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw constraint(member, value, 'Member must be a boolean');
  return value;
}

export function optionalList<T = unknown>(
  input: Record<string, unknown>,
  member: string,
  min = 0,
  max = Number.POSITIVE_INFINITY,
): T[] | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw constraint(member, value, 'Member must be a list');
  if (value.length < min)
    throw constraint(member, value, `Member must have length greater than or equal to ${min}`);
  if (value.length > max)
    throw constraint(member, value, `Member must have length less than or equal to ${max}`);
  return value as T[];
}

export function optionalObject(
  input: Record<string, unknown>,
  member: string,
): Record<string, unknown> | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value))
    throw constraint(member, value, 'Member must be a structure');
  return value as Record<string, unknown>;
}

/** awsJson1_1 and restJson1 send timestamps as epoch seconds. */
export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

/** An opaque pagination token over a sorted list: the key of the last item returned. */
export function encodeToken(key: string): string {
  return Buffer.from(JSON.stringify({ after: key }), 'utf8').toString('base64');
}

export function decodeToken(token: string | undefined, member = 'nextToken'): string | undefined {
  if (token === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      typeof (parsed as { after?: unknown }).after === 'string'
    ) {
      return (parsed as { after: string }).after;
    }
  } catch {
    // fall through to the error below
  }
  throw validation(`Invalid ${member}: '${token}'`);
}

/** One page of `items` (sorted by `key`) after the token's key. */
export function paginate<T>(
  items: T[],
  key: (item: T) => string,
  pageSize: number,
  token: string | undefined,
): { page: T[]; nextToken?: string } {
  const after = decodeToken(token);
  const start = after === undefined ? 0 : items.findIndex((item) => key(item) > after);
  const from = start < 0 ? items.length : start;
  const page = items.slice(from, from + pageSize);
  const last = page.at(-1);
  return from + pageSize < items.length && last !== undefined
    ? { page, nextToken: encodeToken(key(last)) }
    : { page };
}
