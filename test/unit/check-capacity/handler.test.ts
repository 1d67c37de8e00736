import { Logger } from '@aws-lambda-powertools/logger';
import {
  type ContainerInstance,
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListClustersCommand,
  ListContainerInstancesCommand,
  ListServicesCommand,
  ListTasksCommand,
  type Service,
} from '@aws-sdk/client-ecs';
import {
  DescribeNodegroupCommand,
  EKSClient,
  ListClustersCommand as ListEksClustersCommand,
  ListNodegroupsCommand,
} from '@aws-sdk/client-eks';
import { MessageRejected, SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import scheduled from '../../../events/scheduled.json';
import { makeHandler } from '../../../functions/checkCapacity';
import { KubeApiError, type KubeConnector, type KubeReader } from '../../../shared/aws/kube';
import { AssumeRoleError } from '../../../shared/aws/target-clients';
import { EksClusterReadError } from '../../../shared/check-capacity/gather-eks';
import { CapacityEmailError, type CapacitySummary } from '../../../shared/check-capacity/handler';
import type { MetricPoint } from '../../../shared/check-capacity/metrics';
import { configFromEnv } from '../../../shared/config';
import { EventValidationError, PartialFailureError } from '../../../shared/errors';
import type { Target } from '../../../shared/targets';
import { createStateTable, startStateTable, type TestTable } from '../../support/dynalite';

const ecsMock = mockClient(ECSClient);
const eksMock = mockClient(EKSClient);
const sesMock = mockClient(SESv2Client);
const ACCOUNT = 'arn:aws:ecs:us-east-1:000000000000';
const CLUSTER = `${ACCOUNT}:cluster/prod`;
const T0 = Date.parse(scheduled.time);
const MIN = 60_000;

let table: TestTable;
beforeAll(async () => {
  table = await startStateTable();
});
afterAll(() => table.stop());

/** The ECS fleet the mocks serve; tests change it between runs. */
interface Fleet {
  instances: ContainerInstance[];
  services: Service[];
}
let fleet: Fleet;

const instance = (
  id: string,
  cpu: number,
  memory: number,
  o: Partial<ContainerInstance> = {},
): ContainerInstance => ({
  containerInstanceArn: `${ACCOUNT}:container-instance/prod/${id}`,
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
    { name: 'PORTS', type: 'STRINGSET', stringSetValue: ['22'] },
  ],
  ...o,
});

const service = (name: string, o: Partial<Service> = {}): Service => ({
  serviceName: name,
  serviceArn: `${ACCOUNT}:service/prod/${name}`,
  clusterArn: CLUSTER,
  status: 'ACTIVE',
  launchType: 'EC2',
  desiredCount: 2,
  runningCount: 2,
  pendingCount: 0,
  taskDefinition: `${ACCOUNT}:task-definition/${name}:3`,
  deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
  deployments: [
    {
      id: `ecs-svc/${name}`,
      status: 'PRIMARY',
      rolloutState: 'COMPLETED',
      desiredCount: 2,
      runningCount: 2,
      pendingCount: 0,
      createdAt: new Date(T0 - 60 * MIN),
      updatedAt: new Date(T0 - 60 * MIN),
    },
  ],
  ...o,
});

beforeEach(() => {
  ecsMock.reset();
  eksMock.reset();
  sesMock.reset();
  fleet = {
    instances: [instance('i-0aaa', 1024, 2048), instance('i-0bbb', 512, 1024)],
    services: [service('api')],
  };
  ecsMock.on(ListClustersCommand).resolves({ clusterArns: [CLUSTER] });
  ecsMock
    .on(DescribeClustersCommand)
    .resolves({ clusters: [{ clusterArn: CLUSTER, clusterName: 'prod', status: 'ACTIVE' }] });
  ecsMock.on(ListContainerInstancesCommand).callsFake(() => ({
    containerInstanceArns: fleet.instances.map((i) => i.containerInstanceArn),
  }));
  ecsMock.on(DescribeContainerInstancesCommand).callsFake((input: { containerInstances: string[] }) => ({
    containerInstances: fleet.instances.filter((i) =>
      input.containerInstances.includes(i.containerInstanceArn ?? ''),
    ),
  }));
  ecsMock.on(ListServicesCommand).callsFake(() => ({ serviceArns: fleet.services.map((s) => s.serviceArn) }));
  ecsMock.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => ({
    services: fleet.services.filter((s) => input.services.includes(s.serviceArn ?? '')),
    failures: [],
  }));
  ecsMock.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => ({
    taskDefinition: {
      taskDefinitionArn: input.taskDefinition,
      containerDefinitions: [{ name: 'app', image: 'x', cpu: 256, memoryReservation: 512, memory: 1024 }],
    },
  }));
  sesMock
    .on(SendEmailCommand)
    .callsFake(() => ({ MessageId: `msg-${sesMock.commandCalls(SendEmailCommand).length}` }));
});

let run = 0;
/** Clusters the handler connected to in the last setup(). */
let connected: string[] = [];
/** The default connector: ECS-only tests must not reach Kubernetes at all. */
const refuse: KubeConnector = async (cluster) => {
  throw new Error(`test did not expect a connection to ${cluster}`);
};
const reading =
  (reader: KubeReader): KubeConnector =>
  async () =>
    reader;

/** A workload account's role that cannot be assumed: its clients fail every call as the SDK's would. */
function unassumable<C extends ECSClient | EKSClient>(client: C, roleArn: string): C {
  const denied = Object.assign(
    new Error('User: arn:aws:iam::000000000000:root is not authorized to perform: sts:AssumeRole'),
    { name: 'AccessDenied' },
  );
  Object.assign(client, {
    send: async () => {
      throw new AssumeRoleError(roleArn, denied);
    },
  });
  return client;
}

const STAGING = {
  home: false,
  accountId: '111111111111',
  region: 'us-west-2',
  name: 'staging',
  roleArn: 'arn:aws:iam::111111111111:role/harborpilot',
} satisfies Target;
const PROD = {
  home: false,
  accountId: '222222222222',
  region: 'eu-west-1',
  name: 'prod',
  roleArn: 'arn:aws:iam::222222222222:role/harborpilot',
} satisfies Target;

async function setup(
  over: {
    capacity?: Record<string, unknown>;
    to?: string[];
    dryRun?: boolean;
    kube?: KubeConnector;
    /** Staging (the mocked fleet, through its own client) and prod (its role cannot be assumed). */
    targets?: boolean;
  } = {},
) {
  run += 1;
  const tableName = `capacity-${run}`;
  await createStateTable(table.client, tableName);
  const config = configFromEnv({
    HARBORPILOT_CONFIG: JSON.stringify({
      stateTable: tableName,
      ...(over.dryRun !== undefined ? { dryRun: over.dryRun } : {}),
      alerts: { from: 'capacity@example.com', to: over.to ?? ['ops@example.com'] },
      capacity: { watch: ['ecs'], ...over.capacity },
      // Paced fast here: the pacing itself is tested with a fake clock (test/unit/aws/read-budget.test.ts).
      ecs: { maxReadsPerSecond: 1000 },
    }),
  });
  const points: MetricPoint[][] = [];
  connected = [];
  const kube = over.kube ?? refuse;
  const ecs = new ECSClient({ region: 'us-east-1' });
  const eks = new EKSClient({ region: 'us-east-1' });
  const handler = makeHandler({
    config,
    ecs,
    eks,
    region: 'us-east-1',
    ...(over.targets
      ? {
          targets: [
            { target: { home: true, region: 'us-east-1' }, ecs, eks, kube: refuse },
            {
              target: STAGING,
              ecs: new ECSClient({ region: 'us-west-2' }),
              eks: new EKSClient({ region: 'us-west-2' }),
              kube: refuse,
            },
            {
              target: PROD,
              ecs: unassumable(new ECSClient({ region: 'eu-west-1' }), PROD.roleArn),
              eks: unassumable(new EKSClient({ region: 'eu-west-1' }), PROD.roleArn),
              kube: refuse,
            },
          ],
        }
      : {}),
    ses: new SESv2Client({ region: 'us-east-1' }),
    dynamodb: table.client,
    logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    metrics: { publish: (p) => points.push(p) },
    kube: (cluster) => {
      connected.push(cluster);
      return kube(cluster);
    },
  });
  const at = (ms: number) => handler({ ...scheduled, id: `evt-${ms}`, time: new Date(ms).toISOString() });
  return { handler, at, points };
}

const emails = () =>
  sesMock.commandCalls(SendEmailCommand).map((c) => {
    const i = c.args[0].input;
    return {
      to: i.Destination?.ToAddresses ?? [],
      from: i.FromEmailAddress,
      subject: i.Content?.Simple?.Subject?.Data ?? '',
      text: i.Content?.Simple?.Body?.Text?.Data ?? '',
      html: i.Content?.Simple?.Body?.Html?.Data ?? '',
    };
  });

const drainAll = () => {
  fleet.instances = fleet.instances.map((i) => ({ ...i, status: 'DRAINING' }));
};

describe('checkCapacity handler', () => {
  it('room enough: a report, metrics, no email', async () => {
    const { at, points } = await setup();
    const summary = await at(T0);
    expect(summary).toMatchObject({ changes: 0, findings: { critical: 0, warning: 0 } });
    expect(emails()).toEqual([]);
    // 1024/256 = 4 on one instance (memory 2048/512 = 4), 512/256 = 2 on the other.
    expect(points[0]).toContainEqual({
      name: 'TasksThatStillFit',
      unit: 'Count',
      value: 6,
      dimensions: { Platform: 'ECS', Cluster: 'prod', Service: 'api' },
    });
    expect(points[0]).toContainEqual(expect.objectContaining({ name: 'RemainingMemory', value: 3072 }));
  });

  it('a shortage: one email naming the service, none while it persists, one when it clears', async () => {
    const { at } = await setup();
    await at(T0);
    drainAll();
    const short = await at(T0 + 5 * MIN);
    expect(short.email?.sent).toBe(true);
    expect(emails()).toHaveLength(1);
    expect(emails()[0]).toMatchObject({
      to: ['ops@example.com'],
      from: 'capacity@example.com',
      subject: '[harborpilot] capacity shortage: no room for another task of api (ECS prod)',
    });
    expect(emails()[0]?.text).toContain('== ECS prod');
    expect(emails()[0]?.text).toContain('[new] critical: service/api: no room for another task of api');

    for (let m = 10; m <= 60; m += 5) await at(T0 + m * MIN);
    expect(emails()).toHaveLength(1);

    fleet.instances = fleet.instances.map((i) => ({ ...i, status: 'ACTIVE' }));
    await at(T0 + 65 * MIN);
    await at(T0 + 70 * MIN);
    expect(emails()).toHaveLength(2);
    expect(emails()[1]?.subject).toBe(
      '[harborpilot] capacity all clear: no room for another task of api (ECS prod) is resolved',
    );
    expect(emails()[1]?.text).toContain('[cleared] cleared: service/api: no room for another task of api');
  });

  it('emails again when a finding changes severity, not while it stays', async () => {
    const { at } = await setup({ capacity: { fargateVcpuQuota: 10 } });
    fleet.services = [];
    const fargateTasks = (vcpu: number) => {
      ecsMock.on(ListTasksCommand).resolves({ taskArns: ['t1'] });
      ecsMock
        .on(DescribeTasksCommand)
        .resolves({ tasks: [{ taskArn: 't1', cpu: String(vcpu * 1024), lastStatus: 'RUNNING' }] });
    };
    fargateTasks(8);
    await at(T0);
    await at(T0 + 5 * MIN);
    fargateTasks(10);
    await at(T0 + 10 * MIN);
    await at(T0 + 15 * MIN);
    expect(emails().map((e) => e.subject)).toEqual([
      "[harborpilot] capacity warning: Fargate uses 80 % of the account's vCPU quota (Fargate)",
      "[harborpilot] capacity shortage: Fargate uses 100 % of the account's vCPU quota (Fargate)",
    ]);
    expect(emails()[1]?.text).toContain('[worse] critical (was warning)');
  });

  it('a duplicate delivery running at the same time sends one email', async () => {
    const { handler } = await setup();
    drainAll();
    const event = { ...scheduled, time: new Date(T0).toISOString() };
    const results: CapacitySummary[] = await Promise.all([handler(event), handler(event), handler(event)]);
    expect(emails()).toHaveLength(1);
    expect(results.filter((r) => r.email?.sent)).toHaveLength(1);
  });

  it('a late run (an older report, delivered after a newer one told the team) sends nothing and changes nothing', async () => {
    const { at } = await setup();
    drainAll();
    const newer = await at(T0 + 10 * MIN);
    expect(newer.email?.sent).toBe(true);
    fleet.instances = fleet.instances.map((i) => ({ ...i, status: 'ACTIVE' }));
    // The schedule of five minutes earlier, retried or delivered late, sees room again: it must not clear.
    const late = await at(T0 + 5 * MIN);
    expect(late).toMatchObject({ superseded: true });
    expect(emails().map((e) => e.subject)).toEqual([
      '[harborpilot] capacity shortage: no room for another task of api (ECS prod)',
    ]);
    // The next on-time run does tell the team it cleared.
    await at(T0 + 15 * MIN);
    expect(emails()[1]?.subject).toBe(
      '[harborpilot] capacity all clear: no room for another task of api (ECS prod) is resolved',
    );
  });

  it('SES errors throw, and the next run sends what the failed one could not', async () => {
    const { at } = await setup();
    drainAll();
    sesMock
      .on(SendEmailCommand)
      .rejectsOnce(new MessageRejected({ message: 'Email address is not verified.', $metadata: {} }))
      .resolves({ MessageId: 'msg-retry' });
    await expect(at(T0)).rejects.toThrow(CapacityEmailError);
    await expect(at(T0)).resolves.toMatchObject({ email: { sent: true } });
    expect(sesMock.commandCalls(SendEmailCommand)).toHaveLength(2);
    await at(T0 + 5 * MIN);
    expect(sesMock.commandCalls(SendEmailCommand)).toHaveLength(2);
  });

  it('escapes every name in the HTML part', async () => {
    const { at } = await setup();
    fleet.services = [service('<img src=x onerror=alert(1)>')];
    drainAll();
    await at(T0);
    const [email] = emails();
    expect(email?.html).not.toContain('<img');
    expect(email?.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('at most 50 recipients a message', async () => {
    const to = Array.from({ length: 120 }, (_, i) => `ops${i}@example.com`);
    const { at } = await setup({ to });
    drainAll();
    await at(T0);
    expect(emails().map((e) => e.to.length)).toEqual([50, 50, 20]);
    expect(emails().flatMap((e) => e.to)).toEqual(to);
  });

  it('dry run logs instead of sending, and does not send it later either', async () => {
    const { at } = await setup({ dryRun: true });
    drainAll();
    expect(await at(T0)).toMatchObject({ email: { sent: false } });
    await at(T0 + 5 * MIN);
    expect(emails()).toEqual([]);
  });

  it('Fargate use against the configured quota', async () => {
    const { at, points } = await setup({ capacity: { fargateVcpuQuota: 4 } });
    fleet.services = [];
    ecsMock.on(ListTasksCommand).resolves({ taskArns: ['t1', 't2', 't3'] });
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [
        { taskArn: 't1', cpu: '2048', lastStatus: 'RUNNING', capacityProviderName: 'FARGATE' },
        { taskArn: 't2', cpu: '2048', lastStatus: 'PROVISIONING' },
        { taskArn: 't3', cpu: '4096', lastStatus: 'RUNNING', capacityProviderName: 'FARGATE_SPOT' },
      ],
    });
    await at(T0);
    expect(ecsMock.commandCalls(ListTasksCommand)[0]?.args[0].input).toMatchObject({
      launchType: 'FARGATE',
      desiredStatus: 'RUNNING',
    });
    expect(emails().map((e) => e.subject)).toEqual([
      "[harborpilot] capacity shortage: Fargate uses 100 % of the account's vCPU quota (Fargate)",
    ]);
    expect(points[0]).toContainEqual(expect.objectContaining({ name: 'FargateVcpuInUse', value: 4 }));
  });

  it('rejects events that are not schedules', async () => {
    const { handler } = await setup();
    await expect(handler({ source: 'aws.ecr', 'detail-type': 'ECR Image Action' })).rejects.toThrow(
      EventValidationError,
    );
  });
});

describe('EKS', () => {
  const pending = (name: string, sinceMs: number) => ({
    metadata: {
      name,
      namespace: 'shop',
      creationTimestamp: new Date(sinceMs).toISOString(),
      labels: { 'pod-template-hash': 'abc12' },
      ownerReferences: [{ kind: 'ReplicaSet', name: 'api-abc12' }],
    },
    spec: { containers: [{ resources: { requests: { cpu: '2' } } }] },
    status: {
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: '0/2 nodes are available: 2 Insufficient cpu.',
          lastTransitionTime: new Date(sinceMs).toISOString(),
        },
      ],
    },
  });

  beforeEach(() => {
    eksMock.on(ListEksClustersCommand).resolves({ clusters: ['dev'] });
    eksMock.on(ListNodegroupsCommand).resolves({ nodegroups: ['workers'] });
    eksMock.on(DescribeNodegroupCommand).resolves({
      nodegroup: {
        nodegroupName: 'workers',
        status: 'ACTIVE',
        scalingConfig: { minSize: 1, maxSize: 2, desiredSize: 2 },
        health: { issues: [] },
      },
    });
  });

  it('fails the run, naming the cluster, when a watched cluster refuses its token (no half report, no email)', async () => {
    const kube: KubeConnector = async (cluster) => ({
      listNodes: async () => {
        throw new KubeApiError(cluster, 'GET', '/api/v1/nodes', 401, 'Unauthorized', 'Unauthorized');
      },
      listPods: async () => [],
    });
    const { at } = await setup({ capacity: { watch: ['ecs', 'eks'] }, kube });
    const err = await at(T0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EksClusterReadError);
    expect((err as Error).message).toBe(
      'EKS cluster dev could not be read: KubeApiError: GET /api/v1/nodes on dev: 401 Unauthorized: Unauthorized',
    );
    expect(emails()).toEqual([]);
  });

  it('watches EKS in an account with no clusters: connects to none, reports nothing missing', async () => {
    eksMock.on(ListEksClustersCommand).resolves({ clusters: [] });
    const { at } = await setup({ capacity: { watch: ['ecs', 'eks'] } });
    await expect(at(T0)).resolves.toMatchObject({ changes: 0 });
    expect(connected).toEqual([]);
  });

  it('pods Unschedulable past the threshold on a node group at max size: one email', async () => {
    const pods: unknown[] = [pending('api-abc12-x1', T0 - 2 * MIN)];
    const kube: KubeReader = {
      listNodes: async () => [
        {
          metadata: { name: 'ip-10-0-1-1', labels: { 'eks.amazonaws.com/nodegroup': 'workers' } },
          status: {
            allocatable: { cpu: '1930m', memory: '7Gi', pods: '29' },
            conditions: [{ type: 'Ready', status: 'True' }],
          },
        },
      ],
      listPods: async () => pods,
    };
    const { at, points } = await setup({
      capacity: { watch: ['eks'], pendingPodMinutes: 5 },
      kube: reading(kube),
    });
    await at(T0);
    expect(emails()).toEqual([]); // two minutes of Pending is normal
    await at(T0 + 5 * MIN);
    expect(emails().map((e) => e.subject)).toEqual([
      '[harborpilot] capacity shortage: 1 pod(s) of shop/deployment/api cannot be scheduled (EKS dev), and 1 more change(s)',
    ]);
    expect(emails()[0]?.text).toContain('node group workers is at its maximum size (2)');
    expect(points[1]).toContainEqual({
      name: 'UnschedulablePods',
      unit: 'Count',
      value: 1,
      dimensions: { Platform: 'EKS', Cluster: 'dev' },
    });
    await at(T0 + 10 * MIN);
    expect(emails()).toHaveLength(1);
  });
});

describe('across targets', () => {
  it('one report grouped by target; the unassumable one named in the email and the failure, the others reported', async () => {
    const { at, points } = await setup({ targets: true });
    drainAll();
    const err = await at(T0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartialFailureError);
    expect((err as Error).message).toBe(
      'checkCapacity: 1 failed, 2 succeeded: prod (222222222222) eu-west-1: could not assume arn:aws:iam::222222222222:role/harborpilot: AccessDenied: User: arn:aws:iam::000000000000:root is not authorized to perform: sts:AssumeRole',
    );
    // Sent before failing: one email, a heading per target.
    expect(emails()).toHaveLength(1);
    const [email] = emails();
    expect(email?.subject).toBe(
      '[harborpilot] capacity shortage: no room for another task of api (ECS prod in staging (111111111111) us-west-2), and 2 more change(s)',
    );
    const text = email?.text ?? '';
    for (const heading of [
      '# us-east-1 (home)',
      '# prod (222222222222) eu-west-1',
      '# staging (111111111111) us-west-2',
    ])
      expect(text).toContain(heading);
    expect(text).toContain('capacity of prod (222222222222) eu-west-1 could not be read');
    expect(text).toContain(
      '# staging (111111111111) us-west-2\n\n== ECS prod\n- [new] critical: service/api: no room for another task of api',
    );
    // Staging's metrics carry its account and region; the home target's dimensions are as before.
    expect(points.flat()).toContainEqual(
      expect.objectContaining({
        name: 'TasksThatStillFit',
        dimensions: { Platform: 'ECS', Cluster: 'prod', Service: 'api' },
      }),
    );
    expect(points.flat()).toContainEqual(
      expect.objectContaining({
        name: 'TasksThatStillFit',
        dimensions: {
          Platform: 'ECS',
          Cluster: 'prod',
          Service: 'api',
          Account: '111111111111',
          Region: 'us-west-2',
        },
      }),
    );

    // Still failing, nothing changed: no email, and no finding of the unread target cleared.
    await at(T0 + 5 * MIN).catch(() => undefined);
    expect(emails()).toHaveLength(1);

    // Room again (home and staging read the same mocked fleet): both clear; prod, still unread, stays open.
    fleet.instances = fleet.instances.map((i) => ({ ...i, status: 'ACTIVE' }));
    await at(T0 + 10 * MIN).catch(() => undefined);
    expect(emails()).toHaveLength(2);
    expect(emails()[1]?.subject).toBe('[harborpilot] capacity 2 finding(s) better or resolved, 1 still open');
    expect(emails()[1]?.text).toContain('[still open] warning: arn:aws:iam::222222222222:role/harborpilot');
  });
});
