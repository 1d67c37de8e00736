/**
 * EventBridge across accounts in the local cloud, through the AWS SDK: buses and their policies, rules in a member
 * account forwarding its ECS events to the hub's default bus (where the functions listen) when the hub's policy
 * lets that account in, cross-account PutEvents, and the older delivery of worlds without an `eventBridge:` section.
 */
import {
  CreateEventBusCommand,
  DeleteEventBusCommand,
  DeleteRuleCommand,
  DescribeEventBusCommand,
  DescribeRuleCommand,
  EventBridgeClient,
  ListEventBusesCommand,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutPermissionCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemovePermissionCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../../local/bus';
import { createLocalCloud, type LocalCloud } from '../../../local/cloud';

const HUB = '000000000000';
const STAGING = '111111111111';
const STRANGER = '222222222222';
const ORG = 'o-a1b2c3d4e5';
const HUB_BUS = `arn:aws:events:us-east-1:${HUB}:event-bus/default`;

const ecsEvent = (account: string, region = 'us-east-1') => ({
  source: 'aws.ecs',
  detailType: 'ECS Task State Change',
  account,
  region,
  resources: [`arn:aws:ecs:${region}:${account}:task/shop/abc`],
  detail: { lastStatus: 'STOPPED', clusterArn: `arn:aws:ecs:${region}:${account}:cluster/shop` },
});

/** Lets queued microtasks (deliveries, forwards) run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

function events(cloud: LocalCloud, key: string, region = 'us-east-1') {
  return new EventBridgeClient({
    endpoint: cloud.endpoint,
    region,
    credentials: { accessKeyId: key, secretAccessKey: 'x' },
    maxAttempts: 1,
  });
}

describe('an organisation declared in the world', () => {
  let cloud: LocalCloud;
  const received: CloudEvent[] = [];
  beforeAll(async () => {
    cloud = await createLocalCloud({
      speed: 0,
      startRouter: false,
      world: {
        accounts: [
          { accountId: STAGING, accessKeys: ['staging'] },
          { accountId: STRANGER, accessKeys: ['stranger'] },
        ],
        organization: { id: ORG, accounts: [HUB, STAGING] },
        eventBridge: {
          buses: [
            {
              permissions: [
                {
                  statementId: 'org',
                  principal: '*',
                  condition: { type: 'StringEquals', key: 'aws:PrincipalOrgID', value: ORG },
                },
              ],
            },
          ],
          rules: [
            {
              accountId: STAGING,
              name: 'to-hub',
              eventPattern: { source: ['aws.ecs', 'aws.ecr'] },
              targets: [{ id: 'hub', arn: HUB_BUS, roleArn: `arn:aws:iam::${STAGING}:role/forward` }],
            },
          ],
        },
      },
    });
    cloud.eventBridge.subscribeFunctions((e) => received.push(e));
  });
  afterAll(() => cloud?.stop());

  it("forwards a member account's ECS event to the hub's bus with its envelope unchanged; the functions get it", async () => {
    const sent = cloud.bus.publish(ecsEvent(STAGING));
    cloud.bus.publish(ecsEvent(STRANGER)); // no rule forwards the stranger's events
    await settle();
    expect(received).toEqual([sent]);
    expect(received[0]).toMatchObject({ account: STAGING, region: 'us-east-1', source: 'aws.ecs' });
    expect(cloud.eventBridge.arrivals.filter((a) => a.event.id === sent.id)).toEqual([
      { event: sent, bus: `arn:aws:events:us-east-1:${STAGING}:event-bus/default` },
      {
        event: sent,
        bus: HUB_BUS,
        from: `arn:aws:events:us-east-1:${STAGING}:event-bus/default`,
        rule: `arn:aws:events:us-east-1:${STAGING}:rule/to-hub`,
      },
    ]);
    // The hub's own events reach the functions directly.
    const own = cloud.bus.publish(ecsEvent(HUB));
    await settle();
    expect(received.at(-1)).toEqual(own);
  });

  it('shows the policy, and refuses an account outside the organisation until the hub lets it in by id', async () => {
    const hub = events(cloud, 'test');
    const described = await hub.send(new DescribeEventBusCommand({}));
    expect(described.Arn).toBe(HUB_BUS);
    expect(JSON.parse(described.Policy ?? '{}')).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'org',
          Effect: 'Allow',
          Principal: '*',
          Action: 'events:PutEvents',
          Resource: HUB_BUS,
          Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG } },
        },
      ],
    });

    const stranger = events(cloud, 'stranger');
    const rule = await stranger.send(
      new PutRuleCommand({ Name: 'to-hub', EventPattern: JSON.stringify({ source: ['aws.ecs'] }) }),
    );
    expect(rule.RuleArn).toBe(`arn:aws:events:us-east-1:${STRANGER}:rule/to-hub`);
    await stranger.send(new PutTargetsCommand({ Rule: 'to-hub', Targets: [{ Id: 'hub', Arn: HUB_BUS }] }));
    expect((await stranger.send(new ListTargetsByRuleCommand({ Rule: 'to-hub' }))).Targets).toEqual([
      { Id: 'hub', Arn: HUB_BUS },
    ]);
    expect(await stranger.send(new DescribeRuleCommand({ Name: 'to-hub' }))).toMatchObject({
      Name: 'to-hub',
      EventPattern: '{"source":["aws.ecs"]}',
      State: 'ENABLED',
      EventBusName: 'default',
    });

    const count = received.length;
    const refused = cloud.bus.publish(ecsEvent(STRANGER));
    await settle();
    expect(received).toHaveLength(count);
    expect(cloud.eventBridge.failedForwards.at(-1)).toMatchObject({
      event: refused,
      target: HUB_BUS,
      reason: `the policy of ${HUB_BUS} does not allow account ${STRANGER}`,
    });

    await hub.send(
      new PutPermissionCommand({ Action: 'events:PutEvents', Principal: STRANGER, StatementId: 'stranger' }),
    );
    const allowed = cloud.bus.publish(ecsEvent(STRANGER));
    await settle();
    expect(received.at(-1)).toEqual(allowed);

    await hub.send(new RemovePermissionCommand({ StatementId: 'stranger' }));
    cloud.bus.publish(ecsEvent(STRANGER));
    await settle();
    expect(received.at(-1)).toEqual(allowed);
    await expect(hub.send(new RemovePermissionCommand({ StatementId: 'stranger' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });

    await expect(stranger.send(new DeleteRuleCommand({ Name: 'to-hub' }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: "Rule can't be deleted since it has targets.",
    });
    await stranger.send(new RemoveTargetsCommand({ Rule: 'to-hub', Ids: ['hub'] }));
    await stranger.send(new DeleteRuleCommand({ Name: 'to-hub' }));
    expect((await stranger.send(new ListRulesCommand({}))).Rules).toEqual([]);
  });

  it('needs a RoleArn on a target let in through the organisation, as AWS does', async () => {
    const staging = events(cloud, 'staging');
    await staging.send(
      new PutRuleCommand({ Name: 'no-role', EventPattern: JSON.stringify({ source: ['my.app'] }) }),
    );
    await staging.send(new PutTargetsCommand({ Rule: 'no-role', Targets: [{ Id: 'hub', Arn: HUB_BUS }] }));
    const event = cloud.bus.publish({ ...ecsEvent(STAGING), source: 'my.app' });
    await settle();
    expect(cloud.eventBridge.failedForwards.at(-1)).toMatchObject({
      event,
      reason: 'allowed through the organization: the target needs a RoleArn',
    });
    expect(received.some((e) => e.id === event.id)).toBe(false);
  });

  it("puts events on another account's bus only where its policy allows the caller's account", async () => {
    const entry = { Source: 'my.app', DetailType: 'Hello', Detail: '{"n":1}', EventBusName: HUB_BUS };
    const put = await events(cloud, 'staging').send(new PutEventsCommand({ Entries: [entry] }));
    expect(put.FailedEntryCount).toBe(0);
    await settle();
    expect(received.at(-1)).toMatchObject({
      id: put.Entries?.[0]?.EventId,
      account: STAGING,
      detail: { n: 1 },
    });

    await expect(
      events(cloud, 'stranger').send(new PutEventsCommand({ Entries: [entry] })),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: `User: arn:aws:iam::${STRANGER}:root is not authorized to perform: events:PutEvents on resource: ${HUB_BUS} because no resource-based policy allows the events:PutEvents action`,
    });
  });

  it('creates, lists and deletes buses per account and region; events on a custom bus stay off the hub', async () => {
    const staging = events(cloud, 'staging', 'eu-west-1');
    const created = await staging.send(new CreateEventBusCommand({ Name: 'audit' }));
    expect(created.EventBusArn).toBe(`arn:aws:events:eu-west-1:${STAGING}:event-bus/audit`);
    await expect(staging.send(new CreateEventBusCommand({ Name: 'audit' }))).rejects.toMatchObject({
      name: 'ResourceAlreadyExistsException',
      message: 'Event bus audit already exists.',
    });
    const names = (await staging.send(new ListEventBusesCommand({}))).EventBuses?.map((b) => b.Name);
    expect(names).toEqual(['default', 'audit']);
    expect((await events(cloud, 'staging').send(new ListEventBusesCommand({}))).EventBuses).toHaveLength(1);

    const count = received.length;
    const put = await staging.send(
      new PutEventsCommand({
        Entries: [{ Source: 'my.app', DetailType: 'X', Detail: '{}', EventBusName: 'audit' }],
      }),
    );
    expect(put.FailedEntryCount).toBe(0);
    const missing = await staging.send(
      new PutEventsCommand({
        Entries: [{ Source: 'my.app', DetailType: 'X', Detail: '{}', EventBusName: 'nope' }],
      }),
    );
    expect(missing.Entries?.[0]).toEqual({
      ErrorCode: 'ResourceNotFoundException',
      ErrorMessage: 'Event bus nope does not exist.',
    });
    await settle();
    expect(received).toHaveLength(count);
    expect(cloud.eventBridge.arrivals.at(-1)?.bus).toBe(created.EventBusArn);

    await staging.send(new DeleteEventBusCommand({ Name: 'audit' }));
    expect((await staging.send(new ListEventBusesCommand({}))).EventBuses?.map((b) => b.Name)).toEqual([
      'default',
    ]);
    await expect(staging.send(new DescribeEventBusCommand({ Name: 'audit' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});

describe('a world without an eventBridge section', () => {
  it("keeps the older delivery: every account's default-bus events reach the functions", async () => {
    const cloud = await createLocalCloud({
      speed: 0,
      startRouter: false,
      world: { accounts: [{ accountId: STAGING, accessKeys: ['staging'] }] },
    });
    try {
      const received: CloudEvent[] = [];
      cloud.eventBridge.subscribeFunctions((e) => received.push(e));
      const a = cloud.bus.publish(ecsEvent(STAGING));
      const b = cloud.bus.publish(ecsEvent(HUB, 'eu-west-1'));
      await settle();
      expect(received).toEqual([a, b]);
    } finally {
      await cloud.stop();
    }
  });
});

describe('the eventBridge world section', () => {
  it('names the field of a bad pattern or an undeclared bus', async () => {
    const rule = { name: 'r', eventPattern: { source: [] }, bus: 'default' };
    await expect(
      createLocalCloud({ speed: 0, startRouter: false, world: { eventBridge: { rules: [rule] } } }),
    ).rejects.toThrow(
      /eventBridge\.rules\.0\.eventPattern: Event pattern is not valid\. Reason: Empty arrays are not allowed/,
    );
    await expect(
      createLocalCloud({
        speed: 0,
        startRouter: false,
        world: { eventBridge: { rules: [{ ...rule, eventPattern: { source: ['a'] }, bus: 'audit' }] } },
      }),
    ).rejects.toThrow(
      /eventBridge\.rules\.0\.bus: event bus audit is not declared in account 000000000000, us-east-1/,
    );
  });
});
