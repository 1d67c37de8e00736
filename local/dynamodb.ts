/**
 * DynamoDB for the local cloud: dynalite (an in-memory implementation of the DynamoDB API), one
 * store per account and region as on AWS, called in-process (no second port). dynalite speaks the
 * protocol itself, so requests pass through untouched, except the TTL settings it lacks: the state
 * store's table declares a TTL attribute, so UpdateTimeToLive/DescribeTimeToLive are answered here.
 * Expired items are not deleted (AWS takes up to days to do it; readers must check expiry anyway).
 */
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
// @ts-expect-error dynalite ships no types
import dynalite from 'dynalite';

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

export class LocalDynamoDb {
  private readonly stores = new Map<string, Store>();

  /** Runs one DynamoDB request (`operation` from X-Amz-Target) in the account and region's store. */
  async call(
    where: { accountId: string; region: string },
    operation: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): Promise<DynamoResponse> {
    const store = this.store(where.accountId, where.region);
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
    where: { accountId: string; region: string },
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

  private store(accountId: string, region: string): Store {
    const key = `${accountId}/${region}`;
    let store = this.stores.get(key);
    if (!store) {
      const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
      const [handle] = server.listeners('request') as Handler[];
      if (!handle) throw new Error('dynalite: no request handler');
      store = { handle, ttl: new Map() };
      this.stores.set(key, store);
    }
    return store;
  }

  private async timeToLive(
    store: Store,
    operation: 'UpdateTimeToLive' | 'DescribeTimeToLive',
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): Promise<DynamoResponse> {
    const input = JSON.parse(body.toString('utf8') || '{}') as {
      TableName?: string;
      TimeToLiveSpecification?: { Enabled?: boolean; AttributeName?: string };
    };
    // The table must exist: let dynalite answer DescribeTable (and its ResourceNotFoundException).
    const described = await invoke(
      store.handle,
      { ...headers, 'x-amz-target': 'DynamoDB_20120810.DescribeTable' },
      Buffer.from(JSON.stringify({ TableName: input.TableName })),
    );
    if (described.status !== 200) return described;
    const table = input.TableName ?? '';
    if (operation === 'DescribeTimeToLive') {
      const attribute = store.ttl.get(table);
      return json(
        attribute
          ? { TimeToLiveDescription: { TimeToLiveStatus: 'ENABLED', AttributeName: attribute } }
          : { TimeToLiveDescription: { TimeToLiveStatus: 'DISABLED' } },
      );
    }
    const spec = input.TimeToLiveSpecification ?? {};
    if (typeof spec.AttributeName !== 'string' || typeof spec.Enabled !== 'boolean') {
      return json(
        {
          __type: 'com.amazon.coral.validate#ValidationException',
          message: 'TimeToLiveSpecification needs AttributeName and Enabled',
        },
        400,
      );
    }
    if (spec.Enabled === store.ttl.has(table)) {
      return json(
        {
          __type: 'com.amazonaws.dynamodb.v20120810#ValidationException',
          message: `TimeToLive is already ${spec.Enabled ? 'enabled' : 'disabled'}`,
        },
        400,
      );
    }
    if (spec.Enabled) store.ttl.set(table, spec.AttributeName);
    else store.ttl.delete(table);
    return json({ TimeToLiveSpecification: spec });
  }
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
