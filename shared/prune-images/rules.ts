/**
 * Prune rules per repository: the config's defaults, overridden by repository tags, as ECS services carry
 * `harborpilot:policy`. A tag with a bad value fails the run before anything is deleted.
 */
import picomatch from 'picomatch';
import type { Config } from '../config';
import * as z from '../zod';
import type { PruneRules } from './model';

/** Repository tags pruneImages reads. Values are strings, as ECR tags are. */
export const PRUNE_TAGS = {
  /** `false` leaves the repository alone entirely. */
  prune: 'harborpilot:prune',
  keepLast: 'harborpilot:keep-last',
  keepDays: 'harborpilot:keep-days',
  /** Space- or comma-separated glob patterns; replaces the configured list. `""` protects nothing. */
  protectTags: 'harborpilot:protect-tags',
  /** Days, or `never` (untagged images then follow keep-days). */
  expireUntaggedAfterDays: 'harborpilot:expire-untagged-after-days',
} as const;

export class PruneRuleError extends Error {
  constructor(
    readonly repositoryName: string,
    readonly tag: string,
    readonly value: string,
    reason: string,
  ) {
    super(`repository ${repositoryName}: tag ${tag}="${value}" ${reason}`);
    this.name = 'PruneRuleError';
  }
}

const count = z.pipe(
  z.string().check(z.regex(/^\d{1,6}$/, 'must be a whole number of at most 6 digits')),
  z.transform(Number),
);
const boolean = z.pipe(
  z.enum(['true', 'false']),
  z.transform((v) => v === 'true'),
);
const untagged = z.union([
  z.pipe(
    z.literal('never'),
    z.transform(() => null),
  ),
  count,
]);

export interface RepositorySettings {
  enabled: boolean;
  rules: PruneRules;
}

export function rulesFor(
  prune: Config['prune'],
  repositoryName: string,
  tags: readonly { Key?: string | undefined; Value?: string | undefined }[],
): RepositorySettings {
  const tag = (key: string) => tags.find((t) => t.Key === key)?.Value;
  const read = <T>(key: string, schema: z.ZodMiniType<T>, fallback: T): T => {
    const value = tag(key);
    if (value === undefined) return fallback;
    const result = schema.safeParse(value.trim());
    if (!result.success) {
      throw new PruneRuleError(repositoryName, key, value, result.error.issues[0]?.message ?? 'is invalid');
    }
    return result.data;
  };
  const protectRaw = tag(PRUNE_TAGS.protectTags);
  return {
    enabled: read(PRUNE_TAGS.prune, boolean, true),
    rules: {
      keepLast: read(PRUNE_TAGS.keepLast, count, prune.keepLast),
      keepDays: read(PRUNE_TAGS.keepDays, count, prune.keepDays),
      protectTags:
        protectRaw === undefined
          ? [...prune.protectTags]
          : protectRaw.split(/[\s,]+/).filter((p) => p !== ''),
      expireUntaggedAfterDays: read(
        PRUNE_TAGS.expireUntaggedAfterDays,
        untagged,
        prune.expireUntaggedAfterDays,
      ),
    },
  };
}

/** Repositories to prune: names or glob patterns from config; none configured means all. */
export function repositoryMatcher(patterns: readonly string[]): (name: string) => boolean {
  if (patterns.length === 0) return () => true;
  const isMatch = picomatch([...patterns]);
  return (name) => isMatch(name);
}
