/** Lambda: ECR push (or reconcile schedule) → EKS workloads patched to the new digest. Wiring only: shared/roll-eks. */

import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { EKSClient } from '@aws-sdk/client-eks';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Context } from 'aws-lambda';
import { regionalClients, TargetCredentials, targetClients } from '../shared/aws/target-clients';
import { functionRegion, getConfig } from '../shared/config';
import { approvalEmail } from '../shared/outcomes/approval-email';
import { makeRollEks, type RollEksDeps } from '../shared/roll-eks/handler';
import { targetsOf } from '../shared/targets';

/** For tests and the local cloud: the same handler over other clients. */
export function makeHandler(deps: RollEksDeps) {
  const run = makeRollEks(deps);
  return async (event: unknown, context?: Context) => {
    if (context) deps.logger.addContext(context);
    return run(event, context);
  };
}

// Init (cold start), the same in every function: config validated and clients created once per container.
// A bad config throws here, while the module loads, so Lambda reports an init error (and retries the event)
// and `serverless invoke local` exits non-zero naming the field, before any event is half handled.
// The cluster connections and their tokens live per container too (inside makeRollEks).
const config = getConfig();
const ses = new SESv2Client({});
const logger = new Logger({ serviceName: 'rollEks' });
const region = functionRegion();
const eks = new EKSClient({});
// Every target's EKS client (docs/organisation.md): the home target's is `eks`; the others assume their role.
const ecr = new ECRClient({});
const credentials = new TargetCredentials({ functionName: 'rollEks', stsRegion: region });
export const handler = makeHandler({
  config,
  eks,
  targets: targetClients(targetsOf(config, region), eks, credentials, (c) => new EKSClient(c)),
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
