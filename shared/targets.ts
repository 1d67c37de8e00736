/**
 * The accounts and regions a function acts in (docs/organisation.md): its own (the home target: the account
 * and region it is deployed to, with its own credentials) and each configured target's regions, entered through
 * the target's role. State about a workload in another target is keyed with that target's account and region,
 * so two accounts' `prod/api` services never share a freeze, a hold or a deployment record.
 */
import type { Config } from './config';

export interface TargetScope {
  accountId: string;
  region: string;
}

export type Target =
  | {
      home: true;
      /** Unknown until something names it (Lambda does not say): the home target's ids carry no account. */
      accountId?: undefined;
      region: string;
      name?: undefined;
    }
  | {
      home: false;
      accountId: string;
      region: string;
      /** From config, for people: "staging". */
      name?: string;
      roleArn: string;
      externalId?: string;
    };

/** The home target, then every configured account's regions in the order the config lists them. */
export function targetsOf(config: Pick<Config, 'targets'>, homeRegion: string): Target[] {
  return [
    { home: true, region: homeRegion },
    ...config.targets.flatMap((t) =>
      t.regions.map(
        (region): Target => ({
          home: false,
          accountId: t.account,
          region,
          ...(t.name ? { name: t.name } : {}),
          roleArn: roleArnOf(t.role, t.account),
          ...(t.externalId ? { externalId: t.externalId } : {}),
        }),
      ),
    ),
  ];
}

/** A role name (the same in every account) or a full ARN, as the ARN AssumeRole takes. */
export function roleArnOf(role: string, accountId: string): string {
  return role.startsWith('arn:') ? role : `arn:aws:iam::${accountId}:role/${role}`;
}

/** How logs, errors and emails name a target: `staging (111111111111) us-west-2`, or `us-east-1 (home)`. */
export function targetLabel(t: Target): string {
  if (t.home) return `${t.region} (home)`;
  return `${t.name ? `${t.name} (${t.accountId})` : t.accountId} ${t.region}`;
}

/**
 * Which account and region pairs are other targets: a workload there gets a qualified id
 * (`111111111111/us-west-2/ecs/prod/api`); anything else is the home target's (`ecs/prod/api`, as before
 * targets existed, so state written then stays valid).
 */
export class WorkloadScopes {
  private readonly foreign: Set<string>;
  private readonly names = new Map<string, string>();

  constructor(targets: readonly Target[] = []) {
    this.foreign = new Set();
    for (const t of targets) {
      if (t.home) continue;
      this.foreign.add(scopeKey(t));
      if (t.name) this.names.set(t.accountId, t.name);
    }
  }

  /** The target scope a resource in this account and region belongs to, or undefined for the home target. */
  scopeOf(accountId: string, region: string): TargetScope | undefined {
    return this.foreign.has(scopeKey({ accountId, region })) ? { accountId, region } : undefined;
  }

  /** The configured name of an account, if any. */
  accountName(accountId: string): string | undefined {
    return this.names.get(accountId);
  }
}

/**
 * The configured clusters a target reads: names in every target; an ARN only in its own account and Region
 * (the home target: ARNs of no other target). None configured: `[]`, every cluster of each target. Configured,
 * but none of them this target's: undefined, the target has nothing to read.
 */
export function clustersIn(
  target: Target,
  clusters: readonly string[],
  scopes: WorkloadScopes,
): string[] | undefined {
  const own = clusters.filter((c) => {
    const arn = /^arn:[^:]+:ecs:([^:]+):(\d{12}):cluster\//.exec(c);
    if (!arn) return true;
    const [, region = '', accountId = ''] = arn;
    return target.home
      ? scopes.scopeOf(accountId, region) === undefined
      : target.accountId === accountId && target.region === region;
  });
  return clusters.length > 0 && own.length === 0 ? undefined : own;
}

/** Single-account: every workload is the home target's. */
export const HOME_ONLY = new WorkloadScopes();

const scopeKey = (s: TargetScope) => `${s.accountId}/${s.region}`;
