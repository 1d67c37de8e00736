/**
 * `harborpilot plan` as a user runs it, a subprocess against the local cloud's demo world: plan push, prune
 * and capacity print their tables (or JSON), call no write API, and exit 1 naming what could not be read.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../local/cloud';
import { loadWorldFile } from '../../../local/world';
import { REGISTRY } from '../../support/cloud';

const run = promisify(execFile);
const ROOT = new URL('../../../', import.meta.url).pathname;

let cloud: LocalCloud;
let dir: string;
const calls: string[] = [];

beforeAll(async () => {
  cloud = await createLocalCloud({
    port: 0,
    world: loadWorldFile(`${ROOT}worlds/demo.yml`),
    onApiCall: (line) => calls.push(line),
  });
  dir = mkdtempSync(join(tmpdir(), 'hp-plan-'));
  // Wait for the demo to be steady: ECS tasks and EKS pods running.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const pods = cloud.eks.kube('shop-eks').store.list('pods');
    if (
      pods.length >= 6 &&
      pods.every((p) => (p as { status?: { phase?: string } }).status?.phase === 'Running')
    )
      break;
    await new Promise((r) => setTimeout(r, 200));
  }
});
afterAll(async () => {
  await cloud?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function plan(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: cloud.endpoint,
  };
  try {
    const { stdout, stderr } = await run('node', [`${ROOT}bin/harborpilot.mjs`, 'plan', ...args], {
      env,
      cwd: ROOT,
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

// Writes the plan commands could make (the demo's own schedules write their state items meanwhile).
const writes = () =>
  calls.filter((l) => /BatchDeleteImage|UpdateService|RegisterTaskDefinition|SendEmail/.test(l));

describe('harborpilot plan against the local demo', () => {
  it('plan push: the ECS service and the EKS Deployments that run the tag, as a table', async () => {
    const r = await plan('push', `${REGISTRY}/shop/api:latest`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/of 1 ECS service\(s\) and \d of 2 EKS workload\(s\) would move/);
    expect(r.stdout).toMatch(/ECS\s+shop\/api\s/);
    expect(r.stdout).toMatch(/EKS\s+shop-eks\/shop\/deployment\/api\s/);
    expect(r.stdout).toMatch(/EKS\s+shop-eks\/batch\/deployment\/report\s/);
  });

  it('plan prune --json: the old untagged worker image would go, what runs stays, nothing deleted', async () => {
    const before = writes().length;
    const r = await plan('prune', '--json');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    const worker = result.plan.repositories.find(
      (rp: { repository: { repositoryName: string } }) => rp.repository.repositoryName === 'shop/worker',
    );
    expect(worker.deleted.map((x: { image: { tags: string[] } }) => x.image.tags)).toEqual([[]]);
    const running = worker.kept.find((k: { image: { tags: string[] } }) => k.image.tags.includes('v1.0.0'));
    expect(running.reasons.map((x: { rule: string }) => x.rule)).toContain('in-use');
    expect(running.reasons.find((x: { rule: string }) => x.rule === 'in-use').detail).toMatch(
      /ECS task shop\//,
    );
    expect(calls.some((l) => /DescribeImages/.test(l))).toBe(true); // the log does see the CLI's calls
    expect(writes().length).toBe(before);
  });

  it('plan capacity: ECS services and EKS nodes with their headroom', async () => {
    const r = await plan('capacity');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^capacity at .*: 0 critical, 0 warning/);
    expect(r.stdout).toMatch(/\napi\s+EC2\s+2\/2\s/);
    expect(r.stdout).toMatch(/EKS shop-eks: 4 node\(s\)/);
    expect(r.stdout).toMatch(/fargate-ip-\S+\s+yes/);
  });

  it('plan prune refuses to plan when a cluster in scope cannot be read, naming it', async () => {
    const config = join(dir, 'harborpilot.yml');
    writeFileSync(config, 'eks:\n  clusters: [shop-eks, gone-eks]\n');
    const r = await plan('prune', '--config', config);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /harborpilot plan prune: in-use set incomplete, nothing deleted: .*EKS cluster gone-eks/,
    );
  });

  it('usage errors exit 2 with the usage', async () => {
    const r = await plan('nothing');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown plan "nothing"/);
    expect((await plan('push')).code).toBe(2);
    expect((await plan('push', 'nginx:latest')).stderr).toMatch(/not an ECR image/);
  });
});
