/**
 * Deployment records in the state table: `deployment#<workload>#<ref>` per deployment, `push#<event id>` per push,
 * and one index item (`deployment#open`) naming the records not yet settled and the pushes whose notice is not
 * done, so the settling schedule reads one item when nothing is open. Every write is idempotent: a retried or
 * duplicated event writes what is already there, and a settled record is never settled again.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { batchGetItems } from '../state/batch';
import { isConditionFailure } from '../state/document';
import { DeploymentRecord, type Outcome, PushGroup } from './model';

const INDEX_ID = 'deployment#open';
const DAY = 24 * 3600;
/** Records and push groups are kept this long after they start: enough for any notice, and for a look back. */
export const RECORD_DAYS = 30;

export const recordId = (workload: string, ref: string) => `deployment#${workload}#${ref}`;
export const pushGroupId = (eventId: string) => `push#${eventId}`;

const epoch = (iso: string, plusSeconds: number) => Math.floor(Date.parse(iso) / 1000) + plusSeconds;
const strings = (v: unknown) =>
  v instanceof Set ? [...v].map(String) : Array.isArray(v) ? v.map(String) : [];

export interface Settlement {
  state: Outcome;
  reason: string;
  settledAt: string;
  deployedDigests?: Record<string, string>;
  serviceDeploymentArn?: string;
}

export class DeploymentStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Writes the record of a deployment harborpilot started, adds it to its push's group and to the open index.
   * true: written now; false: it was there already (a retry or a duplicate event), and nothing of it changed.
   */
  async record(r: DeploymentRecord): Promise<boolean> {
    let fresh = true;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { id: r.recordId, ...r, expiration: epoch(r.startedAt, RECORD_DAYS * DAY) },
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      fresh = false;
    }
    if (!fresh) {
      // Written before: grouped and indexed then too, unless that run stopped in between. A settled record stays
      // out of the index.
      const out = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: { id: r.recordId }, ConsistentRead: true }),
      );
      if (out.Item?.state !== 'in-progress') return false;
    }
    // Both below are set additions: doing them again (a retry after a crash between the writes) changes nothing.
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: pushGroupId(r.cause.eventId) },
        UpdateExpression:
          'SET eventId = :e, cause = if_not_exists(cause, :c), firstAt = if_not_exists(firstAt, :t), ' +
          'lastAt = :t, notice = if_not_exists(notice, :pending), expiration = :x ADD deployments :d',
        ExpressionAttributeValues: {
          ':e': r.cause.eventId,
          ':c': r.cause,
          ':t': r.startedAt,
          ':pending': 'pending',
          ':x': epoch(r.startedAt, RECORD_DAYS * DAY),
          ':d': new Set([r.recordId]),
        },
      }),
    );
    await this.index('ADD', { deployments: [r.recordId], pushes: [r.cause.eventId] });
    return fresh;
  }

  /** The records not yet settled and the pushes whose notice is not done (one GetItem). */
  async open(): Promise<{ deployments: string[]; pushes: string[] }> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { id: INDEX_ID }, ConsistentRead: true }),
    );
    return { deployments: strings(out.Item?.deployments), pushes: strings(out.Item?.pushes) };
  }

  async records(ids: readonly string[]): Promise<DeploymentRecord[]> {
    if (ids.length === 0) return [];
    const items = await batchGetItems(this.doc, this.tableName, [...new Set(ids)], { consistentRead: true });
    return [...items.values()].flatMap((i) => {
      const r = DeploymentRecord.safeParse(i);
      return r.success ? [r.data] : [];
    });
  }

  async groups(eventIds: readonly string[]): Promise<PushGroup[]> {
    if (eventIds.length === 0) return [];
    const items = await batchGetItems(this.doc, this.tableName, [...new Set(eventIds)].map(pushGroupId), {
      consistentRead: true,
    });
    return [...items.values()].flatMap((i) => {
      const g = PushGroup.safeParse({ ...i, deployments: strings(i.deployments) });
      return g.success ? [g.data] : [];
    });
  }

  /**
   * Settles a record still in progress. false: it was settled already (a duplicate event, two runs at once):
   * only the first settlement counts.
   */
  async settle(id: string, s: Settlement): Promise<boolean> {
    let settled = true;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: `SET #s = :state, reason = :reason, settledAt = :at${
            s.deployedDigests ? ', deployedDigests = :digests' : ''
          }${s.serviceDeploymentArn ? ', serviceDeploymentArn = :sd' : ''}`,
          ConditionExpression: 'attribute_exists(id) AND #s = :open',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: {
            ':state': s.state,
            ':reason': s.reason,
            ':at': s.settledAt,
            ':open': 'in-progress',
            ...(s.deployedDigests ? { ':digests': s.deployedDigests } : {}),
            ...(s.serviceDeploymentArn ? { ':sd': s.serviceDeploymentArn } : {}),
          },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      settled = false;
    }
    await this.index('DELETE', { deployments: [id] });
    return settled;
  }

  /** Remembers which ECS service deployment a record is, once found, so later runs describe it directly. */
  async noteServiceDeployment(id: string, serviceDeploymentArn: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: 'SET serviceDeploymentArn = :sd',
          ConditionExpression: 'attribute_exists(id) AND #s = :open',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: { ':sd': serviceDeploymentArn, ':open': 'in-progress' },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  /** Names in the index whose items are settled or gone (expired): taken out. */
  async forget(o: { deployments?: string[]; pushes?: string[] }): Promise<void> {
    await this.index('DELETE', o);
  }

  /**
   * Moves a push's notice on from `from` (`pending` or `slow`) to `to`: of two runs at once, or a run and its
   * duplicate, exactly one gets true and sends the email.
   */
  async claimNotice(
    eventId: string,
    from: PushGroup['notice'],
    to: PushGroup['notice'],
    at?: string,
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: pushGroupId(eventId) },
          UpdateExpression: `SET notice = :to${to === 'slow' && at ? ', slowAt = :at' : ''}`,
          ConditionExpression: 'notice = :from',
          ExpressionAttributeValues: {
            ':from': from,
            ':to': to,
            ...(to === 'slow' && at ? { ':at': at } : {}),
          },
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
    if (to === 'done') await this.index('DELETE', { pushes: [eventId] });
    return true;
  }

  /** A claimed notice whose email failed goes back, so the next run sends it. */
  async unclaimNotice(eventId: string, back: PushGroup['notice']): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: pushGroupId(eventId) },
        UpdateExpression: 'SET notice = :back',
        ExpressionAttributeValues: { ':back': back },
      }),
    );
    await this.index('ADD', { pushes: [eventId] });
  }

  /** String sets change atomically, so two writers at once both land. */
  private async index(op: 'ADD' | 'DELETE', o: { deployments?: string[]; pushes?: string[] }): Promise<void> {
    const members = Object.entries(o).filter(([, v]) => v && v.length > 0) as [string, string[]][];
    if (members.length === 0) return;
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: INDEX_ID },
        UpdateExpression: `SET expiration = :e ${op} ${members.map(([m]) => `#${m} :${m}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(members.map(([m]) => [`#${m}`, m])),
        ExpressionAttributeValues: {
          ...Object.fromEntries(members.map(([m, v]) => [`:${m}`, new Set(v)])),
          ':e': Math.floor(Date.now() / 1000) + (RECORD_DAYS + 10) * DAY,
        },
      }),
    );
  }
}
