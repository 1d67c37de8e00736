/**
 * The admin API under /_harborpilot/ (JSON): what happened (invocations, dead letters, events),
 * fault injection, schedules on demand and the simulated clock. Plus LocalStack's /_aws/ses, so
 * habits and scripts that read sent mail carry over. Documented in local/docs/local-cloud.md.
 */
import type { ServerResponse } from 'node:http';
import type { CloudEvent, EventBus } from '../bus';
import type { SimClock } from '../clock';
import type { EksBackend } from '../eks';
import { AwsServiceError } from '../errors';
import { FaultError, type LocalFaults } from '../faults';
import type { Router } from '../router';
import type { SesBackend } from '../ses';

export interface AdminDeps {
  clock: SimClock;
  bus: EventBus;
  faults: LocalFaults;
  router: Router;
  ses: SesBackend;
  eks: EksBackend;
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
      // Finished attempts, then those still running (status "running"), each oldest first.
      const all = [...deps.router.invocations(), ...deps.router.runningInvocations()];
      return ok({ invocations: all.filter((i) => !fn || i.functionName === fn) });
    }
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
      const results = specs.map((spec) => deps.faults.add(spec));
      return { status: 201, body: { results, faults: deps.faults.list() } };
    }
    case 'DELETE faults':
      return ok({ removed: deps.faults.clear(), faults: [] });
    case 'DELETE faults/*':
      if (!deps.faults.remove(arg)) throw new AdminError(404, 'FaultNotFound', `no fault ${arg}`);
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

function clockState(clock: SimClock) {
  return { now: clock.now().toISOString(), speed: clock.speed, pendingTimers: clock.pendingTimers() };
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
