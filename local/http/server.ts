/**
 * The local cloud's one HTTP server: routes each request the way AWS's front door does.
 * - `X-Amz-Target: <prefix>.<Operation>` → awsJson (ECS, ECR, EventBridge; DynamoDB to dynalite);
 * - a form body or `?Action=` → query protocol (STS);
 * - otherwise restJson1 by method and path (SES v2, EKS);
 * - `/_harborpilot/*` and `/_aws/ses` → the admin API (`/_harborpilot/stream`: server-sent events);
 * - GET `/` and `/_harborpilot/console/*` → the web console's files (./console.ts says why that is safe).
 * The SigV4 credential scope names the service and region, the access key the account. Faults
 * (latency, throttling) are applied here, before any backend runs.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LocalDynamoDb } from '../dynamodb';
import { AwsServiceError } from '../errors';
import { type LocalSts, STS_XMLNS } from '../sts';
import type { Faults, JsonOperations, RequestContext, RestRoute } from '../types';
import { type AdminDeps, handleAdmin } from './admin';
import { consoleFile, serveConsoleFile } from './console';
import { type AccountDirectory, credentialScope, requestContext } from './context';
import { matchRoute } from './routes';
import {
  BodyTooLargeError,
  readBody,
  requestId,
  sendError,
  sendJson,
  sendXml,
  toServiceError,
  xmlEscape,
} from './wire';

export interface JsonService {
  /** Service name for faults and logs (ecs, ecr, events). */
  service: string;
  operations: () => JsonOperations;
}

export interface RestService {
  /** Service name as in the SigV4 scope (ses, eks). */
  service: string;
  routes: () => RestRoute[];
}

export interface HttpDeps {
  faults: Faults;
  directory: AccountDirectory;
  /** X-Amz-Target prefix → service. */
  json: Record<string, JsonService>;
  rest: RestService[];
  dynamodb: LocalDynamoDb;
  /** GetCallerIdentity and AssumeRole (the query protocol), and the temporary credentials it issued. */
  sts: LocalSts;
  admin: AdminDeps;
  /** One line per API call, for the CLI (absent: silent). */
  log?: (line: string) => void;
}

const DYNAMODB_PREFIX = 'DynamoDB_20120810';
const DYNAMODB_TYPE_PREFIX = 'com.amazonaws.dynamodb.v20120810#';
/** DynamoDB's data-plane throttling error; its control plane throttles with ThrottlingException. */
const DYNAMODB_DATA_OPERATIONS = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
]);

export function startHttpServer(deps: HttpDeps, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    handle(deps, req, res).catch((err) => {
      console.error('[harborpilot local] request failed:', err);
      if (!res.headersSent) sendError(res, 'json', toServiceError(err));
      else res.destroy();
    });
  });
  // Keep-alive sockets of SDK clients must not hold `stop()` up.
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export function serverPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}

async function handle(deps: HttpDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  const file = consoleFile(req, url);
  if (file !== undefined) {
    serveConsoleFile(req, res, file);
    return;
  }
  if (method === 'GET' && url.pathname === '/_harborpilot/stream') {
    deps.admin.stream.connect(req, res);
    return;
  }
  let body: Buffer;
  try {
    body = await readBody(req);
  } catch (err) {
    if (err instanceof BodyTooLargeError) {
      sendError(res, 'json', new AwsServiceError('RequestEntityTooLarge', err.message, 413));
      return;
    }
    throw err;
  }
  if (url.pathname.startsWith('/_harborpilot/') || url.pathname === '/_aws/ses') {
    await handleAdmin(deps.admin, method, url.pathname, url.searchParams, body, res);
    return;
  }
  const scope = credentialScope(req.headers, url.searchParams);
  const ctx = requestContext(scope, deps.directory);
  const target = req.headers['x-amz-target'];
  const form =
    typeof target === 'string' && target !== '' ? undefined : formParams(req, body, url.searchParams);
  if (deps.sts.expired(ctx.accessKeyId)) {
    // Temporary credentials past their expiration (simulated clock), refused before any service sees them.
    const message = 'The security token included in the request is expired';
    if (form)
      sendError(res, 'query', new AwsServiceError('ExpiredToken', message, 403), { xmlns: STS_XMLNS });
    else sendError(res, 'json', new AwsServiceError('ExpiredTokenException', message, 403));
    return;
  }
  if (typeof target === 'string' && target !== '') {
    await handleJson(deps, target, req, body, ctx, res);
    return;
  }
  if (form) {
    await handleQuery(deps, form, ctx, res);
    return;
  }
  await handleRest(deps, scope?.service, method, url, req, body, ctx, res);
}

/** Latency, then throttling: both before the backend runs, as a real front end would. */
async function applyFaults(deps: HttpDeps, service: string, operation: string, ctx: RequestContext) {
  const latency = deps.faults.latencyMs;
  if (latency > 0) await new Promise((r) => setTimeout(r, latency));
  const throttled = deps.faults.shouldThrottle(service, operation, ctx);
  deps.log?.(`${service}.${operation} ${ctx.accountId}/${ctx.region}${throttled ? ' → throttled' : ''}`);
  return throttled;
}

async function handleJson(
  deps: HttpDeps,
  target: string,
  req: IncomingMessage,
  body: Buffer,
  ctx: RequestContext,
  res: ServerResponse,
): Promise<void> {
  const dot = target.lastIndexOf('.');
  const prefix = target.slice(0, dot);
  const operation = target.slice(dot + 1);
  if (prefix === DYNAMODB_PREFIX) {
    const options = { jsonContentType: 'application/x-amz-json-1.0', typePrefix: DYNAMODB_TYPE_PREFIX };
    if (await applyFaults(deps, 'dynamodb', operation, ctx)) {
      const error = DYNAMODB_DATA_OPERATIONS.has(operation)
        ? new AwsServiceError(
            'ProvisionedThroughputExceededException',
            'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
          )
        : new AwsServiceError('ThrottlingException', 'Rate of requests exceeds the allowed throughput.');
      sendError(res, 'json', error, options);
      return;
    }
    const out = await deps.dynamodb.call(ctx, operation, req.headers, body);
    res.writeHead(out.status, out.headers);
    res.end(out.body);
    return;
  }
  const service = deps.json[prefix];
  const op = service
    ? Object.hasOwn(service.operations(), operation) && service.operations()[operation]
    : undefined;
  if (!service || !op) {
    sendError(
      res,
      'json',
      new AwsServiceError(
        'UnknownOperationException',
        `Operation ${target} is not supported by the local cloud.`,
      ),
    );
    return;
  }
  if (await applyFaults(deps, service.service, operation, ctx)) {
    sendError(res, 'json', new AwsServiceError('ThrottlingException', 'Rate exceeded'));
    return;
  }
  try {
    const input = body.length ? JSON.parse(body.toString('utf8')) : {};
    if (input === null || typeof input !== 'object' || Array.isArray(input))
      throw new SyntaxError('not an object');
    const output = await op(input as Record<string, unknown>, ctx);
    sendJson(res, 200, output, 'application/x-amz-json-1.1');
  } catch (err) {
    sendError(res, 'json', toServiceError(err));
  }
}

/** Query-protocol parameters (form body, or the URL for GETs such as presigned STS calls). */
function formParams(req: IncomingMessage, body: Buffer, query: URLSearchParams): URLSearchParams | undefined {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    ?.trim();
  if (type === 'application/x-www-form-urlencoded') {
    const params = new URLSearchParams(body.toString('utf8'));
    for (const [k, v] of query) if (!params.has(k)) params.set(k, v);
    return params;
  }
  return query.has('Action') ? query : undefined;
}

async function handleQuery(
  deps: HttpDeps,
  params: URLSearchParams,
  ctx: RequestContext,
  res: ServerResponse,
) {
  const action = params.get('Action') ?? '';
  const xmlns = { xmlns: STS_XMLNS };
  if (action !== 'GetCallerIdentity' && action !== 'AssumeRole') {
    sendError(
      res,
      'query',
      new AwsServiceError('InvalidAction', `Could not find operation ${action} for version 2011-06-15`),
      xmlns,
    );
    return;
  }
  if (await applyFaults(deps, 'sts', action, ctx)) {
    // STS, like every query-protocol service, names throttling `Throttling` (the SDKs retry it).
    sendError(res, 'query', new AwsServiceError('Throttling', 'Rate exceeded'), xmlns);
    return;
  }
  const id = requestId(res);
  const metadata = `<ResponseMetadata><RequestId>${id}</RequestId></ResponseMetadata>`;
  if (action === 'AssumeRole') {
    let assumed: ReturnType<LocalSts['assumeRole']>;
    try {
      assumed = deps.sts.assumeRole(ctx, params);
    } catch (err) {
      if (!(err instanceof AwsServiceError)) throw err;
      sendError(res, 'query', err, xmlns);
      return;
    }
    const { session, arn } = assumed;
    sendXml(
      res,
      200,
      `<AssumeRoleResponse xmlns="${STS_XMLNS}"><AssumeRoleResult>` +
        `<AssumedRoleUser><AssumedRoleId>${xmlEscape(`${session.roleId}:${session.sessionName}`)}</AssumedRoleId>` +
        `<Arn>${xmlEscape(arn)}</Arn></AssumedRoleUser>` +
        `<Credentials><AccessKeyId>${session.accessKeyId}</AccessKeyId>` +
        `<SecretAccessKey>${session.secretAccessKey}</SecretAccessKey>` +
        `<SessionToken>${session.sessionToken}</SessionToken>` +
        `<Expiration>${deps.sts
          .reportedExpiration(session)
          .toISOString()
          .replace(/\.\d{3}Z$/, 'Z')}</Expiration></Credentials>` +
        `</AssumeRoleResult>${metadata}</AssumeRoleResponse>`,
    );
    return;
  }
  const identity = deps.sts.identity(ctx);
  sendXml(
    res,
    200,
    `<GetCallerIdentityResponse xmlns="${STS_XMLNS}"><GetCallerIdentityResult>` +
      `<Arn>${xmlEscape(identity.Arn)}</Arn><UserId>${xmlEscape(identity.UserId)}</UserId>` +
      `<Account>${identity.Account}</Account></GetCallerIdentityResult>${metadata}</GetCallerIdentityResponse>`,
  );
}

async function handleRest(
  deps: HttpDeps,
  scopeService: string | undefined,
  method: string,
  url: URL,
  req: IncomingMessage,
  body: Buffer,
  ctx: RequestContext,
  res: ServerResponse,
): Promise<void> {
  // A signed request names its service; an unsigned one may be any restJson service's.
  const candidates = deps.rest.filter((s) => !scopeService || s.service === scopeService);
  for (const service of candidates) {
    const match = matchRoute(service.routes(), method, url.pathname);
    if (!match) continue;
    if (await applyFaults(deps, service.service, match.route.operation, ctx)) {
      // SES v2 throttles with 429 TooManyRequestsException; EKS with ThrottlingException.
      const error =
        service.service === 'ses'
          ? new AwsServiceError('TooManyRequestsException', 'Too many requests.', 429)
          : new AwsServiceError('ThrottlingException', 'Rate exceeded');
      sendError(res, 'rest', error);
      return;
    }
    try {
      const parsed = body.length ? JSON.parse(body.toString('utf8')) : {};
      const result = await match.route.handler(
        {
          params: match.params,
          query: url.searchParams,
          headers: req.headers,
          body: parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {},
        },
        ctx,
      );
      sendJson(res, result.status ?? 200, result.body ?? {}, 'application/json');
    } catch (err) {
      sendError(res, 'rest', toServiceError(err));
    }
    return;
  }
  sendError(
    res,
    'rest',
    new AwsServiceError('UnknownOperationException', `No operation for ${method} ${url.pathname}.`, 404),
  );
}
