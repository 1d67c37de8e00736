import { DescribeTaskDefinitionCommand, ECSClient, type TaskDefinition } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TaskDefinitionCache, taskDefinitionMemory } from '../../../shared/aws/task-definitions';
import { StateTableTaskDefinitions } from '../../../shared/aws/task-definitions-table';
import { createStateTable, startStateTable, type TestTable } from '../../support/dynalite';

const arn = (family: string, revision: number) =>
  `arn:aws:ecs:us-east-1:123456789012:task-definition/${family}:${revision}`;
const td = (family: string, revision: number): TaskDefinition => ({
  taskDefinitionArn: arn(family, revision),
  family,
  revision,
  containerDefinitions: [{ name: 'app', image: `repo/${family}:${revision}` }],
});

const ecsMock = mockClient(ECSClient);
let table: TestTable;
let run = 0;
beforeAll(async () => {
  table = await startStateTable();
});
afterAll(() => table.stop());
beforeEach(() => {
  ecsMock.reset();
  ecsMock.on(DescribeTaskDefinitionCommand).callsFake((input) => {
    const [family = '', revision = '1'] = String(input.taskDefinition).split('/').pop()?.split(':') ?? [];
    return { taskDefinition: td(family, Number(revision)), tags: [{ key: 'team', value: 'shop' }] };
  });
});

async function freshStore() {
  run += 1;
  const tableName = `taskdefs-${run}`;
  await createStateTable(table.client, tableName);
  return new StateTableTaskDefinitions(table.client, tableName);
}

const describes = () => ecsMock.commandCalls(DescribeTaskDefinitionCommand).length;

describe('task definitions: each revision described once, ever', () => {
  it('the state table keeps revisions across containers, read and written in batches (130: 2 reads, 6 writes)', async () => {
    const store = await freshStore();
    const all = Array.from({ length: 130 }, (_, i) => td('api', i + 1));
    await store.putMany(all);
    const found = await store.getMany([...all.map((t) => t.taskDefinitionArn as string), arn('other', 1)]);
    expect(found.size).toBe(130);
    expect(found.get(arn('api', 77))).toEqual(td('api', 77));
    expect(found.has(arn('other', 1))).toBe(false);
  });

  it('a cold container reads what another described from the table, and describes only the new revision', async () => {
    const store = await freshStore();
    const first = new TaskDefinitionCache(new ECSClient({}), { store, memory: taskDefinitionMemory() });
    await first.prefetch([arn('api', 1), arn('worker', 4)]);
    await Promise.all([first.get(arn('api', 1)), first.get(arn('worker', 4))]);
    await first.save();
    expect(describes()).toBe(2);
    const cold = new TaskDefinitionCache(new ECSClient({}), { store, memory: taskDefinitionMemory() });
    await cold.prefetch([arn('api', 1), arn('worker', 4), arn('api', 2)]);
    expect(await cold.get(arn('worker', 4))).toEqual(td('worker', 4));
    expect(await cold.get(arn('api', 2))).toEqual(td('api', 2));
    expect(describes()).toBe(3);
    // Without prefetch, a get still finds the table's copy.
    const another = new TaskDefinitionCache(new ECSClient({}), { store, memory: taskDefinitionMemory() });
    await another.get(arn('api', 1));
    expect(describes()).toBe(3);
  });

  it('a warm container answers from memory without the table; a family name is always described (it moves)', async () => {
    const memory = taskDefinitionMemory();
    await new TaskDefinitionCache(new ECSClient({}), { memory }).get(arn('api', 1));
    const warm = new TaskDefinitionCache(new ECSClient({}), { memory });
    await warm.get(arn('api', 1));
    expect(describes()).toBe(1);
    await warm.get('api');
    await new TaskDefinitionCache(new ECSClient({}), { memory }).get('api');
    expect(describes()).toBe(3);
  });

  it('tags are never kept beyond the invocation that read them', async () => {
    const memory = taskDefinitionMemory();
    const first = new TaskDefinitionCache(new ECSClient({}), { memory, includeTags: true });
    await first.get(arn('api', 1));
    expect((await first.getWithTags(arn('api', 1))).tags).toEqual([{ key: 'team', value: 'shop' }]);
    expect(describes()).toBe(1); // the same call read both
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: td('api', 1), tags: [] });
    const next = new TaskDefinitionCache(new ECSClient({}), { memory, includeTags: true });
    expect((await next.getWithTags(arn('api', 1))).tags).toEqual([]);
    expect(describes()).toBe(2);
  });
});
