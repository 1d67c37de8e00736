/** Carries out one service action. Wrapped by the caller in an idempotency record keyed on the action. */
import {
  type ECSClient,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  type Tag,
  type TaskDefinition,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { TaskDefinitionCache } from '../aws/task-definitions';
import type { ServiceAction } from './model';

export interface ActionResult {
  serviceArn: string;
  taskDefinitionArn: string;
  deploymentId?: string;
  /** When ECS created that deployment (ISO): how its service deployment is found later. */
  deploymentCreatedAt?: string;
}

/** `taskDefinitions`: the invocation's cache, so a task definition gather described is not described again. */
export async function applyServiceAction(
  ecs: ECSClient,
  action: ServiceAction,
  taskDefinitions = new TaskDefinitionCache(ecs, { includeTags: true }),
): Promise<ActionResult> {
  let taskDefinitionArn = action.taskDefinitionArn;
  if (action.type === 'register-task-definition') {
    taskDefinitionArn = await ensureRevision(ecs, action, taskDefinitions);
  }
  const out = await ecs.send(
    new UpdateServiceCommand({
      cluster: action.clusterArn,
      service: action.serviceArn,
      ...(action.type === 'force-new-deployment'
        ? { forceNewDeployment: true }
        : { taskDefinition: taskDefinitionArn }),
    }),
  );
  const primary = out.service?.deployments?.find((d) => d.status === 'PRIMARY');
  return {
    serviceArn: action.serviceArn,
    taskDefinitionArn,
    ...(primary?.id ? { deploymentId: primary.id } : {}),
    ...(primary?.createdAt ? { deploymentCreatedAt: primary.createdAt.toISOString() } : {}),
  };
}

/**
 * Registers the new revision, unless the family's latest revision already is it (a retry after the
 * revision was registered but the service update failed): no stray revisions.
 */
async function ensureRevision(
  ecs: ECSClient,
  action: ServiceAction,
  taskDefinitions: TaskDefinitionCache,
): Promise<string> {
  const { taskDefinition: td, tags } = await taskDefinitions.getWithTags(action.taskDefinitionArn);
  if (!td.family)
    throw new Error(`DescribeTaskDefinition ${action.taskDefinitionArn} returned no task definition`);
  const wanted = new Map(action.changes.map((c) => [c.containerName, c.toImage]));
  // Listed, not described: the newest revision is usually the current one, already described.
  const newest = await ecs.send(
    new ListTaskDefinitionsCommand({ familyPrefix: td.family, sort: 'DESC', maxResults: 1 }),
  );
  const latestArn = newest.taskDefinitionArns?.[0];
  if (
    latestArn &&
    latestArn !== td.taskDefinitionArn &&
    hasImages(await taskDefinitions.get(latestArn), wanted)
  ) {
    return latestArn;
  }
  const registered = await ecs.send(new RegisterTaskDefinitionCommand(revisionInput(td, tags, wanted)));
  const arn = registered.taskDefinition?.taskDefinitionArn;
  if (!arn) throw new Error(`RegisterTaskDefinition for ${td.family} returned no ARN`);
  return arn;
}

function hasImages(td: TaskDefinition, wanted: Map<string, string>): boolean {
  return [...wanted].every(
    ([name, image]) => td.containerDefinitions?.find((c) => c.name === name)?.image === image,
  );
}

/** Everything copied from the current revision but the images; read-only fields dropped. */
export function revisionInput(
  td: TaskDefinition,
  tags: Tag[] | undefined,
  images: Map<string, string>,
): RegisterTaskDefinitionCommandInput {
  const {
    taskDefinitionArn: _arn,
    revision: _revision,
    status: _status,
    requiresAttributes: _requiresAttributes,
    compatibilities: _compatibilities,
    registeredAt: _registeredAt,
    registeredBy: _registeredBy,
    deregisteredAt: _deregisteredAt,
    containerDefinitions,
    family,
    ...rest
  } = td;
  return {
    ...rest,
    family: family as string,
    containerDefinitions: (containerDefinitions ?? []).map((c) =>
      c.name && images.has(c.name) ? { ...c, image: images.get(c.name) } : c,
    ),
    ...(tags && tags.length > 0 ? { tags } : {}),
  };
}
