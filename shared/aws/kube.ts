/**
 * A small Kubernetes API client over node:https: GET (with `continue` paging) and PATCH, which is all rollEks,
 * checkCapacity and the in-use reader need. @kubernetes/client-node would add 1.7 MB to the bundle and ~110 ms
 * to the cold start (measured, docs/eks.md), and its 2.x line does not load on Node 20.
 */
import { request } from 'node:https';
import { type Digest, isDigest } from '../image-ref';
import type * as z from '../zod';

/** `GET /api/v1/nodes` and `GET /api/v1/pods` (all namespaces), every page, as the API returns the items. */
export interface KubeReader {
  listNodes(): Promise<unknown[]>;
  listPods(): Promise<unknown[]>;
}

/** Connects to one EKS cluster by name (DescribeCluster endpoint and CA, presigned STS token). */
export type KubeConnector = (clusterName: string) => Promise<KubeReader>;

export class KubeApiError extends Error {
  constructor(
    readonly cluster: string,
    readonly method: string,
    readonly path: string,
    readonly status: number,
    /** Kubernetes Status reason (NotFound, Forbidden, Unauthorized, Conflict...) or the body's start. */
    readonly reason: string,
    detail: string,
  ) {
    super(`${method} ${path} on ${cluster}: ${status} ${reason}: ${detail}`);
    this.name = 'KubeApiError';
  }
}

/** An object from a cluster's Kubernetes API that is not what harborpilot reads it as. */
export class KubeObjectError extends Error {
  constructor(
    readonly cluster: string,
    readonly object: string,
    readonly problems: string[],
  ) {
    super(`unexpected ${object} from the Kubernetes API of ${cluster}: ${problems.join('; ')}`);
    this.name = 'KubeObjectError';
  }
}

/** Checks an API object against its schema; a mismatch names the cluster, the object (`Pod api-1`) and each problem. */
export function parseKubeObject<T>(
  schema: z.ZodMiniType<T>,
  item: unknown,
  cluster: string,
  kind: string,
): T {
  const r = schema.safeParse(item);
  if (r.success) return r.data;
  const name = (item as { metadata?: { name?: unknown } } | null)?.metadata?.name;
  throw new KubeObjectError(
    cluster,
    `${kind} ${String(name ?? '?')}`,
    r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
  );
}

export interface KubeConnection {
  cluster: string;
  /** https://… from DescribeCluster. */
  endpoint: string;
  /** PEM of the cluster CA (DescribeCluster certificateAuthority.data, decoded). */
  caPem: string;
  /** Bearer token; asked for on every request so a cache can refresh it. */
  token: () => Promise<string>;
  /** Called on a 401 so the next token is a new one. */
  onUnauthorized?: () => void;
  timeoutMs?: number;
}

export type PatchType = 'strategic' | 'merge' | 'json';
const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  strategic: 'application/strategic-merge-patch+json',
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
};

interface KubeList {
  items?: unknown[];
  metadata?: { continue?: string };
}

export class KubeClient implements KubeReader {
  constructor(readonly connection: KubeConnection) {}

  get cluster(): string {
    return this.connection.cluster;
  }

  async get<T = unknown>(path: string): Promise<T> {
    return (await this.send('GET', path)) as T;
  }

  /** Every item of a list, following `continue` tokens (500 a page, as kubectl pages). */
  async list(path: string, query: Record<string, string> = {}): Promise<unknown[]> {
    const items: unknown[] = [];
    let next: string | undefined;
    do {
      const params = new URLSearchParams({ ...query, limit: '500', ...(next ? { continue: next } : {}) });
      const page = (await this.send('GET', `${path}?${params}`)) as KubeList;
      items.push(...(page.items ?? []));
      next = page.metadata?.continue || undefined;
    } while (next);
    return items;
  }

  async patch<T = unknown>(path: string, body: unknown, type: PatchType = 'strategic'): Promise<T> {
    return (await this.send('PATCH', path, body, PATCH_CONTENT_TYPE[type])) as T;
  }

  listNodes(): Promise<unknown[]> {
    return this.list('/api/v1/nodes');
  }

  listPods(): Promise<unknown[]> {
    return this.list('/api/v1/pods');
  }

  private async send(method: string, path: string, body?: unknown, contentType?: string): Promise<unknown> {
    const c = this.connection;
    const url = new URL(path, c.endpoint);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const token = await c.token();
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          ca: c.caPem,
          timeout: c.timeoutMs ?? 10_000,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            'user-agent': 'harborpilot',
            ...(payload ? { 'content-type': contentType, 'content-length': payload.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${c.timeoutMs ?? 10_000} ms`)));
      req.on('error', reject);
      req.end(payload);
    }).catch((err: Error) => {
      throw new KubeApiError(c.cluster, method, path, 0, 'ConnectionFailed', err.message);
    });
    if (status >= 200 && status < 300) return text === '' ? {} : JSON.parse(text);
    if (status === 401) c.onUnauthorized?.();
    let reason = text.slice(0, 80);
    let detail = '';
    try {
      const s = JSON.parse(text) as { reason?: string; message?: string };
      reason = s.reason ?? reason;
      detail = s.message ?? '';
    } catch {
      // Not a Status object (a proxy's page): the body's start is the best reason there is.
    }
    throw new KubeApiError(c.cluster, method, path, status, reason, detail);
  }
}

/** `docker-pullable://repo@sha256:…`, `repo@sha256:…` or a bare `sha256:…`: the digest at the end (any OCI algorithm after an @). */
export function digestOfImageId(imageId: string | undefined): Digest | undefined {
  if (!imageId) return undefined;
  const at = imageId.lastIndexOf('@');
  if (at >= 0) {
    const digest = imageId.slice(at + 1);
    return isDigest(digest) ? digest : undefined;
  }
  // Without an @ only a hash-looking value is a digest: `nginx:latest` fits the OCI grammar too.
  const bare = imageId.replace(/^[a-z-]+:\/\//, '');
  return /^sha(?:256|512):[a-f0-9]+$/.test(bare) && isDigest(bare) ? bare : undefined;
}
