/**
 * What serverless.yml deploys for alertTaskFailures, read as the local cloud's router reads it: EventBridge
 * patterns that drop what they can express and never a failure, a flush schedule, the DLQ, and a role that
 * may touch the state table's items and send email from the configured sender, nothing else.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import deploymentFailed from '../../../events/ecs-deployment-failed.json';
import deploymentInProgress from '../../../events/ecs-deployment-in-progress.json';
import deploymentRollback from '../../../events/ecs-deployment-rollback.json';
import placementFailure from '../../../events/ecs-service-action-placement-failure.json';
import steadyState from '../../../events/ecs-service-action-steady-state.json';
import startImpaired from '../../../events/ecs-service-action-task-start-impaired.json';
import scaleIn from '../../../events/ecs-task-deployment-scale-in.json';
import elbHealth from '../../../events/ecs-task-elb-health-check.json';
import essentialExit from '../../../events/ecs-task-essential-exit.json';
import failedToStart from '../../../events/ecs-task-failed-to-start.json';
import healthCheck from '../../../events/ecs-task-health-check.json';
import imagePull from '../../../events/ecs-task-image-pull.json';
import oom from '../../../events/ecs-task-oom.json';
import spot from '../../../events/ecs-task-spot-interruption.json';
import userStop from '../../../events/ecs-task-user-stop.json';
import scheduled from '../../../events/scheduled.json';
import { parseServerlessYml, readServerlessYml } from '../../../local/router/serverless';
import { classify } from '../../../shared/alert-task-failures/classify';
import { parseTrigger } from '../../../shared/alert-task-failures/handler';
import { parseConfigYaml } from '../../../shared/config-file';

const FILE = resolve(__dirname, '../../../serverless.yml');
const route = readServerlessYml(FILE).find((r) => r.name === 'alertTaskFailures');
const doc = parseServerlessYml(readFileSync(FILE, 'utf8')) as {
  functions: Record<string, { role: string; destinations: unknown; events: Record<string, unknown>[] }>;
  resources: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
};

const withDetail = (event: { detail: object }, detail: Record<string, unknown>) => ({
  ...event,
  detail: { ...event.detail, ...detail },
});
const isFailure = (event: unknown) => {
  const t = parseTrigger(event);
  return t.kind === 'ecs' && classify(t.event).kind === 'failure';
};
const matches = (event: unknown) => {
  if (!route) throw new Error('serverless.yml has no alertTaskFailures function');
  return route.matches(event);
};

/** Every sample, and the variants the classification table covers: failures and not. */
const EVENTS: [string, unknown][] = [
  ['image pull', imagePull],
  ['essential exit', essentialExit],
  ['oom', oom],
  ['container health check', healthCheck],
  ['ELB health check', elbHealth],
  ['failed to start', failedToStart],
  ['Spot interruption', spot],
  ['deployment failed', deploymentFailed],
  ['deployment rolled back', deploymentRollback],
  ['tasks cannot start', startImpaired],
  ['tasks cannot be placed', placementFailure],
  ['no stop code, pull error in the reason', withDetail(imagePull, { stopCode: undefined })],
  ['TerminationNotice on Spot', withDetail(essentialExit, { stopCode: 'TerminationNotice' })],
  ['InfrastructureHealth', withDetail(essentialExit, { stopCode: 'InfrastructureHealth' })],
  ['exit 0 (a finished job)', withDetail(essentialExit, { containers: [{ name: 'job', exitCode: 0 }] })],
  ['stopped by a deployment', scaleIn],
  ['scale-in', withDetail(scaleIn, { stoppedReason: 'Scaling activity initiated by (service api-service)' })],
  ['stopped by a user', userStop],
  ['still running', withDetail(essentialExit, { lastStatus: 'RUNNING' })],
  ['deployment in progress', deploymentInProgress],
  ['steady state', steadyState],
];

describe('alertTaskFailures rules in serverless.yml', () => {
  it.each(EVENTS.filter(([, e]) => isFailure(e)))('let a failure through: %s', (_name, event) => {
    expect(matches(event)).toBe(true);
  });

  it.each([
    ['stopped by a user', userStop],
    ['stopped by a deployment', scaleIn],
    [
      'scale-in',
      withDetail(scaleIn, { stoppedReason: 'Scaling activity initiated by (service api-service)' }),
    ],
    ['a task not yet stopped', withDetail(essentialExit, { lastStatus: 'RUNNING' })],
    ['a deployment in progress that is not a rollback', deploymentInProgress],
    [
      'a deployment completed',
      withDetail(deploymentInProgress, { eventName: 'SERVICE_DEPLOYMENT_COMPLETED' }),
    ],
    ['service steady state', steadyState],
  ])('drop what is never a failure before it costs an invocation: %s', (_name, event) => {
    expect(isFailure(event)).toBe(false);
    expect(matches(event)).toBe(false);
  });

  it('run the flush every minute, and send what fails in the end to the dead-letter queue', () => {
    const fn = doc.functions.alertTaskFailures;
    expect(matches(scheduled)).toBe(false); // the schedule is a rule of its own
    expect(route?.schedules.map((s) => s.expression)).toEqual(['rate(1 minute)']);
    expect(JSON.stringify(fn?.destinations)).toContain('DeadLetterQueue');
    const rules = (fn?.events ?? []).filter((e) => e.eventBridge);
    expect(rules).toHaveLength(3);
    for (const r of rules) expect(JSON.stringify(r.eventBridge)).toContain('"deadLetterQueueArn"');
  });
});

describe('AlertTaskFailuresRole and the state table', () => {
  type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
  const resources = doc.resources.Resources;
  const role = resources[doc.functions.alertTaskFailures?.role ?? ''];
  const policies = (role?.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
  const statements = policies.flatMap((p) => p.PolicyDocument.Statement);
  const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

  it('grants these actions and no others', () => {
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
    expect(actions.sort()).toEqual(
      [
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'ses:SendEmail',
        'sqs:SendMessage',
      ].sort(),
    );
  });

  it('reads and writes items of the state table only', () => {
    const s = statements.find((x) => JSON.stringify(x.Action).includes('dynamodb:'));
    expect(s?.Resource).toEqual({ 'Fn::GetAtt': ['StateTable', 'Arn'] });
  });

  it('sends email only from alerts.from (ses:FromAddress), resolved from harborpilot.yml at package time', async () => {
    const s = statements.find(
      (x) => x.Action === 'ses:SendEmail' || JSON.stringify(x.Action) === '["ses:SendEmail"]',
    );
    expect(s?.Condition).toEqual({
      // Serverless resolves this variable when it packages: the address comes from harborpilot.yml.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Serverless variable, not a JS template
      StringEquals: { 'ses:FromAddress': '${file(./serverless/prune.cjs):alertsFrom}' },
    });
    const cjs = createRequire(import.meta.url)('../../../serverless/prune.cjs') as {
      alertsFrom: () => Promise<string>;
    };
    const config = parseConfigYaml(
      readFileSync(resolve(__dirname, '../../../harborpilot.yml'), 'utf8'),
      'harborpilot.yml',
    );
    expect(await cjs.alertsFrom()).toBe(config.alerts.from);
  });

  it('expires alert state by TTL on the attribute the store writes', () => {
    const table = resources.StateTable;
    expect(table?.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiration', Enabled: true });
  });
});
