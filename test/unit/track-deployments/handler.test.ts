/**
 * trackDeployments over a mocked ECS and a real (embedded) state table: a record finds its service deployment by
 * creation time and task definition, a blue/green deployment baking after its COMPLETED event stays open until
 * ECS says SUCCESSFUL, a service harborpilot did not deploy is left alone, a notice goes once, and the
 * serverless.yml rule routes only the deployment events that can end a deployment.
 */
import { resolve } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
} from '@aws-sdk/client-ecs';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import completed from '../../../events/ecs-deployment-completed.json';
import failed from '../../../events/ecs-deployment-failed.json';
import inProgress from '../../../events/ecs-deployment-in-progress.json';
import rollback from '../../../events/ecs-deployment-rollback.json';
import scheduled from '../../../events/scheduled.json';
import { makeHandler } from '../../../functions/trackDeployments';
import { readServerlessYml } from '../../../local/router/serverless';
import { configFromEnv } from '../../../shared/config';
import { EventValidationError } from '../../../shared/errors';
import type { DeploymentRecord } from '../../../shared/outcomes/model';
import { DeploymentStore } from '../../../shared/outcomes/store';
import { stateDocument } from '../../../shared/state/document';
import type { TrackSummary } from '../../../shared/track-deployments/handler';
import { createStateTable, startStateTable, type TestTable } from '../../support/dynalite';

const ecsMock = mockClient(ECSClient);
const sesMock = mockClient(SESv2Client);
let table: TestTable;
beforeAll(async () => {
  table = await startStateTable();
});
afterAll(() => table.stop());
beforeEach(() => {
  ecsMock.reset();
  sesMock.reset();
  sesMock.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
});

const SERVICE = 'arn:aws:ecs:us-east-1:000000000000:service/prod/api-service';
const TD = 'arn:aws:ecs:us-east-1:000000000000:task-definition/api:7';
const SD = (n: string) => `arn:aws:ecs:us-east-1:000000000000:service-deployment/prod/api-service/${n}`;
const REV = (n: string) => `arn:aws:ecs:us-east-1:000000000000:service-revision/prod/api-service/${n}`;
const DIGEST = `sha256:${'b'.repeat(64)}`;
const DEPLOYMENT = completed.detail.deploymentId;
const CREATED = '2026-11-25T10:30:00.000Z';
let run = 0;

async function setup() {
  const tableName = `track-${++run}`;
  await createStateTable(table.client, tableName);
  const config = configFromEnv({
    HARBORPILOT_CONFIG: JSON.stringify({
      stateTable: tableName,
      alerts: { from: 'harborpilot@example.com', to: ['ops@example.com'] },
      notices: { level: 'all' },
    }),
  });
  const handler = makeHandler({
    config,
    ecs: new ECSClient({ region: 'us-east-1' }),
    ses: new SESv2Client({ region: 'us-east-1' }),
    dynamodb: table.client,
    logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    sleep: async () => {},
  });
  const store = new DeploymentStore(stateDocument(table.client), tableName);
  const record: DeploymentRecord = {
    recordId: `deployment#ecs/prod/api-service#${DEPLOYMENT}`,
    workload: 'ecs/prod/api-service',
    platform: 'ecs',
    ref: DEPLOYMENT,
    cause: { kind: 'push', eventId: 'push-1' },
    pushes: [],
    changes: [{ container: 'app', fromImage: 'r/api:latest', toImage: 'r/api:latest', toDigest: DIGEST }],
    startedAt: CREATED,
    notify: 'all',
    state: 'in-progress',
    clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/prod',
    serviceArn: SERVICE,
    taskDefinitionArn: TD,
    createdAt: CREATED,
  };
  await store.record(record);
  return { handler: handler as (e: unknown) => Promise<TrackSummary>, store, record };
}

/** ECS: two service deployments 40 s apart; the one created with ours runs our task definition. */
function ecsWith(status: string) {
  ecsMock.on(ListServiceDeploymentsCommand).resolves({
    serviceDeployments: [
      {
        serviceDeploymentArn: SD('ours'),
        createdAt: new Date(CREATED),
        targetServiceRevisionArn: REV('ours'),
      },
      {
        serviceDeploymentArn: SD('later'),
        createdAt: new Date(Date.parse(CREATED) + 40_000),
        targetServiceRevisionArn: REV('later'),
      },
    ],
  });
  ecsMock.on(DescribeServiceRevisionsCommand).resolves({
    serviceRevisions: [
      {
        serviceRevisionArn: REV('ours'),
        taskDefinition: TD,
        containerImages: [{ containerName: 'app', imageDigest: DIGEST }],
      },
      { serviceRevisionArn: REV('later'), taskDefinition: `${TD.slice(0, -1)}8` },
    ],
  });
  ecsMock.on(DescribeServiceDeploymentsCommand).resolves({
    serviceDeployments: [
      {
        serviceDeploymentArn: SD('ours'),
        status: status as never,
        statusReason: status === 'SUCCESSFUL' ? 'Service deployment succeeded' : 'In bake time',
        finishedAt: status === 'SUCCESSFUL' ? new Date('2026-11-25T10:45:00Z') : undefined,
        targetServiceRevision: { arn: REV('ours') },
      },
    ],
  });
}

const atTime = (event: object, time: string) => ({ ...event, time });

describe('trackDeployments', () => {
  it('a blue/green deployment baking after its COMPLETED event stays open; settled once ECS says SUCCESSFUL', async () => {
    const { handler, store, record } = await setup();
    ecsWith('IN_PROGRESS');
    const first = await handler(completed);
    expect(first).toMatchObject({ trigger: 'ecs', open: 1, settled: [] });
    // Found by its creation time and task definition, and remembered: the next run describes it directly.
    expect((await store.records([record.recordId]))[0]).toMatchObject({
      state: 'in-progress',
      serviceDeploymentArn: SD('ours'),
    });
    ecsMock.reset();
    ecsWith('SUCCESSFUL');
    const later = await handler(atTime(scheduled, '2026-11-25T10:46:00Z'));
    expect(later.settled).toEqual([
      { workload: 'ecs/prod/api-service', deployment: DEPLOYMENT, outcome: 'completed' },
    ]);
    expect(ecsMock.commandCalls(ListServiceDeploymentsCommand)).toHaveLength(0);
    expect((await store.records([record.recordId]))[0]).toMatchObject({
      state: 'completed',
      settledAt: '2026-11-25T10:45:00.000Z',
      deployedDigests: { app: DIGEST },
    });
    // The notice waits a quiet minute, then goes once.
    await handler(atTime(scheduled, '2026-11-25T10:47:00Z'));
    await handler(atTime(scheduled, '2026-11-25T10:48:00Z'));
    expect(sesMock.commandCalls(SendEmailCommand)).toHaveLength(1);
    expect(sesMock.commandCalls(SendEmailCommand)[0]?.args[0].input.Content?.Simple?.Subject?.Data).toBe(
      '[harborpilot] a push: 1 deployed',
    );
  });

  it('a rollback event (naming the new deployment) settles the open record it rolled back, once', async () => {
    const { handler, store, record } = await setup();
    ecsWith('ROLLBACK_SUCCESSFUL');
    const first = await handler(rollback);
    expect(first.settled.map((s) => s.outcome)).toEqual(['rolled-back']);
    const again = await handler(failed);
    expect(again).toMatchObject({ open: 0, settled: [] });
    expect((await store.records([record.recordId]))[0]?.state).toBe('rolled-back');
  });

  it('an event of a service harborpilot did not deploy reads nothing from ECS', async () => {
    const { handler } = await setup();
    const other = { ...inProgress, resources: ['arn:aws:ecs:us-east-1:000000000000:service/prod/other'] };
    expect(await handler(other)).toMatchObject({ open: 0, settled: [] });
    expect(ecsMock.calls()).toHaveLength(0);
  });

  it('refuses an event it does not know, naming it', async () => {
    const { handler } = await setup();
    await expect(handler({ 'detail-type': 'ECS Task State Change' })).rejects.toThrow(EventValidationError);
    await expect(handler({ ...completed, detail: { eventName: 'X' } })).rejects.toThrow(
      /detail\.deploymentId/,
    );
  });
});

describe('serverless.yml routes to trackDeployments', () => {
  const route = readServerlessYml(resolve(__dirname, '../../../serverless.yml')).find(
    (r) => r.name === 'trackDeployments',
  );
  it('the events that can end a deployment, and not a plain deployment start', () => {
    expect(route?.matches(completed)).toBe(true);
    expect(route?.matches(failed)).toBe(true);
    expect(route?.matches(rollback)).toBe(true);
    expect(route?.matches(inProgress)).toBe(false);
    expect(route?.schedules.map((s) => s.expression)).toEqual(['rate(1 minute)']);
  });
});
