/**
 * Lambda: ECS task, deployment and service events → failures counted per service and kind; every minute a
 * schedule emails what is due through SES. Wiring only; the logic is in shared/alerts.
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

// Cold start: config validated once, clients created once per container (endpoint and retry settings from env).
let cached: ReturnType<typeof makeHandler> | undefined;

export const handler = async (event: unknown, context?: Context) => {
  cached ??= makeHandler({
    config: getConfig(),
    dynamodb: new DynamoDBClient({}),
    ses: new SESv2Client({}),
    logger: new Logger({ serviceName: 'alertTaskFailures' }),
  });
  return cached(event, context);
};
