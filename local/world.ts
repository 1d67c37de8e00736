/**
 * World files: the YAML that declares what already exists in the local cloud when it starts
 * (accounts, ECR repositories and images, ECS clusters and services, EKS clusters, SES identities, EventBridge
 * buses and rules),
 * the config the functions run with (opaque here: its caller's schema checks it), standing faults and
 * the simulated clock. Each
 * service's section is owned by its backend (local/<service>/world.ts); this file composes them.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import * as z from 'zod';
import { EcrWorldSchema } from './ecr/world';
import { EcsWorldSchema } from './ecs/world';
import { EksWorldSchema } from './eks/world';
import { EventBridgeWorldSchema, OrganizationSchema } from './eventbridge/world';
import { FaultSpecSchema } from './faults';
import { SesWorldSchema } from './ses/world';

export const DEFAULT_ACCOUNT_ID = '000000000000';
export const DEFAULT_REGION = 'us-east-1';

const AccountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit account id');

const AccountSchema = z
  .object({
    accountId: AccountId,
    /** A name for people (shown by the CLI); AWS has aliases, the API does not care. */
    name: z.string().min(1).optional(),
    /** Callers signing with one of these access key ids act in this account. */
    accessKeys: z.array(z.string().min(1)).min(1),
  })
  .strict();

/** An IAM role that AssumeRole can enter (local/sts.ts): its account, name and trust, as the trust policy says. */
const RoleSchema = z
  .object({
    /** The role's account; the world's `accountId` when absent. */
    accountId: AccountId.optional(),
    name: z.string().regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name (letters, digits, +=,.@_-)'),
    /**
     * Who may assume it (the trust policy's `Principal.AWS`): account ids or `arn:aws:iam::<id>:root` (anyone in
     * that account), role ARNs (sessions of those roles), or other ARNs (that caller exactly).
     */
    trust: z.array(z.string().min(1)).min(1),
    /** When set, AssumeRole must give this ExternalId (the `sts:ExternalId` condition). */
    externalId: z.string().min(2).optional(),
    /** Longest DurationSeconds allowed (3600 to 43200, default 3600). */
    maxSessionDuration: z.number().int().min(3600).max(43200).optional(),
  })
  .strict();

const ClockSchema = z
  .object({
    /** Simulated time at start-up (ISO 8601); now when absent. Image ages count back from it. */
    start: z.coerce.date().optional(),
    /** Simulated milliseconds per real millisecond; 0 stops the clock (tests advance it). */
    speed: z.number().min(0).max(10_000).optional(),
  })
  .strict();

/**
 * The world schema around a given config schema: the runtime keeps the `config` section as written
 * (the caller merges it over its own config file, so defaults must not be filled in here); the JSON
 * schema shows the caller's full config schema.
 */
// Any zod schema, classic or `zod/mini` (the functions' config is mini): only zod's functions are called on it.
export function makeWorldSchema<C extends z.core.$ZodType>(config: C) {
  return z
    .object({
      /** Account of callers whose access key is not listed under `accounts` (e.g. `test`). */
      accountId: AccountId.default(DEFAULT_ACCOUNT_ID),
      /** Region of callers that do not sign requests, and of world resources that name none. */
      region: z.string().min(1).default(DEFAULT_REGION),
      accounts: z.array(AccountSchema).default([]),
      /** IAM roles STS AssumeRole can enter, with the trust that decides who may. */
      roles: z.array(RoleSchema).default([]),
      /**
       * The AWS Organizations organisation the accounts belong to: what an event bus policy's
       * `aws:PrincipalOrgID` condition compares with.
       */
      organization: OrganizationSchema.optional(),
      clock: ClockSchema.prefault({}),
      /** Config for the functions the router runs, as the caller of the local cloud defines it. */
      config: z.optional(config),
      /** Standing faults from start-up (same specs as POST /_harborpilot/faults). */
      faults: z.array(FaultSpecSchema).default([]),
      ecr: EcrWorldSchema.optional(),
      ses: SesWorldSchema.optional(),
      ecs: EcsWorldSchema.optional(),
      eks: EksWorldSchema.optional(),
      /**
       * EventBridge: buses, their policies and rules forwarding to other accounts' buses. With this section the
       * functions receive only what arrives on the default bus of `accountId` in `region`, as on AWS; without it,
       * every event on any account's default bus (docs/world.md).
       */
      eventBridge: EventBridgeWorldSchema.optional(),
    })
    .strict();
}

const OpaqueConfig = z.record(z.string(), z.unknown());

/** The config section checked with the caller's schema, but kept as the user wrote it. */
function keptAsWritten(config: z.core.$ZodType) {
  return OpaqueConfig.superRefine((value, ctx) => {
    const result = z.safeParse(config, value);
    if (result.success) return;
    for (const issue of result.error.issues) {
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    }
  });
}

export const WorldSchema = makeWorldSchema(OpaqueConfig);
export type World = z.infer<typeof WorldSchema>;
export type WorldInput = z.input<typeof WorldSchema>;

export class WorldError extends Error {
  constructor(
    /** File path or other source of the world. */
    readonly source: string,
    /** One line per problem, each starting with the field's path. */
    readonly problems: string[],
  ) {
    super(`invalid world (${source}):\n  ${problems.join('\n  ')}`);
    this.name = 'WorldError';
  }
}

export interface WorldOptions {
  /** The caller's schema for the `config:` section (errors name its fields); any mapping when absent. */
  config?: z.core.$ZodType;
}

export function parseWorld(input: unknown, source = 'world', options: WorldOptions = {}): World {
  const schema = options.config ? makeWorldSchema(keptAsWritten(options.config)) : WorldSchema;
  const result = schema.safeParse(input ?? {});
  if (!result.success) {
    throw new WorldError(
      source,
      result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`),
    );
  }
  return result.data as World;
}

export function parseWorldYaml(text: string, source: string, options: WorldOptions = {}): World {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
    throw new WorldError(source, [`not valid YAML${where}: ${(err as Error).message.split('\n')[0]}`]);
  }
  return parseWorld(doc, source, options);
}

export function loadWorldFile(path: string, options: WorldOptions = {}): World {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new WorldError(path, [`cannot read the file: ${(err as Error).message}`]);
  }
  return parseWorldYaml(text, path, options);
}

/** The JSON schema of world files, for editors and reviewers, with the caller's config schema in it. */
export function worldJsonSchema(config: z.core.$ZodType = OpaqueConfig): Record<string, unknown> {
  return z.toJSONSchema(makeWorldSchema(config), {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as Record<string, unknown>;
}
