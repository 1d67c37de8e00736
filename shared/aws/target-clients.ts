/**
 * Clients for every target (shared/targets.ts): the home target's are the function's own; another target's
 * sign with the credentials of its role, assumed through STS (`fromTemporaryCredentials`, maintained with the
 * SDK). One AssumeRole per account and credential lifetime: the credentials are shared by that account's
 * regional clients and refreshed five minutes before they expire (the SDK's own memoizing). The session name is
 * the function's (`harborpilot-<function>`), so CloudTrail in the workload account says who acted.
 *
 * The STS code is loaded with `import()` on the first AssumeRole: a single-account install never loads it.
 */

import { doesIdentityRequireRefresh, isIdentityExpired, memoizeIdentityProvider } from '@smithy/core';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { errorMessage } from '../errors';
import type { Target, WorkloadScopes } from '../targets';

type OtherTarget = Extract<Target, { home: false }>;

/** A role that could not be assumed: names the role, with STS's own words (the caller names the target). */
export class AssumeRoleError extends Error {
  constructor(
    readonly roleArn: string,
    cause: unknown,
  ) {
    super(`could not assume ${roleArn}: ${errorMessage(cause)}`, { cause });
    this.name = 'AssumeRoleError';
  }
}

export interface TargetCredentialsOptions {
  /** The function acting: the role session is `harborpilot-<function>`. */
  functionName: string;
  /** Where STS is called (the function's own region: regional endpoints, no cross-region dependency). */
  stsRegion: string;
  /** More STS client settings (the bench's endpoint and credentials); Lambda needs none. */
  stsClientConfig?: { endpoint?: string; credentials?: AwsCredentialIdentity };
}

/** Credentials per role, shared by every regional client of that role's account. */
export class TargetCredentials {
  private readonly providers = new Map<string, AwsCredentialIdentityProvider>();

  constructor(private readonly options: TargetCredentialsOptions) {}

  for(target: OtherTarget): AwsCredentialIdentityProvider {
    const key = `${target.roleArn}\n${target.externalId ?? ''}`;
    let provider = this.providers.get(key);
    if (!provider) {
      provider = memoizeIdentityProvider<AwsCredentialIdentity>(
        () => this.assume(target),
        isIdentityExpired,
        doesIdentityRequireRefresh,
      ) as AwsCredentialIdentityProvider;
      this.providers.set(key, provider);
    }
    return provider;
  }

  private async assume(target: OtherTarget): Promise<AwsCredentialIdentity> {
    const { fromTemporaryCredentials } = await import('@aws-sdk/credential-providers');
    try {
      return await fromTemporaryCredentials({
        params: {
          RoleArn: target.roleArn,
          RoleSessionName: `harborpilot-${this.options.functionName}`,
          ...(target.externalId ? { ExternalId: target.externalId } : {}),
        },
        clientConfig: { ...this.options.stsClientConfig, region: this.options.stsRegion },
      })();
    } catch (err) {
      throw new AssumeRoleError(target.roleArn, err);
    }
  }
}

/** A client of one target. */
export interface TargetClient<C> {
  target: Target;
  client: C;
}

/**
 * One client per target, made once per container: the home target gets `home` (the function's own client),
 * every other target `make({ region, credentials })`.
 */
export function targetClients<C>(
  targets: readonly Target[],
  home: C,
  credentials: TargetCredentials,
  make: (config: { region: string; credentials: AwsCredentialIdentityProvider }) => C,
): TargetClient<C>[] {
  return targets.map((target) => ({
    target,
    client: target.home ? home : make({ region: target.region, credentials: credentials.for(target) }),
  }));
}

/**
 * The target a resource is in, by its ARN's account and Region: that target's client when it is another
 * target's, else the home target's (the first).
 */
export function targetForArn<C>(
  targets: readonly TargetClient<C>[],
  scopes: WorkloadScopes,
  arn: string,
): TargetClient<C> {
  const m = /^arn:[^:]+:[^:]+:([^:]*):(\d{12}):/.exec(arn);
  const scope = m ? scopes.scopeOf(m[2] ?? '', m[1] ?? '') : undefined;
  const found =
    scope && targets.find((t) => t.target.accountId === scope.accountId && t.target.region === scope.region);
  return found || (targets[0] as TargetClient<C>);
}

/**
 * Clients of the function's own account by region, made once each: `home` in the function's region. A replica of
 * an image (ECR replication) is read in its own region.
 */
export function regionalClients<C>(
  home: C,
  homeRegion: string,
  make: (region: string) => C,
): (region: string) => C {
  const clients = new Map<string, C>([[homeRegion, home]]);
  return (region) => {
    let client = clients.get(region);
    if (!client) {
      client = make(region);
      clients.set(region, client);
    }
    return client;
  };
}
