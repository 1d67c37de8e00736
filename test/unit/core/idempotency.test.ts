/**
 * Idempotent actions: an equal action runs once; and with the Lambda context registered, an action cut short
 * (Lambda timeout) leaves an in-progress record that expires with the invocation, so the retry is not locked out.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotentAction } from '../../../shared/state/idempotency';
import { startStateTable, type TestTable } from '../../support/dynalite';

let table: TestTable;
beforeAll(async () => {
  table = await startStateTable();
});
afterAll(() => table.stop());

const contextWith = (remainingMs: number) =>
  ({
    getRemainingTimeInMillis: () => remainingMs,
    functionName: 'f',
    awsRequestId: 'r',
  }) as unknown as Context;

describe('idempotentAction', () => {
  it('runs an action once however often it is asked', async () => {
    let runs = 0;
    const act = idempotentAction(
      async (a: { service: string; digest: string }) => {
        runs += 1;
        return `${a.service}@${a.digest}`;
      },
      { client: table.client, tableName: table.tableName },
      'once',
    );
    const action = { service: 'api', digest: 'sha256:aa' };
    expect(await act(action)).toBe('api@sha256:aa');
    expect(await act({ ...action })).toBe('api@sha256:aa');
    expect(runs).toBe(1);
    await act({ service: 'api', digest: 'sha256:bb' });
    expect(runs).toBe(2);
  });

  it('marks an in-progress action to expire with the invocation once the Lambda context is registered', async () => {
    let inProgress: Record<string, unknown>[] = [];
    const act = idempotentAction(
      async (_a: { service: string }) => {
        const items = await table.client.send(new ScanCommand({ TableName: table.tableName }));
        inProgress = (items.Items ?? []).filter((i) => i.status?.S === 'INPROGRESS');
        return 'done';
      },
      { client: table.client, tableName: table.tableName },
      'expiring',
    );
    act.registerLambdaContext(contextWith(30_000));
    const before = Date.now();
    await act({ service: 'web' });
    expect(inProgress).toHaveLength(1);
    const expiry = Number((inProgress[0]?.in_progress_expiration as { N: string } | undefined)?.N);
    expect(expiry).toBeGreaterThanOrEqual(before + 29_000);
    expect(expiry).toBeLessThanOrEqual(Date.now() + 31_000);
  });
  it("follows each invocation's context, the one registered before Powertools loaded and the ones after", async () => {
    const expiries: number[] = [];
    const act = idempotentAction(
      async (a: { service: string }) => {
        const items = await table.client.send(new ScanCommand({ TableName: table.tableName }));
        const mine = (items.Items ?? []).find((i) => i.status?.S === 'INPROGRESS');
        expiries.push(Number((mine?.in_progress_expiration as { N: string } | undefined)?.N));
        return a.service;
      },
      { client: table.client, tableName: table.tableName },
      'per-invocation',
    );
    // The first invocation registers its context before the first action loads Powertools; a warm one after.
    act.registerLambdaContext(contextWith(30_000));
    await act({ service: 'first' });
    act.registerLambdaContext(contextWith(600_000));
    const before = Date.now();
    await act({ service: 'second' });
    expect(expiries).toHaveLength(2);
    expect(expiries[1]).toBeGreaterThanOrEqual(before + 599_000);
    expect(expiries[1]).toBeLessThanOrEqual(Date.now() + 601_000);
  });
});
