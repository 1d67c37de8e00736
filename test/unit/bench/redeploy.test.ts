/**
 * The redeploy bench's yardstick: the fleet it builds and the fewest calls the ECS API allows. A wrong
 * minimum would make the "calls / minimum" figure users read in the README lie.
 */
import { describe, expect, it } from 'vitest';
import { indexedMinimumCalls, minimumCalls } from '../../../bench/redeploy';
import { buildFleet, DEFAULT_FLEET, PUSHED_REPOSITORY } from '../../../bench/redeploy-world';

describe('redeploy bench fleet', () => {
  it('has 1 000 services over 20 clusters, 5 of them on the pushed repository, each in another cluster', () => {
    const fleet = buildFleet();
    expect(fleet.services).toHaveLength(1000);
    expect(new Set(fleet.services.map((s) => s.cluster)).size).toBe(20);
    const pushed = fleet.services.filter((s) => s.pushed);
    expect(pushed).toHaveLength(DEFAULT_FLEET.pushedServices);
    expect(new Set(pushed.map((s) => s.cluster)).size).toBe(pushed.length);
    const images = (fleet.world.ecs?.taskDefinitions ?? []).flatMap((td) =>
      td.containers.map((c) => c.image),
    );
    expect(images.filter((i) => i.includes(`/${PUSHED_REPOSITORY}:`))).toHaveLength(pushed.length);
    expect(fleet.services.filter((s) => s.launchType === 'FARGATE')).toHaveLength(500);
  });
});

describe('minimumCalls', () => {
  it('counts pages of 100, batches of 10, one read per task definition, and the writes per update', () => {
    const min = minimumCalls({
      servicesPerCluster: Array.from({ length: 20 }, () => 50),
      distinctTaskDefinitions: 1000,
      servicesOnRepository: 5,
      servicesUpdated: 5,
    });
    expect(min).toEqual({
      'ecs.ListClusters': 1,
      'ecs.ListServices': 20,
      'ecs.DescribeServices': 100,
      'ecs.DescribeTaskDefinition': 1000,
      'dynamodb.BatchGetItem': 10,
      'dynamodb.BatchWriteItem': 40,
      'ecr.DescribeImages': 1,
      'ecs.ListTasks': 5,
      'ecs.DescribeTasks': 5,
      'ecs.UpdateService': 5,
      'dynamodb.PutItem': 5,
      'dynamodb.UpdateItem': 5,
    });
  });

  it('a revision read before is not described again: read back from the state table, or from a warm memory', () => {
    const input = {
      servicesPerCluster: Array.from({ length: 20 }, () => 50),
      distinctTaskDefinitions: 1000,
      servicesOnRepository: 5,
      servicesUpdated: 5,
    };
    const table = minimumCalls({ ...input, taskDefinitionsFrom: 'table' });
    expect(table['ecs.DescribeTaskDefinition']).toBe(0);
    expect(table['dynamodb.BatchGetItem']).toBe(10);
    expect(table['dynamodb.BatchWriteItem']).toBe(0);
    const memory = minimumCalls({ ...input, taskDefinitionsFrom: 'memory', servicesMidRollout: 5 });
    expect(Object.values(memory).reduce((a, b) => a + b, 0)).toBe(
      1 + 20 + 100 + 1 + 5 + 0 + 5 + 5 + 5 + 5 + 5,
    );
    expect(memory['ecs.DescribeTasks']).toBe(0);
  });

  it('pages clusters and services past 100, and an empty cluster still costs one ListServices', () => {
    const min = minimumCalls({
      servicesPerCluster: [...Array.from({ length: 100 }, () => 0), 250],
      distinctTaskDefinitions: 250,
      servicesOnRepository: 0,
      servicesUpdated: 0,
    });
    expect(min['ecs.ListClusters']).toBe(2);
    expect(min['ecs.ListServices']).toBe(100 + 3);
    expect(min['ecs.DescribeServices']).toBe(25);
    expect(min['ecs.UpdateService']).toBe(0);
  });

  it('through the fleet index: no term grows with the fleet', () => {
    const min = indexedMinimumCalls({
      candidatesPerCluster: [1, 1, 1, 1, 1],
      servicesMidRollout: 0,
      servicesUpdated: 5,
      taskDefinitionsFromTable: 0,
    });
    expect(min).toEqual({
      'dynamodb.BatchGetItem': 1,
      'ecs.DescribeServices': 5,
      'ecr.DescribeImages': 1,
      'ecs.ListTasks': 5,
      'ecs.DescribeTasks': 5,
      'ecs.UpdateService': 5,
      'dynamodb.PutItem': 5,
      'dynamodb.UpdateItem': 5,
    });
    // Twelve candidates in one cluster: two DescribeServices; revisions from the table: one more read.
    const one = indexedMinimumCalls({
      candidatesPerCluster: [12],
      servicesMidRollout: 12,
      servicesUpdated: 12,
      taskDefinitionsFromTable: 12,
    });
    expect(one['ecs.DescribeServices']).toBe(2);
    expect(one['dynamodb.BatchGetItem']).toBe(2);
    expect(one['ecs.DescribeTasks']).toBe(0);
    expect(one['ecs.DescribeServiceRevisions']).toBe(12);
  });
});
