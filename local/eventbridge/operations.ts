/**
 * EventBridge's API (awsJson1_1, `AWSEvents.<Operation>`): PutEvents on a bus of the caller's account or, where
 * that bus's policy allows the caller's account, of another; event buses (CreateEventBus, DescribeEventBus,
 * ListEventBuses, DeleteEventBus) and their policies (PutPermission, RemovePermission); rules (PutRule,
 * DescribeRule, ListRules, EnableRule, DisableRule, DeleteRule) and their targets (PutTargets, ListTargetsByRule,
 * RemoveTargets). Bad PutEvents entries fail one by one in the response, as EventBridge reports them.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { coralDialect, readRequest } from '../aws/request';
import type { BusAddress, EventBus } from '../bus';
import type { SimClock } from '../clock';
import { AwsServiceError } from '../errors';
import type { JsonOperations, RequestContext } from '../types';
import {
  type Bus,
  type LocalEventBridge,
  type PolicyDocument,
  type PolicyStatement,
  parseBusArn,
  type Rule,
  type Target,
} from '.';

const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;
const MAX_TARGETS = 5;

/** EventBridge refuses a request that breaks its model as Coral does, members in lowerCamelCase. */
const eventsDialect = coralDialect({ lowerCamel: true });
/** Entries are checked one by one: a bad entry fails in the response, not the call. */
const PutEventsRequest = z.object({
  Entries: z.array(z.record(z.string(), z.unknown())).min(1).max(MAX_ENTRIES),
});
const BusName = z.string().min(1).max(1600);
const Name = z.string().min(1).max(64);
const RuleName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[.\-_A-Za-z0-9]+$/);
const NewBusName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[/.\-_A-Za-z0-9]+$/);
const CreateEventBusRequest = z.object({ Name: NewBusName, Description: z.string().max(512).optional() });
const BusRequest = z.object({ Name: BusName.optional() });
const DeleteEventBusRequest = z.object({ Name: NewBusName });
const ListEventBusesRequest = z.object({ NamePrefix: z.string().min(1).max(256).optional() });
const Condition = z.object({ Type: z.string(), Key: z.string(), Value: z.string() });
const PutPermissionRequest = z.object({
  EventBusName: BusName.optional(),
  Action: z.string().min(1).max(64).optional(),
  Principal: z
    .string()
    .min(1)
    .max(12)
    .regex(/^(\d{12}|\*)$/)
    .optional(),
  StatementId: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-zA-Z0-9-_]+$/)
    .optional(),
  Condition: Condition.optional(),
  Policy: z.string().optional(),
});
const RemovePermissionRequest = z.object({
  EventBusName: BusName.optional(),
  StatementId: z.string().min(1).max(64).optional(),
  RemoveAllPermissions: z.boolean().optional(),
});
const PutRuleRequest = z.object({
  Name: RuleName,
  EventBusName: BusName.optional(),
  EventPattern: z.string().max(4096).optional(),
  ScheduleExpression: z.string().max(256).optional(),
  State: z.enum(['ENABLED', 'DISABLED', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS']).optional(),
  Description: z.string().max(512).optional(),
  RoleArn: z.string().min(1).max(1600).optional(),
});
const RuleRequest = z.object({ Name: RuleName, EventBusName: BusName.optional() });
const DeleteRuleRequest = z.object({
  Name: RuleName,
  EventBusName: BusName.optional(),
  Force: z.boolean().optional(),
});
const ListRulesRequest = z.object({
  NamePrefix: z.string().min(1).max(64).optional(),
  EventBusName: BusName.optional(),
});
const TargetShape = z.looseObject({ Id: Name.regex(/^[.\-_A-Za-z0-9]+$/), Arn: z.string().min(1).max(1600) });
const PutTargetsRequest = z.object({
  Rule: RuleName,
  EventBusName: BusName.optional(),
  Targets: z.array(TargetShape).min(1).max(10),
});
const TargetsRequest = z.object({ Rule: RuleName, EventBusName: BusName.optional() });
const RemoveTargetsRequest = z.object({
  Rule: RuleName,
  EventBusName: BusName.optional(),
  Ids: z.array(Name).min(1).max(100),
  Force: z.boolean().optional(),
});

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

export interface EventBridgeDeps {
  bus: EventBus;
  clock: SimClock;
  eventBridge: LocalEventBridge;
  /** The caller's ARN, as AWS names it in AccessDeniedException (root user or assumed role). */
  callerArn: (ctx: RequestContext) => string;
}

const seconds = (d: Date) => d.getTime() / 1000;

export function eventBridgeOperations(deps: EventBridgeDeps): JsonOperations {
  const eb = deps.eventBridge;
  const read = <S extends z.ZodType>(schema: S, raw: unknown) => readRequest(schema, raw, eventsDialect);

  const notFound = (what: string) => new AwsServiceError('ResourceNotFoundException', what);
  const denied = (ctx: RequestContext, action: string, arn: string) =>
    new AwsServiceError(
      'AccessDeniedException',
      `User: ${deps.callerArn(ctx)} is not authorized to perform: events:${action} on resource: ${arn} because no resource-based policy allows the events:${action} action`,
    );
  /** A name or an ARN, as the EventBusName members take them. */
  const address = (name: string | undefined, ctx: RequestContext): BusAddress =>
    (name !== undefined ? parseBusArn(name) : undefined) ?? {
      account: ctx.accountId,
      region: ctx.region,
      name: name ?? 'default',
    };
  /** A bus of the caller's own account, to manage (rules, targets, policy). */
  const ownBus = (name: string | undefined, ctx: RequestContext, action: string): Bus => {
    const at = address(name, ctx);
    const bus = eb.find(at);
    if (at.account !== ctx.accountId || at.region !== ctx.region) {
      throw denied(ctx, action, bus?.arn ?? String(name));
    }
    if (!bus) throw notFound(`Event bus ${at.name} does not exist.`);
    return bus;
  };
  const rule = (bus: Bus, name: string): Rule => {
    const r = bus.rules.get(name);
    if (!r) throw notFound(`Rule ${name} does not exist on EventBus ${bus.name}.`);
    return r;
  };
  const busView = (bus: Bus) => ({
    Name: bus.name,
    Arn: bus.arn,
    ...(bus.description !== undefined ? { Description: bus.description } : {}),
    ...(bus.policy ? { Policy: JSON.stringify(bus.policy) } : {}),
    CreationTime: seconds(bus.createdAt),
    LastModifiedTime: seconds(bus.modifiedAt),
  });
  const ruleView = (r: Rule) => ({
    Name: r.name,
    Arn: r.arn,
    ...(r.eventPattern !== undefined ? { EventPattern: r.eventPattern } : {}),
    ...(r.scheduleExpression !== undefined ? { ScheduleExpression: r.scheduleExpression } : {}),
    State: r.state,
    ...(r.description !== undefined ? { Description: r.description } : {}),
    ...(r.roleArn !== undefined ? { RoleArn: r.roleArn } : {}),
    EventBusName: r.bus.name,
  });

  return {
    PutEvents: (input, ctx) => putEvents(deps, input, ctx, denied),

    CreateEventBus: (input, ctx) => {
      const req = read(CreateEventBusRequest, input);
      if (req.Name === 'default' || req.Name.includes('/'))
        throw new AwsServiceError('ValidationException', `Event bus name ${req.Name} is not valid.`);
      const bus = eb.create({ account: ctx.accountId, region: ctx.region, name: req.Name }, req.Description);
      return {
        EventBusArn: bus.arn,
        ...(bus.description !== undefined ? { Description: bus.description } : {}),
      };
    },
    DescribeEventBus: (input, ctx) => {
      const req = read(BusRequest, input);
      return busView(ownBus(req.Name, ctx, 'DescribeEventBus'));
    },
    ListEventBuses: (input, ctx) => {
      const req = read(ListEventBusesRequest, input);
      return {
        EventBuses: eb
          .list(ctx.accountId, ctx.region)
          .filter((b) => req.NamePrefix === undefined || b.name.startsWith(req.NamePrefix))
          .map(busView),
      };
    },
    DeleteEventBus: (input, ctx) => {
      const req = read(DeleteEventBusRequest, input);
      if (req.Name === 'default')
        throw new AwsServiceError('ValidationException', 'Cannot delete event bus default.');
      const bus = eb.find({ account: ctx.accountId, region: ctx.region, name: req.Name });
      // AWS answers a missing bus with success, as a delete that has nothing left to do.
      if (bus) eb.delete(bus);
      return {};
    },

    PutPermission: (input, ctx) => {
      const req = read(PutPermissionRequest, input);
      const bus = ownBus(req.EventBusName, ctx, 'PutPermission');
      if (req.Policy !== undefined) {
        bus.policy = readPolicy(req.Policy);
      } else {
        if (req.Action === undefined || req.Principal === undefined || req.StatementId === undefined)
          throw new AwsServiceError(
            'ValidationException',
            'Parameter(s) Action, Principal and StatementId must be specified if Policy is not specified.',
          );
        if (req.Action !== 'events:PutEvents')
          throw new AwsServiceError(
            'ValidationException',
            "Provided value in parameter 'action' is not supported.",
          );
        if (req.Condition && req.Principal !== '*')
          throw new AwsServiceError(
            'ValidationException',
            "Condition can only be set when principal is '*'.",
          );
        const statements = (bus.policy?.Statement ?? []).filter((s) => s.Sid !== req.StatementId);
        statements.push({
          Sid: req.StatementId,
          Effect: 'Allow',
          Principal: req.Principal === '*' ? '*' : { AWS: `arn:aws:iam::${req.Principal}:root` },
          Action: 'events:PutEvents',
          Resource: bus.arn,
          ...(req.Condition
            ? { Condition: { [req.Condition.Type]: { [req.Condition.Key]: req.Condition.Value } } }
            : {}),
        });
        bus.policy = { Version: '2012-10-17', Statement: statements };
      }
      bus.modifiedAt = deps.clock.now();
      return {};
    },
    RemovePermission: (input, ctx) => {
      const req = read(RemovePermissionRequest, input);
      const bus = ownBus(req.EventBusName, ctx, 'RemovePermission');
      if (req.RemoveAllPermissions) {
        delete bus.policy;
      } else {
        const statements = bus.policy?.Statement ?? [];
        if (req.StatementId === undefined || !statements.some((s) => s.Sid === req.StatementId))
          throw notFound('Statement with the provided id does not exist.');
        const left = statements.filter((s) => s.Sid !== req.StatementId);
        if (left.length > 0) bus.policy = { Version: '2012-10-17', Statement: left };
        else delete bus.policy;
      }
      bus.modifiedAt = deps.clock.now();
      return {};
    },

    PutRule: (input, ctx) => {
      const req = read(PutRuleRequest, input);
      const bus = ownBus(req.EventBusName, ctx, 'PutRule');
      if (req.EventPattern === undefined && req.ScheduleExpression === undefined)
        throw new AwsServiceError(
          'ValidationException',
          'Parameter(s) EventPattern or ScheduleExpression must be specified.',
        );
      if (req.ScheduleExpression !== undefined && bus.name !== 'default')
        throw new AwsServiceError(
          'ValidationException',
          'ScheduleExpression is supported only on the default event bus.',
        );
      const r = eb.putRule(bus, {
        name: req.Name,
        eventPattern: req.EventPattern,
        scheduleExpression: req.ScheduleExpression,
        description: req.Description,
        roleArn: req.RoleArn,
        state: req.State === 'DISABLED' ? 'DISABLED' : req.State === undefined ? undefined : 'ENABLED',
      });
      return { RuleArn: r.arn };
    },
    DescribeRule: (input, ctx) => {
      const req = read(RuleRequest, input);
      const r = rule(ownBus(req.EventBusName, ctx, 'DescribeRule'), req.Name);
      return { ...ruleView(r), CreatedBy: r.bus.account };
    },
    ListRules: (input, ctx) => {
      const req = read(ListRulesRequest, input);
      const bus = ownBus(req.EventBusName, ctx, 'ListRules');
      return {
        Rules: [...bus.rules.values()]
          .filter((r) => req.NamePrefix === undefined || r.name.startsWith(req.NamePrefix))
          .sort((a, b) => (a.name < b.name ? -1 : 1))
          .map(ruleView),
      };
    },
    EnableRule: (input, ctx) => {
      const req = read(RuleRequest, input);
      rule(ownBus(req.EventBusName, ctx, 'EnableRule'), req.Name).state = 'ENABLED';
      return {};
    },
    DisableRule: (input, ctx) => {
      const req = read(RuleRequest, input);
      rule(ownBus(req.EventBusName, ctx, 'DisableRule'), req.Name).state = 'DISABLED';
      return {};
    },
    DeleteRule: (input, ctx) => {
      const req = read(DeleteRuleRequest, input);
      const bus = ownBus(req.EventBusName, ctx, 'DeleteRule');
      const r = bus.rules.get(req.Name);
      if (!r) return {}; // deleting a rule that is not there succeeds, as on AWS
      if (r.targets.size > 0)
        throw new AwsServiceError('ValidationException', "Rule can't be deleted since it has targets.");
      bus.rules.delete(r.name);
      return {};
    },

    PutTargets: (input, ctx) => {
      const req = read(PutTargetsRequest, input);
      const r = rule(ownBus(req.EventBusName, ctx, 'PutTargets'), req.Rule);
      const failed: { TargetId: string; ErrorCode: string; ErrorMessage: string }[] = [];
      for (const target of req.Targets as Target[]) {
        const isNew = !r.targets.has(target.Id);
        if (isNew && r.targets.size >= MAX_TARGETS) {
          throw new AwsServiceError(
            'LimitExceededException',
            `The requested resource exceeds the maximum number allowed.`,
          );
        }
        const to = parseBusArn(target.Arn);
        if (target.Arn.includes(':event-bus/') && !to) {
          failed.push({
            TargetId: target.Id,
            ErrorCode: 'ValidationException',
            ErrorMessage: `Target ${target.Arn} is not a valid event bus ARN.`,
          });
          continue;
        }
        r.targets.set(target.Id, { ...target });
      }
      return { FailedEntryCount: failed.length, FailedEntries: failed };
    },
    ListTargetsByRule: (input, ctx) => {
      const req = read(TargetsRequest, input);
      const r = rule(ownBus(req.EventBusName, ctx, 'ListTargetsByRule'), req.Rule);
      return { Targets: [...r.targets.values()] };
    },
    RemoveTargets: (input, ctx) => {
      const req = read(RemoveTargetsRequest, input);
      const r = rule(ownBus(req.EventBusName, ctx, 'RemoveTargets'), req.Rule);
      for (const id of req.Ids) r.targets.delete(id);
      return { FailedEntryCount: 0, FailedEntries: [] };
    },
  };
}

/** The `Policy` form of PutPermission: a whole policy document, replacing the bus's. */
function readPolicy(text: string): PolicyDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new AwsServiceError('MalformedPolicyDocumentException', 'Policy is not a valid JSON document.');
  }
  const statements = (doc as { Statement?: unknown })?.Statement;
  const list = Array.isArray(statements) ? statements : statements ? [statements] : [];
  const valid = list.every(
    (s: Partial<PolicyStatement>) =>
      (s.Effect === 'Allow' || s.Effect === 'Deny') && s.Principal !== undefined && s.Action !== undefined,
  );
  if (list.length === 0 || !valid)
    throw new AwsServiceError(
      'MalformedPolicyDocumentException',
      'Each statement of the policy needs Effect, Principal and Action.',
    );
  return { Version: '2012-10-17', Statement: list as PolicyStatement[] };
}

function putEvents(
  deps: EventBridgeDeps,
  raw: unknown,
  ctx: RequestContext,
  denied: (ctx: RequestContext, action: string, arn: string) => AwsServiceError,
) {
  const entries = readRequest(PutEventsRequest, raw, eventsDialect).Entries;
  if (Buffer.byteLength(JSON.stringify(entries)) > MAX_REQUEST_BYTES) {
    throw new AwsServiceError(
      'ValidationException',
      'Total size of the entries in the request is over the limit.',
    );
  }
  // Another account's bus that does not let the caller's account in fails the whole call, before any entry.
  for (const entry of entries) {
    const at = typeof entry.EventBusName === 'string' ? parseBusArn(entry.EventBusName) : undefined;
    if (!at || at.account === ctx.accountId) continue;
    const bus = deps.eventBridge.find(at);
    if (!bus || !deps.eventBridge.access(bus, ctx.accountId).allowed) {
      throw denied(ctx, 'PutEvents', String(entry.EventBusName));
    }
  }
  const results = entries.map((entry) => putEntry(deps, entry, ctx));
  return {
    FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length,
    Entries: results,
  };
}

function putEntry(deps: EventBridgeDeps, entry: Record<string, unknown>, ctx: RequestContext): EntryResult {
  const fail = (ErrorCode: string, ErrorMessage: string): EntryResult => ({ ErrorCode, ErrorMessage });
  const { Source, DetailType, Detail, Resources, Time, EventBusName } = entry;
  if (typeof Source !== 'string' || Source === '') {
    return fail('InvalidArgument', 'Parameter Source is not valid. Reason: Source is a required argument.');
  }
  if (typeof DetailType !== 'string' || DetailType === '') {
    return fail(
      'InvalidArgument',
      'Parameter DetailType is not valid. Reason: DetailType is a required argument.',
    );
  }
  // Only AWS services may publish `aws.*` events; tests that need one publish on the bus directly.
  if (Source.startsWith('aws.'))
    return fail('NotAuthorizedForSourceException', 'Not authorized for the source.');
  const name = typeof EventBusName === 'string' && EventBusName !== '' ? EventBusName : 'default';
  const at = parseBusArn(name) ?? { account: ctx.accountId, region: ctx.region, name };
  if (!deps.eventBridge.find(at)) {
    return fail('ResourceNotFoundException', `Event bus ${at.name} does not exist.`);
  }
  let detail: unknown;
  try {
    detail = typeof Detail === 'string' ? JSON.parse(Detail) : undefined;
  } catch {
    detail = undefined;
  }
  if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) {
    return fail('MalformedDetail', 'Detail is malformed.');
  }
  const time = typeof Time === 'number' ? new Date(Time * 1000) : deps.clock.now();
  const id = randomUUID();
  // The envelope names the caller's account and region, whichever bus the event is put on.
  deps.bus.publishEvent(
    {
      version: '0',
      id,
      'detail-type': DetailType,
      source: Source,
      account: ctx.accountId,
      time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: ctx.region,
      resources: Array.isArray(Resources) ? Resources.map(String) : [],
      detail: detail as Record<string, unknown>,
    },
    at,
  );
  return { EventId: id };
}
