/**
 * The request reader every local backend shares: members checked against the operation's shape and
 * refused in the service's words, one page token format, page sizes capped as each service caps them.
 */
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { decodePageToken, encodePageToken, PageSizeError, PageTokenError, pageOf } from '../../aws/paging';
import { coralDialect, readPage, readRequest, sentenceDialect } from '../../aws/request';
import { EcrBackend } from '../../ecr';
import { EcsBackend } from '../../ecs';
import { EksBackend } from '../../eks';
import { AwsServiceError } from '../../errors';
import { SesBackend } from '../../ses';
import type { RequestContext } from '../../types';
import { ctx, makeCore } from './ecr/core';

function refusal(fn: () => unknown): AwsServiceError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AwsServiceError) return err;
    throw err;
  }
  throw new Error('expected an AwsServiceError');
}

async function rejection(promise: Promise<unknown> | unknown): Promise<AwsServiceError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AwsServiceError) return err;
    throw err;
  }
  throw new Error('expected an AwsServiceError');
}

const coral = coralDialect({});
const ecsLike = sentenceDialect({
  code: 'InvalidParameterException',
  missing: 'can not be blank',
  stop: '.',
  badToken: () => 'Invalid nextToken.',
});

const Shape = z.object({
  repositoryName: z.string().min(2).max(256),
  maxResults: z.int().min(1).max(1000).optional(),
  filter: z.object({ tagStatus: z.enum(['TAGGED', 'ANY', 'UNTAGGED']).optional() }).optional(),
  imageIds: z
    .array(z.object({ imageTag: z.string().max(300).optional() }))
    .max(100)
    .optional(),
  services: z.array(z.string()).max(10, 'service names can have at most 10 items.').optional(),
  name: z
    .string()
    .regex(/^[a-z]+$/)
    .optional(),
});

describe('readRequest', () => {
  it('returns the members the shape reads, JSON nulls as absent members', () => {
    expect(readRequest(Shape, { repositoryName: 'shop/api', maxResults: null, extra: 1 }, coral)).toEqual({
      repositoryName: 'shop/api',
    });
  });

  it.each([
    [{}, "Value null at 'repositoryName' failed to satisfy constraint: Member must not be null"],
    [
      { repositoryName: 'a' },
      "Value 'a' at 'repositoryName' failed to satisfy constraint: Member must have length greater than or equal to 2",
    ],
    [
      { repositoryName: 7 },
      "Value '7' at 'repositoryName' failed to satisfy constraint: Member must be a string",
    ],
    [
      { repositoryName: 'ab', maxResults: 1001 },
      "Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000",
    ],
    [
      { repositoryName: 'ab', maxResults: 1.5 },
      "Value '1.5' at 'maxResults' failed to satisfy constraint: Member must be an integer",
    ],
    [
      { repositoryName: 'ab', filter: { tagStatus: 'SOME' } },
      "Value 'SOME' at 'filter.tagStatus' failed to satisfy constraint: Member must satisfy enum value set: [TAGGED, ANY, UNTAGGED]",
    ],
    [
      { repositoryName: 'ab', imageIds: [{ imageTag: 'v1' }, { imageTag: 'x'.repeat(301) }] },
      `Value '${'x'.repeat(301)}' at 'imageIds.2.member.imageTag' failed to satisfy constraint: Member must have length less than or equal to 300`,
    ],
    [
      { repositoryName: 'ab', name: 'A1' },
      "Value 'A1' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: /^[a-z]+$/",
    ],
  ])('Coral names the member and the constraint it breaks: %j', (input, problem) => {
    const err = refusal(() => readRequest(Shape, input, coral));
    expect([err.code, err.status, err.message]).toEqual([
      'ValidationException',
      400,
      `1 validation error detected: ${problem}`,
    ]);
  });

  it('Coral reports every member that is wrong in one message', () => {
    const err = refusal(() => readRequest(Shape, { maxResults: 0, imageIds: 'all' }, coral));
    expect(err.message).toBe(
      '3 validation errors detected: ' +
        "Value null at 'repositoryName' failed to satisfy constraint: Member must not be null; " +
        "Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
        "Value 'all' at 'imageIds' failed to satisfy constraint: Member must be a list",
    );
  });

  it('DynamoDB-style Coral names members in lowerCamelCase', () => {
    const dynamo = coralDialect({ lowerCamel: true });
    const TTL = z.object({
      TableName: z.string(),
      TimeToLiveSpecification: z.object({ Enabled: z.boolean() }),
    });
    const err = refusal(() => readRequest(TTL, { TableName: 'state', TimeToLiveSpecification: {} }, dynamo));
    expect(err.message).toBe(
      "1 validation error detected: Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null",
    );
  });

  it.each([
    [{}, 'repositoryName can not be blank.'],
    [{ repositoryName: 3 }, 'repositoryName must be a string.'],
    [{ repositoryName: 'ab', maxResults: 0 }, 'maxResults must be >= 1.'],
    [{ repositoryName: 'ab', services: ['a', 2] }, 'services must be a list of strings.'],
    [
      { repositoryName: 'ab', services: Array.from({ length: 11 }, String) },
      'service names can have at most 10 items.',
    ],
    [
      { repositoryName: 'ab', filter: { tagStatus: 'X' } },
      'filter.tagStatus must be one of TAGGED, ANY, UNTAGGED.',
    ],
  ])(
    'a sentence dialect names the first member that is wrong, in the shape’s words when it has them: %j',
    (input, message) => {
      const err = refusal(() => readRequest(Shape, { ...input }, ecsLike));
      expect([err.code, err.message]).toEqual(['InvalidParameterException', message]);
    },
  );
});

describe('page tokens', () => {
  const items = Array.from({ length: 25 }, (_, i) => `item-${String(i).padStart(2, '0')}`);
  const key = (s: string) => s;
  const limits = { default: 10, max: 20 };

  function all(list: string[], size: number, between?: (list: string[]) => void): string[] {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = pageOf(list, key, { size, token }, limits);
      seen.push(...page.items);
      token = page.nextToken;
      between?.(list);
    } while (token);
    return seen;
  }

  it('round-trip: every item exactly once, in order, for any page size', () => {
    for (const size of [1, 3, 7, 10, 20]) expect(all(items, size)).toEqual(items);
    const first = pageOf(items, key, {}, limits);
    expect(first.items).toHaveLength(10);
    expect(decodePageToken(first.nextToken ?? '')).toEqual({ after: 'item-09', at: 10 });
    expect(decodePageToken(encodePageToken({ after: 'x', at: 3 }))).toEqual({ after: 'x', at: 3 });
  });

  it('the last page has no token, and an empty list one empty page', () => {
    const first = pageOf(items, key, { size: 20 }, limits);
    expect(pageOf(items, key, { size: 20, token: first.nextToken }, limits)).toEqual({
      items: items.slice(20),
    });
    expect(pageOf(items.slice(0, 20), key, { size: 20 }, limits)).toEqual({ items: items.slice(0, 20) });
    expect(pageOf([], key, {}, limits)).toEqual({ items: [] });
  });

  it('resumes after the last item returned when items before it come and go', () => {
    const list = [...items];
    const first = pageOf(list, key, { size: 5 }, limits);
    list.splice(0, 3); // three items before the cut are deleted...
    list.unshift('item--1', 'item--2'); // ...and two new ones land before it
    const second = pageOf(list, key, { size: 5, token: first.nextToken }, limits);
    expect(second.items).toEqual(['item-05', 'item-06', 'item-07', 'item-08', 'item-09']);
  });

  it('resumes at the same position when the last item returned is itself gone', () => {
    const list = [...items];
    const first = pageOf(list, key, { size: 5 }, limits);
    list.splice(list.indexOf('item-04'), 1);
    expect(pageOf(list, key, { size: 5, token: first.nextToken }, limits).items[0]).toBe('item-06');
  });

  it.each(['not a token', 'e30', Buffer.from('{"after":1,"at":0}').toString('base64url'), '!!'])(
    'refuses a token it did not issue: %s',
    (token) => {
      expect(() => pageOf(items, key, { token }, limits)).toThrow(PageTokenError);
    },
  );

  it.each([0, 21, -1, 2.5])('refuses a page size outside the limits: %s', (size) => {
    expect(() => pageOf(items, key, { size }, limits)).toThrow(PageSizeError);
  });

  it('where the minimum is 0, a page size of 0 is the default', () => {
    expect(pageOf(items, key, { size: 0 }, { ...limits, min: 0 }).items).toHaveLength(10);
  });

  it('readPage answers a bad size or token in the service’s words, naming its members', () => {
    const input = { PageSize: 5000, NextToken: 'nope' };
    const members = { size: 'PageSize', token: 'NextToken' };
    expect(refusal(() => readPage(items, key, input, { ...limits, ...members }, ecsLike)).message).toBe(
      'PageSize must be between 1 and 20.',
    );
    expect(
      refusal(() => readPage(items, key, { NextToken: 'nope' }, { ...limits, ...members }, coral)).message,
    ).toBe("Invalid NextToken: 'nope'");
  });
});

describe('every backend pages with the one token and refuses as its service does', () => {
  const bad = 'not-a-token';

  async function backends() {
    const { core } = makeCore();
    const ecr = new EcrBackend(core);
    const ecs = new EcsBackend(core);
    const ses = new SesBackend(core);
    const eks = new EksBackend(core);
    const json =
      (ops: Record<string, ((input: Record<string, unknown>, c: RequestContext) => unknown) | undefined>) =>
      (op: string, input: Record<string, unknown>) => {
        const fn = ops[op];
        if (!fn) throw new Error(`no ${op}`);
        return JSON.parse(JSON.stringify(fn(input, ctx)));
      };
    const rest = (routes: SesBackend['routes']) => async (op: string, query: string) => {
      const route = routes.find((r) => r.operation === op);
      if (!route) throw new Error(`no ${op}`);
      const res = await route.handler(
        { params: {}, query: new URLSearchParams(query), headers: {}, body: {} },
        ctx,
      );
      return JSON.parse(JSON.stringify(res.body));
    };
    for (let i = 0; i < 5; i++) {
      json(ecr.operations)('CreateRepository', { repositoryName: `repo-${i}` });
      json(ecs.operations)('CreateCluster', { clusterName: `cluster-${i}` });
      await ses.routes
        .find((r) => r.operation === 'CreateEmailIdentity')
        ?.handler(
          { params: {}, query: new URLSearchParams(), headers: {}, body: { EmailIdentity: `u${i}@x.io` } },
          ctx,
        );
      await eks.routes
        .find((r) => r.operation === 'CreateCluster')
        ?.handler({ params: {}, query: new URLSearchParams(), headers: {}, body: { name: `eks-${i}` } }, ctx);
    }
    return {
      ecr: (input: Record<string, unknown>) => json(ecr.operations)('DescribeRepositories', input),
      ecs: (input: Record<string, unknown>) => json(ecs.operations)('ListClusters', input),
      ses: (query: string) => rest(ses.routes)('ListEmailIdentities', query),
      eks: (query: string) => rest(eks.routes)('ListClusters', query),
    };
  }

  it('ECR DescribeRepositories: round-trips, caps maxResults at 1000 (Coral), refuses a bad token with InvalidParameterException', async () => {
    const { ecr } = await backends();
    const first = ecr({ maxResults: 2 });
    const rest = ecr({ maxResults: 1000, nextToken: first.nextToken });
    expect(
      [...first.repositories, ...rest.repositories].map((r: { repositoryName: string }) => r.repositoryName),
    ).toEqual(['repo-0', 'repo-1', 'repo-2', 'repo-3', 'repo-4']);
    expect(rest.nextToken).toBeUndefined();
    const tooMany = refusal(() => ecr({ maxResults: 1001 }));
    expect([tooMany.code, tooMany.message]).toEqual([
      'ValidationException',
      "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000",
    ]);
    const token = refusal(() => ecr({ nextToken: bad }));
    expect([token.code, token.message]).toEqual([
      'InvalidParameterException',
      `Invalid parameter at 'nextToken': '${bad}'`,
    ]);
  });

  it('ECS ListClusters: round-trips, caps maxResults at 100, refuses a bad token', async () => {
    const { ecs } = await backends();
    const first = ecs({ maxResults: 3 });
    const rest = ecs({ nextToken: first.nextToken });
    expect([...first.clusterArns, ...rest.clusterArns]).toHaveLength(5);
    expect(new Set([...first.clusterArns, ...rest.clusterArns]).size).toBe(5);
    const tooMany = refusal(() => ecs({ maxResults: 101 }));
    expect([tooMany.code, tooMany.message]).toEqual([
      'InvalidParameterException',
      'maxResults must be between 1 and 100.',
    ]);
    const token = refusal(() => ecs({ nextToken: bad }));
    expect([token.code, token.message]).toEqual(['InvalidParameterException', 'Invalid nextToken.']);
  });

  it('SES ListEmailIdentities: round-trips, caps PageSize at 1000, refuses a bad NextToken with BadRequestException', async () => {
    const { ses } = await backends();
    const first = await ses('PageSize=2');
    const rest = await ses(`PageSize=10&NextToken=${first.NextToken}`);
    expect(
      [...first.EmailIdentities, ...rest.EmailIdentities].map(
        (i: { IdentityName: string }) => i.IdentityName,
      ),
    ).toEqual(['u0@x.io', 'u1@x.io', 'u2@x.io', 'u3@x.io', 'u4@x.io']);
    const tooMany = await rejection(ses('PageSize=1001'));
    expect([tooMany.code, tooMany.message]).toEqual([
      'BadRequestException',
      'PageSize must be between 0 and 1000.',
    ]);
    const token = await rejection(ses(`NextToken=${bad}`));
    expect([token.code, token.message]).toEqual(['BadRequestException', 'Invalid NextToken.']);
  });

  it('EKS ListClusters: round-trips, caps maxResults at 100, refuses a bad token', async () => {
    const { eks } = await backends();
    const first = await eks('maxResults=4');
    const rest = await eks(`nextToken=${first.nextToken}`);
    expect([...first.clusters, ...rest.clusters]).toEqual(['eks-0', 'eks-1', 'eks-2', 'eks-3', 'eks-4']);
    const tooMany = await rejection(eks('maxResults=101'));
    expect([tooMany.code, tooMany.status, tooMany.message]).toEqual([
      'InvalidParameterException',
      400,
      'maxResults must be between 1 and 100',
    ]);
    const token = await rejection(eks(`nextToken=${bad}`));
    expect([token.code, token.message]).toEqual(['InvalidParameterException', 'nextToken is invalid']);
  });
});
