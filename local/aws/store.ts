/**
 * The one place every backend keeps its state: a state object per account and region, created empty
 * on first use, as LocalStack's AccountRegionBundle does. On AWS each account has its own resources in
 * each region; a backend never builds an `${accountId}/${region}` key of its own.
 */

/** An account in a region: what the SigV4 scope and the access key of a request name. */
export interface Scope {
  readonly accountId: string;
  readonly region: string;
}

export class AccountRegionStore<State> {
  private readonly states = new Map<string, { scope: Scope; state: State }>();

  /** `create` makes the empty state of an account in a region (no resources yet). */
  constructor(private readonly create: (scope: Scope) => State) {}

  /** The state of `scope`'s account and region, created empty the first time it is asked for. */
  of(scope: Scope): State {
    const key = keyOf(scope);
    let entry = this.states.get(key);
    if (!entry) {
      const own = { accountId: scope.accountId, region: scope.region };
      entry = { scope: own, state: this.create(own) };
      this.states.set(key, entry);
    }
    return entry.state;
  }

  /** The state if the account has ever used the region; reading does not create it. */
  peek(scope: Scope): State | undefined {
    return this.states.get(keyOf(scope))?.state;
  }

  /** Every account and region that has state, in the order they were first used. */
  entries(): [Scope, State][] {
    return [...this.states.values()].map(({ scope, state }) => [scope, state]);
  }

  values(): State[] {
    return [...this.states.values()].map(({ state }) => state);
  }

  /** Forgets every account's state: the next use of a scope starts empty again. */
  clear(): void {
    this.states.clear();
  }
}

// A key no two different scopes share, whatever characters their names hold.
const keyOf = (scope: Scope) => JSON.stringify([scope.accountId, scope.region]);
