/**
 * redeployEcs: an image pushed to ECR (or a reconcile schedule) → the ECS services that use the repository
 * move to it, each under its own update policy. parse → gather → plan → apply or dry-run → report.
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { Context } from 'aws-lambda';
import { reconcilePushes } from '../aws/ecr-images';
import {
  StateTableTaskDefinitions,
  TaskDefinitionCache,
  taskDefinitionMemory,
} from '../aws/task-definitions';
import type { Config } from '../config';
import { errorMessage, PartialFailureError } from '../errors';
import { type PushTrigger, parsePushTrigger, relevantImages } from '../events/trigger';
import { idempotentAction } from '../state/idempotency';
import { type ActionResult, applyServiceAction } from './apply';
import { gatherServices } from './gather';
import type { RedeployPlan, ServiceAction } from './model';
import { planRedeploy } from './plan';

export interface RedeployEcsDeps {
  ecs: ECSClient;
  ecr: ECRClient;
  dynamodb: DynamoDBClient;
  config: Config;
  logger: Logger;
  /** The function's own region: reconcile reads ECR repositories there. */
  region: string;
}

export type Trigger = PushTrigger;

export interface RedeploySummary {
  trigger: Trigger['kind'];
  dryRun: boolean;
  services: number;
  deployed: (ActionResult & { type: ServiceAction['type'] })[];
  planned: ServiceAction[];
  skipped: number;
}

export function makeRedeployEcs(deps: RedeployEcsDeps) {
  const { config, logger } = deps;
  const dryRun = config.ecs.dryRun ?? config.dryRun;
  // Task definition revisions never change: kept while the container is warm and in the state table.
  const taskDefinitionOptions = {
    memory: taskDefinitionMemory(),
    store: new StateTableTaskDefinitions(deps.dynamodb, config.stateTable),
    includeTags: true,
  };
  // One record per (event, service, target images): a duplicate or retried event finds it, even while the
  // deployment it started has no task reporting a digest yet (so the running digest is no part of the key).
  // Another event for the same digest is caught by the digest comparison in the plan instead.
  const apply = idempotentAction(
    ({
      action,
      taskDefinitions,
    }: {
      eventId: string;
      action: ServiceAction;
      taskDefinitions: TaskDefinitionCache;
    }) => applyServiceAction(deps.ecs, action, taskDefinitions),
    { client: deps.dynamodb, tableName: config.stateTable },
    'redeployEcs',
    ({ eventId, action }) => ({
      eventId,
      type: action.type,
      serviceArn: action.serviceArn,
      taskDefinitionArn: action.taskDefinitionArn,
      changes: action.changes.map((c) => ({
        container: c.containerName,
        image: c.toImage,
        digest: c.toDigest,
      })),
    }),
  );

  return async function redeploy(event: unknown, context?: Context): Promise<RedeploySummary> {
    if (context) apply.registerLambdaContext(context);
    const trigger = parsePushTrigger(event);
    const summary: RedeploySummary = {
      trigger: trigger.kind,
      dryRun,
      services: 0,
      deployed: [],
      planned: [],
      skipped: 0,
    };
    if (trigger.kind === 'ignored') {
      logger.info('event ignored', { reason: trigger.reason, eventId: trigger.eventId });
      return summary;
    }

    // gather
    const isRelevantImage = relevantImages(trigger, deps.region);
    // One description of each task definition, ever: gather and apply alike (apply reads tags fresh).
    const taskDefinitions = new TaskDefinitionCache(deps.ecs, taskDefinitionOptions);
    const gathered = await gatherServices(deps.ecs, {
      clusters: config.ecs.clusters,
      isRelevantImage,
      taskDefinitions,
    });
    const failures = [...gathered.failures];
    summary.services = gathered.services.length;

    const { pushes, failures: unreadable } =
      trigger.kind === 'push'
        ? { pushes: [trigger.push], failures: [] }
        : await reconcilePushes(
            deps.ecr,
            gathered.services.flatMap((s) => s.containers.map((c) => c.image)),
            isRelevantImage,
          );
    failures.push(...unreadable);

    // plan
    // Every service is read (counts, reconcile); a push plans only those on its repository.
    const services =
      trigger.kind === 'push'
        ? gathered.services.filter((s) => s.containers.some((c) => isRelevantImage(c.image)))
        : gathered.services;
    const plan: RedeployPlan = planRedeploy(services, pushes, config.ecs.defaultPolicy);
    summary.planned = plan.actions;
    summary.skipped = plan.skips.length;
    logger.info('redeploy plan', {
      trigger: trigger.kind,
      eventId: trigger.eventId,
      dryRun,
      servicesRead: gathered.services.length,
      actions: plan.actions.map((a) => ({
        type: a.type,
        service: a.serviceArn,
        changes: a.changes.map((c) => ({
          container: c.containerName,
          from: c.fromImage,
          to: c.toImage,
          toDigest: c.toDigest,
          reason: c.reason,
        })),
      })),
      skips: plan.skips,
      errors: plan.errors,
    });
    failures.push(...plan.errors.map((e) => ({ item: e.serviceArn, error: e.error })));

    // apply (one failing service does not stop the others)
    if (!dryRun) {
      for (const action of plan.actions) {
        try {
          const result = await apply({ eventId: trigger.eventId, action, taskDefinitions });
          summary.deployed.push({ ...result, type: action.type });
          // `serviceArn`, not `service`: Powertools reserves `service` (its own name) and drops the key.
          logger.info('service updated', { type: action.type, ...result });
        } catch (err) {
          logger.error('service update failed', { serviceArn: action.serviceArn, error: errorMessage(err) });
          failures.push({ item: action.serviceArn, error: errorMessage(err) });
        }
      }
    }

    // report: any failure makes the invocation fail, so Lambda retries and the DLQ sees it.
    if (failures.length > 0) {
      throw new PartialFailureError('redeployEcs', failures, summary.deployed.length);
    }
    return summary;
  };
}
