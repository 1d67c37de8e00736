/** Task definition operations: revisions per family, ACTIVE/INACTIVE, compatibilities, tags. */
import type {
  DeregisterTaskDefinitionResponse,
  DescribeTaskDefinitionResponse,
  ListTaskDefinitionFamiliesResponse,
  ListTaskDefinitionsResponse,
  RegisterTaskDefinitionResponse,
} from '@aws-sdk/client-ecs';
import { readRequest } from '../aws/request';
import { pick } from '../aws/response';
import { AwsServiceError } from '../errors';
import { type ContainerDef, invalid, type LaunchType, type TaskDefinition } from './model';
import type { StateOperations } from './operations';
import {
  arnPage,
  ecsDialect,
  includesTags,
  ListTaskDefinitionFamiliesRequest,
  ListTaskDefinitionsRequest,
  RegisterTaskDefinitionRequest,
  TASK_DEFINITION_ECHO,
  TaskDefinitionRequest,
  tagsOf,
} from './requests';
import { taskDefinitionView } from './views';

export interface TaskDefinitionApi {
  RegisterTaskDefinition: RegisterTaskDefinitionResponse;
  DescribeTaskDefinition: DescribeTaskDefinitionResponse;
  ListTaskDefinitions: ListTaskDefinitionsResponse;
  ListTaskDefinitionFamilies: ListTaskDefinitionFamiliesResponse;
  DeregisterTaskDefinition: DeregisterTaskDefinitionResponse;
}

export function taskDefinitionOperations(now: () => number): StateOperations<TaskDefinitionApi> {
  return {
    RegisterTaskDefinition: (state, raw) => {
      const input = readRequest(RegisterTaskDefinitionRequest, raw, ecsDialect);
      const family = input.family;
      if (!family || !/^[a-zA-Z0-9_-]{1,255}$/.test(family)) {
        throw new AwsServiceError('ClientException', 'Family contains invalid characters or is blank.');
      }
      const containers = input.containerDefinitions;
      if (!containers || containers.length === 0) {
        throw new AwsServiceError('ClientException', 'Container list cannot be empty.');
      }
      const defs = containers.map((def): ContainerDef => {
        if (typeof def.name !== 'string' || typeof def.image !== 'string') {
          throw new AwsServiceError(
            'ClientException',
            'Container.name and Container.image should not be null or empty.',
          );
        }
        return {
          essential: true,
          portMappings: [],
          environment: [],
          mountPoints: [],
          volumesFrom: [],
          ...def,
          name: def.name,
          image: def.image,
        };
      });
      const requires: LaunchType[] = input.requiresCompatibilities ?? [];
      const { cpu, memory, networkMode } = input;
      if (requires.includes('FARGATE') && (!cpu || !memory)) {
        throw new AwsServiceError(
          'ClientException',
          'Fargate requires task definition to have cpu and memory values.',
        );
      }
      if (!defs.every((d) => d.memory !== undefined || d.memoryReservation !== undefined) && !memory) {
        throw new AwsServiceError(
          'ClientException',
          `Invalid setting for container '${defs[0]?.name}'. At least one of 'memory' or 'memoryReservation' must be specified.`,
        );
      }
      const revisions = state.taskDefinitions.get(family) ?? [];
      const revision = (revisions.at(-1)?.revision ?? 0) + 1;
      const compat: LaunchType[] = ['EC2', 'EXTERNAL'];
      if (networkMode === 'awsvpc' && cpu && memory) compat.push('FARGATE');
      const extra: TaskDefinition['extra'] = pick(input, TASK_DEFINITION_ECHO);
      const td: TaskDefinition = {
        taskDefinitionArn: state.arn(`task-definition/${family}:${revision}`),
        family,
        revision,
        status: 'ACTIVE',
        containerDefinitions: defs,
        ...(cpu ? { cpu } : {}),
        ...(memory ? { memory } : {}),
        ...(networkMode ? { networkMode } : {}),
        requiresCompatibilities: requires,
        compatibilities: compat,
        registeredAt: now(),
        extra,
      };
      revisions.push(td);
      state.taskDefinitions.set(family, revisions);
      const tags = tagsOf(input.tags);
      state.taskDefinitionTags.set(td.taskDefinitionArn, tags);
      return { taskDefinition: taskDefinitionView(td), tags };
    },
    DescribeTaskDefinition: (state, raw) => {
      const input = readRequest(TaskDefinitionRequest, raw, ecsDialect);
      const td = state.taskDefinition(input.taskDefinition);
      return {
        taskDefinition: taskDefinitionView(td),
        ...(includesTags(input) ? { tags: state.taskDefinitionTags.get(td.taskDefinitionArn) ?? [] } : {}),
      };
    },
    ListTaskDefinitions: (state, raw) => {
      const input = readRequest(ListTaskDefinitionsRequest, raw, ecsDialect);
      const prefix = input.familyPrefix;
      const status = input.status ?? 'ACTIVE';
      let all = [...state.taskDefinitions.values()]
        .flat()
        .filter((t) => (prefix ? t.family === prefix : true) && t.status === status);
      all.sort((a, b) => a.family.localeCompare(b.family) || a.revision - b.revision);
      if (input.sort === 'DESC') all = all.reverse();
      const arns = all.map((t) => t.taskDefinitionArn);
      const page = arnPage(arns, input);
      return { taskDefinitionArns: page.items, nextToken: page.nextToken };
    },
    ListTaskDefinitionFamilies: (state, raw) => {
      const input = readRequest(ListTaskDefinitionFamiliesRequest, raw, ecsDialect);
      const prefix = input.familyPrefix ?? '';
      const status = input.status ?? 'ACTIVE';
      const families = [...state.taskDefinitions.entries()]
        .filter(
          ([f, revs]) => f.startsWith(prefix) && (status === 'ALL' || revs.some((r) => r.status === status)),
        )
        .map(([f]) => f)
        .sort();
      const page = arnPage(families, input);
      return { families: page.items, nextToken: page.nextToken };
    },
    DeregisterTaskDefinition: (state, raw) => {
      const ref = readRequest(TaskDefinitionRequest, raw, ecsDialect).taskDefinition ?? '';
      if (!ref.includes(':')) throw invalid('Invalid revision number. Number: ');
      const td = state.taskDefinition(ref);
      if (td.status === 'ACTIVE') {
        td.status = 'INACTIVE';
        td.deregisteredAt = now();
      }
      return { taskDefinition: taskDefinitionView(td) };
    },
  };
}
