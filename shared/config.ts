/**
 * The one configuration of every function. Written as `harborpilot.yml`, carried to Lambda as JSON in
 * HARBORPILOT_CONFIG by serverless.yml (validated there at package time), and validated again at cold
 * start: a wrong value fails loudly with the field that is wrong.
 */
import { errorMessage } from './errors';
import { parseWindows } from './holds/window';
import { parsePolicy } from './policy';
import { SCAN_THRESHOLDS } from './scan/severity';
import * as z from './zod';

const policyString = z.string().check(
  z.superRefine((value, ctx) => {
    try {
      parsePolicy(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: errorMessage(err, { name: false }) });
    }
  }),
);

const email = z.email();

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/**
 * An account harborpilot acts in besides its own (docs/organisation.md): the regions there and the role its
 * functions assume. `role` is a name (the same in every account, the workload-account template's) or the
 * role's full ARN in that account.
 */
const TargetSchema = z
  .strictObject({
    account: z.string().check(z.regex(/^\d{12}$/, 'expected a 12-digit account id')),
    /** For people: emails and logs say "staging (111111111111)". */
    name: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
    regions: z
      .array(z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected a region such as eu-west-1')))
      .check(z.minLength(1)),
    role: z
      .string()
      .check(
        z.refine(
          (v) => ROLE_NAME.test(v) || ROLE_ARN.test(v),
          'expected a role name or arn:aws:iam::<account>:role/<name>',
        ),
      ),
    /** The external id the role's trust policy requires (sts:ExternalId). */
    externalId: z.optional(
      z.string().check(z.regex(/^[\w+=,.@:/-]{2,1224}$/, 'expected 2 to 1224 characters of [\\w+=,.@:/-]')),
    ),
  })
  .check(
    z.superRefine((t, ctx) => {
      const arn = ROLE_ARN.exec(t.role);
      if (arn && arn[1] !== t.account)
        ctx.addIssue({
          code: 'custom',
          path: ['role'],
          message: `role ARN is in account ${arn[1]}, not ${t.account}`,
        });
      const seen = new Set<string>();
      for (const r of t.regions) {
        if (seen.has(r))
          ctx.addIssue({ code: 'custom', path: ['regions'], message: `region ${r} listed twice` });
        seen.add(r);
      }
    }),
  );

export const ConfigSchema = z.strictObject({
  /**
   * Accounts and regions to act in besides the one harborpilot is deployed to (which stays a target): each
   * function assumes the target's role there. Empty: one account and region, as without this field.
   */
  targets: z._default(
    z.array(TargetSchema).check(
      z.superRefine((targets, ctx) => {
        const seen = new Set<string>();
        for (const [i, t] of targets.entries()) {
          if (seen.has(t.account))
            ctx.addIssue({
              code: 'custom',
              path: [i, 'account'],
              message: `account ${t.account} listed twice (give it several regions instead)`,
            });
          seen.add(t.account);
        }
      }),
    ),
    [],
  ),
  /** Global dry-run: log every plan, change nothing. Each function may override it below. */
  dryRun: z._default(z.boolean(), false),
  /**
   * DynamoDB table for idempotency records, alert windows and capacity hysteresis (TTL on every item).
   * serverless.yml sets it per stage (HARBORPILOT_TABLE); the default is the `dev` stage's table.
   */
  stateTable: z._default(z.string().check(z.minLength(3)), 'harborpilot-dev-state'),
  ecs: z.prefault(
    z.strictObject({
      /** ECS cluster names or ARNs to watch; empty means every cluster in the account and region. */
      clusters: z._default(z.array(z.string().check(z.minLength(1))), []),
      /** Policy for services without a `harborpilot:policy` tag. */
      defaultPolicy: z._default(policyString, 'force'),
      /**
       * harborpilot's share of the account's ECS read budget (AWS refills about 20 reads a second for every
       * caller together): full scans (reconcile, pruning's in-use set, capacity) start at most this many
       * ECS calls a second. A scan that needs longer than one invocation continues in the next.
       */
      maxReadsPerSecond: z._default(z.int().check(z.gte(1), z.lte(1000)), 5),
      dryRun: z.optional(z.boolean()),
    }),
    {},
  ),
  eks: z.prefault(
    z.strictObject({
      /** EKS cluster names; empty means every cluster in the account and region. */
      clusters: z._default(z.array(z.string().check(z.minLength(1))), []),
      /** Namespaces to look in; empty means all. */
      namespaces: z._default(z.array(z.string().check(z.minLength(1))), []),
      /** Policy for workloads without a `harborpilot.io/policy` annotation. */
      defaultPolicy: z._default(policyString, 'force'),
      /** How long rollEks watches the rollouts it started (all at once, within its timeout) before logging them as still progressing. */
      rolloutWaitSeconds: z._default(z.int().check(z.gte(0), z.lte(600)), 60),
      dryRun: z.optional(z.boolean()),
    }),
    {},
  ),
  prune: z.prefault(
    z.strictObject({
      /** Deleting images is opt-in: the pruner only plans until this is false. */
      dryRun: z._default(z.boolean(), true),
      /** Repository names or glob patterns; empty means every repository. */
      repositories: z._default(z.array(z.string().check(z.minLength(1))), []),
      /** Keep the newest N tagged images (a multi-arch image with its children and signatures counts once). */
      keepLast: z._default(z.int().check(z.gte(0)), 10),
      /** Keep images pushed within D days. */
      keepDays: z._default(z.int().check(z.gte(0)), 14),
      /** Keep images with a tag matching one of these globs. */
      protectTags: z._default(z.array(z.string().check(z.minLength(1))), ['latest', 'prod*', 'v*']),
      /**
       * Untagged images (not children of an index, not signatures) older than this many days are deleted even
       * within keepDays; null: untagged images follow keepDays. keepLast never counts untagged images.
       * Repository tags override these per repository: harborpilot:keep-last, harborpilot:keep-days,
       * harborpilot:protect-tags, harborpilot:expire-untagged-after-days, harborpilot:prune=false.
       */
      expireUntaggedAfterDays: z._default(z.nullable(z.int().check(z.gte(0))), null),
      /** Rollback targets: the newest N revisions of every task definition family in use are in use. */
      keepTaskDefinitionRevisions: z._default(z.int().check(z.gte(0)), 5),
    }),
    {},
  ),
  alerts: z.prefault(
    z.strictObject({
      /** Verified SES identity that sends alerts. */
      from: z._default(email, 'harborpilot@example.com'),
      /** Recipients; SES allows at most 50 a message, so longer lists get the same email in several. */
      to: z._default(z.array(email), []),
      /** At most one email per (cluster, service or task family, kind of failure) this often. */
      windowMinutes: z._default(z.int().check(z.gte(1), z.lte(1440)), 10),
      /** SES sending rate of the account (sandbox: 1 a second); sends are paced to stay under it. */
      maxSendRate: z._default(z.number().check(z.positive(), z.lte(1000)), 1),
      /** More alerts than this due at once are combined into digest emails. */
      digestAbove: z._default(z.int().check(z.gte(0)), 10),
      /** Log the emails instead of sending them. */
      dryRun: z.optional(z.boolean()),
    }),
    {},
  ),
  capacity: z.prefault(
    z.strictObject({
      /** Which platforms checkCapacity reads (an account without EKS skips its calls). */
      watch: z._default(z.array(z.enum(['ecs', 'eks'])).check(z.minLength(1)), ['ecs', 'eks']),
      /** An ECS deployment IN_PROGRESS with no change for this long is reported stuck. */
      stuckDeploymentMinutes: z._default(z.int().check(z.gte(1)), 30),
      /** Pods Unschedulable (or Fargate pods Pending) for longer than this are reported; shorter is normal. */
      pendingPodMinutes: z._default(z.int().check(z.gte(1)), 5),
      /** Fargate On-Demand vCPU quota of the account, when known (Service Quotas L-3032A538). */
      fargateVcpuQuota: z.optional(z.number().check(z.positive())),
      /** Log the capacity emails instead of sending them. */
      dryRun: z.optional(z.boolean()),
    }),
    {},
  ),
  holds: z.prefault(
    z.strictObject({
      /**
       * Maintenance window of workloads without their own (tag harborpilot:window, annotation
       * harborpilot.io/window), e.g. "Mon-Fri 09:00-17:00 Europe/Berlin"; unset: changes at any time.
       */
      window: z.optional(
        z.string().check(
          z.superRefine((value, ctx) => {
            try {
              parseWindows(value);
            } catch (err) {
              ctx.addIssue({ code: 'custom', message: errorMessage(err, { name: false }) });
            }
          }),
        ),
      ),
      /** A pending approval (tag harborpilot:approval / annotation harborpilot.io/approval = required) lapses after this. */
      approvalExpiryHours: z._default(z.int().check(z.gte(1), z.lte(24 * 30)), 72),
      /** A held push not released within this many days is forgotten (the reconcile finds it again). */
      heldExpiryDays: z._default(z.int().check(z.gte(1), z.lte(90)), 14),
      /**
       * A digest whose deployment harborpilot started failed or was rolled back is held on that workload until a
       * different digest is deployed there, or for this many days.
       */
      failedDigestDays: z._default(z.int().check(z.gte(1), z.lte(365)), 90),
    }),
    {},
  ),
  notices: z.prefault(
    z.strictObject({
      /**
       * Deployment notices (one email per push, once the deployments it started settled): `off`, `failures`
       * (failed or rolled back, or still in progress after slowMinutes) or `all`. A workload's tag
       * harborpilot:notify / annotation harborpilot.io/notify overrides it.
       */
      level: z._default(z.enum(['off', 'failures', 'all']), 'failures'),
      /** Recipients; empty: alerts.to. Sent from alerts.from. */
      to: z._default(z.array(email), []),
      /** Deployments still in progress this long after they started are told as such (then again when they end). */
      slowMinutes: z._default(z.int().check(z.gte(1), z.lte(1440)), 30),
      /** Log the notices instead of sending them (unset: the global dryRun). */
      dryRun: z.optional(z.boolean()),
    }),
    {},
  ),
  scan: z.prefault(
    z.strictObject({
      /**
       * Where a repository scans its images (ECR scanning on push), an image whose scan found anything at this
       * severity or above is held, not deployed, until released (`harborpilot release`); off: no scan gate.
       * Per workload: tag harborpilot:scan-gate / annotation harborpilot.io/scan-gate.
       */
      // YAML 1.1 readers make a bare `off` false: read as off.
      holdAtSeverity: z._default(
        z.pipe(
          z.transform((v: unknown) => (v === false ? 'off' : v)),
          z.enum(SCAN_THRESHOLDS),
        ),
        'CRITICAL',
      ),
      /** A scan that fails (FAILED, UNSUPPORTED_IMAGE...) holds the image too; false lets it through unscanned. */
      holdFailedScans: z._default(z.boolean(), true),
    }),
    {},
  ),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid harborpilot configuration (${source}): ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** Validates a parsed document; `source` names where it came from in the error. */
export function parseConfig(input: unknown, source: string): Config {
  const result = ConfigSchema.safeParse(input ?? {});
  if (!result.success) {
    throw new ConfigError(
      source,
      result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`),
    );
  }
  return result.data;
}

/**
 * A partial config (a world file's `config:`) merged over a harborpilot.yml document, then validated: objects
 * merge key by key, anything else (arrays included) is replaced. The local cloud and `plan --world` both use it.
 */
export function mergeConfig(base: unknown, over: unknown, source: string): Config {
  return parseConfig(deepMerge(base, over), source);
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = deepMerge(base[key], value);
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads HARBORPILOT_CONFIG (JSON), then the environment overrides that serverless.yml and the local
 * cloud set per function: HARBORPILOT_DRY_RUN and HARBORPILOT_TABLE.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Config {
  let doc: Record<string, unknown> = {};
  const raw = env.HARBORPILOT_CONFIG;
  if (raw !== undefined && raw.trim() !== '') {
    try {
      doc = JSON.parse(raw) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError('HARBORPILOT_CONFIG', [`not valid JSON: ${errorMessage(err, { name: false })}`]);
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      throw new ConfigError('HARBORPILOT_CONFIG', ['(root): expected a JSON object']);
    }
  }
  const dry = env.HARBORPILOT_DRY_RUN;
  if (dry !== undefined && dry !== '') {
    if (dry !== 'true' && dry !== 'false') {
      throw new ConfigError('HARBORPILOT_DRY_RUN', [`expected true or false, got "${dry}"`]);
    }
    doc = { ...doc, dryRun: dry === 'true' };
  }
  if (env.HARBORPILOT_TABLE) doc = { ...doc, stateTable: env.HARBORPILOT_TABLE };
  return parseConfig(doc, 'HARBORPILOT_CONFIG');
}

/**
 * The function's own region, for what it reads or names there (the registry it prunes, the repositories a
 * reconcile reads). Lambda always sets AWS_REGION; the fallback is for a shell without one.
 */
export function functionRegion(env: NodeJS.ProcessEnv = process.env): string {
  return env.AWS_REGION ?? 'us-east-1';
}

let cached: Config | undefined;

/** Read once per container (cold start); a bad config throws before any event is handled. */
export function getConfig(): Config {
  cached ??= configFromEnv();
  return cached;
}
