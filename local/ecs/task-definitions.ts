/** Task definition operations: revisions per family, ACTIVE/INACTIVE, compatibilities, tags. */
import { AwsServiceError } from '../errors';
import {
  type ContainerDef,
  type EcsState,
  type Input,
  includesTags,
  invalid,
  LAUNCH_TYPES,
  type LaunchType,
  list,
  page,
  str,
  type Tag,
  type TaskDefinition,
  tagsIn,
} from './model';
import { taskDefinitionView } from './views';

export function taskDefinitionOperations(now: () => number) {
  const registerTaskDefinition = (state: EcsState, input: Input) => {
    const family = str(input, 'family');
    if (!family || !/^[a-zA-Z0-9_-]{1,255}$/.test(family)) {
      throw new AwsServiceError('ClientException', 'Family contains invalid characters or is blank.');
    }
    const containers = input.containerDefinitions;
    if (!Array.isArray(containers) || containers.length === 0) {
      throw new AwsServiceError('ClientException', 'Container list cannot be empty.');
    }
    const defs = containers.map((c) => {
      const def = c as ContainerDef;
      if (typeof def.name !== 'string' || typeof def.image !== 'string') {
        throw new AwsServiceError(
          'ClientException',
          'Container.name and Container.image should not be null or empty.',
        );
      }
      return { essential: true, portMappings: [], environment: [], mountPoints: [], volumesFrom: [], ...def };
    });
    const requires = list(input, 'requiresCompatibilities') as LaunchType[];
    if (requires.some((r) => !LAUNCH_TYPES.includes(r)))
      throw invalid('Invalid requiresCompatibilities value.');
    const cpu = input.cpu === undefined ? undefined : String(input.cpu);
    const memory = input.memory === undefined ? undefined : String(input.memory);
    if (requires.includes('FARGATE') && (!cpu || !memory)) {
      throw new AwsServiceError(
        'ClientException',
        'Fargate requires task definition to have cpu and memory values.',
      );
    }
    const networkMode = str(input, 'networkMode');
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
    const extra: Record<string, unknown> = {};
    for (const k of [
      'taskRoleArn',
      'executionRoleArn',
      'volumes',
      'placementConstraints',
      'runtimePlatform',
      'pidMode',
      'ipcMode',
    ]) {
      if (input[k] !== undefined) extra[k] = input[k];
    }
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
    const tags = tagsIn(input.tags);
    tdTags.set(td.taskDefinitionArn, tags);
    return { taskDefinition: taskDefinitionView(td), tags };
  };
  const tdTags = new Map<string, Tag[]>();

  const ops: Record<string, (state: EcsState, input: Input) => unknown> = {
    RegisterTaskDefinition: registerTaskDefinition,
    DescribeTaskDefinition: (state, input) => {
      const td = state.taskDefinition(input.taskDefinition);
      return {
        taskDefinition: taskDefinitionView(td),
        ...(includesTags(input) ? { tags: tdTags.get(td.taskDefinitionArn) ?? [] } : {}),
      };
    },
    ListTaskDefinitions: (state, input) => {
      const prefix = str(input, 'familyPrefix');
      const status = str(input, 'status') ?? 'ACTIVE';
      let all = [...state.taskDefinitions.values()]
        .flat()
        .filter((t) => (prefix ? t.family === prefix : true) && t.status === status);
      all.sort((a, b) => a.family.localeCompare(b.family) || a.revision - b.revision);
      if (str(input, 'sort') === 'DESC') all = all.reverse();
      const { slice, nextToken } = page(
        all.map((t) => t.taskDefinitionArn),
        input,
      );
      return { taskDefinitionArns: slice, ...(nextToken ? { nextToken } : {}) };
    },
    ListTaskDefinitionFamilies: (state, input) => {
      const prefix = str(input, 'familyPrefix') ?? '';
      const status = str(input, 'status') ?? 'ACTIVE';
      const families = [...state.taskDefinitions.entries()]
        .filter(
          ([f, revs]) => f.startsWith(prefix) && (status === 'ALL' || revs.some((r) => r.status === status)),
        )
        .map(([f]) => f)
        .sort();
      const { slice, nextToken } = page(families, input);
      return { families: slice, ...(nextToken ? { nextToken } : {}) };
    },
    DeregisterTaskDefinition: (state, input) => {
      const ref = str(input, 'taskDefinition') ?? '';
      if (!ref.includes(':')) throw invalid('Invalid revision number. Number: ');
      const td = state.taskDefinition(ref);
      if (td.status === 'ACTIVE') {
        td.status = 'INACTIVE';
        td.deregisteredAt = now();
      }
      return { taskDefinition: taskDefinitionView(td) };
    },
  };
  return { ops, tags: tdTags };
}
