/**
 * `harborpilot plan capacity` over mocked ECS and EKS: the report checkCapacity would compute (findings with
 * severity, headroom per service), read-only (no email, no state, no metrics), and a named failure when a
 * cluster cannot be read.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type ContainerInstance,
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListClustersCommand,
  ListContainerInstancesCommand,
  ListServicesCommand,
  type Service,
} from '@aws-sdk/client-ecs';
import {
  DescribeClusterCommand,
  EKSClient,
  ListClustersCommand as ListEksClusters,
} from '@aws-sdk/client-eks';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { configFile, runPlan } from './run';

const ecs = mockClient(ECSClient);
const eks = mockClient(EKSClient);
const ses = mockClient(SESv2Client);
const dynamodb = mockClient(DynamoDBClient);
const ARN = 'arn:aws:ecs:us-east-1:000000000000';
const CLUSTER = `${ARN}:cluster/prod`;

const instance = (id: string, cpu: number, memory: number): ContainerInstance => ({
  containerInstanceArn: `${ARN}:container-instance/prod/${id}`,
  ec2InstanceId: id,
  status: 'ACTIVE',
  agentConnected: true,
  registeredResources: [
    { name: 'CPU', type: 'INTEGER', integerValue: 4096 },
    { name: 'MEMORY', type: 'INTEGER', integerValue: 8192 },
  ],
  remainingResources: [
    { name: 'CPU', type: 'INTEGER', integerValue: cpu },
    { name: 'MEMORY', type: 'INTEGER', integerValue: memory },
  ],
});

const service = (name: string, desiredCount: number, runningCount: number): Service => ({
  serviceName: name,
  serviceArn: `${ARN}:service/prod/${name}`,
  clusterArn: CLUSTER,
  status: 'ACTIVE',
  launchType: 'EC2',
  desiredCount,
  runningCount,
  pendingCount: 0,
  taskDefinition: `${ARN}:task-definition/${name}:3`,
  deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
  deployments: [
    {
      id: `ecs-svc/${name}`,
      status: 'PRIMARY',
      rolloutState: 'COMPLETED',
      desiredCount,
      runningCount,
      pendingCount: 0,
      createdAt: new Date(Date.now() - 3_600_000),
      updatedAt: new Date(Date.now() - 3_600_000),
    },
  ],
});

beforeEach(() => {
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('HARBORPILOT_CONFIG_FILE', undefined);
  for (const m of [ecs, eks, ses, dynamodb]) m.reset();
  // One instance with room for one more 1 vCPU task; api (2 tasks) needs 2 more to deploy, web runs 1 of 2.
  const instances = [instance('i-0aaa', 1024, 4096)];
  const services = [service('api', 2, 2), service('web', 2, 1)];
  ecs.on(ListClustersCommand).resolves({ clusterArns: [CLUSTER] });
  ecs
    .on(DescribeClustersCommand)
    .resolves({ clusters: [{ clusterArn: CLUSTER, clusterName: 'prod', status: 'ACTIVE' }] });
  ecs
    .on(ListContainerInstancesCommand)
    .resolves({ containerInstanceArns: instances.map((i) => i.containerInstanceArn ?? '') });
  ecs.on(DescribeContainerInstancesCommand).resolves({ containerInstances: instances });
  ecs.on(ListServicesCommand).resolves({ serviceArns: services.map((s) => s.serviceArn ?? '') });
  ecs.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => ({
    services: services.filter((s) => input.services.includes(s.serviceArn ?? '')),
    failures: [],
  }));
  ecs.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => ({
    taskDefinition: {
      taskDefinitionArn: input.taskDefinition,
      containerDefinitions: [{ name: 'app', image: 'x', cpu: 1024, memory: 1024 }],
    },
  }));
});
afterEach(() => vi.unstubAllEnvs());

const ECS_ONLY = configFile('capacity:\n  watch: [ecs]\n');

describe('harborpilot plan capacity', () => {
  it('prints the findings with their severity and the headroom of every service, changing nothing', async () => {
    const r = await runPlan(['capacity', '--config', ECS_ONLY]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^capacity at \S+: \d+ critical, [1-9]\d* warning, \d+ info\n/);
    expect(r.stdout).toMatch(
      /\nwarning\s+ECS prod\s+service\/api\s+a deployment of api cannot place all its new tasks at once/,
    );
    expect(r.stdout).toMatch(/\ninfo\s+ECS prod\s+service\/web\s+web runs 1 of 2 tasks: 0 pending/);
    expect(r.stdout).toContain('ECS prod: EC2 1/1 usable, 1.00 vCPU and 4096 MiB free\n');
    expect(r.stdout).toMatch(/\napi\s+EC2\s+2\/2\s+1.00 vCPU, 1024 MiB\s+1\s+\+2\n/);
    expect(r.stdout).toMatch(/\nweb\s+EC2\s+1\/2\s+/);
    // read-only: only reads, no email, no state table; ECS-only config never calls EKS
    const ops = ecs.calls().map((c) => (c.args[0] as object).constructor.name);
    expect(ops.filter((op) => !/^(Describe|List)/.test(op))).toEqual([]);
    expect(eks.calls()).toEqual([]);
    expect(ses.calls()).toEqual([]);
    expect(dynamodb.calls()).toEqual([]);
  });

  it('--json is the report checkCapacity computes: findings and services, nothing on stderr', async () => {
    const r = await runPlan(['capacity', '--json', '--config', ECS_ONLY]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout);
    expect(report.findings.map((f: { severity: string; subject: string }) => f.severity)).toContain(
      'warning',
    );
    expect(report.ecs[0].services.map((s: { serviceName: string }) => s.serviceName)).toEqual(['api', 'web']);
    expect(report.ecs[0].services[0]).toMatchObject({ tasksThatStillFit: 1, deploymentExtraTasks: 2 });
  });

  it('an EKS cluster that cannot be read: no report, exit 1, the cluster named', async () => {
    eks.on(ListEksClusters).resolves({ clusters: ['k8s'] });
    eks.on(DescribeClusterCommand).resolves({ cluster: { name: 'k8s', status: 'CREATING' } });
    const r = await runPlan(['capacity', '--config', configFile('capacity:\n  watch: [ecs, eks]\n')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^harborpilot plan capacity: EKS cluster k8s could not be read: .*status is CREATING/,
    );
  });
});
