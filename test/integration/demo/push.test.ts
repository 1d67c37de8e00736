/**
 * The README's first demo, as a user runs it: `npm start`'s demo world at its own clock speed, the AWS CLI
 * pushes the rebuilt shop/api:latest, and one push rolls the ECS service and the EKS Deployments (node group,
 * self-managed and Fargate nodes) that run that tag onto the new digest, and the services of the organisation's two
 * workload accounts (staging in us-east-1, prod in us-west-2), through their roles.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { EKSClient } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import { loadWorldFile } from '../../../local/world';
import { makeEksConnector } from '../../../shared/aws/eks-connect';
import type { KubeClient } from '../../../shared/aws/kube';
import { cliEnv, clientConfig, digestOf, REGISTRY } from '../../support/cloud';

const run = promisify(execFile);
const ROOT = new URL('../../../', import.meta.url).pathname;
const REBUILD = readFileSync(`${ROOT}worlds/manifests/shop-api-rebuild.json`, 'utf8');

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are plain JSON, checked by the assertions
type Json = any;

let cloud: LocalCloud;
let ecs: ECSClient;
let kube: KubeClient;

beforeAll(async () => {
  cloud = await createLocalCloud({ port: 0, world: loadWorldFile(`${ROOT}worlds/demo.yml`) });
  ecs = new ECSClient(clientConfig(cloud));
  kube = await makeEksConnector({ eks: new EKSClient(clientConfig(cloud)) })('shop-eks');
});
afterAll(() => cloud?.stop());

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function ecsDigests(): Promise<string[]> {
  const arns = (await ecs.send(new ListTasksCommand({ cluster: 'shop', serviceName: 'api' }))).taskArns ?? [];
  if (arns.length === 0) return [];
  const tasks = (await ecs.send(new DescribeTasksCommand({ cluster: 'shop', tasks: arns }))).tasks ?? [];
  return tasks.filter((t) => t.lastStatus === 'RUNNING').map((t) => t.containers?.[0]?.imageDigest ?? '');
}

/** The digests the `shop-api` service runs in a workload account, read as that account (its access key). */
async function workloadDigests(accessKey: 'staging' | 'prod', region: string): Promise<string[]> {
  const client = new ECSClient({
    ...clientConfig(cloud),
    region,
    credentials: { accessKeyId: accessKey, secretAccessKey: accessKey },
  });
  const arns =
    (await client.send(new ListTasksCommand({ cluster: 'web', serviceName: 'shop-api' }))).taskArns ?? [];
  if (arns.length === 0) return [];
  const tasks = (await client.send(new DescribeTasksCommand({ cluster: 'web', tasks: arns }))).tasks ?? [];
  return tasks.filter((t) => t.lastStatus === 'RUNNING').map((t) => t.containers?.[0]?.imageDigest ?? '');
}

async function podDigests(namespace: string): Promise<{ node: string; digest: string }[]> {
  const pods = (await kube.list(`/api/v1/namespaces/${namespace}/pods`)) as Json[];
  return pods
    .filter((p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp)
    .map((p) => ({
      node: String(p.spec.nodeName),
      digest: String(p.status.containerStatuses?.[0]?.imageID ?? '').split('@')[1] ?? '',
    }));
}

describe('the demo: one push, ECS and EKS', () => {
  it('rolls the ECS service and the EKS Deployments that run shop/api:latest to the pushed digest', async () => {
    await eventually('demo steady', async () => {
      const [tasks, api, report] = [await ecsDigests(), await podDigests('shop'), await podDigests('batch')];
      return tasks.length === 2 && api.length === 2 && report.length === 1;
    });
    const before = (await ecsDigests())[0];
    const env = cliEnv(cloud);
    const { stdout } = await run(
      'aws',
      [
        'ecr',
        'put-image',
        '--repository-name',
        'shop/api',
        '--image-tag',
        'latest',
        '--image-manifest',
        `file://${ROOT}worlds/manifests/shop-api-rebuild.json`,
        '--output',
        'json',
      ],
      { env },
    );
    const pushed = JSON.parse(stdout).image.imageId.imageDigest;
    expect(pushed).toBe(digestOf(REBUILD));
    expect(pushed).not.toBe(before);

    await eventually('ECS api and EKS api/report on the pushed digest', async () => {
      const [tasks, api, report] = [await ecsDigests(), await podDigests('shop'), await podDigests('batch')];
      return (
        tasks.length === 2 &&
        tasks.every((d) => d === pushed) &&
        api.length === 2 &&
        api.every((p) => p.digest === pushed) &&
        report.length === 1 &&
        report[0]?.digest === pushed
      );
    });
    const deployment: Json = await kube.get('/apis/apps/v1/namespaces/shop/deployments/api');
    expect(deployment.spec.template.spec.containers[0].image).toBe(`${REGISTRY}/shop/api:latest@${pushed}`);
    expect((await podDigests('batch'))[0]?.node).toMatch(/^fargate-ip-/);
    // The DaemonSet runs shop/worker: another repository, not touched by this push.
    const agent: Json = await kube.get('/apis/apps/v1/namespaces/kube-system/daemonsets/agent');
    expect(agent.spec.template.spec.containers[0].image).toBe(`${REGISTRY}/shop/worker:v1.0.0`);
    // The organisation: staging (us-east-1) and prod (us-west-2) moved too, by the same push.
    await eventually('the workload accounts on the pushed digest', async () => {
      const [staging, prod] = [
        await workloadDigests('staging', 'us-east-1'),
        await workloadDigests('prod', 'us-west-2'),
      ];
      return (
        staging.length === 1 &&
        staging.every((d) => d === pushed) &&
        prod.length === 2 &&
        prod.every((d) => d === pushed)
      );
    });
    await eventually('both functions finished', async () =>
      ['redeployEcs', 'rollEks'].every((f) =>
        cloud.router.invocations().some((i) => i.functionName === f && i.status === 'succeeded'),
      ),
    );
    expect(cloud.router.invocations().filter((i) => i.status === 'failed')).toEqual([]);
  });
});
