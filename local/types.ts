/**
 * Contracts between the parts of the local cloud. Each service backend lives in its own folder
 * (local/ecr, local/ecs, local/eks, local/ses, ...) and is composed by local/cloud.ts.
 */
import type { EventBus } from './bus';
import type { SimClock } from './clock';

/** Who is calling and where: derived from the SigV4 credential scope and the access key. */
export interface RequestContext {
  accountId: string;
  region: string;
  /** Access key id of the caller (from the Authorization header), `test` by default. */
  accessKeyId: string;
}

/** One awsJson1_1 operation: input is the parsed JSON body, the result is serialized as JSON. */
export type JsonOperation = (
  input: Record<string, unknown>,
  ctx: RequestContext,
) => unknown | Promise<unknown>;
export type JsonOperations = Record<string, JsonOperation>;

/** Fault injection, consulted by the HTTP layer and by the simulations. */
export interface Faults {
  /** Milliseconds of real latency to add to every API call. */
  latencyMs: number;
  /**
   * Should this call be throttled now? (service e.g. 'ecs', operation e.g. 'DescribeServices'; `where` is the
   * caller's account and Region, whose rate-limit buckets the call draws from)
   */
  shouldThrottle(service: string, operation: string, where?: { accountId: string; region: string }): boolean;
  /** A reason when pulling from this repository fails, e.g. injected CannotPullContainerError. */
  pullFailure(repositoryName: string, digest?: string): string | undefined;
  /** How a task definition family's containers misbehave once running, if they do. */
  containerFault(
    family: string,
  ): { kind: 'exit'; exitCode: number; afterMs: number } | { kind: 'oom'; afterMs: number } | undefined;
}

/** What ECS and Kubernetes need from ECR to start a container. */
export interface ImageResolver {
  /**
   * Resolves `image` (any reference form) to the digest a pull would get now, or the reason the
   * pull fails (`CannotPullContainerError: ...`). Non-ECR images resolve to a stable fake digest.
   */
  resolve(image: string, ctx: { accountId: string; region: string }): { digest: string } | { error: string };
}

export interface LocalCloudCore {
  readonly clock: SimClock;
  readonly bus: EventBus;
  readonly faults: Faults;
  readonly images: ImageResolver;
  /** Default account and region for callers and world files that do not name one. */
  readonly defaultAccountId: string;
  readonly defaultRegion: string;
}

/** A restJson1 route (EKS, SES v2): `path` uses `{name}` placeholders, e.g. `/clusters/{name}`. */
export interface RestRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  path: string;
  operation: string;
  handler: (req: RestRequest, ctx: RequestContext) => RestResponse | Promise<RestResponse>;
}

export interface RestRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, or {} when there is none. */
  body: Record<string, unknown>;
}

export interface RestResponse {
  status?: number;
  body?: unknown;
}
