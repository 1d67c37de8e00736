/**
 * The triggers redeployEcs and rollEks share: an ECR push (or the end of its scan, which the scan gate waited
 * for), or the reconcile schedule that does what a missed push event would have done. Parsed once here so both
 * functions ignore, and act on, the same events.
 */

import { type Digest, ecrRepositoryOf, repositoryKey } from '../image-ref';
import { EcrImageActionEvent, EcrImageScanEvent, EcrReplicationActionEvent, InspectorScanEvent } from './ecr';
import { parseEvent } from './envelope';
import type { ImagePush } from './image-push';
import { ScheduledEvent } from './schedule';

export type PushTrigger =
  | {
      kind: 'push';
      push: ImagePush & { tag: string };
      eventId: string;
      /**
       * From an `ECR Image Scan` or `Inspector2 Scan` event: the scan ended, so the push it held can move. `otherTags`: the image's
       * tags beside `push.tag`, each a push of its own (a workload may follow any of them).
       */
      scan?: { status: string; otherTags: string[] };
    }
  /** `account`: the function's own account, where the schedule runs. */
  | { kind: 'reconcile'; eventId: string; account: string }
  | { kind: 'ignored'; reason: string; eventId: string };

export function parsePushTrigger(event: unknown): PushTrigger {
  if ((event as { source?: unknown } | null)?.source === 'aws.events') {
    const e = parseEvent(ScheduledEvent, event, 'Scheduled Event');
    return { kind: 'reconcile', eventId: e.id, account: e.account };
  }
  const detailType = (event as { 'detail-type'?: unknown } | null)?.['detail-type'];
  if (detailType === 'ECR Image Scan') return scanTrigger(event);
  if (detailType === 'Inspector2 Scan') return inspectorScanTrigger(event);
  if (detailType === 'ECR Replication Action') return replicationTrigger(event);
  const e = parseEvent(EcrImageActionEvent, event, 'ECR Image Action');
  const d = e.detail;
  if (d['action-type'] !== 'PUSH' || d.result !== 'SUCCESS') {
    return {
      kind: 'ignored',
      reason: `${d['action-type']} ${d.result} is not a successful push`,
      eventId: e.id,
    };
  }
  if (d['image-tag'] === undefined) {
    // Multi-arch children and attestations are pushed untagged: no workload follows them by tag.
    return {
      kind: 'ignored',
      reason: `untagged push of ${d['image-digest']} to ${d['repository-name']}`,
      eventId: e.id,
    };
  }
  return {
    kind: 'push',
    eventId: e.id,
    push: {
      repository: { accountId: e.account, region: e.region, repositoryName: d['repository-name'] },
      digest: d['image-digest'] as Digest,
      tag: d['image-tag'],
      pushedAt: new Date(e.time),
    },
  };
}

/**
 * A replica arrived (ECR replication, in the destination account and Region): for the workloads that pull from
 * there it is the push, now that the image exists where they pull it. Their images name the replica's registry,
 * so the source's push, which came first, did not match them.
 */
function replicationTrigger(event: unknown): PushTrigger {
  const e = parseEvent(EcrReplicationActionEvent, event, 'ECR Replication Action');
  const d = e.detail;
  if (d.result !== 'SUCCESS')
    return { kind: 'ignored', reason: `replication ${d.result} of ${d['image-digest']}`, eventId: e.id };
  if (d['image-tag'] === undefined)
    return {
      kind: 'ignored',
      reason: `untagged replica ${d['image-digest']} in ${d['repository-name']}`,
      eventId: e.id,
    };
  return {
    kind: 'push',
    eventId: e.id,
    push: {
      repository: { accountId: e.account, region: e.region, repositoryName: d['repository-name'] },
      digest: d['image-digest'] as Digest,
      tag: d['image-tag'],
      pushedAt: new Date(e.time),
    },
  };
}

/** Scans still running, which no event ends (only the scan's end has one). */
const SCANNING = new Set(['IN_PROGRESS', 'PENDING']);

/**
 * A scan that ended is the push it held, for every tag the image has: the scan gate reads its result from ECR
 * with the tag (the event's counts are not trusted to be current: a rescan may have ended since).
 */
function scanTrigger(event: unknown): PushTrigger {
  const e = parseEvent(EcrImageScanEvent, event, 'ECR Image Scan');
  const d = e.detail;
  const [tag, ...otherTags] = d['image-tags'];
  if (SCANNING.has(d['scan-status']))
    return {
      kind: 'ignored',
      reason: `scan of ${d['image-digest']} not over (${d['scan-status']})`,
      eventId: e.id,
    };
  if (tag === undefined) {
    // Multi-arch children and attestations: no workload follows them by tag.
    return {
      kind: 'ignored',
      reason: `scan of untagged ${d['image-digest']} in ${d['repository-name']}`,
      eventId: e.id,
    };
  }
  return {
    kind: 'push',
    eventId: e.id,
    push: {
      repository: { accountId: e.account, region: e.region, repositoryName: d['repository-name'] },
      digest: d['image-digest'] as Digest,
      tag,
    },
    scan: { status: d['scan-status'], otherTags },
  };
}

const REPOSITORY_ARN = /^arn:aws[a-z-]*:ecr:([a-z0-9-]+):(\d{12}):repository\/(.+)$/;

/**
 * The end of enhanced scanning's first scan (Amazon Inspector) is the push it held, as ECR's own scan event is.
 * Only `INITIAL_SCAN_COMPLETE` ends a wait: later rescans publish findings for images already judged.
 */
function inspectorScanTrigger(event: unknown): PushTrigger {
  const e = parseEvent(InspectorScanEvent, event, 'Inspector2 Scan');
  const d = e.detail;
  if (d['scan-status'] !== 'INITIAL_SCAN_COMPLETE')
    return { kind: 'ignored', reason: `Inspector scan status ${d['scan-status']}`, eventId: e.id };
  const arn = REPOSITORY_ARN.exec(d['repository-name']);
  const repository = arn
    ? { accountId: arn[2] ?? e.account, region: arn[1] ?? e.region, repositoryName: arn[3] ?? '' }
    : { accountId: e.account, region: e.region, repositoryName: d['repository-name'] };
  const [tag, ...otherTags] = d['image-tags'];
  if (tag === undefined)
    return {
      kind: 'ignored',
      reason: `scan of untagged ${d['image-digest']} in ${repository.repositoryName}`,
      eventId: e.id,
    };
  return {
    kind: 'push',
    eventId: e.id,
    push: { repository, digest: d['image-digest'] as Digest, tag },
    scan: { status: d['scan-status'], otherTags },
  };
}

/**
 * Which images a run looks at: on a push, those of the pushed repository; on reconcile, every ECR image of
 * the function's own account and region (the repositories whose tags it then reads: its role may read no
 * other registry, and another account's pushes are that account's to act on).
 */
export function relevantImages(
  trigger: Exclude<PushTrigger, { kind: 'ignored' }>,
  region: string,
): (image: string) => boolean {
  if (trigger.kind === 'push') {
    const pushed = repositoryKey(trigger.push.repository);
    return (image) => {
      const repo = ecrRepositoryOf(image);
      return repo !== undefined && repositoryKey(repo) === pushed;
    };
  }
  return (image) => {
    const repo = ecrRepositoryOf(image);
    return repo?.region === region && repo.accountId === trigger.account;
  };
}
