/**
 * `harborpilot local`: runs the local cloud in the foreground with a world, prints how to point the
 * AWS CLI and SDKs at it, then one line per event and per function invocation until Ctrl-C.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { CloudEvent } from '../local/bus';
import type { Invocation } from '../local/router';
import { loadWorldFile, type World, WorldError } from '../local/world';
import { ConfigSchema } from '../shared/config';
import { errorMessage } from '../shared/errors';
import { createLocalCloud, DEFAULT_SPEED, type LocalCloud } from './local/cloud';

const DEMO_WORLD = fileURLToPath(new URL('../worlds/demo.yml', import.meta.url));

const HELP = `usage: harborpilot local [--port 4566] [--world FILE] [--empty] [--speed N] [--verbose]

Runs harborpilot's local cloud: ECS, ECR, EKS, SES v2, STS, DynamoDB and EventBridge PutEvents on one
port, with the functions of serverless.yml invoked on the events they subscribe to.

  --port N      port on 127.0.0.1 (default 4566; 0 picks a free one)
  --world FILE  world file to load (default worlds/demo.yml)
  --empty       start with nothing in it (no world)
  --speed N     simulated ms per real ms (default: the world's clock.speed, else ${DEFAULT_SPEED}); 0 stops time
  --verbose     also print one line per API call
`;

export async function main(argv: string[]): Promise<number | undefined> {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (err) {
    process.stderr.write(`${errorMessage(err, { name: false })}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const port = Number(values.port);
  const speed = values.speed === undefined ? undefined : Number(values.speed);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    return usageError(`--port: not a port: ${values.port}`);
  if (speed !== undefined && !(speed >= 0))
    return usageError(`--speed: not a non-negative number: ${values.speed}`);

  const worldFile = values.empty ? undefined : (values.world ?? DEMO_WORLD);
  let world: World | undefined;
  try {
    world = worldFile ? loadWorldFile(worldFile, { config: ConfigSchema }) : undefined;
  } catch (err) {
    if (err instanceof WorldError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }

  let cloud: LocalCloud;
  try {
    cloud = await createLocalCloud({
      port,
      ...(world ? { world } : { empty: true }),
      ...(speed !== undefined ? { speed } : {}),
      ...(values.verbose ? { onApiCall: (line: string) => log('api', line) } : {}),
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      process.stderr.write(
        `port ${port} is in use: stop what runs there, or pick another with --port (0: any)\n`,
      );
      return 1;
    }
    throw err;
  }
  printBanner(cloud, worldFile);
  const stopWatching = watch(cloud);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    log('stop', `${signal}: shutting down`);
    stopWatching();
    cloud.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  return undefined;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string', default: '4566' },
      world: { type: 'string' },
      empty: { type: 'boolean', default: false },
      speed: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

function usageError(message: string): number {
  process.stderr.write(`${message}\n\n${HELP}`);
  return 2;
}

function printBanner(cloud: LocalCloud, worldFile: string | undefined): void {
  const { endpoint, world } = cloud;
  const region = world.region;
  const repos = cloud.world.ecr?.repositories?.length ?? 0;
  const ecsClusters = cloud.world.ecs?.clusters?.length ?? 0;
  const eksClusters = (cloud.world.eks?.clusters ?? []).map((c) => c.name);
  const counts = [
    repos && `${repos} ECR repositories`,
    ecsClusters && `${ecsClusters} ECS cluster${ecsClusters > 1 ? 's' : ''}`,
    eksClusters.length && `${eksClusters.length} EKS cluster${eksClusters.length > 1 ? 's' : ''}`,
  ].filter(Boolean);
  const out = [
    `harborpilot local cloud: up in ${Math.round(process.uptime() * 1000)} ms from process start (cloud ${Math.round(cloud.startupMs)} ms)`,
    `  endpoint  ${endpoint}`,
    `  console   ${endpoint}/   (open in a browser: the fleet, live activity, mail, controls)`,
    `  world     ${worldFile ?? '(empty)'}${counts.length ? ` (${counts.join(', ')})` : ''}`,
    `  account   ${world.accountId}, region ${region}`,
    `  clock     ${cloud.clock.now().toISOString()} at ×${cloud.clock.speed}${cloud.clock.speed === 0 ? ' (stopped: POST /_harborpilot/clock/advance)' : ''}`,
    `  state     DynamoDB table ${cloud.config.stateTable}`,
    '',
    'Point the AWS CLI and SDKs at it (in another shell):',
    `  export AWS_ENDPOINT_URL=${endpoint} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=${region} AWS_DEFAULT_REGION=${region}`,
    '  (AWS CLI v2 before 2.13 ignores AWS_ENDPOINT_URL: add --endpoint-url $AWS_ENDPOINT_URL)',
    '',
    'Try:',
    '  aws sts get-caller-identity',
    '  aws ecr describe-repositories',
    '  aws ecs list-clusters',
    '  aws sesv2 get-account',
    ...(eksClusters[0]
      ? [
          `  aws eks update-kubeconfig --name ${eksClusters[0]}   # then kubectl works against it:`,
          '  kubectl get pods -A -o wide',
        ]
      : []),
    `  curl -s ${endpoint}/_harborpilot/invocations     # what the functions did`,
    `  curl -s ${endpoint}/_harborpilot/events          # every event on the bus`,
    `  curl -s ${endpoint}/_aws/ses                     # mail sent`,
    '',
    'Events and invocations follow, one a line. Ctrl-C stops.',
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

/** Prints each event as it is published and each invocation once it has finished. */
function watch(cloud: LocalCloud): () => void {
  const unsubscribe = [
    cloud.bus.subscribe((event) => log('event', describeEvent(event))),
    cloud.router.subscribe((activity) => {
      if (activity.type === 'invocation' && activity.invocation.status !== 'running') {
        log('invoke', describeInvocation(activity.invocation));
      }
    }),
  ];
  return () => {
    for (const u of unsubscribe) u();
  };
}

const DETAIL_KEYS = [
  'repository-name',
  'image-tag',
  'action-type',
  'result',
  'eventName',
  'group',
  'lastStatus',
  'stopCode',
  'stoppedReason',
];

function describeEvent(event: CloudEvent): string {
  const detail = event.detail as Record<string, unknown>;
  const parts = DETAIL_KEYS.filter((k) => typeof detail[k] === 'string').map(
    (k) => `${k}=${String(detail[k])}`,
  );
  return `${event['detail-type']} (${event.source}) ${parts.join(' ')}`.trim();
}

function describeInvocation(inv: Invocation): string {
  const outcome = inv.status === 'succeeded' ? 'succeeded' : `FAILED: ${inv.error ?? 'unknown error'}`;
  return `${inv.functionName} ← ${inv.trigger} ${inv.eventId} (attempt ${inv.attempt}) ${outcome} in ${Math.round(inv.durationMs)} ms`;
}

function log(kind: string, line: string): void {
  const time = new Date().toISOString().slice(11, 19);
  process.stdout.write(`${time} ${kind.padEnd(6)} ${line}\n`);
}
