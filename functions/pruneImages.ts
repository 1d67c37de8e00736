/** Lambda: schedule → old ECR images nothing uses are deleted (dry-run by default). Wiring only: shared/prune-images. */

import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EKSClient } from '@aws-sdk/client-eks';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Context } from 'aws-lambda';
import { TargetCredentials, targetClients } from '../shared/aws/target-clients';
import { functionRegion, getConfig } from '../shared/config';
import { makePruneImages, type PruneImagesDeps } from '../shared/prune-images/handler';
import { targetsOf } from '../shared/targets';

/** For tests and the local cloud: the same handler over other clients. */
export function makeHandler(deps: PruneImagesDeps) {
  const run = makePruneImages(deps);
  return async (event: unknown, context?: Context) => {
    if (context) deps.logger.addContext(context);
    return run(event, context);
  };
}

// Init (cold start), the same in every function: config validated and clients created once per container.
// A bad config throws here, while the module loads, so Lambda reports an init error (and retries the event)
// and `serverless invoke local` exits non-zero naming the field, before any event is half handled.
const config = getConfig();
const region = functionRegion();
const ecs = new ECSClient({});
const eks = new EKSClient({});
// The in-use set is read in every target (docs/organisation.md), with its role; one shared credential cache.
const targets = targetsOf(config, region);
const credentials = new TargetCredentials({ functionName: 'pruneImages', stsRegion: region });
export const handler = makeHandler({
  config,
  ecr: new ECRClient({}),
  ecs,
  eks,
  targets: {
    ecs: targetClients(targets, ecs, credentials, (c) => new ECSClient(c)),
    eks: targetClients(targets, eks, credentials, (c) => new EKSClient(c)),
  },
  ses: new SESv2Client({}),
  // A pass over several invocations keeps its cursor and in-use parts there (docs/prune.md).
  dynamodb: new DynamoDBClient({}),
  logger: new Logger({ serviceName: 'pruneImages' }),
  region,
});
