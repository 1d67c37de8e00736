/**
 * Kubernetes' protobuf request bodies read as the JSON the same request would carry. The bodies here are
 * built as client-go builds them (the k8s\0 envelope around a runtime.Unknown, Go's habit of writing every
 * non-pointer field, zero values included); kubectl itself sends them in test/integration/eks/kubectl-verbs.
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeKubeProtobuf } from '../../../eks/kube/protobuf';
import { KubeStatusError } from '../../../eks/kube/store';

const PROTO = fileURLToPath(new URL('../../../eks/kube/proto/', import.meta.url));
let root: protobuf.Root;
beforeAll(async () => {
  root = new protobuf.Root();
  root.resolvePath = (_o, target) => `${PROTO}${target}`;
  await root.load(['k8s.io/api/apps/v1/generated.proto', 'k8s.io/apimachinery/pkg/runtime/generated.proto'], {
    keepCase: true,
  });
});

function envelope(apiVersion: string, kind: string, type: string, object: Record<string, unknown>): Buffer {
  const t = root.lookupType(type);
  const raw = t.encode(t.fromObject(object)).finish();
  const unknown = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
  const body = unknown
    .encode(unknown.fromObject({ typeMeta: { apiVersion, kind }, raw, contentType: '' }))
    .finish();
  return Buffer.concat([Buffer.from('k8s\0', 'binary'), body]);
}

describe('protobuf request bodies', () => {
  it('a Secret: bytes as base64, empty strings and the zero time left out, apiVersion and kind from the envelope', async () => {
    const body = envelope('v1', 'Secret', 'k8s.io.api.core.v1.Secret', {
      metadata: { name: 'db', namespace: '', generateName: '', creationTimestamp: { seconds: 0, nanos: 0 } },
      data: { password: Buffer.from('s3cret') },
      type: 'Opaque',
    });
    expect(await decodeKubeProtobuf(body)).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db' },
      data: { password: Buffer.from('s3cret').toString('base64') },
      type: 'Opaque',
    });
  });

  it('a Deployment: int-or-string, quantities and map values read as kubectl wrote them', async () => {
    const body = envelope('apps/v1', 'Deployment', 'k8s.io.api.apps.v1.Deployment', {
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'web' } },
        strategy: {
          type: 'RollingUpdate',
          rollingUpdate: { maxSurge: { type: 1, strVal: '25%' }, maxUnavailable: { type: 0, intVal: 1 } },
        },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'nginx',
                image: 'nginx:1.27',
                resources: { requests: { cpu: { string: '250m' }, memory: { string: '64Mi' } } },
              },
            ],
          },
        },
      },
    });
    const d = (await decodeKubeProtobuf(body)) as { spec: Record<string, unknown> };
    expect(d.spec.replicas).toBe(0); // a pointer set to 0 is kept: scaled to zero, not defaulted to one
    expect(d.spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 },
    });
    expect(d.spec.template).toEqual({
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          { name: 'nginx', image: 'nginx:1.27', resources: { requests: { cpu: '250m', memory: '64Mi' } } },
        ],
      },
    });
  });

  it("Go's zero values: left out where Kubernetes' JSON omits them, kept for pointers and required fields", async () => {
    // What kubectl create deployment --port=80 --replicas=0 sends: Go writes every non-pointer field.
    const body = envelope('apps/v1', 'Deployment', 'k8s.io.api.apps.v1.Deployment', {
      metadata: { name: 'web', generation: 0 },
      spec: {
        replicas: 0,
        minReadySeconds: 0,
        paused: false,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' }, generation: 0 },
          spec: {
            containers: [
              {
                name: 'nginx',
                image: 'nginx',
                ports: [{ containerPort: 80, hostPort: 0 }],
                stdin: false,
                stdinOnce: false,
                tty: false,
              },
            ],
            terminationGracePeriodSeconds: 0,
            hostNetwork: false,
            hostPID: false,
            hostIPC: false,
          },
        },
      },
    });
    expect(await decodeKubeProtobuf(body)).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 0, // *int32: scaled to zero
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }] }],
            terminationGracePeriodSeconds: 0, // *int64: stop at once
          },
        },
      },
    });
  });

  it('refuses a body without the envelope, and a kind it has no definition for', async () => {
    await expect(decodeKubeProtobuf(Buffer.from('{"kind":"Secret"}'))).rejects.toThrow(/k8s\\0 envelope/);
    const other = envelope('networking.k8s.io/v1', 'Ingress', 'k8s.io.api.core.v1.Secret', { type: 'x' });
    await expect(decodeKubeProtobuf(other)).rejects.toThrow(KubeStatusError);
    await expect(decodeKubeProtobuf(other)).rejects.toThrow(
      /networking.k8s.io\/v1 Ingress are not served here: send application\/json/,
    );
  });
});
