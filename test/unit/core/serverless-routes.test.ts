/** harborpilot's serverless.yml as the local cloud's router reads it: every function routable, as deployed. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readServerlessYml } from '../../../local/router/serverless';

describe("the repository's serverless.yml", () => {
  const routes = readServerlessYml('serverless.yml');
  const redeploy = routes.find((r) => r.name === 'redeployEcs');

  it('yields redeployEcs on successful ECR pushes, scans that end, and ECS deployments starting (the fleet index)', () => {
    expect(redeploy?.modulePath).toMatch(/\/functions\/redeployEcs\.ts$/);
    expect(redeploy?.exportName).toBe('handler');
    expect(redeploy?.functionName).toBe('harborpilot-dev-redeployEcs');
    expect(redeploy?.patterns).toEqual([
      {
        source: ['aws.ecr'],
        'detail-type': ['ECR Image Action'],
        detail: { 'action-type': ['PUSH'], result: ['SUCCESS'] },
      },
      { source: ['aws.ecr'], 'detail-type': ['ECR Replication Action'], detail: { result: ['SUCCESS'] } },
      { source: ['aws.ecr'], 'detail-type': ['ECR Image Scan'] },
      {
        source: ['aws.inspector2'],
        'detail-type': ['Inspector2 Scan'],
        detail: { 'scan-status': ['INITIAL_SCAN_COMPLETE'] },
      },
      {
        source: ['aws.ecs'],
        'detail-type': ['ECS Deployment State Change'],
        detail: { eventName: ['SERVICE_DEPLOYMENT_IN_PROGRESS'] },
      },
    ]);
    const push = {
      source: 'aws.ecr',
      'detail-type': 'ECR Image Action',
      detail: { 'action-type': 'PUSH', result: 'SUCCESS', 'repository-name': 'web', 'image-tag': 'v2' },
    };
    expect(redeploy?.matches(push)).toBe(true);
    expect(redeploy?.matches({ ...push, detail: { ...push.detail, 'action-type': 'DELETE' } })).toBe(false);
    const scan = JSON.parse(
      readFileSync(new URL('../../../events/ecr-image-scan.json', import.meta.url), 'utf8'),
    );
    expect(redeploy?.matches(scan)).toBe(true);
    expect(routes.find((r) => r.name === 'rollEks')?.matches(scan)).toBe(true);
    // A replica that arrived (ECR replication) moves the services and workloads that pull it.
    const replica = JSON.parse(
      readFileSync(new URL('../../../events/ecr-replication.json', import.meta.url), 'utf8'),
    );
    expect(redeploy?.matches(replica)).toBe(true);
    expect(routes.find((r) => r.name === 'rollEks')?.matches(replica)).toBe(true);
    const inspector = JSON.parse(
      readFileSync(new URL('../../../events/inspector2-scan.json', import.meta.url), 'utf8'),
    );
    expect(redeploy?.matches(inspector)).toBe(true);
    expect(routes.find((r) => r.name === 'rollEks')?.matches(inspector)).toBe(true);
    const rescan = {
      ...inspector,
      detail: { ...inspector.detail, 'scan-status': 'SCAN_ELIGIBILITY_EXPIRED' },
    };
    expect(redeploy?.matches(rescan)).toBe(false);
  });

  it('yields its reconcile and release-holds schedules, DLQ destination, retries and timeout', () => {
    expect(redeploy?.schedules.map((s) => [s.ruleName, s.expression])).toEqual([
      ['harborpilot-dev-redeployEcs-reconcile', 'rate(15 minutes)'],
      ['harborpilot-dev-redeployEcs-release-holds', 'rate(1 minute)'],
    ]);
    expect(redeploy?.onFailure).toEqual({ type: 'sqs', arn: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] } });
    expect(redeploy?.maximumRetryAttempts).toBe(2);
    expect(redeploy?.timeoutSeconds).toBe(120);
  });

  it('every function has a handler module that exists and a trigger', () => {
    for (const route of routes) {
      expect(route.patterns.length + route.schedules.length, route.name).toBeGreaterThan(0);
    }
  });
});
