/**
 * The admin API under /_harborpilot/ (JSON): what happened (invocations, dead letters, events),
 * fault injection, schedules on demand and the simulated clock. Plus LocalStack's /_aws/ses, so
 * habits and scripts that read sent mail carry over. Documented in local/docs/local-cloud.md.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { CloudEvent, EventBus } from '../bus';
import type { SimClock } from '../clock';
import type { EcrBackend } from '../ecr';
import { ScanDeclarationError } from '../ecr/scanning';
import type { EcsBackend } from '../ecs';
import type { EksBackend } from '../eks';
import { AwsServiceError } from '../errors';
import { FaultError, type LocalFaults } from '../faults';
import { fleetSnapshot } from '../fleet';
import type { Invocation, Router, RunningInvocation } from '../router';
import type { SesBackend } from '../ses';
import { type ConsoleStream, clockState } from './stream';

/** A read-only view the local cloud's caller adds (GET /_harborpilot/views/{name}), e.g. a prune plan. */
export type AdminView = () => Promise<unknown>;

export interface AdminDeps {
  clock: SimClock;
  bus: EventBus;
  faults: LocalFaults;
  router: Router;
  ses: SesBackend;
  eks: EksBackend;
  ecs: EcsBackend;
  ecr: EcrBackend;
  stream: ConsoleStream;
  views: Record<string, AdminView>;
  defaultAccountId: string;
  defaultRegion: string;
  /** The front door's URL, known once it listens (kubeconfigs point the AWS CLI at it). */
  endpoint(): string;
  startedAt: Date;
  services: string[];
}

export class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

/** JSON `body`, or `text` as is (a kubeconfig is YAML). */
type Reply = { status: number; body?: unknown; text?: string };

export async function handleAdmin(
  deps: AdminDeps,
  method: string,
  path: string,
  query: URLSearchParams,
  rawBody: Buffer,
  res: ServerResponse,
): Promise<void> {
  let reply: Reply;
  try {
    reply = await route(deps, method, path, query, rawBody);
  } catch (err) {
    const e = toAdminError(err);
    reply = { status: e.status, body: { error: { code: e.code, message: e.message } } };
  }
  if (reply.text !== undefined) {
    res.writeHead(reply.status, {
      'Content-Type': 'application/yaml; charset=utf-8',
      'Content-Length': Buffer.byteLength(reply.text),
    });
    res.end(reply.text);
    return;
  }
  if (reply.body === undefined) {
    res.writeHead(reply.status);
    res.end();
    return;
  }
  const text = `${JSON.stringify(reply.body, null, 2)}\n`;
  res.writeHead(reply.status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function route(
  deps: AdminDeps,
  method: string,
  path: string,
  query: URLSearchParams,
  rawBody: Buffer,
): Promise<Reply> {
  const ok = (body: unknown): Reply => ({ status: 200, body });
  if (path === '/_aws/ses') {
    const filter = {
      ...(query.get('id') ? { id: query.get('id') as string } : {}),
      ...(query.get('email') ? { email: query.get('email') as string } : {}),
    };
    if (method === 'GET') return ok({ messages: deps.ses.messages(filter) });
    if (method === 'DELETE') {
      deps.ses.clearMessages(filter);
      return { status: 204 };
    }
    throw notAllowed(method, path);
  }
  const sub = path.replace(/^\/_harborpilot\/?/, '').replace(/\/$/, '');
  const [head = '', ...rest] = sub.split('/');
  const arg = rest.map(decodeURIComponent).join('/');
  switch (`${method} ${head}${rest.length ? '/*' : ''}`) {
    case 'GET health':
      return ok({
        status: 'running',
        startedAt: deps.startedAt.toISOString(),
        services: deps.services,
        clock: clockState(deps.clock),
      });
    case 'GET invocations': {
      const fn = query.get('function');
      // Finished attempts, then those still running (status "running"), each oldest first. Their logs are
      // left out here (GET invocations/{id} has them): this list stays what it always was.
      const all = [...deps.router.invocations(), ...deps.router.runningInvocations()];
      return ok({ invocations: all.filter((i) => !fn || i.functionName === fn).map(withoutLogs) });
    }
    case 'GET invocations/*': {
      const invocation = deps.router.invocation(arg);
      if (!invocation) throw new AdminError(404, 'InvocationNotFound', `no invocation ${arg}`);
      return ok({ invocation });
    }
    case 'GET functions':
      return ok({
        functions: deps.router.functions().map((f) => ({
          name: f.name,
          functionName: f.functionName,
          schedules: f.schedules.map((s) => s.expression),
          patterns: f.patterns.length,
          maximumRetryAttempts: f.maximumRetryAttempts,
        })),
      });
    case 'GET fleet':
      return ok(
        fleetSnapshot({
          ecs: deps.ecs,
          eks: deps.eks,
          ecr: deps.ecr,
          now: () => deps.clock.now(),
          speed: () => deps.clock.speed,
        }),
      );
    case 'GET views/*': {
      const view = Object.hasOwn(deps.views, arg) ? deps.views[arg] : undefined;
      if (!view) throw new AdminError(404, 'NotFound', `no view ${arg}`);
      return ok(await view());
    }
    case 'POST push':
      return { status: 201, body: { image: push(deps, parseBody(rawBody)) } };
    case 'GET ecr/*':
      if (arg !== 'scan-findings') throw notFound(path);
      return ok({ scanFindings: deps.ecr.scanning.declarations() });
    case 'POST ecr/*':
      if (arg !== 'scan-findings') throw notFound(path);
      return { status: 201, body: declareScanFindings(deps, parseBody(rawBody)) };
    case 'GET dlq':
      return ok({ deadLetters: deps.router.deadLetters() });
    case 'GET events':
      return ok({ events: filterEvents(deps.bus.history, query) });
    case 'GET faults':
      return ok({ faults: deps.faults.list() });
    case 'POST faults': {
      const body = parseBody(rawBody);
      const specs = Array.isArray(body)
        ? body
        : isRecord(body) && Array.isArray(body.faults)
          ? body.faults
          : [body];
      try {
        const results = specs.map((spec) => deps.faults.add(spec));
        return { status: 201, body: { results, faults: deps.faults.list() } };
      } finally {
        deps.stream.changed('faults');
      }
    }
    case 'DELETE faults': {
      const removed = deps.faults.clear();
      deps.stream.changed('faults');
      return ok({ removed, faults: [] });
    }
    case 'DELETE faults/*':
      if (!deps.faults.remove(arg)) throw new AdminError(404, 'FaultNotFound', `no fault ${arg}`);
      deps.stream.changed('faults');
      return ok({ removed: 1, faults: deps.faults.list() });
    case 'POST schedules/*':
      return ok({ invocations: await deps.router.runSchedule(arg) });
    case 'GET eks/*': {
      // eks/<cluster>/kubeconfig: the kubeconfig `aws eks update-kubeconfig` would write, ready to use.
      const [cluster, what] = rest.map(decodeURIComponent);
      if (!cluster || what !== 'kubeconfig' || rest.length !== 2) throw notFound(path);
      return {
        status: 200,
        text: deps.eks.kubeconfig(cluster, {
          endpointUrl: deps.endpoint(),
          ...(query.get('accessKeyId') ? { accessKeyId: query.get('accessKeyId') as string } : {}),
          ...(query.get('secretAccessKey')
            ? { secretAccessKey: query.get('secretAccessKey') as string }
            : {}),
        }),
      };
    }
    case 'GET clock':
      return ok(clockState(deps.clock));
    case 'POST clock/*': {
      if (arg === 'speed') {
        const body = parseBody(rawBody);
        const speed = isRecord(body) ? body.speed : undefined;
        if (typeof speed !== 'number' || !Number.isFinite(speed) || speed < 0 || speed > 10_000) {
          throw new AdminError(400, 'BadRequest', 'body must be {"speed": <number from 0 to 10000>}');
        }
        deps.clock.setSpeed(speed);
        deps.stream.changed('clock');
        return ok(clockState(deps.clock));
      }
      if (arg !== 'advance') throw notFound(path);
      const body = parseBody(rawBody);
      const ms = isRecord(body) ? body.ms : undefined;
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
        throw new AdminError(400, 'BadRequest', 'body must be {"ms": <non-negative number>}');
      }
      await deps.clock.advance(ms);
      return ok(clockState(deps.clock));
    }
    default:
      throw notFound(path);
  }
}

function withoutLogs(i: Invocation | RunningInvocation): Omit<Invocation, 'logs'> | RunningInvocation {
  if (!('logs' in i)) return i;
  const { logs: _logs, ...rest } = i;
  return rest;
}

/**
 * POST /_harborpilot/push: a rebuilt image for a tag of an existing repository, as `docker push` would
 * upload it (a new digest every time; `platforms` for a multi-arch index). Through ECR's own PutImage, so
 * the push event and every reader see exactly what an AWS CLI push would make.
 */
function push(deps: AdminDeps, body: unknown) {
  if (!isRecord(body) || typeof body.repository !== 'string' || body.repository === '') {
    throw new AdminError(400, 'BadRequest', 'body must be {"repository": NAME, "tag"?: TAG}');
  }
  const str = (k: string) =>
    typeof body[k] === 'string' && body[k] !== '' ? (body[k] as string) : undefined;
  const scope = {
    accountId: str('accountId') ?? deps.defaultAccountId,
    region: str('region') ?? deps.defaultRegion,
  };
  // Only into a repository that exists, as ECR refuses a push to a missing one.
  if (!deps.ecr.registry.find(scope, body.repository)) {
    throw new AdminError(
      404,
      'RepositoryNotFoundException',
      `no repository ${body.repository} in account ${scope.accountId}, ${scope.region}`,
    );
  }
  const platforms = Array.isArray(body.platforms) ? body.platforms.map(String) : undefined;
  return deps.ecr.pushImage({
    repositoryName: body.repository,
    ...scope,
    tag: str('tag') ?? 'latest',
    seed: `admin-push-${randomUUID()}`,
    ...(platforms && platforms.length > 0 ? { platforms } : {}),
  });
}

/**
 * POST /_harborpilot/ecr/scan-findings: what scans of an image will find (by tag or digest), as a world file's
 * `scanFindings` declares it. Read when a scan completes: declare, then push (or StartImageScan).
 */
function declareScanFindings(deps: AdminDeps, body: unknown) {
  const defaults = { accountId: deps.defaultAccountId, region: deps.defaultRegion };
  const repository = isRecord(body) && typeof body.repository === 'string' ? body.repository : undefined;
  const scope = {
    accountId: isRecord(body) && typeof body.accountId === 'string' ? body.accountId : defaults.accountId,
    region: isRecord(body) && typeof body.region === 'string' ? body.region : defaults.region,
  };
  if (repository && !deps.ecr.registry.find(scope, repository)) {
    throw new AdminError(
      404,
      'RepositoryNotFoundException',
      `no repository ${repository} in account ${scope.accountId}, ${scope.region}`,
    );
  }
  try {
    return { scanFindings: deps.ecr.scanning.declareFromAdmin(body, defaults) };
  } catch (err) {
    if (err instanceof ScanDeclarationError) throw new AdminError(400, 'BadRequest', err.message);
    throw err;
  }
}

/** `?detail-type=`, `?source=` (exact) and `?limit=` (the newest N). */
function filterEvents(history: CloudEvent[], query: URLSearchParams): CloudEvent[] {
  const detailType = query.get('detail-type');
  const source = query.get('source');
  const events = history.filter(
    (e) => (!detailType || e['detail-type'] === detailType) && (!source || e.source === source),
  );
  const limit = Number(query.get('limit') ?? '');
  return Number.isInteger(limit) && limit > 0 ? events.slice(-limit) : events;
}

function parseBody(raw: Buffer): unknown {
  if (raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new AdminError(400, 'BadRequest', `body is not JSON: ${(err as Error).message}`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const notFound = (path: string) => new AdminError(404, 'NotFound', `no admin endpoint ${path}`);
const notAllowed = (method: string, path: string) =>
  new AdminError(405, 'MethodNotAllowed', `${method} is not allowed on ${path}`);

function toAdminError(err: unknown): AdminError {
  if (err instanceof AdminError) return err;
  if (err instanceof FaultError) return new AdminError(err.status, 'InvalidFault', err.message);
  if (err instanceof AwsServiceError) return new AdminError(err.status, err.code, err.message);
  return new AdminError(400, (err as Error)?.name ?? 'Error', (err as Error)?.message ?? String(err));
}
