/**
 * DynamoDB for the local cloud: dynalite (an in-memory implementation of the DynamoDB API), one
 * store per account and region as on AWS, called in-process (no second port). dynalite speaks the
 * protocol itself, so requests pass through untouched, except the TTL settings it lacks: the state
 * store's table declares a TTL attribute, so UpdateTimeToLive/DescribeTimeToLive are answered here.
 * Expired items are not deleted (AWS takes up to days to do it; readers must check expiry anyway).
 */
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import type { DescribeTimeToLiveOutput, UpdateTimeToLiveOutput } from '@aws-sdk/client-dynamodb';
// @ts-expect-error dynalite ships no types
import dynalite from 'dynalite';
import * as z from 'zod';
import { coralDialect, readRequest } from './aws/request';
import type { Wire } from './aws/response';
import { AccountRegionStore, type Scope } from './aws/store';
import { AwsServiceError } from './errors';

export interface DynamoResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

type Handler = (req: unknown, res: unknown) => void;

interface Store {
  handle: Handler;
  /** Table name → TTL attribute (absent: disabled). */
  ttl: Map<string, string>;
}

/** DynamoDB words its model errors as Coral does, naming members in lowerCamelCase. */
const dynamoDialect = coralDialect({ lowerCamel: true });
const TableName = z.string().min(3).max(255);
const DescribeTimeToLiveInput = z.object({ TableName });
const UpdateTimeToLiveInput = z.object({
  TableName,
  TimeToLiveSpecification: z.object({ Enabled: z.boolean(), AttributeName: z.string().min(1).max(255) }),
});

export class LocalDynamoDb {
  /** One dynalite per account and region, as each has its own tables on AWS. */
  private readonly stores = new AccountRegionStore<Store>(() => {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    const [handle] = server.listeners('request') as Handler[];
    if (!handle) throw new Error('dynalite: no request handler');
    return { handle, ttl: new Map() };
  });

  /** Runs one DynamoDB request (`operation` from X-Amz-Target) in the account and region's store. */
  async call(
    where: Scope,
    operation: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): Promise<DynamoResponse> {
    const store = this.stores.of(where);
    if (operation === 'UpdateTimeToLive' || operation === 'DescribeTimeToLive') {
      return this.timeToLive(store, operation, headers, body);
    }
    return invoke(store.handle, headers, body);
  }

  /**
   * A call from inside the local cloud (creating the state table at start-up), signed the way
   * dynalite checks: it wants a SigV4-looking header, not a valid signature.
   */
  async send(
    where: Scope,
    operation: string,
    input: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    const headers: IncomingHttpHeaders = {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${operation}`,
      'x-amz-date': date,
      authorization: `AWS4-HMAC-SHA256 Credential=local/${date.slice(0, 8)}/${where.region}/dynamodb/aws4_request, SignedHeaders=host, Signature=local`,
    };
    const out = await this.call(where, operation, headers, Buffer.from(JSON.stringify(input)));
    const body = JSON.parse(out.body || '{}') as Record<string, unknown>;
    if (out.status !== 200) {
      throw new Error(`DynamoDB ${operation} failed: ${String(body.__type)}: ${String(body.message)}`);
    }
    return body;
  }

  private async timeToLive(
    store: Store,
    operation: 'UpdateTimeToLive' | 'DescribeTimeToLive',
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): Promise<DynamoResponse> {
    let raw: unknown;
    try {
      raw = JSON.parse(body.toString('utf8') || '{}');
    } catch {
      return error('com.amazon.coral.service#', 'SerializationException', 'Malformed JSON request body.');
    }
    try {
      if (operation === 'DescribeTimeToLive') {
        const input = readRequest(DescribeTimeToLiveInput, raw, dynamoDialect);
        return (
          (await this.tableMissing(store, headers, input.TableName)) ?? json(describe(store, input.TableName))
        );
      }
      const input = readRequest(UpdateTimeToLiveInput, raw, dynamoDialect);
      const missing = await this.tableMissing(store, headers, input.TableName);
      if (missing) return missing;
      const spec = input.TimeToLiveSpecification;
      if (spec.Enabled === store.ttl.has(input.TableName)) {
        return error(
          'com.amazonaws.dynamodb.v20120810#',
          'ValidationException',
          `TimeToLive is already ${spec.Enabled ? 'enabled' : 'disabled'}`,
        );
      }
      if (spec.Enabled) store.ttl.set(input.TableName, spec.AttributeName);
      else store.ttl.delete(input.TableName);
      const out: Wire<UpdateTimeToLiveOutput> = { TimeToLiveSpecification: spec };
      return json(out);
    } catch (err) {
      // A request that breaks the model is refused by Coral, before DynamoDB sees it.
      if (err instanceof AwsServiceError) return error('com.amazon.coral.validate#', err.code, err.message);
      throw err;
    }
  }

  /** dynalite's DescribeTable answer (ResourceNotFoundException) when the table does not exist. */
  private async tableMissing(
    store: Store,
    headers: IncomingHttpHeaders,
    table: string,
  ): Promise<DynamoResponse | undefined> {
    const described = await invoke(
      store.handle,
      { ...headers, 'x-amz-target': 'DynamoDB_20120810.DescribeTable' },
      Buffer.from(JSON.stringify({ TableName: table })),
    );
    return described.status === 200 ? undefined : described;
  }
}

function describe(store: Store, table: string): Wire<DescribeTimeToLiveOutput> {
  const attribute = store.ttl.get(table);
  return attribute
    ? { TimeToLiveDescription: { TimeToLiveStatus: 'ENABLED', AttributeName: attribute } }
    : { TimeToLiveDescription: { TimeToLiveStatus: 'DISABLED' } };
}

function error(prefix: string, code: string, message: string): DynamoResponse {
  return json({ __type: `${prefix}${code}`, message }, 400);
}

function json(body: unknown, status = 200): DynamoResponse {
  return { status, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: JSON.stringify(body) };
}

/** Calls dynalite's HTTP handler with a request/response pair that live in memory. */
function invoke(handle: Handler, headers: IncomingHttpHeaders, body: Buffer): Promise<DynamoResponse> {
  return new Promise((resolve) => {
    const req = Object.assign(new EventEmitter(), { headers, method: 'POST', url: '/' });
    const out: DynamoResponse = { status: 200, headers: {}, body: '' };
    const res = {
      statusCode: 200,
      contentType: undefined as string | undefined,
      setHeader(name: string, value: unknown) {
        out.headers[name.toLowerCase()] = String(value);
      },
      end(data?: string) {
        out.status = res.statusCode;
        out.body = data ?? '';
        resolve(out);
      },
    };
    handle(req, res);
    process.nextTick(() => {
      if (body.length > 0) req.emit('data', body);
      req.emit('end');
    });
  });
}
