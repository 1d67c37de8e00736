/**
 * Update policies, in Keel's vocabulary, shared by ECS services (tag `harborpilot:policy`) and
 * Kubernetes workloads (annotation `harborpilot.io/policy`). Pure: no I/O, no clock.
 */
import picomatch from 'picomatch';
import semver from 'semver';
import { errorMessage } from './errors';

export type SemverBump = 'patch' | 'minor' | 'major' | 'all';

export type UpdatePolicy =
  | { kind: 'force' }
  | { kind: 'semver'; bump: SemverBump }
  | { kind: 'glob'; pattern: string; matches: (tag: string) => boolean }
  | { kind: 'regexp'; pattern: string; matches: (tag: string) => boolean }
  | { kind: 'never' };

export class PolicyError extends Error {
  constructor(
    readonly policy: string,
    reason: string,
  ) {
    super(`invalid update policy "${policy}": ${reason}`);
    this.name = 'PolicyError';
  }
}

export const POLICY_VALUES = 'force, patch, minor, major, all, glob:<pattern>, regexp:<pattern>, never';

export function parsePolicy(value: string): UpdatePolicy {
  const v = value.trim();
  switch (v) {
    case 'force':
      return { kind: 'force' };
    case 'never':
      return { kind: 'never' };
    case 'patch':
    case 'minor':
    case 'major':
    case 'all':
      return { kind: 'semver', bump: v };
  }
  if (v.startsWith('glob:')) {
    const pattern = v.slice('glob:'.length);
    if (pattern === '') throw new PolicyError(value, 'glob: needs a pattern, e.g. glob:release-*');
    const isMatch = picomatch(pattern, { dot: true });
    return { kind: 'glob', pattern, matches: (tag) => isMatch(tag) };
  }
  if (v.startsWith('regexp:')) {
    const pattern = v.slice('regexp:'.length);
    if (pattern === '') throw new PolicyError(value, 'regexp: needs a pattern, e.g. regexp:^build-[0-9]+$');
    let re: RegExp;
    try {
      re = new RegExp(pattern);
    } catch (err) {
      throw new PolicyError(value, `bad regular expression: ${errorMessage(err, { name: false })}`);
    }
    return { kind: 'regexp', pattern, matches: (tag) => re.test(tag) };
  }
  throw new PolicyError(value, `expected one of ${POLICY_VALUES}`);
}

export function formatPolicy(policy: UpdatePolicy): string {
  switch (policy.kind) {
    case 'force':
    case 'never':
      return policy.kind;
    case 'semver':
      return policy.bump;
    case 'glob':
    case 'regexp':
      return `${policy.kind}:${policy.pattern}`;
    default:
      return assertNever(policy);
  }
}

export interface Decision {
  update: boolean;
  reason: string;
}

/**
 * A leading `v` is allowed (v1.2.3), and a partial version `1.25` is `1.25.0`, as Keel, Flux and Argo CD Image
 * Updater read it. A bare number (`3050`, a build number) is not a version.
 */
function parseVersion(tag: string): semver.SemVer | null {
  const bare = tag.startsWith('v') || tag.startsWith('V') ? tag.slice(1) : tag;
  return semver.parse(/^\d+\.\d+$/.test(bare) ? `${bare}.0` : bare);
}

// Made on first use: building a collator loads ICU's collation data, 7-10 ms that every cold start paid at
// module load, while only a glob or regexp policy meeting a tag of the running tag's shape needs it.
let natural: Intl.Collator | undefined;

/**
 * Whether `pushed` sorts below `current` in natural order (numbers as numbers): only for tags of the same
 * shape (the same words, numbers in the same places, e.g. build-41 and build-117), else undefined.
 */
function sortsBelow(pushed: string, current: string | undefined): boolean | undefined {
  if (current === undefined) return undefined;
  const shape = (tag: string) => tag.replace(/\d+/g, '0');
  if (shape(pushed) !== shape(current)) return undefined;
  natural ??= new Intl.Collator('en', { numeric: true });
  return natural.compare(pushed, current) < 0;
}

function preReleaseLabel(v: semver.SemVer): string | undefined {
  const first = v.prerelease[0];
  return first === undefined ? undefined : String(first);
}

/**
 * Should a workload running `currentTag` move to `pushedTag`?
 * `currentTag` is undefined when the workload pins a bare digest (`repo@sha256:…`).
 */
export function shouldUpdate(
  policy: UpdatePolicy,
  currentTag: string | undefined,
  pushedTag: string,
): Decision {
  switch (policy.kind) {
    case 'never':
      return { update: false, reason: 'policy is never' };
    case 'force':
      return currentTag === pushedTag
        ? { update: true, reason: `tag ${pushedTag} was pushed again` }
        : {
            update: false,
            reason: `force follows the running tag ${currentTag ?? '(none)'}, not ${pushedTag}`,
          };
    case 'glob':
    case 'regexp':
      if (!policy.matches(pushedTag))
        return { update: false, reason: `${pushedTag} does not match ${formatPolicy(policy)}` };
      if (pushedTag === currentTag)
        return { update: false, reason: `${pushedTag} is already the running tag` };
      // Re-pushing an old build tag must not downgrade what runs (Keel #823, flux2 #4984).
      if (sortsBelow(pushedTag, currentTag))
        return { update: false, reason: `${pushedTag} sorts below the running tag ${currentTag}` };
      return { update: true, reason: `${pushedTag} matches ${formatPolicy(policy)}` };
    case 'semver':
      return semverDecision(policy.bump, currentTag, pushedTag);
    default:
      return assertNever(policy);
  }
}

function semverDecision(bump: SemverBump, currentTag: string | undefined, pushedTag: string): Decision {
  const pushed = parseVersion(pushedTag);
  if (!pushed) return { update: false, reason: `${pushedTag} is not a semantic version` };
  const current = currentTag === undefined ? null : parseVersion(currentTag);
  if (!current)
    return { update: false, reason: `running tag ${currentTag ?? '(none)'} is not a semantic version` };
  if (semver.lte(pushed, current))
    return { update: false, reason: `${pushedTag} is not newer than ${currentTag}` };
  const pushedLabel = preReleaseLabel(pushed);
  // `all` takes pre-releases too (what sets it apart from `major` in Keel); the others keep to the same label.
  if (bump !== 'all' && pushedLabel !== undefined && pushedLabel !== preReleaseLabel(current)) {
    return { update: false, reason: `pre-release ${pushedTag} only replaces a ${pushedLabel} pre-release` };
  }
  const within =
    bump === 'all' || bump === 'major'
      ? true
      : bump === 'minor'
        ? pushed.major === current.major
        : pushed.major === current.major && pushed.minor === current.minor;
  return within
    ? { update: true, reason: `${pushedTag} is a ${bump} update of ${currentTag}` }
    : { update: false, reason: `${pushedTag} is beyond a ${bump} update of ${currentTag}` };
}

export interface CandidateTag {
  tag: string;
  pushedAt?: Date;
}

/**
 * Reconcile: from every tag a repository holds, the one the policy would move to, if any.
 * Semver policies take the highest version; glob/regexp the most recently pushed match.
 */
export function selectUpdate<T extends CandidateTag>(
  policy: UpdatePolicy,
  currentTag: string | undefined,
  candidates: readonly T[],
): T | undefined {
  const eligible = candidates.filter((c) => shouldUpdate(policy, currentTag, c.tag).update);
  if (eligible.length === 0) return undefined;
  if (policy.kind === 'semver') {
    return eligible.reduce((best, c) =>
      semver.gt(parseVersion(c.tag) as semver.SemVer, parseVersion(best.tag) as semver.SemVer) ? c : best,
    );
  }
  return eligible.reduce((best, c) =>
    (c.pushedAt?.getTime() ?? 0) > (best.pushedAt?.getTime() ?? 0) ? c : best,
  );
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
