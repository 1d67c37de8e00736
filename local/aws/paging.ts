/**
 * Paging as AWS's List and Describe operations page: at most a page size of items a call (a default
 * when the caller names none, a cap it may not exceed) and an opaque token that resumes the list.
 * One token format and one slicing for every backend, and for the product's test fakes: this module
 * throws plain errors, and each caller answers them in its own service's error shape.
 *
 * A token names the key of the last item returned and the position after it. The next page starts
 * right after that item wherever it now is, so items added or removed before it (a push during a
 * prune, a task that stopped) neither repeat nor go missing; if the item itself is gone, the page
 * starts at the position it had.
 */

export interface PageLimits {
  /** Page size when the request names none. */
  default: number;
  /** The largest page size the operation accepts. */
  max: number;
  /** The smallest; 1 unless the operation says otherwise. Where it is 0, a size of 0 means the default. */
  min?: number;
}

export interface PageRequest {
  size?: number | undefined;
  token?: string | undefined;
}

export interface Page<T> {
  items: T[];
  /** Present while items remain after this page. */
  nextToken?: string;
}

/** The page size is outside the operation's limits. */
export class PageSizeError extends Error {
  constructor(
    readonly size: number,
    readonly min: number,
    readonly max: number,
  ) {
    super(`page size ${size} is not between ${min} and ${max}`);
    this.name = 'PageSizeError';
  }
}

/** The token was not issued by this paging: not ours, or changed on the way. */
export class PageTokenError extends Error {
  constructor(readonly token: string) {
    super(`not a page token: '${token}'`);
    this.name = 'PageTokenError';
  }
}

interface Position {
  /** Key of the last item returned. */
  after: string;
  /** Index of the item after it, when the page was cut. */
  at: number;
}

export function encodePageToken(position: Position): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

export function decodePageToken(token: string): Position {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new PageTokenError(token);
  }
  const { after, at } = (parsed ?? {}) as Partial<Record<keyof Position, unknown>>;
  if (typeof after !== 'string' || typeof at !== 'number' || !Number.isSafeInteger(at) || at < 0) {
    throw new PageTokenError(token);
  }
  return { after, at };
}

/**
 * One page of `items` (in the order the operation lists them; `key` unique and stable per item).
 * Throws PageSizeError or PageTokenError for a request the operation must refuse.
 */
export function pageOf<T>(
  items: readonly T[],
  key: (item: T) => string,
  request: PageRequest,
  limits: PageLimits,
): Page<T> {
  const min = limits.min ?? 1;
  const asked = request.size ?? limits.default;
  if (!Number.isInteger(asked) || asked < min || asked > limits.max) {
    throw new PageSizeError(asked, min, limits.max);
  }
  const size = asked === 0 ? limits.default : asked;
  let start = 0;
  if (request.token !== undefined) {
    const { after, at } = decodePageToken(request.token);
    const last = items.findIndex((item) => key(item) === after);
    start = last >= 0 ? last + 1 : Math.min(at, items.length);
  }
  const end = start + size;
  const page = items.slice(start, end);
  const lastItem = page.at(-1);
  if (end >= items.length || lastItem === undefined) return { items: page };
  return { items: page, nextToken: encodePageToken({ after: key(lastItem), at: end }) };
}
