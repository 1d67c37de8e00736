import { describe, expect, it } from 'vitest';
import { matchesPattern, PatternError } from '../../../local/router/pattern';

// The example event of EventBridge's "Creating event patterns" / "Content filtering" documentation.
const ec2 = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: {
    'instance-id': 'i-1234567890abcdef0',
    state: 'terminated',
    'source-ip': '10.0.0.42',
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    location: null,
    'instance-types': ['t2.micro', 'm5.large'],
  },
};

describe('EventBridge event patterns (documented examples)', () => {
  it.each([
    ['exact source', { source: ['aws.ec2'] }, true],
    ['exact source, no match', { source: ['aws.ecs'] }, false],
    ['OR within an array', { detail: { state: ['stopped', 'terminated'] } }, true],
    [
      'nested, AND across fields',
      { source: ['aws.ec2'], detail: { state: ['terminated'], 'instance-id': ['i-1'] } },
      false,
    ],
    ['null matches a null field', { detail: { location: [null] } }, true],
    ['prefix', { time: [{ prefix: '2017-12-22' }] }, true],
    ['prefix equals-ignore-case', { source: [{ prefix: { 'equals-ignore-case': 'AWS.' } }] }, true],
    ['suffix', { 'detail-type': [{ suffix: 'Notification' }] }, true],
    [
      'suffix equals-ignore-case',
      { 'detail-type': [{ suffix: { 'equals-ignore-case': 'NOTIFICATION' } }] },
      true,
    ],
    ['anything-but value', { detail: { state: [{ 'anything-but': 'initializing' }] } }, true],
    ['anything-but list', { detail: { state: [{ 'anything-but': ['stopped', 'terminated'] }] } }, false],
    ['anything-but prefix', { detail: { state: [{ 'anything-but': { prefix: 'term' } }] } }, false],
    ['anything-but suffix', { detail: { state: [{ 'anything-but': { suffix: 'ated' } }] } }, false],
    [
      'anything-but equals-ignore-case',
      { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['TERMINATED'] } }] } },
      false,
    ],
    ['anything-but wildcard', { detail: { state: [{ 'anything-but': { wildcard: 'run*' } }] } }, true],
    ['numeric range', { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, true],
    ['numeric equals', { detail: { 'd-count': [{ numeric: ['=', 3] }] } }, true],
    ['numeric outside', { detail: { 'x-limit': [{ numeric: ['<', 300] }] } }, false],
    ['numeric on a string', { detail: { state: [{ numeric: ['>', 0] }] } }, false],
    ['exists true', { detail: { state: [{ exists: true }] } }, true],
    ['exists false on a missing field', { detail: { 'failure-reason': [{ exists: false }] } }, true],
    ['exists false on a present field', { detail: { state: [{ exists: false }] } }, false],
    ['missing field does not match a value', { detail: { missing: ['x'] } }, false],
    [
      'equals-ignore-case',
      { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }] },
      true,
    ],
    ['wildcard', { resources: [{ wildcard: 'arn:aws:ec2:*:instance/*' }] }, true],
    ['cidr', { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, true],
    ['cidr outside', { detail: { 'source-ip': [{ cidr: '10.0.1.0/24' }] } }, false],
    ['any element of an array field', { detail: { 'instance-types': ['m5.large'] } }, true],
    [
      '$or',
      { $or: [{ detail: { state: ['running'] } }, { detail: { 'c-count': [{ numeric: ['>', 4] }] } }] },
      true,
    ],
    ['$or, none', { $or: [{ detail: { state: ['running'] } }, { source: ['aws.s3'] }] }, false],
  ])('%s', (_name, pattern, expected) => {
    expect(matchesPattern(pattern, ec2)).toBe(expected);
  });

  it('matches the ECR push rule of serverless.yml only on successful pushes', () => {
    const rule = {
      source: ['aws.ecr'],
      'detail-type': ['ECR Image Action'],
      detail: { 'action-type': ['PUSH'], result: ['SUCCESS'] },
    };
    const push = {
      source: 'aws.ecr',
      'detail-type': 'ECR Image Action',
      detail: { 'action-type': 'PUSH', result: 'SUCCESS' },
    };
    expect(matchesPattern(rule, push)).toBe(true);
    expect(matchesPattern(rule, { ...push, detail: { 'action-type': 'DELETE', result: 'SUCCESS' } })).toBe(
      false,
    );
    expect(matchesPattern(rule, { ...push, detail: { 'action-type': 'PUSH', result: 'FAILURE' } })).toBe(
      false,
    );
  });

  it('rejects malformed patterns clearly', () => {
    expect(() => matchesPattern({ source: 'aws.ec2' }, ec2)).toThrow(PatternError);
    expect(() => matchesPattern({ source: [{ nope: 1 }] }, ec2)).toThrow(/unknown operator "nope"/);
  });
});
