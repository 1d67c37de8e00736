/**
 * Lambda: schedule → is there room for the next deployment? ECS instances and services, EKS node groups,
 * nodes and pods; a report in the log, headroom as EMF metrics, an email when a finding appears, changes or
 * clears. Wiring only; the logic is in shared/check-capacity.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EKSClient } from '@aws-sdk/client-eks';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Context } from 'aws-lambda';
import { makeEksConnector } from '../shared/aws/eks-connect';
import { TargetCredentials, targetClients } from '../shared/aws/target-clients';
import { type CheckCapacityDeps, makeCheckCapacity } from '../shared/check-capacity/handler';
import { emfPublisher, METRICS_NAMESPACE } from '../shared/check-capacity/metrics';
import { functionRegion, getConfig } from '../shared/config';
import { targetsOf } from '../shared/targets';

/** For tests and the local cloud: the same handler over other clients. */
export function makeHandler(deps: CheckCapacityDeps) {
  const run = makeCheckCapacity(deps);
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
// Nodes and pods through each cluster's Kubernetes API: DescribeCluster + an EKS token, as rollEks reads them.
const kube = makeEksConnector({ eks });
// Every target's clients (docs/organisation.md): the home target's are the above; the others assume their role,
// and reach their EKS clusters' Kubernetes API with a token of that role.
const targets = targetsOf(config, region);
const credentials = new TargetCredentials({ functionName: 'checkCapacity', stsRegion: region });
const ecsClients = targetClients(targets, ecs, credentials, (c) => new ECSClient(c));
const eksClients = targetClients(targets, eks, credentials, (c) => new EKSClient(c));
export const handler = makeHandler({
  config,
  ecs,
  eks,
  kube,
  targets: targets.map((target, i) => {
    const targetEks = eksClients[i]?.client ?? eks;
    return {
      target,
      ecs: ecsClients[i]?.client ?? ecs,
      eks: targetEks,
      kube: target.home ? kube : makeEksConnector({ eks: targetEks }),
    };
  }),
  region,
  ses: new SESv2Client({}),
  dynamodb: new DynamoDBClient({}),
  logger: new Logger({ serviceName: 'checkCapacity' }),
  metrics: emfPublisher(new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'checkCapacity' })),
});
