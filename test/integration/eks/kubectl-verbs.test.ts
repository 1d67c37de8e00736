/**
 * kubectl 1.32, unchanged, against the demo world's EKS cluster: what a platform engineer types on EKS works
 * the same here. create (kubectl's typed clients send protobuf), scale, logs, rollout restart / history /
 * undo, label, annotate, edit and replace (optimistic concurrency); exec answers why it cannot run.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createLocalCloud, type LocalCloud } from '../../../cli/local/cloud';
import { loadWorldFile } from '../../../local/world';
import { commandRuns } from '../../support/cloud';

interface KubeConfig {
  users: {
    name: string;
    user: {
      token?: string;
      exec?: { command: string; args: string[]; env: { name: string; value: string }[] };
    };
  }[];
}

const run = promisify(execFile);
const ROOT = new URL('../../../', import.meta.url).pathname;
const hasKubectl = commandRuns('kubectl', ['version', '--client']);

let cloud: LocalCloud;
let dir: string;

/** kubectl's stdout, or (when it fails) its stderr as the error's message. */
async function kubectl(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('kubectl', ['--cache-dir', join(dir, 'cache'), ...args], {
      env: { ...process.env, KUBECONFIG: join(dir, 'config'), KUBE_EDITOR: join(dir, 'editor.sh') },
      timeout: 90_000,
    });
    return stdout;
  } catch (err) {
    throw new Error(String((err as { stderr?: string }).stderr || (err as Error).message).trim());
  }
}
/** A JSON value without its empty objects and nulls. */
function withoutNothing(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNothing);
  if (!v || typeof v !== 'object') return v;
  const entries = Object.entries(v).map(([k, x]) => [k, withoutNothing(x)] as const);
  return Object.fromEntries(
    entries.filter(
      ([, x]) => x !== null && !(typeof x === 'object' && Object.keys(x as object).length === 0),
    ),
  );
}

/** Asks again (for up to ten seconds) until the answer matches: the controllers act on their next pass. */
async function eventually(ask: () => Promise<string>, expected: RegExp): Promise<string> {
  let answer = '';
  for (let i = 0; i < 40; i++) {
    answer = await ask();
    if (expected.test(answer)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return answer;
}
/** One field of an object, as `kubectl get KIND NAME -n NAMESPACE -o jsonpath=EXPRESSION` prints it. */
const jsonpath = (kind: string, name: string, namespace: string, expression: string) =>
  kubectl('get', kind, name, '-n', namespace, '-o', `jsonpath=${expression}`);
const fails = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('kubectl succeeded where it should fail');
    },
    (err: Error) => err.message,
  );

beforeAll(async () => {
  // A running clock (20 simulated seconds a second): rollouts finish while kubectl waits in real time.
  // No functions: kubectl's verbs are the Kubernetes API's alone, and the schedules would only take CPU.
  cloud = await createLocalCloud({
    port: 0,
    speed: 20,
    startRouter: false,
    world: loadWorldFile(`${ROOT}worlds/demo.yml`),
  });
  dir = mkdtempSync(join(tmpdir(), 'hp-kubectl-verbs-'));
  // The kubeconfig the local cloud serves, its user's token made once by its own exec plugin (`aws eks get-token`,
  // valid 15 minutes) instead of at every kubectl call: the exec flow itself is kubectl.test.ts's, and a python
  // AWS CLI start per call was most of this file's time.
  const served = parse(
    await (await fetch(`${cloud.endpoint}/_harborpilot/eks/shop-eks/kubeconfig`)).text(),
  ) as KubeConfig;
  const user = served.users[0]?.user;
  if (!user?.exec) throw new Error('the served kubeconfig has no exec user');
  const { stdout } = await run(user.exec.command, user.exec.args, {
    env: { ...process.env, ...Object.fromEntries(user.exec.env.map((e) => [e.name, e.value])) },
  });
  const token = (JSON.parse(stdout) as { status: { token: string } }).status.token;
  expect(token).toMatch(/^k8s-aws-v1\./);
  served.users[0] = { name: served.users[0]?.name ?? 'shop-eks', user: { token } };
  writeFileSync(join(dir, 'config'), stringify(served));
  // kubectl edit's editor: a script that changes the team label, as a person would in vi.
  writeFileSync(join(dir, 'editor.sh'), '#!/bin/sh\nsed -i "s/team: web/team: payments/" "$1"\n');
  chmodSync(join(dir, 'editor.sh'), 0o755);
});
afterAll(async () => {
  await cloud?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasKubectl)('kubectl verbs against the demo world', { timeout: 120_000 }, () => {
  it('create namespace, deployment, configmap, secret and job (protobuf bodies), then get them', async () => {
    expect(await kubectl('create', 'namespace', 'demo')).toMatch(/namespace\/demo created/);
    expect(
      await kubectl('create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=2', '-n', 'demo'),
    ).toMatch(/deployment.apps\/web created/);
    expect(
      await kubectl('create', 'configmap', 'settings', '--from-literal=mode=fast', '-n', 'demo'),
    ).toMatch(/configmap\/settings created/);
    expect(
      await kubectl('create', 'secret', 'generic', 'db', '--from-literal=password=s3cret', '-n', 'demo'),
    ).toMatch(/secret\/db created/);
    expect(
      await kubectl('create', 'job', 'once', '--image=busybox', '-n', 'demo', '--', 'echo', 'hi'),
    ).toMatch(/job.batch\/once created/);
    expect(await kubectl('get', 'namespace', 'demo')).toMatch(/demo\s+Active/);
    expect(await kubectl('rollout', 'status', 'deployment/web', '-n', 'demo', '--timeout=60s')).toMatch(
      /successfully rolled out/,
    );
    expect(await jsonpath('deployment', 'web', 'demo', '{.spec.template.spec.containers[0].image}')).toBe(
      'nginx:1.27',
    );
    expect(await jsonpath('configmap', 'settings', 'demo', '{.data.mode}')).toBe('fast');
    const password = await jsonpath('secret', 'db', 'demo', '{.data.password}');
    expect(Buffer.from(password, 'base64').toString()).toBe('s3cret');
    expect(await jsonpath('job', 'once', 'demo', '{.spec.template.spec.containers[0].command}')).toBe(
      '["echo","hi"]',
    );
  });

  it('kubectl create deployment stores what the same Deployment sent as JSON stores (no Go zero values)', async () => {
    // The same Deployment twice: through kubectl's typed client (protobuf) and from the JSON kubectl prints.
    const json = await kubectl(
      'create',
      'deployment',
      'as-json',
      '--image=nginx',
      '--port=80',
      '--dry-run=client',
      '-o',
      'json',
    );
    writeFileSync(join(dir, 'as-json.json'), json);
    await kubectl('create', '-f', join(dir, 'as-json.json'));
    await kubectl('create', 'deployment', 'as-protobuf', '--image=nginx', '--port=80');
    const stored = async (name: string) => {
      const d = JSON.parse(await kubectl('get', 'deployment', name, '-o', 'json'));
      // kubectl's JSON carries Go's empty structs (strategy: {}, creationTimestamp: null): nothing, either way.
      return withoutNothing({ generation: d.metadata.generation, spec: d.spec });
    };
    const viaProtobuf = JSON.stringify(await stored('as-protobuf')).replaceAll('as-protobuf', 'NAME');
    const viaJson = JSON.stringify(await stored('as-json')).replaceAll('as-json', 'NAME');
    expect(JSON.parse(viaProtobuf)).toEqual(JSON.parse(viaJson));
    expect(viaProtobuf).not.toMatch(/"stdin"|"tty"|"hostPort"|"paused"|"hostNetwork"/);
  });

  it('scale: the scale subresource changes the replicas, and the pods follow', async () => {
    expect(await kubectl('scale', 'deployment/api', '--replicas=3', '-n', 'shop')).toMatch(/scaled/);
    expect(await kubectl('rollout', 'status', 'deployment/api', '-n', 'shop', '--timeout=60s')).toMatch(
      /successfully rolled out/,
    );
    expect(await jsonpath('deployment', 'api', 'shop', '{.status.readyReplicas}')).toBe('3');
    expect(await kubectl('get', 'pods', '-n', 'shop', '-l', 'app=api', '-o', 'name')).toMatch(
      /(pod\/api-.*\n){3}/,
    );
  });

  it('logs: what the container runs, and why a container that cannot pull does not start', async () => {
    const log = await kubectl('logs', 'deployment/api', '-n', 'shop');
    expect(log).toMatch(
      /container api started: 000000000000\.dkr\.ecr\.us-east-1\.amazonaws\.com\/shop\/api:latest/,
    );
    expect(log).toMatch(/@sha256:[0-9a-f]{64}/);
    expect(
      (await kubectl('logs', 'deployment/api', '-n', 'shop', '--tail=1')).trim().split('\n'),
    ).toHaveLength(1);
    await kubectl(
      'create',
      'deployment',
      'broken',
      '--image=000000000000.dkr.ecr.us-east-1.amazonaws.com/shop/api:nope',
      '-n',
      'shop',
    );
    let message = '';
    // The kubelet's words: "image can't be pulled" after a failed pull, "trying and failing…" in the back-off.
    const pullFailed = /is waiting to start: (image can't be pulled|trying and failing to pull image)/;
    for (let i = 0; i < 40 && !pullFailed.test(message); i++) {
      message = await fails(kubectl('logs', 'deployment/broken', '-n', 'shop'));
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(message).toMatch(/container "api" in pod "broken-[a-z0-9-]+" is waiting to start: /);
    expect(message).toMatch(pullFailed);
    expect(message).toMatch(/not found/);
  });

  it('rollout restart, history and undo', async () => {
    const replicaSets = () => kubectl('get', 'replicasets', '-n', 'demo', '-l', 'app=web', '-o', 'name');
    const image = () => jsonpath('deployment', 'web', 'demo', '{.spec.template.spec.containers[0].image}');
    await kubectl('annotate', 'deployment/web', 'harborpilot.io/policy=minor', '-n', 'demo');
    expect(await kubectl('set', 'image', 'deployment/web', 'nginx=nginx:1.28', '-n', 'demo')).toMatch(
      /image updated/,
    );
    await kubectl('rollout', 'status', 'deployment/web', '-n', 'demo', '--timeout=60s');
    // The change cause recorded after the rollout, as the Kubernetes docs show it, is the new revision's.
    await kubectl('annotate', 'deployment/web', 'kubernetes.io/change-cause=nginx 1.28', '-n', 'demo');
    expect(
      await eventually(
        () => kubectl('rollout', 'history', 'deployment/web', '-n', 'demo'),
        /\n2\s+nginx 1\.28\n/,
      ),
    ).toMatch(/\n1\s+<none>\n2\s+nginx 1\.28\n/);
    expect(await kubectl('rollout', 'restart', 'deployment/web', '-n', 'demo')).toMatch(/restarted/);
    await kubectl('rollout', 'status', 'deployment/web', '-n', 'demo', '--timeout=60s');
    expect(
      await jsonpath(
        'deployment',
        'web',
        'demo',
        "{.spec.template.metadata.annotations['kubectl\\.kubernetes\\.io/restartedAt']}",
      ),
    ).toMatch(/^\d{4}-\d\d-\d\dT/);
    const history = await kubectl('rollout', 'history', 'deployment/web', '-n', 'demo');
    expect(history).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s.*\n2\s.*\n3\s/);
    expect(await kubectl('rollout', 'history', 'deployment/web', '-n', 'demo', '--revision=2')).toMatch(
      /nginx:1\.28/,
    );
    const before = await replicaSets();
    expect(before.trim().split('\n')).toHaveLength(3);
    expect(await kubectl('rollout', 'undo', 'deployment/web', '-n', 'demo', '--to-revision=1')).toMatch(
      /rolled back/,
    );
    await kubectl('rollout', 'status', 'deployment/web', '-n', 'demo', '--timeout=60s');
    expect(await image()).toBe('nginx:1.27');
    // Revision 1's ReplicaSet scaled back up and became revision 4: no new ReplicaSet, and 1 is no longer listed.
    expect(await replicaSets()).toBe(before);
    expect(await kubectl('rollout', 'history', 'deployment/web', '-n', 'demo')).toMatch(
      /REVISION\s+CHANGE-CAUSE\n2\s+nginx 1\.28\n3\s+nginx 1\.28\n4\s+<none>\n/,
    );
    // The undo gave the Deployment the annotations of revision 1's ReplicaSet: its update policy is still there.
    expect(
      await jsonpath('deployment', 'web', 'demo', "{.metadata.annotations['harborpilot\\.io/policy']}"),
    ).toBe('minor');
  });

  it('label and annotate, seen by get -L and jsonpath', async () => {
    expect(await kubectl('label', 'deployment/api', 'team=web', '-n', 'shop')).toMatch(/labeled/);
    expect(await kubectl('annotate', 'deployment/api', 'owner=platform', '-n', 'shop')).toMatch(/annotated/);
    expect(await kubectl('label', 'namespace', 'shop', 'env=demo')).toMatch(/labeled/);
    expect(await kubectl('get', 'deployment', 'api', '-n', 'shop', '-L', 'team')).toMatch(/TEAM\n.*\sweb\n/);
    expect(await jsonpath('deployment', 'api', 'shop', '{.metadata.annotations.owner}')).toBe('platform');
    expect(await kubectl('get', 'namespaces', '-l', 'env=demo', '-o', 'name')).toBe('namespace/shop\n');
  });

  it('edit saves what the editor changed; replace with a stale resourceVersion is a Conflict', async () => {
    expect(await kubectl('edit', 'deployment/api', '-n', 'shop')).toMatch(/edited/);
    expect(await jsonpath('deployment', 'api', 'shop', '{.metadata.labels.team}')).toBe('payments');
    await kubectl('rollout', 'status', 'deployment/api', '-n', 'shop', '--timeout=60s');
    const replicaSets = () => kubectl('get', 'replicasets', '-n', 'shop', '-l', 'app=api', '-o', 'name');
    const before = await replicaSets();
    const file = join(dir, 'api.yaml');
    writeFileSync(file, await kubectl('get', 'deployment', 'api', '-n', 'shop', '-o', 'yaml'));
    // The same template, as kubectl writes it back (creationTimestamp: null): no new rollout.
    expect(await kubectl('replace', '-f', file)).toMatch(/deployment.apps\/api replaced/);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await replicaSets()).toBe(before);
    writeFileSync(file, await kubectl('get', 'deployment', 'api', '-n', 'shop', '-o', 'yaml'));
    await kubectl('annotate', 'deployment/api', 'owner=someone-else', '--overwrite', '-n', 'shop');
    expect(await fails(kubectl('replace', '-f', file))).toMatch(
      /Conflict.*the object has been modified; please apply your changes to the latest version/,
    );
  });

  it('patch: a stale resourceVersion is a Conflict, and status is only written through its subresource', async () => {
    expect(
      await fails(
        kubectl(
          'patch',
          'deployment/api',
          '-n',
          'shop',
          '--type=merge',
          '-p',
          '{"metadata":{"resourceVersion":"1","labels":{"team":"late"}}}',
        ),
      ),
    ).toMatch(/Conflict.*the object has been modified/);
    const pod = (await kubectl('get', 'pods', '-n', 'shop', '-l', 'app=api', '-o', 'name')).split('\n')[0];
    expect(
      await kubectl(
        'patch',
        pod as string,
        '-n',
        'shop',
        '--type=merge',
        '-p',
        '{"status":{"phase":"Failed"}}',
      ),
    ).toMatch(/patched \(no change\)/);
    expect(await kubectl('get', pod as string, '-n', 'shop', '-o', 'jsonpath={.status.phase}')).toBe(
      'Running',
    );
  });

  it('exec says plainly that it cannot run here', async () => {
    expect(await fails(kubectl('exec', 'deployment/api', '-n', 'shop', '--', 'ls'))).toMatch(
      /exec is not supported by the harborpilot local cloud: its containers are simulated/,
    );
  });
});
