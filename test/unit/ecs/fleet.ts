/** A fake ECS fleet behind aws-sdk-client-mock: two clusters, every launch type, paging and batch limits enforced. */
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  InvalidParameterException,
  ListClustersCommand,
  ListServicesCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  type Service,
  type TaskDefinition,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const REG = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;
export const digest = (c: string) => `sha256:${c.repeat(64)}`;

export interface FakeService {
  cluster: string;
  name: string;
  image: string;
  launchType?: 'EC2' | 'FARGATE' | 'EXTERNAL';
  capacityProvider?: string;
  policy?: string;
  runningDigest?: string;
}

export function fakeFleet(services: FakeService[]) {
  const ecs = mockClient(ECSClient);
  const clusterArn = (c: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${c}`;
  const taskDefinitions = new Map<string, TaskDefinition>();
  const byArn = new Map<string, Service>();
  for (const s of services) {
    const tdArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${s.name}:1`;
    taskDefinitions.set(tdArn, {
      taskDefinitionArn: tdArn,
      family: s.name,
      revision: 1,
      status: 'ACTIVE',
      cpu: '256',
      memory: '512',
      networkMode: 'awsvpc',
      requiresCompatibilities: [s.launchType ?? 'FARGATE'],
      compatibilities: ['EC2', 'FARGATE'],
      containerDefinitions: [{ name: 'app', image: s.image, essential: true, cpu: 256, memory: 512 }],
    });
    const arn = `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${s.cluster}/${s.name}`;
    byArn.set(arn, {
      serviceArn: arn,
      serviceName: s.name,
      clusterArn: clusterArn(s.cluster),
      status: 'ACTIVE',
      taskDefinition: tdArn,
      ...(s.capacityProvider
        ? { capacityProviderStrategy: [{ capacityProvider: s.capacityProvider, weight: 1 }] }
        : { launchType: s.launchType ?? 'FARGATE' }),
      deployments: [
        { id: `ecs-svc/${s.name}`, status: 'PRIMARY', taskDefinition: tdArn, createdAt: new Date(0) },
      ],
      tags: s.policy ? [{ key: 'harborpilot:policy', value: s.policy }] : [],
    });
  }
  const clusters = [...new Set(services.map((s) => s.cluster))];
  let revision = 1;
  ecs.on(ListClustersCommand).resolves({ clusterArns: clusters.map(clusterArn) });
  ecs.on(ListServicesCommand).callsFake((input) => {
    const all = [...byArn.values()].filter(
      (s) => s.clusterArn === clusterArn(String(input.cluster).split('/').pop() ?? ''),
    );
    const start = Number(input.nextToken ?? 0);
    const size = Math.min(input.maxResults ?? 10, 100);
    const page = all.slice(start, start + size).map((s) => s.serviceArn as string);
    return { serviceArns: page, ...(start + size < all.length ? { nextToken: String(start + size) } : {}) };
  });
  ecs.on(DescribeServicesCommand).callsFake((input) => {
    if ((input.services ?? []).length > 10) {
      throw new InvalidParameterException({ message: 'services can have at most 10 items', $metadata: {} });
    }
    return {
      services: (input.services ?? []).map((a: string) => byArn.get(a)).filter(Boolean),
      failures: [],
    };
  });
  ecs.on(DescribeTaskDefinitionCommand).callsFake((input) => {
    const key = String(input.taskDefinition);
    const td =
      taskDefinitions.get(key) ??
      [...taskDefinitions.values()]
        .filter((t) => t.family === key)
        .sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0))[0];
    if (!td) throw new Error(`no task definition ${key}`);
    return { taskDefinition: td, tags: [] };
  });
  ecs.on(ListTaskDefinitionsCommand).callsFake((input) => {
    const arns = [...taskDefinitions.values()]
      .filter((t) => !input.familyPrefix || t.family === input.familyPrefix)
      .sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0))
      .map((t) => t.taskDefinitionArn as string);
    if (input.sort === 'DESC') arns.reverse();
    return { taskDefinitionArns: arns.slice(0, input.maxResults ?? 100) };
  });
  ecs
    .on(ListTasksCommand)
    .callsFake((input) =>
      String(input.startedBy).startsWith('ecs-svc/new-')
        ? { taskArns: [] }
        : { taskArns: [`arn:aws:ecs:${REGION}:${ACCOUNT}:task/x/${input.startedBy}`] },
    );
  ecs.on(DescribeTasksCommand).callsFake((input) => ({
    tasks: (input.tasks ?? []).map((t: string) => {
      const name = t.split('ecs-svc/')[1] as string;
      const s = services.find((x) => x.name === name);
      return {
        taskArn: t,
        lastStatus: 'RUNNING',
        containers: [{ name: 'app', ...(s?.runningDigest ? { imageDigest: s.runningDigest } : {}) }],
      };
    }),
  }));
  ecs.on(RegisterTaskDefinitionCommand).callsFake((input) => {
    revision += 1;
    const arn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${input.family}:${revision}`;
    const td: TaskDefinition = { ...input, taskDefinitionArn: arn, revision, status: 'ACTIVE' };
    taskDefinitions.set(arn, td);
    return { taskDefinition: td };
  });
  // As ECS does: the update starts a new PRIMARY deployment at once, and its tasks take a while to report a
  // digest (ListTasks finds none of them yet); the previous deployment stays ACTIVE until it drains.
  let deployments = 0;
  ecs.on(UpdateServiceCommand).callsFake((input) => {
    const service = byArn.get(String(input.service));
    if (!service) throw new Error(`no service ${input.service}`);
    deployments += 1;
    const taskDefinition = input.taskDefinition ?? service.taskDefinition;
    service.taskDefinition = taskDefinition;
    service.deployments = [
      { id: `ecs-svc/new-${deployments}`, status: 'PRIMARY', taskDefinition, createdAt: new Date() },
      ...(service.deployments ?? []).map((d) => ({ ...d, status: 'ACTIVE' })),
    ];
    return { service };
  });
  return { ecs, taskDefinitions };
}
