/**
 * The Kubernetes API of one cluster over HTTP: discovery (/version, /api, /apis, /api/v1, /apis/apps/v1), and
 * for every served resource get, list (label and field selectors, limit/continue, all namespaces), watch,
 * create, update (PUT), patch (strategic merge, merge, JSON patch) and delete, with errors as Status objects
 * and Tables for kubectl's printing. Authentication is the caller's business (see cluster.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { openApiDocument, openApiGroupOf, openApiIndex } from './openapi';
import { jsonPatch, mergePatch, PatchError, strategicMergePatch } from './patch';
import { decodeKubeProtobuf, PROTOBUF_CONTENT_TYPE } from './protobuf';
import { parseFieldSelector, parseLabelSelector, SelectorError } from './selectors';
import {
  apiVersionOf,
  GROUPS,
  type KubeObject,
  KubeStatusError,
  type KubeStore,
  RESOURCES,
  type ResourceDef,
  resourceByPlural,
} from './store';
import {
  containerLog,
  NOT_SERVED_MESSAGE,
  type Subresource,
  scaleOf,
  subresourcesOf,
  updateScale,
} from './subresources';
import { toTable } from './tables';

export interface ApiContext {
  store: KubeStore;
  gitVersion: string;
  now(): number;
  /** Called on pod creation (admission) and deletion (graceful end), which the kubelet side owns. */
  admitPod(pod: KubeObject): KubeObject;
  deletePod(pod: KubeObject): void;
  /** Open watch responses, ended when the server stops. */
  watches: Set<ServerResponse>;
}

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

function status(code: number, reason: string, message: string, details: object = {}) {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    details,
    code,
  };
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-cache, private',
  });
  res.end(text);
}

/** Each subresource as the API server's discovery describes it. */
const SUBRESOURCE_DISCOVERY: Record<Subresource, (r: ResourceDef) => Record<string, unknown>> = {
  status: (r) => ({ kind: r.kind, verbs: ['get', 'patch', 'update'] }),
  scale: () => ({ group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] }),
  log: () => ({ kind: 'Pod', verbs: ['get'] }),
  exec: () => ({ kind: 'PodExecOptions', verbs: ['create', 'get'] }),
  attach: () => ({ kind: 'PodAttachOptions', verbs: ['create', 'get'] }),
  portforward: () => ({ kind: 'PodPortForwardOptions', verbs: ['create', 'get'] }),
};

function resourceList(group: string) {
  const defs = RESOURCES.filter((r) => r.group === group);
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/v1` : 'v1',
    resources: defs.flatMap((r) => [
      {
        name: r.plural,
        singularName: r.singular,
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: r.plural === 'namespaces' || r.plural === 'nodes' ? VERBS : [...VERBS, 'deletecollection'],
        shortNames: r.shortNames,
        ...(r.group === 'apps'
          ? { categories: ['all'] }
          : r.plural === 'pods'
            ? { categories: ['all'] }
            : {}),
        storageVersionHash: Buffer.from(r.kind).toString('base64').slice(0, 11),
      },
      ...subresourcesOf(r).map((sub) => ({
        name: `${r.plural}/${sub}`,
        singularName: '',
        namespaced: r.namespaced,
        ...SUBRESOURCE_DISCOVERY[sub](r),
      })),
    ]),
  };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const bytes = Buffer.concat(chunks);
  // kubectl's typed clients (create namespace|deployment|configmap|secret|job) send protobuf, as to EKS.
  if (String(req.headers['content-type'] ?? '').startsWith(PROTOBUF_CONTENT_TYPE))
    return decodeKubeProtobuf(bytes);
  const text = bytes.toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new KubeStatusError(
      400,
      'BadRequest',
      'the request body is not JSON (send application/json or application/vnd.kubernetes.protobuf)',
    );
  }
}

const ROUTE =
  /^\/(?:api\/v1|apis\/(apps|batch)\/v1)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/(status|scale|log|exec|attach|portforward))?\/?$/;

export async function handleKubeRequest(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://local');
  const path = url.pathname;
  const method = req.method ?? 'GET';
  try {
    if (method === 'GET') {
      if (path === '/version') {
        return send(res, 200, {
          major: '1',
          minor: ctx.gitVersion.split('.')[1] ?? '32',
          gitVersion: ctx.gitVersion,
          gitCommit: '0000000000000000000000000000000000000000',
          gitTreeState: 'clean',
          buildDate: '2025-01-01T00:00:00Z',
          goVersion: 'go1.23.6',
          compiler: 'gc',
          platform: 'linux/amd64',
        });
      }
      if (path === '/api')
        return send(res, 200, {
          kind: 'APIVersions',
          versions: ['v1'],
          serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: req.headers.host ?? '' }],
        });
      const group = (name: string) => ({
        name,
        versions: [{ groupVersion: `${name}/v1`, version: 'v1' }],
        preferredVersion: { groupVersion: `${name}/v1`, version: 'v1' },
      });
      if (path === '/apis') {
        return send(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: GROUPS.map(group) });
      }
      if (path === '/api/v1') return send(res, 200, resourceList(''));
      const served = GROUPS.find((g) => path === `/apis/${g}` || path === `/apis/${g}/v1`);
      if (served && path.endsWith('/v1')) return send(res, 200, resourceList(served));
      if (served) return send(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...group(served) });
      if (path === '/openapi/v3') return send(res, 200, openApiIndex(ctx.gitVersion));
      if (path.startsWith('/openapi/v3/')) {
        const group = openApiGroupOf(path);
        if (group !== undefined) return send(res, 200, openApiDocument(group, ctx.gitVersion));
      }
      if (path === '/healthz' || path === '/livez' || path === '/readyz') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return void res.end('ok');
      }
    }
    const m = ROUTE.exec(path);
    const def = m ? resourceByPlural.get(m[3] as string) : undefined;
    if (!m || !def || (def.group || undefined) !== (m[1] || undefined)) {
      return send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource', {}));
    }
    const namespace = def.namespaced ? m[2] : undefined;
    const name = m[4];
    const sub = m[5] as Subresource | undefined;
    if (sub && !subresourcesOf(def).includes(sub)) {
      return send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource', {}));
    }
    return await resource(ctx, req, res, { def, namespace, name, sub, method, query: url.searchParams });
  } catch (err) {
    if (err instanceof KubeStatusError)
      return send(res, err.code, status(err.code, err.reason, err.message, err.details));
    if (err instanceof PatchError || err instanceof SelectorError)
      return send(res, 400, status(400, 'BadRequest', err.message));
    return send(res, 500, status(500, 'InternalError', (err as Error).message));
  }
}

interface Target {
  def: ResourceDef;
  namespace: string | undefined;
  name: string | undefined;
  sub: Subresource | undefined;
  method: string;
  query: URLSearchParams;
}

async function resource(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  t: Target,
): Promise<void> {
  const { store } = ctx;
  const { def, namespace, name } = t;
  if (t.sub && t.sub !== 'status' && name) return subresource(ctx, req, res, { ...t, name, sub: t.sub });
  const wantsTable = /as=Table/.test(String(req.headers.accept ?? ''));
  if (t.method === 'GET' && name) {
    const obj = store.get(def.plural, namespace, name);
    return send(
      res,
      200,
      wantsTable ? toTable(def, [obj], obj.metadata.resourceVersion ?? '', ctx.now()) : obj,
    );
  }
  if (t.method === 'GET') {
    const labels = parseLabelSelector(t.query.get('labelSelector'));
    const fields = parseFieldSelector(t.query.get('fieldSelector'));
    const matches = (o: KubeObject) => labels(o.metadata.labels ?? {}) && fields(o);
    if (t.query.get('watch') === 'true' || t.query.get('watch') === '1') return watch(ctx, res, t, matches);
    const all = store.list(def.plural, namespace).filter(matches);
    const limit = Number(t.query.get('limit') ?? 0);
    const start = Number(Buffer.from(t.query.get('continue') ?? '', 'base64url').toString() || 0);
    const items = limit > 0 ? all.slice(start, start + limit) : all.slice(start);
    const more = limit > 0 && start + limit < all.length;
    const rv = store.resourceVersion;
    if (wantsTable) {
      const table = toTable(def, items, rv, ctx.now());
      return send(res, 200, {
        ...table,
        metadata: {
          resourceVersion: rv,
          ...(more ? { continue: Buffer.from(String(start + limit)).toString('base64url') } : {}),
        },
      });
    }
    return send(res, 200, {
      kind: `${def.kind}List`,
      apiVersion: apiVersionOf(def),
      metadata: {
        resourceVersion: rv,
        ...(more
          ? {
              continue: Buffer.from(String(start + limit)).toString('base64url'),
              remainingItemCount: all.length - start - limit,
            }
          : {}),
      },
      items,
    });
  }
  if (t.method === 'POST' && !name) {
    const body = (await readBody(req)) as KubeObject;
    if (!body.metadata)
      throw new KubeStatusError(422, 'Invalid', `${def.kind} is invalid: metadata: Required value`);
    if (body.kind && body.kind !== def.kind)
      throw new KubeStatusError(400, 'BadRequest', `the kind ${body.kind} does not match ${def.kind}`);
    if (def.namespaced) {
      if (body.metadata.namespace && namespace && body.metadata.namespace !== namespace) {
        throw new KubeStatusError(
          400,
          'BadRequest',
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      body.metadata.namespace = namespace ?? body.metadata.namespace ?? 'default';
    }
    if (t.query.get('dryRun') === 'All') return send(res, 201, body);
    let obj = body;
    if (def.plural === 'pods') obj = ctx.admitPod(obj);
    if (def.plural === 'namespaces')
      obj = { ...obj, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } };
    if (def.generation) obj = { ...obj, status: {} };
    return send(res, 201, store.create(def.plural, obj));
  }
  if (!name)
    return send(
      res,
      405,
      status(405, 'MethodNotAllowed', `${t.method} is not supported on a collection here`),
    );
  if (t.method === 'PUT') {
    const body = (await readBody(req)) as KubeObject;
    if (body.metadata?.name !== name)
      throw new KubeStatusError(
        400,
        'BadRequest',
        'the name of the object does not match the name on the URL',
      );
    let next = { ...body, metadata: { ...body.metadata, ...(namespace ? { namespace } : {}) } };
    if (t.sub !== 'status') next = keepStatus(next, store.get(def.plural, namespace, name));
    const rv = body.metadata.resourceVersion;
    return send(
      res,
      200,
      store.update(def.plural, next, {
        ...(rv ? { expectedVersion: rv } : {}),
        ...(t.sub === 'status' ? { subresource: 'status' as const } : {}),
      }),
    );
  }
  if (t.method === 'PATCH') {
    const current = store.get(def.plural, namespace, name);
    const body = await readBody(req);
    const type = String(req.headers['content-type'] ?? '').split(';')[0];
    let patched: unknown;
    if (type === 'application/json-patch+json') patched = jsonPatch(current as never, body);
    else if (type === 'application/merge-patch+json') patched = mergePatch(current as never, body as never);
    else if (type === 'application/strategic-merge-patch+json')
      patched = strategicMergePatch(current as never, body as never);
    else if (type === 'application/apply-patch+yaml') {
      throw new KubeStatusError(
        415,
        'UnsupportedMediaType',
        'server-side apply is not served here: use client-side kubectl apply',
      );
    } else
      throw new KubeStatusError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`,
      );
    let next = patched as KubeObject;
    if (!next?.metadata || next.metadata.name !== name)
      throw new KubeStatusError(422, 'Invalid', 'metadata.name cannot be changed by a patch');
    if (t.sub !== 'status') next = keepStatus(next, current);
    if (t.query.get('dryRun') === 'All') return send(res, 200, next);
    return send(res, 200, store.update(def.plural, next, patchUpdateOptions(t, current, next)));
  }
  if (t.method === 'DELETE') {
    const obj = store.get(def.plural, namespace, name);
    if (def.plural === 'pods') ctx.deletePod(obj);
    else if (def.plural === 'namespaces') {
      for (const r of RESOURCES.filter((x) => x.namespaced)) {
        for (const o of store.list(r.plural, name)) {
          if (r.plural === 'pods') ctx.deletePod(o);
          else store.delete(r.plural, name, o.metadata.name);
        }
      }
      store.delete(def.plural, undefined, name);
    } else store.delete(def.plural, namespace, name);
    return send(res, 200, obj);
  }
  return send(res, 405, status(405, 'MethodNotAllowed', `${t.method} is not supported`));
}

/**
 * A PUT or PATCH of the object itself leaves its status as the server has it (each kind's PrepareForUpdate in
 * the API server): a stale status in a file given to `kubectl replace`, or one changed in `kubectl edit`, is
 * not written; only the status subresource (the controllers, the kubelet) writes status.
 */
function keepStatus(next: KubeObject, current: KubeObject): KubeObject {
  if (current.status !== undefined) return { ...next, status: current.status };
  const { status: _, ...rest } = next;
  return rest;
}

/**
 * A patch that sets metadata.resourceVersion is a precondition, as on the API server: a stale one is a 409
 * Conflict (`kubectl patch -p '{"metadata":{"resourceVersion":"…"}}'`), the current one (or none) applies.
 */
function patchUpdateOptions(
  t: Target,
  current: KubeObject,
  next: KubeObject,
): { expectedVersion?: string; subresource?: 'status' } {
  const rv = next.metadata.resourceVersion;
  return {
    ...(rv && rv !== current.metadata.resourceVersion ? { expectedVersion: rv } : {}),
    ...(t.sub === 'status' ? { subresource: 'status' as const } : {}),
  };
}

/** scale, log, and the exec family (refused: nothing runs in a simulated container). */
async function subresource(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  t: Target & { name: string; sub: Exclude<Subresource, 'status'> },
): Promise<void> {
  const current = ctx.store.get(t.def.plural, t.namespace, t.name);
  if (t.sub === 'scale') {
    if (t.method === 'GET') return send(res, 200, scaleOf(current));
    if (t.method === 'PUT' || t.method === 'PATCH') {
      const body = await readBody(req);
      const type = String(req.headers['content-type'] ?? '').split(';')[0] ?? '';
      return send(res, 200, updateScale(ctx.store, t.def, current, t.method, body, type));
    }
  } else if (t.sub === 'log') {
    if (t.method === 'GET') {
      const text = containerLog(current, t.query);
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
      return void res.end(text);
    }
  } else {
    return send(res, 400, status(400, 'BadRequest', NOT_SERVED_MESSAGE(t.sub)));
  }
  return send(res, 405, status(405, 'MethodNotAllowed', `${t.method} is not supported on ${t.sub}`));
}

function watch(ctx: ApiContext, res: ServerResponse, t: Target, matches: (o: KubeObject) => boolean): void {
  const { store } = ctx;
  res.writeHead(200, {
    'content-type': 'application/json',
    'transfer-encoding': 'chunked',
    'cache-control': 'no-cache, private',
  });
  // Send the headers now: client-go waits for them before it treats the watch as open (and before it can
  // close it), so a quiet watch must not leave kubectl hanging until the first event.
  res.flushHeaders();
  const write = (type: string, object: KubeObject) => res.write(`${JSON.stringify({ type, object })}\n`);
  const inScope = (o: KubeObject) =>
    (t.namespace === undefined || o.metadata.namespace === t.namespace) && matches(o);
  const rvParam = t.query.get('resourceVersion');
  const since = rvParam && rvParam !== '0' ? Number(rvParam) : undefined;
  if (since === undefined)
    for (const o of store.list(t.def.plural, t.namespace)) if (matches(o)) write('ADDED', o);
  const stop = store.watch(t.def.plural, since, (e) => {
    if (inScope(e.object)) write(e.type, e.object);
  });
  ctx.watches.add(res);
  const seconds = Math.min(Number(t.query.get('timeoutSeconds') ?? 300) || 300, 1800);
  const timer = setTimeout(() => res.end(), seconds * 1000);
  timer.unref();
  res.on('close', () => {
    clearTimeout(timer);
    stop();
    ctx.watches.delete(res);
  });
}
