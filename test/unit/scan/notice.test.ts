/** The scan gate's notices: one email per newly held image, none for one told already, and a failed send undone. */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeImageScanFindingsCommand, ECRClient } from '@aws-sdk/client-ecr';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ImagePush } from '../../../shared/events/image-push';
import type { PlanGates, PlannedHold } from '../../../shared/holds/plan-holds';
import { prepareScanGate } from '../../../shared/scan/gate';
import { noticeScanHolds } from '../../../shared/scan/notice';
import { ScanRecords } from '../../../shared/scan/store';

const dynamo = mockClient(DynamoDBDocumentClient);
const ecrMock = mockClient(ECRClient);
const sesMock = mockClient(SESv2Client);
const REGISTRY = '000000000000.dkr.ecr.us-east-1.amazonaws.com';
const DIGEST = `sha256:${'e'.repeat(64)}` as const;
const IMAGE = `000000000000/us-east-1/shop/api@${DIGEST}`;
const repository = { accountId: '000000000000', region: 'us-east-1', repositoryName: 'shop/api' };
const push: ImagePush = {
  repository,
  tag: 'latest',
  digest: DIGEST,
  scan: { status: 'COMPLETE', counts: { CRITICAL: 2, HIGH: 3 } },
};
const change = {
  containerName: 'app',
  fromImage: `${REGISTRY}/shop/api:latest`,
  toImage: `${REGISTRY}/shop/api:latest`,
  toDigest: DIGEST,
};
const workloads = ['api', 'worker'].map((service) => ({
  platform: 'ecs' as const,
  cluster: 'prod',
  service,
}));

function planned(told = false): { holds: PlannedHold[]; gated: PlanGates } {
  const scan = prepareScanGate(
    { config: { holdAtSeverity: 'CRITICAL', holdFailedScans: true }, pushes: [push] },
    workloads.map((workload) => ({ workload, changes: [change] })),
  );
  const scans = new Map(
    told
      ? [
          [
            IMAGE,
            { image: IMAGE, repository, digest: DIGEST, tags: [], reason: 'x', heldAt: 'x', workloads: [] },
          ],
        ]
      : [],
  );
  return {
    holds: workloads.map((workload) => ({
      workload,
      hold: { gate: 'scan', reason: 'held' },
      action: {},
      changes: [change],
    })),
    gated: { gates: [], state: { freezes: new Map(), approvals: new Map(), scans }, problems: [], scan },
  };
}

const deps = () => ({
  records: new ScanRecords(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })), 'state'),
  ecr: new ECRClient({ region: 'us-east-1' }),
  ses: new SESv2Client({ region: 'us-east-1' }),
  alerts: { from: 'harborpilot@example.com', to: ['security@example.com'] },
  logger: new Logger({ logLevel: 'SILENT' }),
  heldBy: 'redeployEcs',
});

beforeEach(() => {
  dynamo.reset();
  ecrMock.reset();
  sesMock.reset();
  ecrMock.on(DescribeImageScanFindingsCommand).resolves({
    imageScanFindings: {
      findings: [
        { name: 'CVE-LOW', severity: 'LOW' },
        { name: 'CVE-B', severity: 'CRITICAL', attributes: [{ key: 'package_name', value: 'openssl' }] },
        { name: 'CVE-A', severity: 'CRITICAL' },
        { name: 'CVE-H', severity: 'HIGH' },
      ],
    },
  });
});

describe('noticeScanHolds', () => {
  it('writes the image item once and sends one email for two held workloads, with the findings at the threshold', async () => {
    dynamo.on(PutCommand).resolves({});
    sesMock.on(SendEmailCommand).resolves({ MessageId: 'm1' });
    const { holds, gated } = planned();
    const failures = await noticeScanHolds(deps(), holds, gated, new Date('2026-12-01T10:00:00Z'), 'e1');
    expect(failures).toEqual([]);
    const put = dynamo.commandCalls(PutCommand)[0]?.args[0].input;
    expect(put?.ConditionExpression).toBe('attribute_not_exists(id)');
    expect(put?.Item).toMatchObject({
      id: `scan#${IMAGE}`,
      tags: ['latest'],
      workloads: ['ecs/prod/api', 'ecs/prod/worker'],
    });
    const sent = sesMock.commandCalls(SendEmailCommand);
    expect(sent).toHaveLength(1);
    const text = sent[0]?.args[0].input.Content?.Simple?.Body?.Text?.Data ?? '';
    expect(text).toContain('- CRITICAL CVE-A\n- CRITICAL CVE-B in openssl');
    expect(text).not.toContain('CVE-H');
  });

  it('an image told before (its item read with the holds, or written by another function first) sends nothing', async () => {
    const told = planned(true);
    expect(await noticeScanHolds(deps(), told.holds, told.gated, new Date(), 'e2')).toEqual([]);
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(0);
    dynamo
      .on(PutCommand)
      .rejects(Object.assign(new Error('exists'), { name: 'ConditionalCheckFailedException' }));
    const raced = planned();
    expect(await noticeScanHolds(deps(), raced.holds, raced.gated, new Date(), 'e3')).toEqual([]);
    expect(sesMock.commandCalls(SendEmailCommand)).toHaveLength(0);
  });

  it('a send SES refuses removes the item (so the retry tells the team) and is a failure of the invocation', async () => {
    dynamo.on(PutCommand).resolves({});
    dynamo.on(DeleteCommand).resolves({});
    sesMock
      .on(SendEmailCommand)
      .rejects(Object.assign(new Error('Daily message quota exceeded.'), { name: 'LimitExceededException' }));
    const { holds, gated } = planned();
    const failures = await noticeScanHolds(deps(), holds, gated, new Date(), 'e4');
    expect(failures).toEqual([
      {
        item: 'scan hold email for shop/api@sha256:eeeeeeeeeeee',
        error: 'LimitExceededException: Daily message quota exceeded.',
      },
    ]);
    expect(dynamo.commandCalls(DeleteCommand)[0]?.args[0].input).toMatchObject({
      Key: { id: `scan#${IMAGE}` },
      ConditionExpression: 'attribute_not_exists(releasedAt)',
    });
  });
});
