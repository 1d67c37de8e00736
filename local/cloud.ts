/**
 * The local cloud, composed: one simulated clock, one event bus, the faults, every service backend
 * loaded from a world, DynamoDB, the HTTP front door on one port, and the router that runs the
 * functions of a serverless.yml on the events. It knows nothing of the functions it runs: its caller
 * names the serverless.yml, the functions' environment, the schema of a world's `config:` and what to
 * create before the first event (a start-up hook).
 */
import type { Server } from 'node:http';
import type * as z from 'zod';
import { EventBus } from './bus';
import { SimClock } from './clock';
import { LocalDynamoDb } from './dynamodb';
import { EcrBackend } from './ecr';
import { EcsBackend } from './ecs';
import { EksBackend } from './eks';
import { LocalEventBridge } from './eventbridge';
import { eventBridgeOperations } from './eventbridge/operations';
import { EventBridgeWorldError, loadEventBridgeWorld } from './eventbridge/world';
import { type CapacityRemover, LocalFaults } from './faults';
import type { AdminView } from './http/admin';
import type { AccountDirectory } from './http/context';
import { serverPort, startHttpServer } from './http/server';
import { ConsoleStream } from './http/stream';
import { Router } from './router';
import { SesBackend } from './ses';
import { LocalSts } from './sts';
import type { LocalCloudCore } from './types';
import { parseWorld, type World, WorldError, type WorldInput } from './world';

/** Simulated ms per real ms when neither the options nor the world say: deployments take seconds. */
export const DEFAULT_SPEED = 10;

export interface LocalCloudOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** A world document (parsed or as written); none or `empty: true` starts with nothing in it. */
  world?: WorldInput | World;
  empty?: boolean;
  /** SimClock speed (simulated ms per real ms); 0 is manual (tests advance the clock). */
  speed?: number;
  /** serverless.yml the router reads: required unless `startRouter` is false. */
  serverlessYml?: string;
  /** Environment for the functions on top of serverless.yml's and the cloud's own (endpoint, credentials). */
  functionEnv?: Record<string, string>;
  /** Schema of a world's `config:` section (its errors name the field); any mapping when absent. */
  configSchema?: z.core.$ZodType;
  /**
   * Runs once the cloud listens, before the router starts and the clock runs: create what the functions
   * expect to exist (a table, say), or add to `functionEnv`.
   */
  onStart?: (cloud: LocalCloud) => void | Promise<void>;
  /** false: do not run functions on events (tests of the services alone). Default true. */
  startRouter?: boolean;
  /** Called with one line per API call (the CLI prints them). */
  onApiCall?: (line: string) => void;
}

export interface LocalCloud {
  /** http://127.0.0.1:PORT — AWS_ENDPOINT_URL for SDKs, --endpoint-url for the CLI. */
  readonly endpoint: string;
  readonly port: number;
  readonly core: LocalCloudCore;
  readonly ecr: EcrBackend;
  readonly ses: SesBackend;
  readonly ecs: EcsBackend;
  readonly eks: EksBackend;
  readonly router: Router;
  readonly clock: SimClock;
  readonly bus: EventBus;
  /** Event buses per account and region, their policies and rules (what arrives where: `arrivals`). */
  readonly eventBridge: LocalEventBridge;
  readonly faults: LocalFaults;
  readonly dynamodb: LocalDynamoDb;
  readonly world: World;
  /** Environment given to every function (the cloud's, then `functionEnv`). */
  readonly functionEnv: Record<string, string>;
  /**
   * Read-only views the caller adds (from `onStart`), served at GET /_harborpilot/views/{name} for the
   * console: harborpilot adds `prune`, what pruning would do with each image and why.
   */
  readonly views: Record<string, AdminView>;
  /** Real milliseconds from the call to a listening, loaded cloud. */
  readonly startupMs: number;
  stop(): Promise<void>;
}

export async function createLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const started = performance.now();
  const world = parseWorld(
    options.empty ? {} : (options.world ?? {}),
    'world',
    options.configSchema ? { config: options.configSchema } : {},
  );
  const clock = new SimClock(
    world.clock.start ?? new Date(),
    options.speed ?? world.clock.speed ?? DEFAULT_SPEED,
  );
  const bus = new EventBus(clock);
  const knownAccounts = [
    world.accountId,
    ...world.accounts.map((a) => a.accountId),
    ...world.roles.flatMap((r) => (r.accountId ? [r.accountId] : [])),
  ];
  const eventBridge = new LocalEventBridge(bus, () => clock.now(), {
    hub: { account: world.accountId, region: world.region },
    hubOnly: world.eventBridge !== undefined,
    organization: world.organization && {
      id: world.organization.id,
      accounts: new Set(world.organization.accounts ?? knownAccounts),
    },
  });
  if (world.eventBridge) {
    try {
      loadEventBridgeWorld(
        eventBridge,
        world.eventBridge,
        { accountId: world.accountId, region: world.region },
        clock.now(),
      );
    } catch (err) {
      if (err instanceof EventBridgeWorldError) throw new WorldError('world', [err.message]);
      throw err;
    }
  }
  const faults = new LocalFaults({
    accountId: world.accountId,
    region: world.region,
    now: () => clock.now().getTime(),
  });

  // ECR is built after core, yet core's resolver is ECR's: delegate through a late-bound reference.
  let ecrRef: EcrBackend | undefined;
  const core: LocalCloudCore = {
    clock,
    bus,
    faults,
    images: {
      resolve: (image, ctx) => {
        if (!ecrRef) throw new Error('ECR is not ready');
        return ecrRef.resolver.resolve(image, ctx);
      },
    },
    defaultAccountId: world.accountId,
    defaultRegion: world.region,
  };
  const ecr = new EcrBackend(core);
  ecrRef = ecr;
  const ses = new SesBackend(core);
  const ecs = new EcsBackend(core);
  const eks = new EksBackend(core);
  faults.capacity = ecs as Partial<CapacityRemover>;

  // ECR first: ECS resolves its services' images to digests when the world creates deployments.
  if (world.ecr) ecr.loadWorld(world.ecr);
  if (world.ses) ses.loadWorld(world.ses);
  if (world.ecs) ecs.loadWorld(world.ecs);
  if (world.eks) eks.loadWorld(world.eks);
  for (const spec of world.faults) faults.add(spec);

  const dynamodb = new LocalDynamoDb();

  const sts = new LocalSts(
    clock,
    world.roles.map((r) => ({ ...r, accountId: r.accountId ?? world.accountId })),
  );
  const directory: AccountDirectory = {
    defaultAccountId: world.accountId,
    defaultRegion: world.region,
    accessKeys: new Map(
      world.accounts.flatMap((a) => a.accessKeys.map((key) => [key, a.accountId] as const)),
    ),
    sessionAccount: (key) => sts.accountOf(key),
  };
  // The router is built before the port is known; its env object is filled in once it is.
  const functionEnv: Record<string, string> = {};
  const startRouter = options.startRouter !== false;
  if (startRouter && !options.serverlessYml) {
    throw new Error('createLocalCloud: serverlessYml is required to run functions (or startRouter: false)');
  }
  const router = new Router(core, {
    serverlessYml: options.serverlessYml ?? '',
    env: functionEnv,
    subscribe: (fn) => eventBridge.subscribeFunctions(fn),
  });
  const eventOps = eventBridgeOperations({
    bus,
    clock,
    eventBridge,
    callerArn: (ctx) => sts.identity(ctx).Arn,
  });
  const stream = new ConsoleStream({ bus, router, ses, eks, faults, clock });
  const views: Record<string, AdminView> = {};
  const server: Server = await startHttpServer(
    {
      faults,
      directory,
      sts,
      json: {
        AmazonEC2ContainerServiceV20141113: { service: 'ecs', operations: () => ecs.operations },
        AmazonEC2ContainerRegistry_V20150921: { service: 'ecr', operations: () => ecr.operations },
        AWSEvents: { service: 'events', operations: () => eventOps },
      },
      rest: [
        { service: 'ses', routes: () => ses.routes },
        { service: 'eks', routes: () => eks.routes },
      ],
      dynamodb,
      admin: {
        clock,
        bus,
        faults,
        router,
        ses,
        eks,
        ecs,
        ecr,
        stream,
        views,
        defaultAccountId: world.accountId,
        defaultRegion: world.region,
        endpoint: () => endpoint,
        startedAt: new Date(),
        services: ['ecs', 'ecr', 'eks', 'ses', 'sts', 'dynamodb', 'events'],
      },
      ...(options.onApiCall ? { log: options.onApiCall } : {}),
    },
    options.port ?? 0,
  );
  const port = serverPort(server);
  const endpoint = `http://127.0.0.1:${port}`;
  Object.assign(functionEnv, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: world.region,
    AWS_DEFAULT_REGION: world.region,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    ...options.functionEnv,
  });

  let stopped: Promise<void> | undefined;
  const cloud: LocalCloud = {
    endpoint,
    port,
    core,
    ecr,
    ses,
    ecs,
    eks,
    router,
    clock,
    bus,
    eventBridge,
    faults,
    dynamodb,
    world,
    functionEnv,
    views,
    startupMs: 0,
    stop() {
      stopped ??= (async () => {
        clock.stop();
        eventBridge.stop();
        stream.close();
        await router.stop();
        await eks.stop();
        await closeServer(server);
      })();
      return stopped;
    },
  };

  try {
    await eks.start();
    await options.onStart?.(cloud);
    if (startRouter) await router.start();
  } catch (err) {
    await cloud.stop();
    throw err;
  }
  clock.start();
  return { ...cloud, startupMs: performance.now() - started };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
