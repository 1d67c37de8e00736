/** Lambda: schedule → old ECR images nothing uses are deleted (dry-run by default). Wiring only; logic in shared/ecr. */

import { Logger } from '@aws-lambda-powertools/logger';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EKSClient } from '@aws-sdk/client-eks';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Context } from 'aws-lambda';
import { getConfig } from '../shared/config';
import { makePruneImages } from '../shared/prune-images/handler';

// Cold start: config validated once, clients created once per container (endpoint and retry settings from env).
const logger = new Logger({ serviceName: 'pruneImages' });
const prune = makePruneImages({
  config: getConfig(),
  ecr: new ECRClient({}),
  ecs: new ECSClient({}),
  eks: new EKSClient({}),
  ses: new SESv2Client({}),
  logger,
  region: process.env.AWS_REGION ?? 'us-east-1',
});

export const handler = async (event: unknown, context?: Context) => {
  if (context) logger.addContext(context);
  return prune(event);
};
