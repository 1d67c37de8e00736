/**
 * Responses typed with the AWS SDK's own output types (imported as types only), so a misspelled or
 * misplaced response member fails the type check. The SDK types what it gives its callers: timestamps
 * as Date. On the wire (awsJson 1.0/1.1 and restJson1) a timestamp is epoch seconds, which is what the
 * backends send: `Wire<T>` is the SDK type with every Date as that number.
 */
import type { RequestContext, RestRequest, RestRoute } from '../types';

export type Wire<T> = T extends Date
  ? number
  : T extends readonly (infer Item)[]
    ? Wire<Item>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

/** A timestamp as awsJson and restJson1 send it. */
export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

/**
 * `T` with the members `K` always present. The SDK types every output member optional; a backend
 * function that always sends some says so, for its callers inside the local cloud and its tests.
 */
export type Sent<T, K extends keyof T> = T & { [P in K]-?: NonNullable<T[P]> };

/**
 * A service's awsJson operations, each answering with its SDK response type: `Api` lists the
 * operations a backend serves (`{ DescribeImages: DescribeImagesResponse; ... }`), so wiring an
 * operation to the wrong function, or leaving one out, fails the type check.
 */
export type JsonApi<Api> = {
  [Op in keyof Api]: (input: unknown, ctx: RequestContext) => Wire<Api[Op]> | Promise<Wire<Api[Op]>>;
};

/**
 * The restJson1 routes of a service, each answering with its SDK response type: `restRoutes<Api>()`
 * gives a `route(method, path, operation, handler)` whose handler must return `Api[operation]`.
 */
export function restRoutes<Api>() {
  return <Op extends keyof Api & string>(
    method: RestRoute['method'],
    path: string,
    operation: Op,
    handler: (req: RestRequest, ctx: RequestContext) => Wire<Api[Op]> | Promise<Wire<Api[Op]>>,
  ): RestRoute => ({
    method,
    path,
    operation,
    handler: async (req, ctx) => ({ status: 200, body: await handler(req, ctx) }),
  });
}

/**
 * The members `keys` of `o` that are set: a stored resource's view when its model names members as
 * the SDK does (pass keys `satisfies (keyof Wire<Shape>)[]`), or the members of a request to keep.
 */
export function pick<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
