/** Lambda: ECR push (or reconcile schedule) → ECS services redeployed. Wiring only; the logic is in shared/ecs. */

import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import type { Context } from 'aws-lambda';
import { getConfig } from '../shared/config';
import { makeRedeployEcs } from '../shared/redeploy-ecs/handler';

// Cold start: config validated once, clients created once per container (endpoint and retry settings from env).
const logger = new Logger({ serviceName: 'redeployEcs' });
const redeploy = makeRedeployEcs({
  config: getConfig(),
  ecs: new ECSClient({}),
  ecr: new ECRClient({}),
  dynamodb: new DynamoDBClient({}),
  logger,
  region: process.env.AWS_REGION ?? 'us-east-1',
});

export const handler = async (event: unknown, context?: Context) => {
  if (context) logger.addContext(context);
  return redeploy(event, context);
};
