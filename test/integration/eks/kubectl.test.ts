/**
 * kubectl 1.32 against the local cloud, with the kubeconfig `aws eks update-kubeconfig` writes (exec plugin
 * `aws eks get-token`): get, apply, rollout status, describe; and a push that rollEks rolls, seen by kubectl.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import { cliEnv, clientConfig, commandRuns, digestOf, manifest, REGISTRY } from '../../support/cloud';
import { eksWorld } from './world';

const run = promisify(execFile);
const tools = commandRuns('aws', ['--version']) && commandRuns('kubectl', ['version', '--client']);

let cloud: LocalCloud;
let dir: string;
let env: NodeJS.ProcessEnv;

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run('kubectl', ['--cache-dir', join(dir, 'cache'), ...args], {
    env,
    timeout: 90_000,
  });
  return stdout;
}

beforeAll(async () => {
  // A running clock (20 simulated seconds a second): kubectl and rollEks wait in real time.
  cloud = await createLocalCloud({ port: 0, speed: 20, world: eksWorld });
  dir = mkdtempSync(join(tmpdir(), 'hp-kubectl-'));
  env = { ...cliEnv(cloud), KUBECONFIG: join(dir, 'config') };
});
afterAll(async () => {
  await cloud?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!tools)('kubectl against the local EKS cluster', { timeout: 60_000 }, () => {
  it('works with the kubeconfig `aws eks update-kubeconfig` writes', async () => {
    await run(
      'aws',
      ['eks', 'update-kubeconfig', '--name', 'shop-eks', '--kubeconfig', join(dir, 'config')],
      { env },
    );
    const out = await kubectl('get', 'deployments', '-n', 'shop');
    expect(out).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE/);
    expect(out).toMatch(/\napi\s+2\/2\s+2\s+2\s/);
    expect(await kubectl('get', 'nodes', '-o', 'name')).toMatch(/node\/fargate-ip-/);
  });

  it('works with the kubeconfig the local cloud serves at /_harborpilot/eks/<cluster>/kubeconfig', async () => {
    const res = await fetch(`${cloud.endpoint}/_harborpilot/eks/shop-eks/kubeconfig`);
    expect(res.status).toBe(200);
    const file = join(dir, 'served-config');
    writeFileSync(file, await res.text());
    // No AWS_* variables: the kubeconfig's exec plugin carries the endpoint and credentials itself.
    const bare = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
    const { stdout } = await run(
      'kubectl',
      ['--kubeconfig', file, 'get', 'pods', '-n', 'jobs', '-o', 'wide'],
      {
        env: bare,
        timeout: 60_000,
      },
    );
    expect(stdout).toMatch(/worker-\S+\s+1\/1\s+Running.*fargate-ip-/);
    const missing = await fetch(`${cloud.endpoint}/_harborpilot/eks/nope/kubeconfig`);
    expect(missing.status).toBe(404);
  });

  it('shows a push rolled by rollEks: new digest in the spec and in every pod, rollout complete', async () => {
    const ecr = new ECRClient(clientConfig(cloud));
    await ecr.send(
      new PutImageCommand({
        repositoryName: 'shop/api',
        imageTag: 'latest',
        imageManifest: manifest('kubectl'),
      }),
    );
    const digest = digestOf(manifest('kubectl'));
    const deadline = Date.now() + 60_000;
    let image = '';
    while (Date.now() < deadline) {
      image = await kubectl(
        'get',
        'deployment',
        'api',
        '-n',
        'shop',
        '-o',
        'jsonpath={.spec.template.spec.containers[0].image}',
      );
      if (image.endsWith(digest)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(image).toBe(`${REGISTRY}/shop/api:latest@${digest}`);
    expect(await kubectl('rollout', 'status', 'deployment/api', '-n', 'shop', '--timeout=60s')).toMatch(
      /successfully rolled out/,
    );
    const ids = (
      await kubectl(
        'get',
        'pods',
        '-n',
        'shop',
        '-l',
        'app=api',
        '-o',
        'jsonpath={.items[*].status.containerStatuses[0].imageID}',
      )
    ).split(' ');
    expect(ids).toEqual([`${REGISTRY}/shop/api@${digest}`, `${REGISTRY}/shop/api@${digest}`]);
  });

  it('applies a manifest and describes the rollout', async () => {
    const file = join(dir, 'cart.json');
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'cart', namespace: 'shop', annotations: { 'harborpilot.io/policy': 'minor' } },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'cart' } },
          template: {
            metadata: { labels: { app: 'cart' } },
            spec: { containers: [{ name: 'cart', image: `${REGISTRY}/shop/api:v1.0.0` }] },
          },
        },
      }),
    );
    expect(await kubectl('apply', '-f', file)).toMatch(/deployment.apps\/cart created/);
    expect(await kubectl('rollout', 'status', 'deployment/cart', '-n', 'shop', '--timeout=60s')).toMatch(
      /successfully rolled out/,
    );
    const described = await kubectl('describe', 'deployment', 'cart', '-n', 'shop');
    expect(described).toMatch(/Progressing\s+True\s+NewReplicaSetAvailable/);
    expect(described).toMatch(/harborpilot.io\/policy: minor/);
  });
});
