/**
 * serverless/workload-account.yml, the template StackSets deploys to each workload account, checked as a reviewer
 * would: every reference resolves, the role trusts only the hub's function roles that assume it (as serverless.yml
 * names them) with the external id, its policy is what those functions are granted at home and no more, and the
 * rules forward every ECS event a hub rule matches to the hub's default bus, with a role. cfn-lint too, when
 * it is installed.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseServerlessYml } from '../../../local/router/serverless';

const ROOT = new URL('../../../', import.meta.url).pathname;
const TEMPLATE = `${ROOT}serverless/workload-account.yml`;

type Json = Record<string, unknown>;
type Statement = {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Json;
  Principal?: unknown;
};
type Resource = { Type: string; Condition?: string; Properties: Json };
type Template = {
  Parameters: Record<string, { Default?: string }>;
  Conditions: Json;
  Resources: Record<string, Resource>;
  Outputs: Record<string, { Condition?: string; Value: unknown }>;
};

const template = parseServerlessYml(readFileSync(TEMPLATE, 'utf8'), TEMPLATE) as unknown as Template;
const serverless = parseServerlessYml(readFileSync(`${ROOT}serverless.yml`, 'utf8')) as {
  service: string;
  provider: { stage: string };
  custom: { targets: { functions: string[] } };
  functions: Record<string, { role: string; events?: { eventBridge?: { pattern: Json } }[] }>;
  resources: { Resources: Record<string, Resource> };
};

const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);
const statementsOf = (resource: Resource | undefined): Statement[] =>
  ((resource?.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]).flatMap(
    (p) => p.PolicyDocument.Statement,
  );
const role = template.Resources.HarborpilotRole;
const granted = statementsOf(role);
const grantedActions = new Set(granted.filter((s) => s.Effect === 'Allow').flatMap((s) => asArray(s.Action)));
/** The functions that assume the workload role, and the hub roles serverless.yml gives them. */
const assumers = serverless.custom.targets.functions;
const hubRoles = assumers.map((fn) => serverless.functions[fn]?.role as string);
// biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation ${} reference, not a template
const HUB_BUS = { 'Fn::Sub': 'arn:${AWS::Partition}:events:${HubRegion}:${HubAccountId}:event-bus/default' };

/** Actions whose IAM authorization takes no resource ARN: `Resource: '*'` is the only way to grant them. */
const STAR_ONLY_ACTIONS = new Set([
  'ecs:ListClusters',
  'ecs:ListServices',
  'ecs:ListTasks',
  'ecs:ListTaskDefinitions',
  'ecs:DescribeTaskDefinition',
  'ecs:RegisterTaskDefinition',
  'eks:ListClusters',
]);

/** Every `${Name}` of a Fn::Sub string, every Ref, GetAtt and Condition in a value. */
function references(value: unknown, out: { name: string; kind: string }[] = []) {
  if (Array.isArray(value)) for (const v of value) references(v, out);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'Ref') out.push({ name: v as string, kind: 'Ref' });
      else if (key === 'Fn::GetAtt') out.push({ name: (v as string[])[0] as string, kind: 'GetAtt' });
      else if (key === 'Condition' && typeof v === 'string') out.push({ name: v, kind: 'Condition' });
      else if (key === 'Fn::Sub' && typeof v === 'string') {
        for (const m of v.matchAll(/\$\{([^}!]+)\}/g)) out.push({ name: m[1] as string, kind: 'Sub' });
      }
      references(v, out);
    }
  }
  return out;
}

describe('serverless/workload-account.yml', () => {
  it('resolves every Ref, GetAtt, Fn::Sub variable and condition to a parameter, a pseudo parameter, a resource or a condition', () => {
    const names = new Set([
      ...Object.keys(template.Parameters),
      ...Object.keys(template.Resources),
      'AWS::AccountId',
      'AWS::Partition',
      'AWS::Region',
    ]);
    const refs = references({
      Conditions: template.Conditions,
      Resources: template.Resources,
      Outputs: template.Outputs,
    });
    expect(refs.length).toBeGreaterThan(10);
    for (const { name, kind } of refs) {
      if (kind === 'Condition') expect(Object.keys(template.Conditions), name).toContain(name);
      else if (kind === 'GetAtt') expect(Object.keys(template.Resources), name).toContain(name);
      else expect(names.has(name.split('.')[0] as string), `${kind} ${name}`).toBe(true);
    }
    // The role's output exists only where the role does.
    expect(template.Outputs.RoleArn).toMatchObject({
      Condition: 'CreateRole',
      Value: { 'Fn::GetAtt': ['HarborpilotRole', 'Arn'] },
    });
    expect(role?.Condition).toBe('CreateRole');
  });

  it("names the hub's service and default stage as serverless.yml does", () => {
    expect(template.Parameters.Service?.Default).toBe(serverless.service);
    expect(serverless.provider.stage).toContain(`'${template.Parameters.Stage?.Default}'`);
    expect(template.Parameters.RoleName?.Default).toBe('harborpilot');
  });

  it("trusts only the hub's function roles that assume it, and only with the external id", () => {
    const document = role?.Properties.AssumeRolePolicyDocument as { Statement: Statement[] } | undefined;
    const trust = document?.Statement ?? [];
    expect(trust).toHaveLength(1);
    expect(trust[0]).toEqual({
      Effect: 'Allow',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation ${} reference, not a template
      Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${HubAccountId}:root' } },
      Action: 'sts:AssumeRole',
      Condition: {
        StringEquals: { 'sts:ExternalId': { Ref: 'ExternalId' } },
        ArnLike: {
          'aws:PrincipalArn': hubRoles.map((r) => ({
            'Fn::Sub': `arn:\${AWS::Partition}:iam::\${HubAccountId}:role/\${Service}-\${Stage}-${r}-*`,
          })),
        },
      },
    });
    // Those are the roles serverless.yml declares, one per function; alertTaskFailures's is not among them.
    expect(hubRoles).toHaveLength(5);
    for (const r of hubRoles) expect(serverless.resources.Resources[r]?.Type).toBe('AWS::IAM::Role');
    expect(hubRoles).not.toContain(serverless.functions.alertTaskFailures?.role);
  });

  it('grants no wildcard action, and a wildcard resource only where the API takes no resource', () => {
    for (const [name, resource] of Object.entries(template.Resources)) {
      for (const s of statementsOf(resource)) {
        expect(s.Effect, name).toBe('Allow');
        for (const action of asArray(s.Action)) {
          expect(action, `${name}: wildcard action`).not.toMatch(/\*/);
          if (asArray(s.Resource).includes('*')) {
            expect(STAR_ONLY_ACTIONS.has(action), `${name}: ${action} on Resource '*'`).toBe(true);
          }
        }
      }
    }
  });

  it('writes only what redeployEcs needs: a task definition revision, its tags, its roles passed to ECS, the update', () => {
    const READ = /^(ecs|eks|ecr):(List|Describe|BatchGet)/;
    expect(new Set([...grantedActions].filter((a) => !READ.test(a)))).toEqual(
      new Set(['ecs:RegisterTaskDefinition', 'ecs:TagResource', 'iam:PassRole', 'ecs:UpdateService']),
    );
    const passRole = granted.find((s) => asArray(s.Action).includes('iam:PassRole'));
    expect(passRole?.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
    });
    const tag = granted.find((s) => asArray(s.Action).includes('ecs:TagResource'));
    expect(tag?.Condition).toEqual({ StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } });
  });

  it('grants exactly the ECS, EKS and ECR actions serverless.yml grants those functions at home, but deleting images', () => {
    const home = new Set(
      hubRoles
        .flatMap((r) => statementsOf(serverless.resources.Resources[r]))
        .filter((s) => s.Effect === 'Allow' || String(s.Effect).includes('listClustersEffect'))
        .flatMap((s) => asArray(s.Action))
        .filter((a) => /^(ecs|eks|ecr|iam):/.test(a)),
    );
    home.delete('ecr:BatchDeleteImage');
    expect(grantedActions).toEqual(home);
  });

  it("forwards every ECS event a hub rule matches to the hub's default bus, with a role that may only put there", () => {
    const rules = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Events::Rule');
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(rule.Properties.Targets).toEqual([
        { Id: 'harborpilot-hub', Arn: HUB_BUS, RoleArn: { 'Fn::GetAtt': ['ForwardEventsRole', 'Arn'] } },
      ]);
    }
    const forward = template.Resources.ForwardEventsRole;
    expect(forward?.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ],
    });
    expect(statementsOf(forward)).toEqual([
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: HUB_BUS },
    ]);

    // Each hub pattern on aws.ecs: some rule with its source and detail-type whose detail filters let through
    // every branch of the hub pattern's detail.
    const hubPatterns = Object.values(serverless.functions)
      .flatMap((fn) => fn.events ?? [])
      .flatMap((e) => (e.eventBridge ? [e.eventBridge.pattern] : []))
      .filter((p) => asArray(p.source as string[]).includes('aws.ecs'));
    expect(hubPatterns.length).toBeGreaterThanOrEqual(5);
    const covers = (rule: Json, hub: Json) => {
      const within = (key: string) =>
        asArray(hub[key] as string[]).every((v) => asArray(rule[key]).includes(v));
      if (!within('source') || !within('detail-type')) return false;
      const { $or, ...rest } = (hub.detail ?? {}) as Json & { $or?: Json[] };
      const branches = $or ? $or.map((b) => ({ ...rest, ...b })) : [rest];
      return Object.entries((rule.detail ?? {}) as Record<string, string[]>).every(([key, allowed]) =>
        branches.every(
          (b) => Array.isArray(b[key]) && (b[key] as unknown[]).every((v) => allowed.includes(v as string)),
        ),
      );
    };
    for (const hub of hubPatterns) {
      expect(
        rules.some((r) => covers(r.Properties.EventPattern as Json, hub)),
        JSON.stringify(hub),
      ).toBe(true);
    }
  });

  it('passes cfn-lint, when it is installed', async () => {
    const lint = await promisify(execFile)('cfn-lint', [TEMPLATE]).then(
      () => 'clean',
      (err: NodeJS.ErrnoException & { stdout?: string }) => (err.code === 'ENOENT' ? 'absent' : err.stdout),
    );
    expect(['clean', 'absent']).toContain(lint);
  });
});
