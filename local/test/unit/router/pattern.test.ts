import { describe, expect, it } from 'vitest';
import {
  compilePattern,
  matchesPattern,
  PatternError,
  validatePattern,
  wildcardComplexity,
} from '../../../router/pattern';

// Each event below is an example event of the EventBridge User Guide or of aws/event-ruler's README (the engine
// EventBridge runs); each row is a documented pattern with the documented outcome.

/** "Creating Amazon EventBridge event patterns": the EC2 state-change example. */
const ec2Terminated = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};

/** event-ruler README "Ruler by Example": the sample event all its example rules match. */
const ec2Running = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
  },
};

/** "Matching events on null values and empty strings". */
const autoscaling = {
  version: '0',
  id: '3e3c153a-8339-4e30-8c35-687ebef853fe',
  'detail-type': 'EC2 Instance Launch Successful',
  source: 'aws.autoscaling',
  account: '123456789012',
  time: '2015-11-11T21:31:47Z',
  region: 'us-east-1',
  resources: [],
  detail: { eventVersion: '', responseElements: null },
};

/** "Exists matching": the event with detail.state, and the one without it. */
const ec2Pending = {
  version: '0',
  id: '7bf73129-1428-4cd3-a780-95db273d1602',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '123456789012',
  time: '2015-11-11T21:29:54Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111'],
  detail: { 'instance-id': 'i-abcd1111', state: 'pending' },
};
const nonLeafCount = {
  'detail-type': 'EC2 Instance State-change Notification',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341'],
  detail: { 'c-count': { c1: 100 } },
};

/** "Arrays in event patterns": the event's second resource is the pattern's first. */
const asgResources = {
  resources: [
    'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
    'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
  ],
};

/** event-ruler README "JSON Array Matching". */
const employees = {
  employees: [
    { firstName: 'John', lastName: 'Doe' },
    { firstName: 'Anna', lastName: 'Smith' },
    { firstName: 'Peter', lastName: 'Jones' },
  ],
};

type Row = [name: string, event: unknown, pattern: unknown, matches: boolean];

const documented: Row[] = [
  // Event pattern syntax
  [
    'EC2 terminations: source, detail-type and detail.state',
    ec2Terminated,
    {
      source: ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification'],
      detail: { state: ['terminated'] },
    },
    true,
  ],
  ['source is aws.ec2 or aws.fargate', ec2Terminated, { source: ['aws.ec2', 'aws.fargate'] }, true],
  ['a pattern field the event lacks', ec2Terminated, { detail: { 'c-count': [5] } }, false],
  ['values are case-sensitive', ec2Terminated, { detail: { state: ['Terminated'] } }, false],
  // Arrays
  [
    'arrays: a non-empty intersection matches',
    asgResources,
    {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
      ],
    },
    true,
  ],
  [
    'arrays: an empty intersection does not',
    asgResources,
    { resources: ['arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f'] },
    false,
  ],
  ['arrays of objects: one element matches', employees, { employees: { firstName: ['Anna'] } }, true],
  [
    'arrays of objects: fields from different elements do not combine',
    employees,
    { employees: { firstName: ['Anna'], lastName: ['Jones'] } },
    false,
  ],
  // Null values and empty strings
  ['empty string', autoscaling, { detail: { eventVersion: [''] } }, true],
  ['null', autoscaling, { detail: { responseElements: [null] } }, true],
  ['null does not match an empty string', autoscaling, { detail: { eventVersion: [null] } }, false],
  ['an empty string does not match null', autoscaling, { detail: { responseElements: [''] } }, false],
  // Exists
  ['exists: true on a present leaf', ec2Pending, { detail: { state: [{ exists: true }] } }, true],
  ['exists: true on a missing leaf', nonLeafCount, { detail: { state: [{ exists: true }] } }, false],
  ['exists: false on a missing leaf', ec2Pending, { detail: { 'c-count': [{ exists: false }] } }, true],
  [
    'exists: false on a non-leaf (an object is not a leaf)',
    nonLeafCount,
    { detail: { 'c-count': [{ exists: false }] } },
    true,
  ],
  ['exists: true on a non-leaf', nonLeafCount, { detail: { 'c-count': [{ exists: true }] } }, false],
  ['exists: false on a present leaf', ec2Pending, { detail: { state: [{ exists: false }] } }, false],
  // Ruler by example (every rule matches the sample event)
  [
    'simple matching',
    ec2Running,
    {
      'detail-type': ['EC2 Instance State-change Notification'],
      resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
      detail: { state: ['initializing', 'running'] },
    },
    true,
  ],
  ['prefix', ec2Running, { time: [{ prefix: '2017-10-02' }] }, true],
  ['suffix', ec2Running, { source: [{ suffix: 'ec2' }] }, true],
  ['equals-ignore-case', ec2Running, { source: [{ 'equals-ignore-case': 'AWS.EC2' }] }, true],
  ['anything-but a string', ec2Running, { detail: { state: [{ 'anything-but': 'initializing' }] } }, true],
  ['anything-but a number', ec2Running, { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, true],
  [
    'anything-but a list of strings',
    ec2Running,
    { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    true,
  ],
  [
    'anything-but a list of numbers',
    ec2Running,
    { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } },
    true,
  ],
  [
    'anything-but a prefix',
    ec2Running,
    { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
    true,
  ],
  [
    'numeric',
    ec2Running,
    {
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 3.018e2] }],
      },
    },
    true,
  ],
  ['cidr', ec2Running, { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, true],
  [
    'complex example',
    ec2Running,
    {
      time: [{ prefix: '2017-10-02' }],
      detail: {
        state: [{ 'anything-but': 'initializing' }],
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ 'anything-but': [100, 200, 300] }],
        'source-ip': [{ cidr: '10.0.0.0/8' }],
      },
    },
    true,
  ],
  [
    '$or across fields',
    ec2Running,
    {
      detail: {
        $or: [
          { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
          { 'd-count': [{ numeric: ['<', 10] }] },
          { 'x-limit': [{ numeric: ['=', 3.018e2] }] },
        ],
      },
    },
    true,
  ],
  // The same rules against values that the documentation says they exclude
  [
    'anything-but the value itself',
    ec2Running,
    { detail: { state: [{ 'anything-but': 'running' }] } },
    false,
  ],
  [
    'anything-but a prefix it has',
    ec2Running,
    { detail: { state: [{ 'anything-but': { prefix: 'run' } }] } },
    false,
  ],
  ['numeric out of range', ec2Running, { detail: { 'c-count': [{ numeric: ['>', 5] }] } }, false],
  ['numeric on a string', ec2Running, { detail: { state: [{ numeric: ['>', 0] }] } }, false],
  ['prefix on a number', ec2Running, { detail: { 'c-count': [{ prefix: '5' }] } }, false],
  ['cidr outside the range', ec2Running, { detail: { 'source-ip': [{ cidr: '10.0.1.0/24' }] } }, false],
  [
    '$or where no branch matches',
    ec2Running,
    { detail: { $or: [{ state: ['stopped'] }, { 'c-count': [{ numeric: ['>', 10] }] }] } },
    false,
  ],
];

/** Rows of the "Comparison operators" table: its example pattern, an event it describes, one it excludes. */
const operators: [name: string, pattern: unknown, yes: unknown, no: unknown][] = [
  [
    'And',
    { Location: ['New York'], Day: ['Monday'] },
    { Location: 'New York', Day: 'Monday' },
    { Location: 'New York', Day: 'Friday' },
  ],
  [
    'Anything-but',
    { state: [{ 'anything-but': 'initializing' }] },
    { state: 'running' },
    { state: 'initializing' },
  ],
  [
    'Anything-but (begins with)',
    { Region: [{ 'anything-but': { prefix: 'us-' } }] },
    { Region: 'eu-west-1' },
    { Region: 'us-east-1' },
  ],
  [
    'Anything-but (ends with)',
    { FileName: [{ 'anything-but': { suffix: '.png' } }] },
    { FileName: 'a.jpg' },
    { FileName: 'a.png' },
  ],
  [
    'Anything-but (ignore case)',
    { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] },
    { state: 'running' },
    { state: 'INITIALIZING' },
  ],
  [
    'Anything-but using a wildcard',
    { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
    { FilePath: '/usr/bin/x' },
    { FilePath: '/usr/lib/x' },
  ],
  ['Begins with', { Region: [{ prefix: 'us-' }] }, { Region: 'us-east-1' }, { Region: 'eu-west-1' }],
  [
    'Begins with (ignore case)',
    { service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] },
    { service: 'EventBridge' },
    { service: 'Lambda' },
  ],
  ['Empty', { LastName: [''] }, { LastName: '' }, { LastName: 'Doe' }],
  ['Equals', { Name: ['Alice'] }, { Name: 'Alice' }, { Name: 'alice' }],
  ['Equals (ignore case)', { Name: [{ 'equals-ignore-case': 'alice' }] }, { Name: 'ALICE' }, { Name: 'Bob' }],
  ['Ends with', { FileName: [{ suffix: '.png' }] }, { FileName: 'a.png' }, { FileName: 'a.PNG' }],
  [
    'Ends with (ignore case)',
    { service: [{ suffix: { 'equals-ignore-case': 'tbridge' } }] },
    { service: 'EVENTBRIDGE' },
    { service: 'EventBus' },
  ],
  ['Exists', { ProductName: [{ exists: true }] }, { ProductName: 'x' }, { Product: 'x' }],
  ['Does not exist', { ProductName: [{ exists: false }] }, { Product: 'x' }, { ProductName: 'x' }],
  ['Not', { Weather: [{ 'anything-but': ['Raining'] }] }, { Weather: 'Sunny' }, { Weather: 'Raining' }],
  ['Null', { UserID: [null] }, { UserID: null }, { UserID: 'u-1' }],
  ['Numeric (equals)', { Price: [{ numeric: ['=', 100] }] }, { Price: 100 }, { Price: 100.5 }],
  ['Numeric (range)', { Price: [{ numeric: ['>', 10, '<=', 20] }] }, { Price: 20 }, { Price: 10 }],
  ['Or', { PaymentType: ['Credit', 'Debit'] }, { PaymentType: 'Debit' }, { PaymentType: 'Cash' }],
  [
    'Or (multiple fields)',
    { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] },
    { Location: 'Paris', Day: 'Monday' },
    { Location: 'Paris', Day: 'Friday' },
  ],
  [
    'Wildcard',
    { FileName: [{ wildcard: 'dir/*.png' }] },
    { FileName: 'dir/dir2/a.png' },
    { FileName: 'dir/a.jpg' },
  ],
  [
    'IP address',
    { SourceIPAddress: [{ cidr: '10.0.0.0/24' }] },
    { SourceIPAddress: '10.0.0.255' },
    { SourceIPAddress: '10.0.1.0' },
  ],
];

/**
 * The worked examples of the User Guide's "Content filtering in Amazon EventBridge event patterns" page (and of
 * its earlier "Content-based Filtering with Event Patterns"), each with an event it describes and one it excludes.
 */
const contentFiltering: [name: string, pattern: unknown, yes: unknown, no: unknown][] = [
  [
    'Auto Scaling events from European regions',
    { source: ['aws.autoscaling'], region: [{ prefix: 'eu-' }] },
    { source: 'aws.autoscaling', region: 'eu-west-1' },
    { source: 'aws.autoscaling', region: 'us-east-1' },
  ],
  [
    'everything but CloudTrail API calls',
    { 'detail-type': [{ 'anything-but': 'AWS API Call via CloudTrail' }] },
    { 'detail-type': 'ECR Image Action' },
    { 'detail-type': 'AWS API Call via CloudTrail' },
  ],
  [
    'everything but EC2 and S3',
    { source: [{ 'anything-but': ['aws.ec2', 'aws.s3'] }] },
    { source: 'aws.ecs' },
    { source: 'aws.s3' },
  ],
  [
    'only your own events (sources not starting with aws.)',
    { source: [{ 'anything-but': { prefix: 'aws.' } }] },
    { source: 'com.example.shop' },
    { source: 'aws.ecr' },
  ],
  [
    'events with a description, for a full-text index',
    { detail: { description: [{ exists: true }] } },
    { detail: { description: 'resized' } },
    { detail: { summary: 'resized' } },
  ],
  [
    'prefix, ignoring case',
    { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
    { detail: { service: 'eventbridge' } },
    { detail: { service: 'Lambda' } },
  ],
  [
    'suffix, ignoring case',
    { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
    { detail: { FileName: 'photo.PNG' } },
    { detail: { FileName: 'photo.jpg' } },
  ],
  [
    'anything-but a list, ignoring case',
    { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['initializing', 'stopped'] } }] } },
    { detail: { state: 'running' } },
    { detail: { state: 'STOPPED' } },
  ],
  [
    'anything-but a suffix',
    { detail: { FileName: [{ 'anything-but': { suffix: '.txt' } }] } },
    { detail: { FileName: 'notes.md' } },
    { detail: { FileName: 'notes.txt' } },
  ],
  [
    'anything-but a list of wildcards',
    { detail: { FilePath: [{ 'anything-but': { wildcard: ['*/lib/*', '*/bin/*'] } }] } },
    { detail: { FilePath: '/usr/share/doc' } },
    { detail: { FilePath: '/usr/bin/env' } },
  ],
  [
    'wildcard over an ARN',
    // AWS's documentation shows '*:*:*:*:*:event-bus/*', which AWS itself refuses as too complex (below).
    { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] },
    { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/default' },
    { EventBusArn: 'arn:aws:events:us-east-1:123456789012:rule/nightly' },
  ],
  [
    '$or at the top level',
    {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
    },
    { source: 'aws.cloudwatch', metricName: 'DiskUsage', namespace: 'AWS/ES' },
    { source: 'aws.cloudwatch', metricName: 'DiskUsage', namespace: 'AWS/S3' },
  ],
  [
    '$or nested in $or',
    {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization', 'ReadLatency'] },
        { metricType: ['MetricType'], $or: [{ metricId: [1234] }, { spaceId: [1000] }] },
      ],
    },
    { source: 'aws.cloudwatch', metricType: 'MetricType', spaceId: 1000 },
    { source: 'aws.cloudwatch', metricType: 'MetricType', spaceId: 1001 },
  ],
];

describe('EventBridge event patterns: documented examples', () => {
  it.each(contentFiltering)('content filtering: %s', (_name, pattern, yes, no) => {
    expect(() => validatePattern(pattern)).not.toThrow();
    expect(matchesPattern(pattern, yes)).toBe(true);
    expect(matchesPattern(pattern, no)).toBe(false);
  });

  it.each(documented)('%s', (_name, event, pattern, expected) => {
    expect(matchesPattern(pattern, event)).toBe(expected);
  });

  it.each(operators)('comparison operator: %s', (_name, pattern, yes, no) => {
    expect(matchesPattern(pattern, yes)).toBe(true);
    expect(matchesPattern(pattern, no)).toBe(false);
  });
});

describe('EventBridge event patterns: edges users hit', () => {
  it.each([
    ['wildcard: \\* is a literal star', { v: [{ wildcard: 'a\\*b' }] }, { v: 'a*b' }, { v: 'axxb' }],
    ['wildcard: \\\\ is a literal backslash', { v: [{ wildcard: 'a\\\\*' }] }, { v: 'a\\z' }, { v: 'az' }],
    [
      'wildcard: regex characters are literal',
      { v: [{ wildcard: 'v1.2*' }] },
      { v: 'v1.2.3' },
      { v: 'v102' },
    ],
    ['cidr: IPv6', { ip: [{ cidr: '2001:db8::/32' }] }, { ip: '2001:db8:0:1::5' }, { ip: '2001:db9::1' }],
    ['cidr: IPv4 never matches an IPv6 range', { ip: [{ cidr: '::/0' }] }, { ip: '::1' }, { ip: '10.0.0.1' }],
    ['anything-but needs the field', { s: [{ 'anything-but': 'x' }] }, { s: 'y' }, {}],
    [
      'anything-but on an array: one value not excluded is enough (event-ruler)',
      { s: [{ 'anything-but': 'x' }] },
      { s: ['x', 'y'] },
      { s: ['x'] },
    ],
    ['exists: an empty array has no value', { s: [{ exists: true }] }, { s: [1] }, { s: [] }],
    [
      'exists: false below a missing parent',
      { detail: { failure: [{ exists: false }] } },
      { source: 'aws.ecs' },
      { detail: { failure: 'x' } },
    ],
    [
      'nested $or',
      {
        source: ['aws.cloudwatch'],
        $or: [{ metricName: ['CPU'] }, { namespace: ['AWS/EC2'], $or: [{ id: [1] }, { id: [2] }] }],
      },
      { source: 'aws.cloudwatch', namespace: 'AWS/EC2', id: 2 },
      { source: 'aws.cloudwatch', namespace: 'AWS/EC2', id: 3 },
    ],
    ['numbers match numerically', { n: [300] }, { n: 3.0e2 }, { n: '300' }],
    ['booleans', { b: [true] }, { b: true }, { b: 'true' }],
    [
      'anything-but a list of prefixes',
      { detail: { state: [{ 'anything-but': { prefix: ['init', 'test'] } }] } },
      { detail: { state: 'post-init' } },
      { detail: { state: 'testing' } },
    ],
    [
      'anything-but a list of suffixes',
      { f: [{ 'anything-but': { suffix: ['.png', '.jpg'] } }] },
      { f: 'notes.txt' },
      { f: 'cat.jpg' },
    ],
    [
      'a dotted key in the pattern is a nested path',
      { detail: { 'repository-name': ['web'] }, 'detail.action-type': ['PUSH'] },
      { detail: { 'repository-name': 'web', 'action-type': 'PUSH' } },
      { detail: { 'repository-name': 'web', 'action-type': 'DELETE' } },
    ],
    [
      'a dotted top-level event key meets a nested pattern',
      { detail: { x: [1] } },
      { 'detail.x': 1 },
      { 'detail.x': 2 },
    ],
    [
      'dotted and nested event keys together',
      { detail: { x: [1], y: [2] } },
      { 'detail.x': 1, detail: { y: 2 } },
      { 'detail.x': 1, detail: { y: 3 } },
    ],
    [
      'dotted keys inside $or branches',
      { $or: [{ 'detail.x': [1] }, { 'detail.y': [2] }] },
      { detail: { y: 2 } },
      { detail: { y: 1 } },
    ],
    [
      'a dotted key in the event is a nested path',
      { detail: { state: { status: ['running'] } } },
      { detail: { 'state.status': 'running' } },
      { detail: { 'state.status': 'stopped' } },
    ],
  ])('%s', (_name, pattern, yes, no) => {
    expect(matchesPattern(pattern, yes)).toBe(true);
    expect(matchesPattern(pattern, no)).toBe(false);
  });

  it('keeps a plain empty prefix valid: it matches every string', () => {
    expect(matchesPattern({ s: [{ prefix: '' }] }, { s: 'anything' })).toBe(true);
  });

  it.each([
    ['*.png', 'photos/cat.png', 'photos/cat.jpg'],
    ['dir/*.png', 'dir/a/b.png', 'other/b.png'],
    ['arn:aws:s3:::bucket/*', 'arn:aws:s3:::bucket/key', 'arn:aws:s3:::other/key'],
    ['*Title*', 'A Title here', 'A heading'],
    ['a\\**', 'a*tail', 'atail'],
  ])('accepts the simple wildcard %s and matches with it', (glob, yes, no) => {
    const pattern = { v: [{ wildcard: glob }] };
    expect(() => validatePattern(pattern)).not.toThrow();
    expect(matchesPattern(pattern, { v: yes })).toBe(true);
    expect(matchesPattern(pattern, { v: no })).toBe(false);
  });

  it.each([
    ['four suffix wildcards in one field', ['*.bif', '*.tiff', '*.tif', '*.svs']],
    ['two wildcards under a common folder', ['*/datasync/*.bif', '*/datasync/*.tif']],
    ['one glob listed twice', ['a*a*a*a', 'a*a*a*a']],
  ])('accepts what AWS accepts: %s', (_name, globs) => {
    expect(() => validatePattern({ key: globs.map((wildcard) => ({ wildcard })) })).not.toThrow();
  });

  it.each([
    ['*', 1],
    ['a*b', 2],
    ['*aa', 3],
    ['*ab*ad', 4],
    ['a*b*bb', 5],
    ['/Users/*/dir/dir/dir/dir/dir/doc.txt', 7],
    ['*:*:*:*:*:event-bus/*', 11],
    ['a*b*c', 3],
    ['a\\*b*c', 2],
  ])("measures %s's wildcard complexity as aws/event-ruler does: %i", (glob, expected) => {
    expect(wildcardComplexity([glob])).toBe(expected);
  });

  it('matches the ECR push rule of serverless.yml only on successful pushes', () => {
    const rule = compilePattern({
      source: ['aws.ecr'],
      'detail-type': ['ECR Image Action'],
      detail: { 'action-type': ['PUSH'], result: ['SUCCESS'] },
    });
    const push = {
      source: 'aws.ecr',
      'detail-type': 'ECR Image Action',
      detail: { 'action-type': 'PUSH', result: 'SUCCESS', 'repository-name': 'web' },
    };
    expect(rule(push)).toBe(true);
    expect(rule({ ...push, detail: { ...push.detail, 'action-type': 'DELETE' } })).toBe(false);
    expect(rule({ ...push, detail: { ...push.detail, result: 'FAILURE' } })).toBe(false);
  });

  it.each([
    ['not an object', ['aws.ec2'], /^Event pattern is not valid\. Reason: Filter is not an object$/],
    ['a bare value', { source: 'aws.ec2' }, /Reason: "source" must be an object or an array \(at source\)$/],
    [
      'an unknown operator',
      { detail: { state: [{ contains: 'x' }] } },
      /Reason: Unrecognized match type contains \(at detail\.state\)$/,
    ],
    [
      'two operators in one object',
      { s: [{ prefix: 'a', suffix: 'b' }] },
      /Only one key allowed in match expression/,
    ],
    ['numeric with a string', { n: [{ numeric: ['>', '5'] }] }, /Value of > must be numeric/],
    [
      'numeric range upside down',
      { n: [{ numeric: ['<', 5, '>', 1] }] },
      /Too many elements in numeric expression/,
    ],
    [
      'numeric range with bottom above top',
      { n: [{ numeric: ['>', 5, '<', 1] }] },
      /Bottom must be less than top/,
    ],
    ['a bad cidr', { ip: [{ cidr: '10.0.0.0/33' }] }, /IPv4 mask bits must be < 32/],
    ['a cidr of one address', { ip: [{ cidr: '10.0.0.1/32' }] }, /IPv4 mask bits must be < 32/],
    ['consecutive wildcards', { f: [{ wildcard: 'a**b' }] }, /Consecutive wildcard characters at pos 2/],
    ['a stray escape', { f: [{ wildcard: 'a\\b' }] }, /Invalid escape character at pos 2/],
    [
      'anything-but mixing types',
      { s: [{ 'anything-but': ['a', 1] }] },
      /Inside anything but list, either all values are number or string, mixed type is not supported/,
    ],
    [
      '$or with one branch',
      { $or: [{ a: ['x'] }] },
      /There must have at least 2 Objects in \$or relationship\./,
    ],
    ['$or that is not a list', { $or: { a: ['x'] } }, /It must be an Array followed with \$or\./],
    [
      'exists with a string',
      { s: [{ exists: 'yes' }] },
      /exists match pattern must be either true or false\./,
    ],
    ['a nested empty object', { detail: {} }, /Empty objects are not allowed \(at detail\)/],
    [
      'an empty array (a rule that never fires)',
      { resources: [] },
      /^Event pattern is not valid\. Reason: Empty arrays are not allowed \(at resources\)$/,
    ],
    ['an empty array nested', { detail: { state: [] } }, /Empty arrays are not allowed \(at detail\.state\)/],
    [
      'an empty array in a $or branch',
      { $or: [{ a: ['x'] }, { b: [] }] },
      /Empty arrays are not allowed \(at \$or\[1\]\.b\)/,
    ],
    [
      'a field named anything-but with an empty array',
      { 'anything-but': [] },
      /Empty arrays are not allowed/,
    ],
    ['anything-but an empty list', { s: [{ 'anything-but': [] }] }, /Empty arrays are not allowed/],
    [
      'anything-but an empty list of prefixes',
      { s: [{ 'anything-but': { prefix: [] } }] },
      /Empty arrays are not allowed/,
    ],
    [
      'anything-but an empty prefix',
      { s: [{ 'anything-but': { prefix: '' } }] },
      /Null prefix\/suffix not allowed/,
    ],
    [
      'anything-but an empty suffix',
      { s: [{ 'anything-but': { suffix: [''] } }] },
      /Null prefix\/suffix not allowed/,
    ],
    [
      "a wildcard AWS finds too complex (its own documentation's example)",
      { EventBusArn: [{ wildcard: '*:*:*:*:*:event-bus/*' }] },
      /^Event pattern is not valid\. Reason: Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character \(at EventBusArn\)$/,
    ],
    [
      'four wildcards under a common folder in one field (refused by AWS, complexity 16)',
      {
        detail: {
          object: {
            key: [
              { wildcard: '*/datasync/*.bif' },
              { wildcard: '*/datasync/*.tif' },
              { wildcard: '*/datasync/*.tiff' },
              { wildcard: '*/datasync/*.svs' },
            ],
          },
        },
      },
      /Rule is too complex .* \(at detail\.object\.key\)$/,
    ],
    [
      'anything-but wildcards count too',
      { f: [{ 'anything-but': { wildcard: ['*/a/*.x', '*/a/*.y', '*/a/*.z', '*/a/*.w'] } }] },
      /Rule is too complex/,
    ],
  ])('rejects %s with the path and the reason', (_name, pattern, message) => {
    expect(() => validatePattern(pattern)).toThrow(PatternError);
    expect(() => validatePattern(pattern)).toThrow(message);
  });
});
