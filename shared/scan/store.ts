/**
 * The scan gate's item in the state table, one per image (`scan#<account>/<region>/<repository>@<digest>`): that it
 * was held and the team told (written once, by whichever function held it first: one email however many workloads
 * and deliveries), and its release (`harborpilot release`, with the caller's own credentials).
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type RepositoryRef, repositoryKey } from '../image-ref';
import { isConditionFailure } from '../state/document';
import * as z from '../zod';

/** An image as the scan gate keys it: `<account>/<region>/<repository>@<digest>`. */
export const imageKeyOf = (repository: RepositoryRef, digest: string) =>
  `${repositoryKey(repository)}@${digest}`;
export const scanItemId = (image: string) => `scan#${image}`;

/** Kept a year: a release must outlive every push of the image the reconcile could still find. */
const KEEP_SECONDS = 366 * 24 * 3600;

export const ScanRecord = z.object({
  image: z.string(),
  repository: z.object({ accountId: z.string(), region: z.string(), repositoryName: z.string() }),
  digest: z.string(),
  tags: z.array(z.string()),
  /** Why it is held: the findings at or above the threshold, or the failed scan. */
  reason: z.string(),
  heldAt: z.string(),
  /** The workloads the first function to hold it held (others may follow: `harborpilot holds` lists them). */
  workloads: z.array(z.string()),
  releasedBy: z.optional(z.string()),
  releasedAt: z.optional(z.string()),
  releaseReason: z.optional(z.string()),
});
export type ScanRecord = z.infer<typeof ScanRecord>;

export function parseScanRecord(item: unknown): ScanRecord | undefined {
  const r = ScanRecord.safeParse(item);
  return r.success ? r.data : undefined;
}

export class ScanRecords {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Writes the item unless the image has one: true for the one caller that should tell the team (of ECS and EKS
   * holding it at once, a duplicate event, the reconcile later: exactly one).
   */
  async recordHold(record: ScanRecord, nowIso: string): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            id: scanItemId(record.image),
            ...record,
            expiration: Math.floor(Date.parse(nowIso) / 1000) + KEEP_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** The email could not be sent: the item goes, so a retry tells the team (unless it was released meanwhile). */
  async forgetHold(image: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { id: scanItemId(image) },
          ConditionExpression: 'attribute_not_exists(releasedAt)',
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  async get(image: string): Promise<ScanRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { id: scanItemId(image) }, ConsistentRead: true }),
    );
    return parseScanRecord(out.Item);
  }

  /**
   * Releases a held image: one conditional UpdateItem on its item, which the caller's own IAM policy must allow.
   * undefined: the scan gate never held it (no item).
   */
  async release(image: string, by: string, reason: string, nowIso: string): Promise<ScanRecord | undefined> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: scanItemId(image) },
          UpdateExpression: 'SET releasedBy = :by, releasedAt = :at, releaseReason = :why',
          ConditionExpression: 'attribute_exists(id)',
          ExpressionAttributeValues: { ':by': by, ':at': nowIso, ':why': reason },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return parseScanRecord(out.Attributes);
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  }
}
