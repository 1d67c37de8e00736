/** Lambda: ECR push (or reconcile schedule) → ECS services redeployed. Wiring only; the logic is in shared/redeploy-ecs. */

import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Context } from 'aws-lambda';
import { regionalClients, TargetCredentials, targetClients } from '../shared/aws/target-clients';
import { functionRegion, getConfig } from '../shared/config';
import { approvalEmail } from '../shared/outcomes/approval-email';
import { makeRedeployEcs, type RedeployEcsDeps } from '../shared/redeploy-ecs/handler';
import { targetsOf } from '../shared/targets';

/** For tests and the local cloud: the same handler over other clients. */
export function makeHandler(deps: RedeployEcsDeps) {
  const run = makeRedeployEcs(deps);
  return async (event: unknown, context?: Context) => {
    if (context) deps.logger.addContext(context);
    return run(event, context);
  };
}

// Init (cold start), the same in every function: config validated and clients created once per container.
// A bad config throws here, while the module loads, so Lambda reports an init error (and retries the event)
// and `serverless invoke local` exits non-zero naming the field, before any event is half handled.
const config = getConfig();
const ses = new SESv2Client({});
const logger = new Logger({ serviceName: 'redeployEcs' });
const region = functionRegion();
const ecs = new ECSClient({});
// Every target's ECS client (docs/organisation.md): the home target's is `ecs`; the others assume their role.
const ecr = new ECRClient({});
const credentials = new TargetCredentials({ functionName: 'redeployEcs', stsRegion: region });
export const handler = makeHandler({
  config,
  ecs,
  targets: targetClients(targetsOf(config, region), ecs, credentials, (c) => new ECSClient(c)),
  ecr,
  // A replica (ECR replication) is read in its region.
  ecrIn: regionalClients(ecr, region, (r) => new ECRClient({ region: r })),
  dynamodb: new DynamoDBClient({}),
  // The scan gate's email, once per held image (docs/safety.md#scan-gate).
  ses,
  logger,
  region,
  // The approval emails (shared/outcomes/approval-email.ts), through SES.
  notifyApproval: approvalEmail({ ses, config, logger }),
});
