/**
 * The two triggers of rollEks, the same as redeployEcs's: an ECR push, or the reconcile schedule. Kept apart
 * from shared/ecs so the EKS bundle carries no ECS client.
 */
import type { ImagePush } from '../ecs/model';
import { EcrImageActionEvent } from '../events/ecr';
import { parseEvent } from '../events/envelope';
import { ScheduledEvent } from '../events/schedule';
import type { Digest } from '../image-ref';

export type Trigger =
  | { kind: 'push'; push: ImagePush; eventId: string }
  | { kind: 'reconcile'; eventId: string }
  | { kind: 'ignored'; reason: string; eventId: string };

export function parseTrigger(event: unknown): Trigger {
  if ((event as { source?: unknown } | null)?.source === 'aws.events') {
    return { kind: 'reconcile', eventId: parseEvent(ScheduledEvent, event, 'Scheduled Event').id };
  }
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
    return { kind: 'ignored', reason: `untagged push of ${d['image-digest']}`, eventId: e.id };
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
