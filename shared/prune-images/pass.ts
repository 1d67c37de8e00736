/**
 * pruneImages's in-use scan over several invocations (docs/prune.md, "A pass over several runs"). When the ECS
 * clusters cannot all be read within one invocation at `ecs.maxReadsPerSecond`, each turn reads as many whole
 * clusters as it has time for and stores their in-use references; the turn that reads the last cluster reads the
 * other sources (EKS), plans and deletes. Nothing is deleted before that turn, and nothing after a failed one.
 *
 * Why deleting on the last turn is safe although the clusters were read at different times:
 * - an image used in a cluster read earlier is in that turn's stored references, so it is kept;
 * - an image pushed after the pass began is kept (it may be what a cluster read earlier now runs), and so is one
 *   ECR recorded a pull of after the pass began (a task or pod started on it since);
 * - the rollback targets (the newest `prune.keepTaskDefinitionRevisions` revisions of each family in use) were
 *   read with the cluster, so a rollback to one of them between turns pulls an image already kept.
 * What remains is what a single run has too, over a longer window: a deployment, between its cluster's turn and
 * the last turn, of an image older than all the keep rules that ECR has not yet recorded a pull of (it records
 * pulls at least once a day). A pass older than a day is abandoned, which bounds the window.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { batchGetItems } from '../state/batch';
import { stateDocument } from '../state/document';
import { listedNames, type Pass } from '../state/scan-pass';
import { EXPIRATION_ATTRIBUTE } from '../state/table';
import * as z from '../zod';
import type { InUseRef } from './in-use/model';
import type { RepositoryImages } from './model';

/** Every item of a pass starts with it (IAM's dynamodb:LeadingKeys names `prune#pass*`). */
export const PRUNE_PASS_ID = 'prune#pass';
const PART_PREFIX = `${PRUNE_PASS_ID}#part#`;

/** The rule of the schedule that only continues a pass (serverless.yml); the daily one begins them. */
export const CONTINUE_RULE_SUFFIX = '-pruneImages-continue';

/** A pass not completed within a day is abandoned: the next daily run begins a new one. */
export const PASS_MAX_AGE_MS = 24 * 3600_000;

/** Parts live as long as the pass could (its cursor lives two days). */
const PART_TTL_S = 2 * 24 * 3600;

/**
 * DynamoDB items hold at most 400 KB: a turn's references go into parts of at most this many bytes of JSON,
 * with room left for the key and the attribute names.
 */
export const PART_MAX_BYTES = 350_000;

export const PruneCarry = z.object({
  /** The part items holding the references of the clusters read so far. */
  parts: z.array(z.string()),
  /** Why the pass failed (a turn could not read something): its retries fail with the same words. */
  error: z.optional(z.string()),
});
export type PruneCarry = z.infer<typeof PruneCarry>;
export type PrunePass = Pass<PruneCarry>;

/** A pass the last turn of which failed: nothing is deleted until the next daily run begins a new one. */
export class PrunePassFailedError extends Error {
  constructor(readonly reason: string) {
    super(`the prune pass failed, nothing deleted; the next daily run begins a new pass: ${reason}`);
    this.name = 'PrunePassFailedError';
  }
}

export function isContinueSchedule(event: unknown): boolean {
  const resources = (event as { resources?: unknown } | null)?.resources;
  return (
    Array.isArray(resources) &&
    typeof resources[0] === 'string' &&
    resources[0].endsWith(CONTINUE_RULE_SUFFIX)
  );
}

/** The pass to continue: one with clusters left, not failed, begun less than a day ago. */
export function passInProgress(saved: PrunePass | undefined, nowMs: number): PrunePass | undefined {
  if (!saved || saved.failed || saved.remaining.length === 0) return undefined;
  return nowMs - Date.parse(saved.startedAt) < PASS_MAX_AGE_MS ? saved : undefined;
}

/** References split so that each part's JSON stays under `maxBytes` (a reference larger alone gets its own). */
export function chunkRefs(refs: readonly InUseRef[], maxBytes = PART_MAX_BYTES): InUseRef[][] {
  const parts: InUseRef[][] = [];
  let current: InUseRef[] = [];
  let size = 2;
  for (const ref of refs) {
    const bytes = Buffer.byteLength(JSON.stringify(ref), 'utf8') + 1;
    if (current.length > 0 && size + bytes > maxBytes) {
      parts.push(current);
      current = [];
      size = 2;
    }
    current.push(ref);
    size += bytes;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

const StoredRefs = z.array(
  z.object({ image: z.optional(z.string()), digest: z.optional(z.string()), usedBy: z.string() }),
);

export class PassParts {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = stateDocument(client);
  }

  /** Stores references (none: no part) and returns the ids of the parts written. */
  async write(refs: readonly InUseRef[], nowMs: number): Promise<string[]> {
    const ids: string[] = [];
    for (const part of chunkRefs(refs)) {
      const id = `${PART_PREFIX}${randomUUID()}`;
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            id,
            refs: JSON.stringify(part),
            [EXPIRATION_ATTRIBUTE]: Math.floor(nowMs / 1000) + PART_TTL_S,
          },
        }),
      );
      ids.push(id);
    }
    return ids;
  }

  /** Every reference of these parts; a part missing or unreadable fails the read (deleting needs them all). */
  async read(ids: readonly string[]): Promise<InUseRef[]> {
    const items = await batchGetItems(this.doc, this.tableName, ids, { consistentRead: true });
    const refs: InUseRef[] = [];
    for (const id of ids) {
      const item = items.get(id);
      const parsed = typeof item?.refs === 'string' ? StoredRefs.safeParse(JSON.parse(item.refs)) : undefined;
      if (!parsed?.success)
        throw new PrunePassFailedError(`part ${id} of the in-use set is ${item ? 'unreadable' : 'missing'}`);
      refs.push(...(parsed.data as InUseRef[]));
    }
    return refs;
  }
}

/**
 * Images the pass must not delete because of when they came: pushed, or pulled by a task or pod, after the pass
 * began. They may be what a cluster read in an earlier turn runs now.
 */
export function sincePassBegan(repositories: readonly RepositoryImages[], startedAt: Date): InUseRef[] {
  const refs: InUseRef[] = [];
  for (const r of repositories) {
    for (const image of r.images) {
      if (image.pushedAt >= startedAt)
        refs.push({
          digest: image.digest,
          usedBy: `pushed after the prune pass began (${startedAt.toISOString()}): a cluster read earlier may run it`,
        });
      else if (image.lastPulledAt && image.lastPulledAt >= startedAt)
        refs.push({
          digest: image.digest,
          usedBy: `pulled after the prune pass began (${startedAt.toISOString()}): a cluster read earlier may run it`,
        });
    }
  }
  return refs;
}

/** One sentence for the log and the report: which clusters this turn covered and how many remain. */
export function passCoverage(pass: PrunePass, readNow: readonly string[]): string {
  const names = readNow.map((a) => a.slice(a.lastIndexOf('/') + 1));
  const shown = listedNames(names);
  return (
    `Turn ${pass.turns} of a prune pass begun ${pass.startedAt} read ${names.length} ECS cluster(s)` +
    `${names.length ? ` (${shown})` : ''}; ` +
    (pass.remaining.length > 0
      ? `${pass.remaining.length} remain: nothing is deleted before the pass has read them all.`
      : 'the pass is complete.')
  );
}
