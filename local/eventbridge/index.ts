/**
 * The local cloud's EventBridge: every account has a `default` event bus in every region, and may create more;
 * each bus has its rules (an event pattern and targets) and a resource policy saying which other accounts may put
 * events on it. Every event the cloud emits arrives on a bus (an AWS service's on the default bus of its account
 * and region, PutEvents' on the bus it names); the bus's rules that match it forward it to their event-bus targets,
 * in this account or another one whose bus policy allows it, with its envelope unchanged, as AWS does.
 *
 * The functions (the router) receive what arrives on the hub's default bus (the world's `accountId` and `region`):
 * their serverless.yml rules live there. A world without an `eventBridge:` section keeps the local cloud's older
 * delivery instead: every event put on any account's default bus reaches them (see docs/world.md).
 */
import type { BusAddress, CloudEvent, EventBus } from '../bus';
import { AwsServiceError } from '../errors';
import { compilePattern, PatternError } from '../router/pattern';

export type { BusAddress } from '../bus';

/** One statement of a bus's resource policy, as DescribeEventBus shows it. */
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal: '*' | { AWS: string | string[] };
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export interface Target {
  Id: string;
  Arn: string;
  RoleArn?: string;
  /** Other members of the target as PutTargets gave them (Input, InputPath, ...): kept, shown, not used. */
  [member: string]: unknown;
}

export interface Rule {
  name: string;
  arn: string;
  bus: Bus;
  eventPattern?: string;
  scheduleExpression?: string;
  state: 'ENABLED' | 'DISABLED';
  description?: string;
  roleArn?: string;
  targets: Map<string, Target>;
  matches: (event: unknown) => boolean;
}

export interface Bus {
  account: string;
  region: string;
  name: string;
  arn: string;
  description?: string;
  createdAt: Date;
  modifiedAt: Date;
  policy?: PolicyDocument;
  rules: Map<string, Rule>;
}

/** What happened to an event at one bus: it arrived (put there or forwarded), or a rule failed to forward it. */
export type Arrival = {
  event: CloudEvent;
  /** The bus it arrived on. */
  bus: string;
  /** The bus whose rule forwarded it here; absent when it was put on this bus. */
  from?: string;
  /** The rule that forwarded it. */
  rule?: string;
};

export interface FailedForward {
  event: CloudEvent;
  rule: string;
  target: string;
  reason: string;
}

export interface Organization {
  id: string;
  accounts: ReadonlySet<string>;
}

export interface EventBridgeOptions {
  /** The functions' bus: the default bus of this account and region. */
  hub: { account: string; region: string };
  /**
   * true: the functions receive what arrives on the hub's default bus (AWS). false: every event put on any
   * account's default bus (the local cloud's delivery before buses and rules existed).
   */
  hubOnly: boolean;
  organization?: Organization | undefined;
}

const KEPT = 10_000;
export const busArn = (account: string, region: string, name: string) =>
  `arn:aws:events:${region}:${account}:event-bus/${name}`;
const BUS_ARN = /^arn:aws[a-z-]*:events:([a-z0-9-]+):(\d{12}):event-bus\/([\w.\-/]+)$/;

/** The bus an ARN names, or undefined for anything else. */
export function parseBusArn(arn: string): BusAddress | undefined {
  const m = BUS_ARN.exec(arn);
  return m ? { region: m[1] as string, account: m[2] as string, name: m[3] as string } : undefined;
}

export class LocalEventBridge {
  private readonly buses = new Map<string, Bus>();
  /** Every arrival on every bus, oldest first (the last 10 000). */
  readonly arrivals: Arrival[] = [];
  /** Events a rule matched but could not forward (no such bus, the bus's policy refuses, no role), oldest first. */
  readonly failedForwards: FailedForward[] = [];
  private readonly listeners = new Set<(event: CloudEvent) => void>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    eventBus: EventBus,
    private readonly now: () => Date,
    readonly options: EventBridgeOptions,
  ) {
    this.unsubscribe = eventBus.subscribe((event, on) => this.arrive(event, on));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** What the functions receive (see EventBridgeOptions.hubOnly); returns the unsubscribe. */
  subscribeFunctions(fn: (event: CloudEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The bus at this address; a default bus always exists, others only once created. */
  find(at: BusAddress): Bus | undefined {
    const arn = busArn(at.account, at.region, at.name);
    const bus = this.buses.get(arn);
    if (bus || at.name !== 'default') return bus;
    const now = this.now();
    const created: Bus = { ...at, arn, createdAt: now, modifiedAt: now, rules: new Map() };
    this.buses.set(arn, created);
    return created;
  }

  /** The buses of an account in a region, the default bus first. */
  list(account: string, region: string): Bus[] {
    this.find({ account, region, name: 'default' });
    return [...this.buses.values()]
      .filter((b) => b.account === account && b.region === region)
      .sort((a, b) => (a.name === 'default' ? -1 : b.name === 'default' ? 1 : a.name < b.name ? -1 : 1));
  }

  create(at: BusAddress, description?: string): Bus {
    if (this.find(at))
      throw new AwsServiceError('ResourceAlreadyExistsException', `Event bus ${at.name} already exists.`);
    const now = this.now();
    const bus: Bus = {
      ...at,
      arn: busArn(at.account, at.region, at.name),
      createdAt: now,
      modifiedAt: now,
      rules: new Map(),
      ...(description !== undefined ? { description } : {}),
    };
    this.buses.set(bus.arn, bus);
    return bus;
  }

  delete(bus: Bus): void {
    this.buses.delete(bus.arn);
  }

  /** A rule on `bus`, new or replacing the one of that name (PutRule keeps the targets of a rule it updates). */
  putRule(
    bus: Bus,
    spec: {
      name: string;
      eventPattern?: string | undefined;
      scheduleExpression?: string | undefined;
      description?: string | undefined;
      roleArn?: string | undefined;
      state?: Rule['state'] | undefined;
    },
  ): Rule {
    let matches: Rule['matches'] = () => false;
    if (spec.eventPattern !== undefined) {
      let pattern: unknown;
      try {
        pattern = JSON.parse(spec.eventPattern);
      } catch {
        throw new AwsServiceError(
          'InvalidEventPatternException',
          'Event pattern is not valid. Reason: Filter is not an object',
        );
      }
      try {
        matches = compilePattern(pattern);
      } catch (err) {
        if (err instanceof PatternError)
          throw new AwsServiceError('InvalidEventPatternException', err.message);
        throw err;
      }
    }
    const existing = bus.rules.get(spec.name);
    const rule: Rule = {
      name: spec.name,
      arn: ruleArn(bus, spec.name),
      bus,
      state: spec.state ?? existing?.state ?? 'ENABLED',
      targets: existing?.targets ?? new Map(),
      matches,
      ...(spec.eventPattern !== undefined ? { eventPattern: spec.eventPattern } : {}),
      ...(spec.scheduleExpression !== undefined ? { scheduleExpression: spec.scheduleExpression } : {}),
      ...(spec.description !== undefined ? { description: spec.description } : {}),
      ...(spec.roleArn !== undefined ? { roleArn: spec.roleArn } : {}),
    };
    bus.rules.set(rule.name, rule);
    return rule;
  }

  /**
   * May `account` put events on `bus`? Its own account always may; another only where the bus's policy allows
   * it `events:PutEvents` and no statement denies it. `viaOrganization`: only a statement for the whole
   * organisation (or everyone) allows it, so a rule forwarding there needs a RoleArn, as AWS requires.
   */
  access(bus: Bus, account: string): { allowed: boolean; viaOrganization: boolean } {
    if (account === bus.account) return { allowed: true, viaOrganization: false };
    const applies = (s: PolicyStatement) =>
      actionCovers(s.Action) &&
      resourceCovers(s.Resource, bus.arn) &&
      conditionHolds(s.Condition, account, this.options.organization);
    const statements = (bus.policy?.Statement ?? []).filter(applies);
    if (statements.some((s) => s.Effect === 'Deny' && principalCovers(s.Principal, account) !== 'no'))
      return { allowed: false, viaOrganization: false };
    const allows = statements
      .filter((s) => s.Effect === 'Allow')
      .map((s) => principalCovers(s.Principal, account));
    if (allows.includes('account')) return { allowed: true, viaOrganization: false };
    if (allows.includes('everyone')) return { allowed: true, viaOrganization: true };
    return { allowed: false, viaOrganization: false };
  }

  /** An event arrives on a bus: recorded, given to the functions if they listen there, matched by its rules. */
  private arrive(event: CloudEvent, at: BusAddress, via?: Rule): void {
    const bus = this.find(at);
    if (!bus) return; // PutEvents checked the bus exists; it was deleted since
    this.record(this.arrivals, {
      event,
      bus: bus.arn,
      ...(via ? { from: via.bus.arn, rule: via.arn } : {}),
    });
    const { hub, hubOnly } = this.options;
    const toFunctions = hubOnly
      ? bus.account === hub.account && bus.region === hub.region && bus.name === 'default'
      : !via && bus.name === 'default';
    if (toFunctions) for (const fn of this.listeners) fn(event);
    for (const rule of bus.rules.values()) {
      if (rule.state !== 'ENABLED' || !rule.matches(event)) continue;
      for (const target of rule.targets.values()) {
        const to = parseBusArn(target.Arn);
        if (!to) continue; // other targets (Lambda, SQS, ...) are kept but not invoked here
        // AWS forwards an event from bus to bus once: what a rule forwarded is not forwarded again.
        if (via) {
          this.fail(event, rule, target, 'an event forwarded from another bus is not forwarded again');
          continue;
        }
        const dest = this.find(to);
        if (!dest) {
          this.fail(event, rule, target, `event bus ${target.Arn} does not exist`);
          continue;
        }
        const access = this.access(dest, bus.account);
        if (!access.allowed) {
          this.fail(event, rule, target, `the policy of ${dest.arn} does not allow account ${bus.account}`);
          continue;
        }
        if (access.viaOrganization && !target.RoleArn) {
          this.fail(event, rule, target, 'allowed through the organization: the target needs a RoleArn');
          continue;
        }
        queueMicrotask(() => this.arrive(event, to, rule));
      }
    }
  }

  private fail(event: CloudEvent, rule: Rule, target: Target, reason: string): void {
    this.record(this.failedForwards, { event, rule: rule.arn, target: target.Arn, reason });
  }

  private record<T>(list: T[], item: T): void {
    list.push(item);
    if (list.length > KEPT) list.splice(0, list.length - KEPT);
  }
}

export function ruleArn(bus: Bus, name: string): string {
  const path = bus.name === 'default' ? name : `${bus.name}/${name}`;
  return `arn:aws:events:${bus.region}:${bus.account}:rule/${path}`;
}

const asList = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

function actionCovers(action: string | string[]): boolean {
  return asList(action).some((a) => a === '*' || a === 'events:*' || a === 'events:PutEvents');
}

function resourceCovers(resource: string | string[] | undefined, arn: string): boolean {
  if (resource === undefined) return true;
  return asList(resource).some((r) => globMatch(r, arn));
}

function globMatch(glob: string, text: string): boolean {
  const re = new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(text);
}

/** `account`: the statement names the account; `everyone`: `*`; `no`: neither. */
function principalCovers(
  principal: PolicyStatement['Principal'],
  account: string,
): 'account' | 'everyone' | 'no' {
  const names = principal === '*' ? ['*'] : asList(principal.AWS);
  if (names.some((p) => p === account || p === `arn:aws:iam::${account}:root`)) return 'account';
  return names.includes('*') ? 'everyone' : 'no';
}

/**
 * The conditions bus policies use to let an organisation in: `aws:PrincipalOrgID` and `aws:PrincipalAccount`
 * with StringEquals (or StringLike). Any other condition does not hold: a policy the local cloud cannot read
 * refuses rather than allows.
 */
function conditionHolds(
  condition: PolicyStatement['Condition'],
  account: string,
  organization: Organization | undefined,
): boolean {
  if (!condition) return true;
  return Object.entries(condition).every(([operator, keys]) => {
    if (operator !== 'StringEquals' && operator !== 'StringLike') return false;
    return Object.entries(keys).every(([key, wanted]) => {
      const value =
        key === 'aws:PrincipalOrgID'
          ? organization?.accounts.has(account)
            ? organization.id
            : undefined
          : key === 'aws:PrincipalAccount'
            ? account
            : undefined;
      if (value === undefined) return false;
      return asList(wanted).some((w) => (operator === 'StringLike' ? globMatch(w, value) : w === value));
    });
  });
}
