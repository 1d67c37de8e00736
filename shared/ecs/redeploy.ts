/**
 * redeployEcs: an image pushed to ECR (or a reconcile schedule) → the ECS services that use the repository
 * move to it, each under its own update policy. parse → gather → plan → apply or dry-run → report.
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { Context } from 'aws-lambda';
import type { Config } from '../config';
import { describeTaggedImages } from '../ecr/images';
import { errorMessage, PartialFailureError } from '../errors';
import { EcrImageActionEvent } from '../events/ecr';
import { parseEvent } from '../events/envelope';
import { ScheduledEvent } from '../events/schedule';
import { type Digest, isInRepository, parseImageRef, type RepositoryRef, repositoryKey } from '../image-ref';
import { idempotentAction } from '../state/idempotency';
import { type ActionResult, applyServiceAction } from './apply';
import { gatherServices } from './gather';
import type { ImagePush, RedeployPlan, ServiceAction } from './model';
import { planRedeploy } from './plan';

export interface RedeployDeps {
  ecs: ECSClient;
  ecr: ECRClient;
  dynamodb: DynamoDBClient;
  config: Config;
  logger: Logger;
  /** The function's own region: reconcile reads ECR repositories there. */
  region: string;
}

export type Trigger =
  | { kind: 'push'; push: ImagePush; eventId: string }
  | { kind: 'reconcile'; eventId: string }
  | { kind: 'ignored'; reason: string; eventId: string };

export interface RedeploySummary {
  trigger: Trigger['kind'];
  dryRun: boolean;
  services: number;
  deployed: (ActionResult & { type: ServiceAction['type'] })[];
  planned: ServiceAction[];
  skipped: number;
}

export function parseTrigger(event: unknown): Trigger {
  const source = (event as { source?: unknown } | null)?.source;
  if (source === 'aws.events') {
    const e = parseEvent(ScheduledEvent, event, 'Scheduled Event');
    return { kind: 'reconcile', eventId: e.id };
  }
  const e = parseEvent(EcrImageActionEvent, event, 'ECR Image Action');
  const d = e.detail;
  if (d['action-type'] !== 'PUSH' || d.result !== 'SUCCESS') {
    return {
      kind: 'ignored',
      reason: `${d['action-type']} ${d.result} is not a successful push`,
      eventId: e.id,
    };
  }
  const push: ImagePush = {
    repository: { accountId: e.account, region: e.region, repositoryName: d['repository-name'] },
    digest: d['image-digest'] as Digest,
    pushedAt: new Date(e.time),
    ...(d['image-tag'] ? { tag: d['image-tag'] } : {}),
  };
  return { kind: 'push', push, eventId: e.id };
}

function ecrRepositoryOf(image: string): RepositoryRef | undefined {
  try {
    const ref = parseImageRef(image);
    return ref.ecr ? { ...ref.ecr, repositoryName: ref.repository } : undefined;
  } catch {
    return undefined;
  }
}

export function makeRedeploy(deps: RedeployDeps) {
  const { config, logger } = deps;
  const dryRun = config.ecs.dryRun ?? config.dryRun;
  const apply = idempotentAction(
    (action: ServiceAction) => applyServiceAction(deps.ecs, action),
    { client: deps.dynamodb, tableName: config.stateTable },
    'redeployEcs',
  );

  return async function redeploy(event: unknown, context?: Context): Promise<RedeploySummary> {
    if (context) apply.registerLambdaContext(context);
    const trigger = parseTrigger(event);
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
    if (trigger.kind === 'push' && trigger.push.tag === undefined) {
      // Multi-arch children and attestations are pushed untagged: no workload follows them by tag.
      logger.info('untagged push ignored', {
        repository: repositoryKey(trigger.push.repository),
        digest: trigger.push.digest,
      });
      return summary;
    }

    // gather
    const isRelevantImage =
      trigger.kind === 'push'
        ? (image: string) => {
            const repo = ecrRepositoryOf(image);
            return repo !== undefined && repositoryKey(repo) === repositoryKey(trigger.push.repository);
          }
        : (image: string) => ecrRepositoryOf(image)?.region === deps.region;
    const gathered = await gatherServices(deps.ecs, { clusters: config.ecs.clusters, isRelevantImage });
    const failures = [...gathered.failures];
    summary.services = gathered.services.length;

    let pushes: ImagePush[];
    if (trigger.kind === 'push') {
      pushes = [trigger.push];
    } else {
      pushes = [];
      const repos = new Map<string, RepositoryRef>();
      for (const s of gathered.services) {
        for (const c of s.containers) {
          const repo = isRelevantImage(c.image) ? ecrRepositoryOf(c.image) : undefined;
          if (repo) repos.set(repositoryKey(repo), repo);
        }
      }
      for (const [key, repo] of repos) {
        try {
          pushes.push(...(await describeTaggedImages(deps.ecr, repo)));
        } catch (err) {
          failures.push({ item: `repository ${key}`, error: errorMessage(err) });
        }
      }
    }

    // plan
    const services =
      trigger.kind === 'push'
        ? gathered.services.filter((s) =>
            s.containers.some((c) => {
              try {
                return isInRepository(parseImageRef(c.image), trigger.push.repository);
              } catch {
                return false;
              }
            }),
          )
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
          const result = await apply(action);
          summary.deployed.push({ ...result, type: action.type });
          logger.info('service updated', { service: action.serviceArn, type: action.type, ...result });
        } catch (err) {
          logger.error('service update failed', { service: action.serviceArn, error: errorMessage(err) });
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
