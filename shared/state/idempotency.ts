/**
 * Idempotency records in the state table, through Powertools (hash key `id`, TTL attribute `expiration`).
 * A retried or duplicated event finds the record of the action it already took and does not take it again.
 */

import type { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';

export interface IdempotencyOptions {
  client: DynamoDBClient;
  tableName: string;
  /** How long a completed action is remembered. */
  expiresAfterSeconds?: number;
}

export interface IdempotentAction<A, R> {
  (action: A): Promise<R>;
  /**
   * Tells Powertools how long this invocation may still run: an action cut short by a Lambda timeout then
   * leaves an in-progress record that expires with the invocation, so the retry can take the action again
   * instead of waiting out the whole record lifetime.
   */
  registerLambdaContext(context: Context): void;
}

/**
 * Wraps `fn` so that calls with an equal key (deep-compared, hashed) run once. The key is the action itself
 * unless `keyOf` picks what identifies it: it must not hold state that the action itself changes (a running
 * digest that a deployment replaces), or a duplicate arriving mid-change would get a key of its own.
 */
export function idempotentAction<A extends object, R>(
  fn: (action: A) => Promise<R>,
  options: IdempotencyOptions,
  keyPrefix: string,
  keyOf: (action: A) => object = (action) => action,
): IdempotentAction<A, R> {
  // Powertools (and the JMESPath engine it brings) loads on the first action, not at cold start: most
  // invocations (a push no service runs, a reconcile with nothing to move) never take one.
  let loaded: Promise<(action: A, key: object) => Promise<R>> | undefined;
  let config: IdempotencyConfig | undefined;
  let context: Context | undefined;
  const load = async () => {
    const [{ IdempotencyConfig, makeIdempotent }, { DynamoDBPersistenceLayer }] = await Promise.all([
      import('@aws-lambda-powertools/idempotency'),
      import('@aws-lambda-powertools/idempotency/dynamodb'),
    ]);
    const persistenceStore = new DynamoDBPersistenceLayer({
      tableName: options.tableName,
      awsSdkV3Client: options.client,
    });
    config = new IdempotencyConfig({ expiresAfterSeconds: options.expiresAfterSeconds ?? 24 * 3600 });
    if (context) config.registerLambdaContext(context);
    // Only the second argument (the key) is hashed; the action itself is the first.
    return makeIdempotent((action: A, _key: object) => fn(action), {
      persistenceStore,
      config,
      keyPrefix,
      dataIndexArgument: 1,
    });
  };
  return Object.assign(
    async (action: A) => {
      loaded ??= load();
      return (await loaded)(action, keyOf(action));
    },
    {
      registerLambdaContext: (c: Context) => {
        context = c;
        config?.registerLambdaContext(c);
      },
    },
  );
}
