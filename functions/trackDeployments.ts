/**
 * Lambda: ECS deployment events and a schedule → the deployments harborpilot started settled (completed, failed,
 * rolled back), failed digests held, deployment notices sent. Wiring only; the logic is in shared/track-deployments.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Context } from 'aws-lambda';
import { TargetCredentials, targetClients } from '../shared/aws/target-clients';
import { functionRegion, getConfig } from '../shared/config';
import { targetsOf } from '../shared/targets';
import { makeTrackDeployments, type TrackDeploymentsDeps } from '../shared/track-deployments/handler';

/** For tests and the local cloud: the same handler over other clients. */
export function makeHandler(deps: TrackDeploymentsDeps) {
  const run = makeTrackDeployments(deps);
  return async (event: unknown, context?: Context) => {
    if (context) deps.logger.addContext(context);
    return run(event);
  };
}

// Init (cold start), the same in every function: config validated and clients created once per container.
// A bad config throws here, while the module loads, so Lambda reports an init error (and retries the event)
// and `serverless invoke local` exits non-zero naming the field, before any event is half handled.
const config = getConfig();
const region = functionRegion();
const ecs = new ECSClient({});
// Deployments started in other targets are read there (docs/organisation.md), with their role.
const credentials = new TargetCredentials({ functionName: 'trackDeployments', stsRegion: region });
export const handler = makeHandler({
  config,
  ecs,
  targets: targetClients(targetsOf(config, region), ecs, credentials, (c) => new ECSClient(c)),
  ses: new SESv2Client({}),
  dynamodb: new DynamoDBClient({}),
  logger: new Logger({ serviceName: 'trackDeployments' }),
});
