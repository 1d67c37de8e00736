/** The push/reconcile trigger redeployEcs and rollEks share: what they act on, what they ignore, what they reject. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePushTrigger, relevantImages } from '../../../shared/events/trigger';

// biome-ignore lint/suspicious/noExplicitAny: sample events are plain JSON, varied per case below
type Json = any;
const load = (name: string): Json =>
  JSON.parse(readFileSync(new URL(`../../../events/${name}`, import.meta.url), 'utf8'));
const push = load('ecr-image-push.json');
const REGISTRY = '000000000000.dkr.ecr.us-east-1.amazonaws.com';

describe('parsePushTrigger', () => {
  it('reads a successful tagged push', () => {
    const t = parsePushTrigger(push);
    expect(t).toMatchObject({
      kind: 'push',
      push: {
        repository: { accountId: '000000000000', region: 'us-east-1', repositoryName: 'shop/api' },
        tag: 'latest',
        digest: expect.stringMatching(/^sha256:/),
      },
    });
  });

  it('ignores untagged pushes (index children, attestations) and failed or non-push actions, saying why', () => {
    expect(parsePushTrigger(load('ecr-image-push-untagged.json'))).toMatchObject({
      kind: 'ignored',
      reason: expect.stringMatching(/^untagged push of sha256:/),
    });
    const failed = { ...push, detail: { ...push.detail, result: 'FAILURE' } };
    expect(parsePushTrigger(failed)).toMatchObject({
      kind: 'ignored',
      reason: 'PUSH FAILURE is not a successful push',
    });
    const deleted = { ...push, detail: { ...push.detail, 'action-type': 'DELETE' } };
    expect(parsePushTrigger(deleted)).toMatchObject({ kind: 'ignored' });
  });

  it('reads a replica that arrived (ECR replication) as a push in its own region, for the services that pull it', () => {
    const replica = load('ecr-replication.json');
    const t = parsePushTrigger(replica);
    expect(t).toMatchObject({
      kind: 'push',
      push: {
        repository: { accountId: '000000000000', region: 'us-west-2', repositoryName: 'shop/api' },
        tag: 'latest',
      },
    });
    // The replica's registry, not the source's: a service pulling from us-east-1 moved on the source's push.
    if (t.kind !== 'push') throw new Error('not a push');
    const relevant = relevantImages(t, 'us-east-1');
    expect(relevant('000000000000.dkr.ecr.us-west-2.amazonaws.com/shop/api:latest')).toBe(true);
    expect(relevant(`${REGISTRY}/shop/api:latest`)).toBe(false);
    expect(parsePushTrigger({ ...replica, detail: { ...replica.detail, result: 'FAILURE' } })).toMatchObject({
      kind: 'ignored',
      reason: expect.stringMatching(/^replication FAILURE of sha256:/),
    });
    const untagged = { ...replica, detail: { ...replica.detail, 'image-tag': undefined } };
    expect(parsePushTrigger(untagged)).toMatchObject({
      kind: 'ignored',
      reason: expect.stringMatching(/^untagged replica/),
    });
    expect(() =>
      parsePushTrigger({ ...replica, detail: { ...replica.detail, 'image-digest': 'nope' } }),
    ).toThrow(/ECR Replication Action.*image-digest: must be a digest/);
  });

  it('turns a scan that ended into a push of every tag the image has', () => {
    const scan = load('ecr-image-scan.json');
    expect(parsePushTrigger(scan)).toEqual({
      kind: 'push',
      eventId: '85fc3613-e913-7fc4-a80c-a3753e4aa9ae',
      push: {
        repository: { accountId: '000000000000', region: 'us-east-1', repositoryName: 'shop/api' },
        digest: scan.detail['image-digest'],
        tag: 'v1.3.0',
      },
      scan: { status: 'COMPLETE', otherTags: ['latest'] },
    });
    const failed = { ...scan, detail: { ...scan.detail, 'scan-status': 'FAILED', 'image-tags': ['v1'] } };
    expect(parsePushTrigger(failed)).toMatchObject({
      kind: 'push',
      scan: { status: 'FAILED', otherTags: [] },
    });
  });

  it('ignores a scan of an untagged image or one not over, and rejects a scan event that is not one', () => {
    const scan = load('ecr-image-scan.json');
    expect(parsePushTrigger({ ...scan, detail: { ...scan.detail, 'image-tags': [] } })).toMatchObject({
      kind: 'ignored',
      reason: expect.stringMatching(/^scan of untagged sha256:/),
    });
    expect(
      parsePushTrigger({ ...scan, detail: { ...scan.detail, 'scan-status': 'IN_PROGRESS' } }),
    ).toMatchObject({
      kind: 'ignored',
      reason: expect.stringMatching(/not over \(IN_PROGRESS\)$/),
    });
    expect(() => parsePushTrigger({ ...scan, detail: { ...scan.detail, 'image-digest': 'latest' } })).toThrow(
      /ECR Image Scan.*image-digest: must be a digest/,
    );
  });

  it("turns the end of an enhanced scan's first scan into a push, the repository read from its ARN", () => {
    const scan = load('inspector2-scan.json');
    expect(parsePushTrigger(scan)).toEqual({
      kind: 'push',
      eventId: '739c0d3c-4f02-85c7-5a88-94a9EXAMPLE',
      push: {
        repository: { accountId: '000000000000', region: 'us-east-1', repositoryName: 'shop/api' },
        digest: scan.detail['image-digest'],
        tag: 'latest',
      },
      scan: { status: 'INITIAL_SCAN_COMPLETE', otherTags: [] },
    });
    // A plain name reads as well; a rescan's event, or one for an untagged image, moves nothing.
    expect(
      parsePushTrigger({ ...scan, detail: { ...scan.detail, 'repository-name': 'shop/web' } }),
    ).toMatchObject({ push: { repository: { repositoryName: 'shop/web' } } });
    expect(
      parsePushTrigger({ ...scan, detail: { ...scan.detail, 'scan-status': 'SCAN_ELIGIBILITY_EXPIRED' } }),
    ).toMatchObject({ kind: 'ignored', reason: 'Inspector scan status SCAN_ELIGIBILITY_EXPIRED' });
    expect(parsePushTrigger({ ...scan, detail: { ...scan.detail, 'image-tags': [] } })).toMatchObject({
      kind: 'ignored',
      reason: expect.stringMatching(/^scan of untagged sha256:.* in shop\/api$/),
    });
    expect(() => parsePushTrigger({ ...scan, detail: { ...scan.detail, 'image-digest': 'x' } })).toThrow(
      /Inspector2 Scan.*image-digest: must be a digest/,
    );
  });

  it('turns the schedule into a reconcile run', () => {
    expect(parsePushTrigger(load('scheduled.json'))).toMatchObject({
      kind: 'reconcile',
      account: '000000000000',
    });
  });

  it('rejects an event that is neither, naming what is wrong', () => {
    const broken = { ...push, detail: { ...push.detail, 'repository-name': undefined } };
    expect(() => parsePushTrigger(broken)).toThrow(/repository-name/);
    expect(() => parsePushTrigger({ hello: 'world' })).toThrow(/ECR Image Action/);
  });
});

describe('relevantImages', () => {
  it('on a push, keeps images of the pushed repository only, in any tag or digest form', () => {
    const t = parsePushTrigger(push);
    if (t.kind === 'ignored') throw new Error('expected a push');
    const keep = relevantImages(t, 'us-east-1');
    expect(keep(`${REGISTRY}/shop/api:v1`)).toBe(true);
    expect(keep(`${REGISTRY}/shop/api@sha256:${'a'.repeat(64)}`)).toBe(true);
    expect(keep(`${REGISTRY}/shop/api-worker:v1`)).toBe(false);
    expect(keep('000000000000.dkr.ecr.eu-west-1.amazonaws.com/shop/api:v1')).toBe(false);
    expect(keep('docker.io/library/nginx:1.27')).toBe(false);
    expect(keep('not an image')).toBe(false);
  });

  it('on reconcile, keeps every ECR image of the function’s account and region', () => {
    const keep = relevantImages({ kind: 'reconcile', eventId: 'e', account: '000000000000' }, 'us-east-1');
    expect(keep(`${REGISTRY}/anything:v1`)).toBe(true);
    expect(keep('111111111111.dkr.ecr.us-east-1.amazonaws.com/shared/base:v1')).toBe(false);
    expect(keep('000000000000.dkr.ecr.eu-west-1.amazonaws.com/shop/api:v1')).toBe(false);
    expect(keep('nginx')).toBe(false);
  });
});
