/**
 * Responses typed with the SDK's own output types, timestamps as the epoch seconds the wire carries.
 * The `@ts-expect-error` lines are the test: `tsc` fails if any of them stops being an error.
 */

import type { DescribeImagesResponse } from '@aws-sdk/client-ecr';
import type { DescribeServicesResponse } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { epochSeconds, pick, type Sent, type Wire } from '../../aws/response';
import { EcrBackend } from '../../ecr';
import { makeCore } from './ecr/core';

describe('Wire<T>', () => {
  it('is the SDK type with timestamps as epoch seconds, and nothing else', () => {
    const ok: Wire<DescribeServicesResponse> = {
      services: [{ serviceName: 'api', createdAt: epochSeconds(new Date('2026-03-01T12:00:00Z')) }],
      failures: [{ arn: 'arn:aws:ecs:us-east-1:000000000000:service/prod/gone', reason: 'MISSING' }],
    };
    expect(ok.services?.[0]?.createdAt).toBe(1772366400);

    // @ts-expect-error a misspelled member
    const typo: Wire<DescribeServicesResponse> = { services: [{ serviceNam: 'api' }] };
    // @ts-expect-error the wire carries epoch seconds, not a Date
    const date: Wire<DescribeServicesResponse> = { services: [{ createdAt: new Date() }] };
    // @ts-expect-error a value outside the SDK's enum
    const status: Wire<DescribeImagesResponse> = { imageDetails: [{ imageStatus: 'GONE' }] };
    expect([typo, date, status]).toHaveLength(3);
  });

  it('Sent<T, K> promises members the SDK leaves optional', () => {
    type Image = Sent<Wire<NonNullable<DescribeImagesResponse['imageDetails']>[number]>, 'imagePushedAt'>;
    const image: Image = { imagePushedAt: 1 };
    const pushed: number = image.imagePushedAt;
    // @ts-expect-error the promised member may not be left out
    const missing: Image = {};
    expect([pushed, missing]).toHaveLength(2);
  });

  it('pick keeps the named members that are set', () => {
    expect(pick({ a: 1, b: undefined, c: 3 }, ['a', 'b'])).toEqual({ a: 1 });
  });

  it('a backend sends what its type says: ECR DescribeImages with epoch-second timestamps', () => {
    const { core } = makeCore();
    const ecr = new EcrBackend(core);
    ecr.pushImage({ repositoryName: 'shop/api', tag: 'v1' });
    const out = ecr.operations.DescribeImages?.(
      { repositoryName: 'shop/api' },
      {
        accountId: core.defaultAccountId,
        region: core.defaultRegion,
        accessKeyId: 'test',
      },
    ) as Wire<DescribeImagesResponse>;
    expect(out.imageDetails?.[0]?.imagePushedAt).toBe(core.clock.nowMs() / 1000);
  });
});
