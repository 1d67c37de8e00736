/**
 * Lambda: ECS task, deployment and service events → failures counted per service and kind; every minute a
 * schedule emails what is due through SES. Wiring only; the logic is in shared/alert-task-failures.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Context } from 'aws-lambda';
import { type AlertTaskFailuresDeps, makeAlertTaskFailures } from '../shared/alert-task-failures/handler';
import { getConfig } from '../shared/config';

/** For tests and the local cloud: the same handler over other clients. */
export function makeHandler(deps: AlertTaskFailuresDeps) {
  const run = makeAlertTaskFailures(deps);
  return async (event: unknown, context?: Context) => {
    if (context) deps.logger.addContext(context);
    return run(event);
  };
}

// Init (cold start), the same in every function: config validated and clients created once per container.
// A bad config throws here, while the module loads, so Lambda reports an init error (and retries the event)
// and `serverless invoke local` exits non-zero naming the field, before any event is half handled.
export const handler = makeHandler({
  config: getConfig(),
  dynamodb: new DynamoDBClient({}),
  ses: new SESv2Client({}),
  logger: new Logger({ serviceName: 'alertTaskFailures' }),
});
