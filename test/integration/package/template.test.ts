/**
 * Packages the service as `npx serverless package` does (offline, dummy credentials) and checks what a
 * reviewer of the CloudFormation template would: one small bundle and one least-privilege role per
 * function, failures going somewhere, logs expiring.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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
type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

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
describe('the packaged template with eks.clusters and prune.repositories set', () => {
  let cdir: string;
  let configured: Template;
  beforeAll(async () => {
    cdir = await mkdtemp(join(tmpdir(), 'harborpilot-package-configured-'));
    const config = join(cdir, 'harborpilot.yml');
    await writeFile(
      config,
      'eks:\n  clusters: [prod-eks]\nprune:\n  repositories: ["shop/*"]\nalerts:\n  from: harborpilot@example.com\n  to: [ops@example.com]\n',
    );
    await run('npx', ['serverless', 'package', '--package', join(cdir, 'out')], {
      env: {
        ...process.env,
        HARBORPILOT_CONFIG_FILE: config,
        AWS_ACCESS_KEY_ID: 'x',
        AWS_SECRET_ACCESS_KEY: 'x',
        AWS_REGION: 'us-east-1',
      },
      timeout: 120_000,
    });
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

  it('gives checkCapacity the node groups of that cluster only', () => {
    const s = statements('CheckCapacityRole').find((x) => actions(x).includes('eks:DescribeNodegroup'));
    expect(resources(s as Statement)).toContain(':nodegroup/prod-eks/*/*');
  });
});
