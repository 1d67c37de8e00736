/**
 * Lambda: schedule → is there room for the next deployment? ECS instances and services, EKS node groups,
 * nodes and pods; a report in the log, headroom as EMF metrics, an email when a finding appears, changes or
 * clears. Wiring only; the logic is in shared/capacity.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EKSClient } from '@aws-sdk/client-eks';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Context } from 'aws-lambda';
import { makeEksConnector } from '../shared/aws/eks-connect';
import { type CheckCapacityDeps, makeCheckCapacity } from '../shared/check-capacity/handler';
import { emfPublisher, METRICS_NAMESPACE } from '../shared/check-capacity/metrics';
import { getConfig } from '../shared/config';

/** For tests and the local cloud: the same handler over other clients. */
export function makeHandler(deps: CheckCapacityDeps) {
  const run = makeCheckCapacity(deps);
  return async (event: unknown, context?: Context) => {
    if (context) deps.logger.addContext(context);
    return run(event);
  };
}

// Cold start: config validated once, clients created once per container (endpoint and retry settings from env).
let cached: ReturnType<typeof makeHandler> | undefined;

export const handler = async (event: unknown, context?: Context) => {
  cached ??= makeHandler(awsDeps());
  return cached(event, context);
};

function awsDeps(): CheckCapacityDeps {
  const eks = new EKSClient({});
  return {
    config: getConfig(),
    ecs: new ECSClient({}),
    eks,
    // Nodes and pods through each cluster's Kubernetes API: DescribeCluster + an EKS token, as rollEks reads them.
    kube: makeEksConnector({ eks }),
    ses: new SESv2Client({}),
    dynamodb: new DynamoDBClient({}),
    logger: new Logger({ serviceName: 'checkCapacity' }),
    metrics: emfPublisher(new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'checkCapacity' })),
  };
}
