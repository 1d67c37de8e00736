/**
 * The `eventBridge` section of a world file: event buses (beyond each account's default bus), their policies, and
 * rules with their targets, in any account and region, so a world can start as an organisation whose member
 * accounts forward their events to the hub. What it declares is what the API calls would have made
 * (CreateEventBus, PutPermission, PutRule, PutTargets); errors name the field.
 */
import * as z from 'zod';
import { compilePattern } from '../router/pattern';
import type { LocalEventBridge, PolicyDocument, PolicyStatement } from '.';

const AccountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit account id');
const BusName = z
  .string()
  .regex(/^[.\-_A-Za-z0-9]{1,256}$/, 'must be an event bus name (letters, digits, .-_)');

/** One PutPermission: an account, or `*` (with a condition such as aws:PrincipalOrgID), may put events. */
const PermissionSchema = z
  .object({
    statementId: z.string().regex(/^[a-zA-Z0-9-_]{1,64}$/, 'must be letters, digits, - and _'),
    /** A 12-digit account id, or `*` (everyone; with `condition`, everyone it holds for). */
    principal: z.string().regex(/^(\d{12}|\*)$/, 'must be a 12-digit account id or *'),
    /** PutPermission's Condition, e.g. `{ type: StringEquals, key: aws:PrincipalOrgID, value: o-abc123 }`. */
    condition: z
      .object({ type: z.string().min(1), key: z.string().min(1), value: z.string().min(1) })
      .strict()
      .optional(),
  })
  .strict()
  .refine((p) => !p.condition || p.principal === '*', {
    message: "a condition can only be set when principal is '*'",
  });

const BusSchema = z
  .object({
    /** The bus's account; the world's `accountId` when absent. */
    accountId: AccountId.optional(),
    /** The bus's region; the world's `region` when absent. */
    region: z.string().min(1).optional(),
    /** `default` (every account has one in every region: declare it to give it a policy) or a new bus. */
    name: BusName.default('default'),
    description: z.string().max(512).optional(),
    /** Statements added as PutPermission adds them. */
    permissions: z.array(PermissionSchema).default([]),
    /** A whole resource policy (PutPermission's `Policy` form), as a JSON object; `permissions` add to it. */
    policy: z
      .object({
        Version: z.string().optional(),
        Statement: z.array(z.record(z.string(), z.unknown())).min(1),
      })
      .optional(),
  })
  .strict();

const TargetSchema = z
  .object({
    id: z.string().regex(/^[.\-_A-Za-z0-9]{1,64}$/, 'must be a target id (letters, digits, .-_)'),
    /** An event bus ARN (`arn:aws:events:<region>:<account>:event-bus/<name>`) forwards there; other targets are kept only. */
    arn: z.string().min(1),
    /** Needed to forward to another account's bus that lets the sender in through the organisation. */
    roleArn: z.string().min(1).optional(),
  })
  .strict();

const RuleSchema = z
  .object({
    accountId: AccountId.optional(),
    region: z.string().min(1).optional(),
    /** The bus the rule is on (default: `default`). */
    bus: BusName.default('default'),
    name: z.string().regex(/^[.\-_A-Za-z0-9]{1,64}$/, 'must be a rule name (letters, digits, .-_)'),
    /** The event pattern, as YAML or as its JSON text. */
    eventPattern: z.union([z.record(z.string(), z.unknown()), z.string()]),
    state: z.enum(['ENABLED', 'DISABLED']).default('ENABLED'),
    description: z.string().max(512).optional(),
    targets: z.array(TargetSchema).max(5).default([]),
  })
  .strict()
  .superRefine((r, ctx) => {
    try {
      compilePattern(typeof r.eventPattern === 'string' ? JSON.parse(r.eventPattern) : r.eventPattern);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['eventPattern'], message: (err as Error).message });
    }
  });

export const EventBridgeWorldSchema = z
  .object({
    buses: z.array(BusSchema).default([]),
    rules: z.array(RuleSchema).default([]),
  })
  .strict();

export type EventBridgeWorld = z.infer<typeof EventBridgeWorldSchema>;

/** An AWS Organizations organisation: what `aws:PrincipalOrgID` conditions compare with. */
export const OrganizationSchema = z
  .object({
    id: z
      .string()
      .regex(/^o-[a-z0-9]{10,32}$/, 'must be an organization id (o- and 10 to 32 letters or digits)'),
    /** Its member accounts; every account the world names (accountId, accounts, roles) when absent. */
    accounts: z.array(AccountId).optional(),
  })
  .strict();

/** A declaration that names what the section does not declare; its message starts with the field's path. */
export class EventBridgeWorldError extends Error {}

/** Creates what the section declares, in order: buses and policies, then rules and their targets. */
export function loadEventBridgeWorld(
  eb: LocalEventBridge,
  world: EventBridgeWorld,
  defaults: { accountId: string; region: string },
  now: Date,
): void {
  const at = (d: { accountId?: string | undefined; region?: string | undefined }, name: string) => ({
    account: d.accountId ?? defaults.accountId,
    region: d.region ?? defaults.region,
    name,
  });
  for (const b of world.buses) {
    const where = at(b, b.name);
    const bus = eb.find(where) ?? eb.create(where, b.description);
    if (b.description !== undefined) bus.description = b.description;
    const statements: PolicyStatement[] = [...((b.policy?.Statement ?? []) as unknown as PolicyStatement[])];
    for (const p of b.permissions) {
      statements.push({
        Sid: p.statementId,
        Effect: 'Allow',
        Principal: p.principal === '*' ? '*' : { AWS: `arn:aws:iam::${p.principal}:root` },
        Action: 'events:PutEvents',
        Resource: bus.arn,
        ...(p.condition
          ? { Condition: { [p.condition.type]: { [p.condition.key]: p.condition.value } } }
          : {}),
      });
    }
    if (statements.length > 0)
      bus.policy = { Version: '2012-10-17', Statement: statements } as PolicyDocument;
    bus.modifiedAt = now;
  }
  world.rules.forEach((r, i) => {
    const where = at(r, r.bus);
    const bus = eb.find(where);
    if (!bus)
      throw new EventBridgeWorldError(
        `eventBridge.rules.${i}.bus: event bus ${r.bus} is not declared in account ${where.account}, ${where.region}`,
      );
    const rule = eb.putRule(bus, {
      name: r.name,
      eventPattern: typeof r.eventPattern === 'string' ? r.eventPattern : JSON.stringify(r.eventPattern),
      state: r.state,
      description: r.description,
    });
    for (const t of r.targets) {
      rule.targets.set(t.id, {
        Id: t.id,
        Arn: t.arn,
        ...(t.roleArn !== undefined ? { RoleArn: t.roleArn } : {}),
      });
    }
  });
}
