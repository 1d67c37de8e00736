/**
 * redeployEcs as the redeploy, budget and throttling benches run it: through its own factory, over SDK clients
 * pointed at a local cloud, quiet, with the Lambda context the idempotency layer and the read budget read.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import type { Context } from 'aws-lambda';
import type { createLocalCloud } from '../cli/local/cloud';
import { makeRedeployEcs } from '../shared/redeploy-ecs/handler';

type Cloud = Awaited<ReturnType<typeof createLocalCloud>>;

/** SDK client settings for the local cloud's endpoint. */
export function cloudClientConfig(cloud: Cloud) {
  return {
    endpoint: cloud.endpoint,
    region: cloud.world.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
}

/**
 * A redeployEcs container over the cloud, with the cloud's config but its own ECS read budget. `ecs`: a client
 * the bench instruments (one of its own otherwise).
 */
export function benchRedeployEcs(
  cloud: Cloud,
  o: { maxReadsPerSecond: number; ecs?: ECSClient; withoutFleetIndex?: boolean },
) {
  const clientConfig = cloudClientConfig(cloud);
  return makeRedeployEcs({
    ecs: o.ecs ?? new ECSClient(clientConfig),
    ecr: new ECRClient(clientConfig),
    dynamodb: new DynamoDBClient(clientConfig),
    config: { ...cloud.config, ecs: { ...cloud.config.ecs, maxReadsPerSecond: o.maxReadsPerSecond } },
    logger: new Logger({ serviceName: 'redeployEcs', logLevel: 'SILENT' }),
    region: cloud.world.region,
    ...(o.withoutFleetIndex ? { withoutFleetIndex: true } : {}),
  });
}

/**
 * What Lambda hands the handler, started now: the idempotency layer and the read budget read the time left
 * from it. `speedup`: its clock runs that many times faster than the real one (a bench that compresses time).
 */
export function lambdaContext(timeoutMs = 120_000, speedup = 1): Context {
  const startedAt = performance.now();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'harborpilot-bench-redeployEcs',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:harborpilot-bench-redeployEcs',
    memoryLimitInMB: '256',
    awsRequestId: 'bench',
    logGroupName: '/aws/lambda/harborpilot-bench-redeployEcs',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => timeoutMs - (performance.now() - startedAt) * speedup,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** The AWS latency the benches add to every call of the cloud: one `latency` fault, replaced when set again. */
export function latencySetter(cloud: Cloud): (ms: number) => void {
  let fault: string | undefined;
  return (ms) => {
    if (fault) cloud.faults.remove(fault);
    fault = undefined;
    if (ms <= 0) return;
    const added = cloud.faults.add({ kind: 'latency', ms });
    if ('fault' in added) fault = added.fault.id;
  };
}

/** Notes when each UpdateService of this client answered (seen from the function's side) into `answered`. */
export function timeUpdateService(ecs: ECSClient, answered: number[]): ECSClient {
  ecs.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      if (context.commandName === 'UpdateServiceCommand') answered.push(performance.now());
      return out;
    },
    { step: 'initialize', name: 'benchUpdateServiceClock' },
  );
  return ecs;
}
