/** The account/region store every local backend keeps its state in. */
import { describe, expect, it } from 'vitest';
import { AccountRegionStore, type Scope } from '../../aws/store';
import { SesBackend } from '../../ses';
import { makeCore } from './ecr/core';

const A = '111111111111';
const B = '222222222222';

describe('AccountRegionStore', () => {
  it('keeps one state per account and region, created empty on first use with its scope', () => {
    const created: Scope[] = [];
    const store = new AccountRegionStore((scope) => {
      created.push(scope);
      return { scope, names: new Set<string>() };
    });
    store.of({ accountId: A, region: 'us-east-1' }).names.add('a');
    store.of({ accountId: A, region: 'eu-west-1' }).names.add('b');
    store.of({ accountId: B, region: 'us-east-1' }).names.add('c');
    // The same account and region, asked again (here by a request context with more members): the same state.
    store.of({ accountId: A, region: 'us-east-1', accessKeyId: 'test' } as Scope).names.add('d');

    expect(created).toEqual([
      { accountId: A, region: 'us-east-1' },
      { accountId: A, region: 'eu-west-1' },
      { accountId: B, region: 'us-east-1' },
    ]);
    expect(store.entries().map(([scope, state]) => [scope, [...state.names]])).toEqual([
      [{ accountId: A, region: 'us-east-1' }, ['a', 'd']],
      [{ accountId: A, region: 'eu-west-1' }, ['b']],
      [{ accountId: B, region: 'us-east-1' }, ['c']],
    ]);
    expect(store.values()).toHaveLength(3);
  });

  it('peek reads without creating; clear forgets every state', () => {
    const store = new AccountRegionStore(() => new Map<string, number>());
    expect(store.peek({ accountId: A, region: 'us-east-1' })).toBeUndefined();
    expect(store.entries()).toEqual([]);
    store.of({ accountId: A, region: 'us-east-1' }).set('x', 1);
    expect(store.peek({ accountId: A, region: 'us-east-1' })?.get('x')).toBe(1);
    expect(store.peek({ accountId: A, region: 'us-west-2' })).toBeUndefined();
    store.clear();
    expect(store.entries()).toEqual([]);
    expect(store.of({ accountId: A, region: 'us-east-1' }).size).toBe(0);
  });

  it('does not mistake one account and region for another whose key reads alike', () => {
    const store = new AccountRegionStore(() => ({ n: 0 }));
    store.of({ accountId: 'a/b', region: 'c' }).n = 1;
    expect(store.peek({ accountId: 'a', region: 'b/c' })).toBeUndefined();
  });

  it('is where a backend keeps its state: SES identities belong to one account in one region', async () => {
    const { core } = makeCore();
    const ses = new SesBackend(core);
    const route = ses.routes.find((r) => r.operation === 'CreateEmailIdentity');
    const ctx = (accountId: string, region: string) => ({ accountId, region, accessKeyId: 'test' });
    const body = { EmailIdentity: 'ops@example.com' };
    await route?.handler(
      { params: {}, query: new URLSearchParams(), headers: {}, body },
      ctx(A, 'us-east-1'),
    );
    await route?.handler(
      { params: {}, query: new URLSearchParams(), headers: {}, body },
      ctx(B, 'us-east-1'),
    );
    expect([...ses.account(A, 'us-east-1').identities.keys()]).toEqual(['ops@example.com']);
    expect([...ses.account(B, 'us-east-1').identities.keys()]).toEqual(['ops@example.com']);
    expect([...ses.account(A, 'eu-west-1').identities.keys()]).toEqual([]);
  });
});
