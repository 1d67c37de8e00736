/**
 * Packages the service as `npx serverless package` does (offline, dummy credentials) and checks what a
 * reviewer of the CloudFormation template would: one small bundle and one least-privilege role per
 * function, failures going somewhere, logs expiring. Then `serverless invoke local` as the README runs it,
 * against the local cloud. Every serverless run is in this one file: they share .esbuild/.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import { loadWorldFile } from '../../../local/world';
import { clientConfig } from '../../support/cloud';

const run = promisify(execFile);

/**
 * Actions whose IAM authorization takes no resource ARN: `Resource: '*'` is the only way to grant them.
 * (Service Authorization Reference: these list no resource types, or only condition keys.)
 */
const STAR_ONLY_ACTIONS = new Set([
  'ecs:ListClusters',
  'ecs:ListServices',
  'ecs:ListTasks',
  'ecs:ListContainerInstances',
  'ecs:ListTaskDefinitions',
  'ecs:ListTaskDefinitionFamilies',
  'ecs:DescribeTaskDefinition',
  'ecs:RegisterTaskDefinition',
  'ecs:DescribeCapacityProviders',
  'ecr:DescribeRegistry',
  'ecr:GetAuthorizationToken',
  'eks:ListClusters',
  'cloudwatch:PutMetricData',
  'servicequotas:GetServiceQuota',
  'sts:GetCallerIdentity',
  // PassRole is only granted with an iam:PassedToService condition (checked below).
  'iam:PassRole',
]);

type Statement = {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
};
type Template = {
  Conditions?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Condition?: string; Properties: Record<string, unknown> }>;
};

let dir: string;
let template: Template;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'harborpilot-package-'));
  await run('npx', ['serverless', 'package', '--package', dir], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_REGION: 'us-east-1' },
    timeout: 120_000,
  });
  template = JSON.parse(await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
}, 180_000);

afterAll(() => rm(dir, { recursive: true, force: true }));

const functions = () =>
  Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
const asArray = <T>(v: T | T[]) => (Array.isArray(v) ? v : [v]);

describe('packaged CloudFormation template', () => {
  it('has the functions on the Node 22 runtime with the config validated and embedded', () => {
    expect(functions().length).toBeGreaterThanOrEqual(1);
    for (const [, fn] of functions()) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      const vars = (fn.Properties.Environment as { Variables: Record<string, string> }).Variables;
      expect(JSON.parse(vars.HARBORPILOT_CONFIG as string)).toHaveProperty('ecs.defaultPolicy');
    }
  });

  it('gives every function a role of its own', () => {
    const roles = functions().map(([, fn]) => JSON.stringify(fn.Properties.Role));
    expect(new Set(roles).size).toBe(roles.length);
  });

  it('grants no wildcard action, and a wildcard resource only where the API takes no resource', () => {
    for (const [name, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::IAM::Role') continue;
      const policies = (resource.Properties.Policies ?? []) as {
        PolicyDocument: { Statement: Statement[] };
      }[];
      for (const statement of policies.flatMap((p) => p.PolicyDocument.Statement)) {
        for (const action of asArray(statement.Action)) {
          expect(action, `${name}: wildcard action`).not.toMatch(/\*/);
          if (asArray(statement.Resource).includes('*')) {
            expect(STAR_ONLY_ACTIONS.has(action), `${name}: ${action} on Resource '*'`).toBe(true);
          }
          if (action === 'iam:PassRole') {
            expect(JSON.stringify(statement.Condition), `${name}: PassRole unconditioned`).toMatch(
              /iam:PassedToService/,
            );
          }
        }
      }
    }
  });

  it('grants redeployEcs exactly the actions it calls, nothing more', () => {
    const policies = template.Resources.RedeployEcsRole?.Properties.Policies as {
      PolicyDocument: { Statement: Statement[] };
    }[];
    const granted = policies
      .flatMap((p) => p.PolicyDocument.Statement)
      .filter((s) => s.Effect === 'Allow')
      .flatMap((s) => asArray(s.Action));
    expect(new Set(granted)).toEqual(
      new Set([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        // gather: clusters, services (with tags), task definitions, the PRIMARY deployment's tasks
        'ecs:ListClusters',
        'ecs:ListServices',
        'ecs:DescribeServices',
        'ecs:ListTagsForResource',
        'ecs:DescribeTaskDefinition',
        'ecs:ListTasks',
        'ecs:DescribeTasks',
        // a new PRIMARY with no task reporting a digest yet: the digests pinned in its service revision
        'ecs:ListServiceDeployments',
        'ecs:DescribeServiceRevisions',
        // apply: a new revision (tags copied, task roles passed on; the family's newest listed) and the update
        'ecs:ListTaskDefinitions',
        'ecs:RegisterTaskDefinition',
        'ecs:TagResource',
        'iam:PassRole',
        'ecs:UpdateService',
        // reconcile: the tags of the repositories in use
        'ecr:DescribeImages',
        // the scan gate's email: the findings that held an image, sent from alerts.from
        'ecr:DescribeImageScanFindings',
        'ses:SendEmail',
        // idempotency records; the on-failure destination
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        // task definitions read before, by any function
        'dynamodb:BatchGetItem',
        'dynamodb:BatchWriteItem',
        // the email that asks for an approval
        'ses:SendEmail',
        'sqs:SendMessage',
      ]),
    );
  });

  it('grants no sts action when harborpilot.yml has no targets', () => {
    for (const [name, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::IAM::Role') continue;
      const policies = (resource.Properties.Policies ?? []) as {
        PolicyDocument: { Statement: Statement[] };
      }[];
      const sts = policies
        .flatMap((p) => p.PolicyDocument.Statement)
        .flatMap((s) => asArray(s.Action))
        .filter((a) => a.startsWith('sts:'));
      expect(sts, name).toEqual([]);
    }
  });

  it('has no bus policy without --param organizationId (its condition is false)', () => {
    expect(template.Conditions?.HasOrganization).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    for (const r of Object.values(template.Resources)) {
      if (r.Type === 'AWS::Events::EventBusPolicy') expect(r.Condition).toBe('HasOrganization');
    }
  });

  it('sends failed asynchronous invocations to the dead-letter queue', () => {
    const eventConfigs = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::EventInvokeConfig',
    );
    expect(eventConfigs.length).toBe(functions().length);
    for (const config of eventConfigs) {
      expect(JSON.stringify(config.Properties.DestinationConfig)).toMatch(/DeadLetterQueue/);
    }
  });

  it('alarms on the first message in the dead-letter queue', () => {
    const alarms = Object.values(template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    const dlq = alarms.find((a) => a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible');
    expect(JSON.stringify(dlq?.Properties.Dimensions)).toMatch(/DeadLetterQueue/);
    expect(dlq?.Properties.Threshold).toBe(0);
    expect(dlq?.Properties.AlarmActions).toBeDefined();
  });

  it('runs at most one prune at a time', () => {
    const prune = functions().find(([id]) => id === 'PruneImagesLambdaFunction');
    expect(prune?.[1].Properties.ReservedConcurrentExecutions).toBe(1);
  });

  it('keeps logs for a bounded time', () => {
    const groups = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Logs::LogGroup');
    expect(groups.length).toBe(functions().length);
    for (const g of groups) expect(g.Properties.RetentionInDays).toBeGreaterThan(0);
  });

  it('builds one bundle per function, each under 3 MB', async () => {
    for (const [logicalId] of functions()) {
      const name = logicalId.replace(/LambdaFunction$/, '');
      const zip = join(dir, `${name.charAt(0).toLowerCase()}${name.slice(1)}.zip`);
      const { size } = await stat(zip);
      expect(size, zip).toBeLessThan(3 * 1024 * 1024);
    }
  });
});

// Packaged after the default template above (one file: two packagings at once would share .esbuild/).
const ORG = 'o-a1b2c3d4e5';

describe('the packaged template with eks.clusters, prune.repositories and targets set, for an organisation', () => {
  let cdir: string;
  let configured: Template;
  beforeAll(async () => {
    cdir = await mkdtemp(join(tmpdir(), 'harborpilot-package-configured-'));
    const config = join(cdir, 'harborpilot.yml');
    await writeFile(
      config,
      [
        'ecs:\n  clusters: [prod, arn:aws:ecs:eu-west-1:210987654321:cluster/edge]\neks:\n  clusters: [prod-eks]',
        'prune:\n  repositories: ["shop/*"]\nalerts:\n  from: harborpilot@example.com\n  to: [ops@example.com]',
        'targets:',
        '  - { account: "111111111111", regions: [us-east-1, us-west-2], role: harborpilot, externalId: hp-7f3a }',
        '  - { account: "222222222222", regions: [eu-west-1], role: "arn:aws:iam::222222222222:role/ops/hp" }',
        '',
      ].join('\n'),
    );
    await run(
      'npx',
      ['serverless', 'package', '--package', join(cdir, 'out'), '--param', `organizationId=${ORG}`],
      {
        env: {
          ...process.env,
          HARBORPILOT_CONFIG_FILE: config,
          AWS_ACCESS_KEY_ID: 'x',
          AWS_SECRET_ACCESS_KEY: 'x',
          AWS_REGION: 'us-east-1',
        },
        timeout: 120_000,
      },
    );
    configured = JSON.parse(
      await readFile(join(cdir, 'out', 'cloudformation-template-update-stack.json'), 'utf8'),
    );
  }, 180_000);
  afterAll(() => rm(cdir, { recursive: true, force: true }));

  function statements(role: string): Statement[] {
    const policies = configured.Resources[role]?.Properties.Policies as {
      PolicyDocument: { Statement: Statement[] };
    }[];
    return policies.flatMap((p) => p.PolicyDocument.Statement);
  }
  const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
  const resources = (s: Statement) => JSON.stringify(s.Resource);

  it.each(['RollEksRole', 'PruneImagesRole', 'CheckCapacityRole'])(
    '%s: DescribeCluster on the configured cluster only, ListClusters denied',
    (role) => {
      const all = statements(role);
      const grants = all.filter((s) => s.Effect === 'Allow' && actions(s).includes('eks:DescribeCluster'));
      expect(grants).toHaveLength(1);
      expect(resources(grants[0] as Statement)).toContain(':cluster/prod-eks');
      expect(resources(grants[0] as Statement)).not.toContain('cluster/*');
      const list = all.filter((s) => actions(s).includes('eks:ListClusters'));
      expect(list.length).toBeGreaterThan(0);
      for (const s of list)
        expect(s.Effect === 'Deny' || !actions(s).includes('eks:ListClusters')).toBe(true);
    },
  );

  it('lets pruneImages delete only in the configured repositories', () => {
    const deletes = statements('PruneImagesRole').filter((s) => actions(s).includes('ecr:BatchDeleteImage'));
    expect(deletes).toHaveLength(1);
    expect(resources(deletes[0] as Statement)).toContain(':repository/shop/*');
    expect(resources(deletes[0] as Statement)).not.toContain(':repository/*"');
  });

  it("lets pruneImages read and write only its pass's state items, and never delete or update any", () => {
    const dynamo = statements('PruneImagesRole').filter((s) =>
      actions(s).some((a) => a.startsWith('dynamodb:')),
    );
    expect(dynamo).toHaveLength(1);
    expect(actions(dynamo[0] as Statement).sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
    ]);
    expect(dynamo[0]?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['prune#pass*'] },
    });
  });

  it.each(['RedeployEcsRole', 'PruneImagesRole', 'CheckCapacityRole'])(
    '%s: reads ECS services and tasks of ecs.clusters only, ListClusters denied',
    (role) => {
      const all = statements(role);
      const grant = (action: string) =>
        all
          .filter((s) => s.Effect === 'Allow' && actions(s).includes(action))
          .map(resources)
          .join(' ');
      for (const [action, kind] of [
        ['ecs:DescribeServices', 'service'],
        ['ecs:DescribeTasks', 'task'],
      ] as const) {
        expect(grant(action)).toContain(`:${kind}/prod/*`);
        expect(grant(action)).toContain(`arn:aws:ecs:eu-west-1:210987654321:${kind}/edge/*`);
        expect(grant(action)).not.toContain(`${kind}/*"`);
      }
      const lists = all.find((s) => s.Effect === 'Allow' && actions(s).includes('ecs:ListServices'));
      expect(JSON.stringify(lists?.Condition)).toContain(':cluster/prod');
      expect(JSON.stringify(lists?.Condition)).not.toContain('cluster/*');
      const listClusters = all.filter((x) => actions(x).includes('ecs:ListClusters'));
      expect(listClusters.length).toBeGreaterThan(0);
      for (const s of listClusters) expect(s.Effect).toBe('Deny');
    },
  );

  it('lets trackDeployments read the deployments of ecs.clusters only, and only its own state items', () => {
    const all = statements('TrackDeploymentsRole');
    const allowed = all.filter((s) => s.Effect === 'Allow');
    expect(new Set(allowed.flatMap(actions))).toEqual(
      new Set([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'ecs:DescribeServices',
        'ecs:ListServiceDeployments',
        'ecs:DescribeServiceDeployments',
        'ecs:DescribeServiceRevisions',
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'ses:SendEmail',
        'sqs:SendMessage',
        // the deployments of the targets, through their roles
        'sts:AssumeRole',
      ]),
    );
    const grant = (action: string) =>
      allowed
        .filter((s) => actions(s).includes(action))
        .map(resources)
        .join(' ');
    for (const [action, kind] of [
      ['ecs:ListServiceDeployments', 'service'],
      ['ecs:DescribeServiceDeployments', 'service-deployment'],
      ['ecs:DescribeServiceRevisions', 'service-revision'],
    ] as const) {
      expect(grant(action)).toContain(`:${kind}/prod/*`);
      expect(grant(action)).not.toContain(`${kind}/*"`);
    }
    const state = allowed.find((s) => actions(s).includes('dynamodb:UpdateItem'));
    expect(JSON.stringify(state?.Condition)).toBe(
      JSON.stringify({
        'ForAllValues:StringLike': {
          'dynamodb:LeadingKeys': ['deployment#*', 'push#*', 'failed#*', 'held#index'],
        },
      }),
    );
  });

  it('lets redeployEcs update only the services of ecs.clusters', () => {
    const updates = statements('RedeployEcsRole').filter(
      (s) => s.Effect === 'Allow' && actions(s).includes('ecs:UpdateService'),
    );
    expect(updates.map(resources).join(' ')).toContain(':service/prod/*');
    expect(updates.map(resources).join(' ')).not.toContain('service/*"');
  });

  it.each(['RedeployEcsRole', 'RollEksRole', 'PruneImagesRole', 'CheckCapacityRole', 'TrackDeploymentsRole'])(
    "%s: sts:AssumeRole on exactly the targets' roles (a name in its account, an ARN as given), nothing else",
    (role) => {
      const assume = statements(role).filter((s) => actions(s).some((a) => a.startsWith('sts:')));
      expect(assume).toEqual([
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Resource: ['arn:aws:iam::111111111111:role/harborpilot', 'arn:aws:iam::222222222222:role/ops/hp'],
        },
      ]);
    },
  );

  it("lets the organisation's accounts, and no one else, put events on the default bus", () => {
    expect(configured.Conditions?.HasOrganization).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [ORG, ''] }] });
    const policies = Object.values(configured.Resources).filter(
      (r) => r.Type === 'AWS::Events::EventBusPolicy',
    );
    expect(policies).toHaveLength(1);
    expect(policies[0]?.Condition).toBe('HasOrganization');
    expect(policies[0]?.Properties).toEqual({
      EventBusName: 'default',
      StatementId: 'harborpilot-dev-organization',
      Statement: {
        Effect: 'Allow',
        Principal: '*',
        Action: 'events:PutEvents',
        Resource: {
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation ${} reference, not a template
          'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default',
        },
        Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG } },
      },
    });
  });

  it('gives alertTaskFailures no sts:AssumeRole: it only counts forwarded events', () => {
    expect(
      statements('AlertTaskFailuresRole')
        .flatMap(actions)
        .filter((a) => a.startsWith('sts:')),
    ).toEqual([]);
  });

  it('gives checkCapacity the node groups of that cluster only', () => {
    const s = statements('CheckCapacityRole').find((x) => actions(x).includes('eks:DescribeNodegroup'));
    expect(resources(s as Statement)).toContain(':nodegroup/prod-eks/*/*');
  });
});

const SERVERLESS = new URL('../../../node_modules/osls/bin/serverless.js', import.meta.url).pathname;
const ROOT = new URL('../../../', import.meta.url).pathname;
const BAD_POLICY = /ecs\.defaultPolicy: invalid update policy "sometimes"/;

interface CliRun {
  code: number | null;
  killed: boolean;
  output: string;
}

/** Runs the serverless CLI (node directly, so a timeout kills it and not only npx); never rejects. */
function serverless(args: string[], env: Record<string, string>, timeout = 90_000): Promise<CliRun> {
  return run(process.execPath, [SERVERLESS, ...args], {
    cwd: ROOT,
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', ...env },
    timeout,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, killed: false, output: `${stdout}\n${stderr}` }),
    (err: { code?: number | null; killed?: boolean; stdout?: string; stderr?: string }) => ({
      code: typeof err.code === 'number' ? err.code : null,
      killed: err.killed === true,
      output: `${err.stdout ?? ''}\n${err.stderr ?? ''}`,
    }),
  );
}

describe('a wrong harborpilot.yml', () => {
  it('fails `serverless package`, naming the field once, without our stack frames', async () => {
    const cdir = await mkdtemp(join(tmpdir(), 'harborpilot-package-bad-'));
    try {
      const config = join(cdir, 'harborpilot.yml');
      await writeFile(config, 'ecs:\n  defaultPolicy: sometimes\n');
      const result = await serverless(['package', '--package', join(cdir, 'out')], {
        HARBORPILOT_CONFIG_FILE: config,
        AWS_REGION: 'us-east-1',
      });
      expect(result.killed).toBe(false);
      expect(result.code).not.toBe(0);
      expect(result.output).toMatch(BAD_POLICY);
      // One error, not one per IAM statement that reads the config, and no call frames of ours to wade through.
      expect(result.output.match(new RegExp(BAD_POLICY.source, 'g'))).toHaveLength(1);
      expect(result.output).not.toMatch(/at parseConfig/);
    } finally {
      await rm(cdir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('a wrong --param organizationId', () => {
  it('fails `serverless package`, naming it', async () => {
    const cdir = await mkdtemp(join(tmpdir(), 'harborpilot-package-org-'));
    try {
      const result = await serverless(
        ['package', '--package', join(cdir, 'out'), '--param', 'organizationId=org-1'],
        { AWS_REGION: 'us-east-1' },
      );
      expect(result.killed).toBe(false);
      expect(result.code).not.toBe(0);
      expect(result.output).toMatch(
        /--param organizationId: expected an organization id such as o-a1b2c3d4e5/,
      );
    } finally {
      await rm(cdir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('npx serverless invoke local -f redeployEcs, against the local cloud', () => {
  let cloud: LocalCloud;
  let ecs: ECSClient;
  beforeAll(async () => {
    cloud = await createLocalCloud({ port: 0, world: loadWorldFile(`${ROOT}worlds/demo.yml`) });
    ecs = new ECSClient(clientConfig(cloud));
  });
  afterAll(() => cloud?.stop());

  const invoke = (args: string[], timeout?: number) =>
    serverless(
      ['invoke', 'local', '-f', 'redeployEcs', ...args],
      {
        AWS_ENDPOINT_URL: cloud.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
      },
      timeout,
    );
  const primary = async () => {
    const { services = [] } = await ecs.send(
      new DescribeServicesCommand({ cluster: 'shop', services: ['api'] }),
    );
    return services[0]?.deployments?.find((d) => d.status === 'PRIMARY')?.id;
  };

  it('runs the handler on the sample push, as the README says: a new deployment of shop/api', async () => {
    const before = await primary();
    const result = await invoke(['-p', 'events/ecr-image-push.json']);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(
      /"deployed": \[\s*\{\s*"serviceArn": "arn:aws:ecs:[^"]+:service\/shop\/api"/,
    );
    const after = await primary();
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
  }, 120_000);

  it('a malformed event file: a clear error naming the field, a non-zero exit, nothing changed', async () => {
    const cdir = await mkdtemp(join(tmpdir(), 'harborpilot-invoke-'));
    try {
      const event = JSON.parse(await readFile(`${ROOT}events/ecr-image-push.json`, 'utf8'));
      event.detail['image-digest'] = 'sha256:';
      await writeFile(join(cdir, 'bad.json'), JSON.stringify(event));
      const before = await primary();
      const result = await invoke(['-p', join(cdir, 'bad.json')]);
      expect(result.killed).toBe(false);
      expect(result.code).not.toBe(0);
      expect(result.output).toMatch(
        /malformed ECR Image Action event: detail\.image-digest: must be a digest, algorithm:encoded/,
      );
      // keepNames: the error's class keeps its name in the minified bundle, as errorType and in the stack.
      expect(result.output).toMatch(/"errorType": "EventValidationError"/);
      expect(result.output).toMatch(/EventValidationError: malformed ECR Image Action event/);
      expect(await primary()).toBe(before);
    } finally {
      await rm(cdir, { recursive: true, force: true });
    }
  }, 120_000);

  it('a wrong config fails at cold start naming the field, and the command exits (no hang)', async () => {
    const result = await invoke(
      ['-p', 'events/ecr-image-push.json', '-e', 'HARBORPILOT_CONFIG={"ecs":{"defaultPolicy":"sometimes"}}'],
      60_000,
    );
    expect(result.killed, 'serverless invoke local hung after the handler failed to load').toBe(false);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(BAD_POLICY);
  }, 120_000);
});
