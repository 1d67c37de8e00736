/** Lambda: ECR push (or reconcile schedule) → EKS workloads patched to the new digest. Wiring only: shared/eks. */

import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { EKSClient } from '@aws-sdk/client-eks';
import type { Context } from 'aws-lambda';
import { getConfig } from '../shared/config';
import { makeRollEks, type RollEksDeps } from '../shared/roll-eks/handler';

/** For tests: the handler over given clients. */
export function makeHandler(deps: RollEksDeps) {
  const roll = makeRollEks(deps);
  return async (event: unknown, context?: Context) => {
    if (context) deps.logger.addContext(context);
    return roll(event, context);
  };
}

// Cold start: config validated once; clients, the cluster connections and their tokens live per container.
export const handler = makeHandler({
  config: getConfig(),
  eks: new EKSClient({}),
  ecr: new ECRClient({}),
  dynamodb: new DynamoDBClient({}),
  logger: new Logger({ serviceName: 'rollEks' }),
  region: process.env.AWS_REGION ?? 'us-east-1',
});
