/** What ECR says of a pushed image: tags a newer push moved on, its scan, and the pushes a trigger stands for. */
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { describePushedImage, livePushes } from '../../../shared/aws/ecr-images';

const ecrMock = mockClient(ECRClient);
const ecr = new ECRClient({ region: 'us-east-1' });
const repository = { accountId: '000000000000', region: 'us-east-1', repositoryName: 'shop/api' };
const PUSHED = `sha256:${'1'.repeat(64)}` as const;
const NEWER = `sha256:${'2'.repeat(64)}` as const;
const scanned = {
  imageScanStatus: { status: 'COMPLETE' as const },
  imageScanFindingsSummary: { findingSeverityCounts: { CRITICAL: 1 } },
};

beforeEach(() => ecrMock.reset());

describe('describePushedImage', () => {
  it('reads every tag and the digest in one call: which tags moved on, and the pushed image scan', async () => {
    ecrMock.on(DescribeImagesCommand).resolves({
      imageDetails: [
        { imageDigest: PUSHED, imageTags: ['v1.3.0'], imagePushedAt: new Date(1000), ...scanned },
        { imageDigest: NEWER, imageTags: ['latest'], imagePushedAt: new Date(2000) },
      ],
    });
    const now = await describePushedImage(ecr, { repository, digest: PUSHED, tags: ['v1.3.0', 'latest'] });
    expect(ecrMock.commandCalls(DescribeImagesCommand)).toHaveLength(1);
    expect(now.superseded).toEqual(new Map([['latest', NEWER]]));
    expect(now.scan).toEqual({ status: 'COMPLETE', counts: { CRITICAL: 1 } });
    const live = livePushes({ repository, digest: PUSHED, tag: 'v1.3.0' }, ['latest'], now);
    expect(live).toEqual({
      pushes: [{ repository, digest: PUSHED, tag: 'v1.3.0', pushedAt: new Date(1000), scan: now.scan }],
    });
    expect(livePushes({ repository, digest: PUSHED, tag: 'latest' }, [], now)).toEqual({
      pushes: [],
      superseded: { tag: 'latest', digest: NEWER },
    });
  });

  it('a tag deleted since fails the call: the digest alone is asked, so its scan is still judged', async () => {
    ecrMock
      .on(DescribeImagesCommand)
      .rejectsOnce(Object.assign(new Error('no tag'), { name: 'ImageNotFoundException' }))
      .resolves({ imageDetails: [{ imageDigest: PUSHED, imageTags: [], ...scanned }] });
    const now = await describePushedImage(ecr, { repository, digest: PUSHED, tags: ['gone'] });
    expect(ecrMock.commandCalls(DescribeImagesCommand).map((c) => c.args[0].input.imageIds)).toEqual([
      [{ imageTag: 'gone' }, { imageDigest: PUSHED }],
      [{ imageDigest: PUSHED }],
    ]);
    expect(now).toEqual({ superseded: new Map(), scan: { status: 'COMPLETE', counts: { CRITICAL: 1 } } });
  });
});
