/**
 * EventBridge PutEvents on the default bus: each valid entry becomes an event in EventBridge's
 * envelope on the local bus (where the router matches it against the functions' patterns). Bad
 * entries fail one by one in the response, as EventBridge reports them, not the whole call.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { coralDialect, readRequest } from './aws/request';
import type { EventBus } from './bus';
import type { SimClock } from './clock';
import { AwsServiceError } from './errors';
import type { JsonOperations, RequestContext } from './types';

const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;

/** EventBridge refuses a request that breaks its model as Coral does, members in lowerCamelCase. */
const eventsDialect = coralDialect({ lowerCamel: true });
/** Entries are checked one by one: a bad entry fails in the response, not the call. */
const PutEventsRequest = z.object({
  Entries: z.array(z.record(z.string(), z.unknown())).min(1).max(MAX_ENTRIES),
});

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

export function eventBridgeOperations(bus: EventBus, clock: SimClock): JsonOperations {
  return {
    PutEvents: (input, ctx) => putEvents(bus, clock, input, ctx),
  };
}

function putEvents(bus: EventBus, clock: SimClock, raw: unknown, ctx: RequestContext) {
  const entries = readRequest(PutEventsRequest, raw, eventsDialect).Entries;
  if (Buffer.byteLength(JSON.stringify(entries)) > MAX_REQUEST_BYTES) {
    throw new AwsServiceError(
      'ValidationException',
      'Total size of the entries in the request is over the limit.',
    );
  }
  const results = entries.map((entry) => putEntry(bus, clock, entry, ctx));
  return {
    FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length,
    Entries: results,
  };
}

function putEntry(
  bus: EventBus,
  clock: SimClock,
  entry: Record<string, unknown>,
  ctx: RequestContext,
): EntryResult {
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
  if (EventBusName !== undefined && !isDefaultBus(EventBusName, ctx)) {
    return fail('ResourceNotFoundException', `Event bus ${String(EventBusName)} does not exist.`);
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
  const time = typeof Time === 'number' ? new Date(Time * 1000) : clock.now();
  const id = randomUUID();
  bus.publishEvent({
    version: '0',
    id,
    'detail-type': DetailType,
    source: Source,
    account: ctx.accountId,
    time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: ctx.region,
    resources: Array.isArray(Resources) ? Resources.map(String) : [],
    detail: detail as Record<string, unknown>,
  });
  return { EventId: id };
}

function isDefaultBus(name: unknown, ctx: RequestContext): boolean {
  return name === 'default' || name === `arn:aws:events:${ctx.region}:${ctx.accountId}:event-bus/default`;
}
