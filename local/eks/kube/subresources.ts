/**
 * The subresources kubectl uses beyond status: `scale` (kubectl scale, autoscaling/v1 Scale), `log` (kubectl
 * logs: the simulated output of a container, and why it is not running), and `exec`/`attach`/`portforward`,
 * which a simulated container cannot serve: those answer a clear Status instead of a protocol upgrade.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch';
import { type KubeObject, KubeStatusError, type KubeStore, type ResourceDef } from './store';

export const SUBRESOURCES = ['status', 'scale', 'log', 'exec', 'attach', 'portforward'] as const;
export type Subresource = (typeof SUBRESOURCES)[number];

/** Which subresources each resource serves, as discovery lists them. */
export function subresourcesOf(def: ResourceDef): Subresource[] {
  if (def.plural === 'pods') return ['status', 'log', 'exec', 'attach', 'portforward'];
  if (['deployments', 'replicasets', 'statefulsets'].includes(def.plural)) return ['status', 'scale'];
  return def.generation ? ['status'] : [];
}

type Spec = { replicas?: number; selector?: { matchLabels?: Record<string, string> } };

/** The Scale of a workload: spec.replicas, and status.replicas with the selector as a string. */
export function scaleOf(obj: KubeObject): KubeObject {
  const spec = (obj.spec ?? {}) as Spec;
  const labels = spec.selector?.matchLabels ?? {};
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: obj.metadata.name,
      ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
      uid: obj.metadata.uid as string,
      resourceVersion: obj.metadata.resourceVersion as string,
      creationTimestamp: obj.metadata.creationTimestamp as string,
    },
    spec: { replicas: spec.replicas ?? 1 },
    status: {
      replicas: Number((obj.status as { replicas?: number } | undefined)?.replicas ?? 0),
      selector: Object.entries(labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    },
  };
}

/**
 * PUT or PATCH of a Scale: the workload's spec.replicas changes (a PUT's resourceVersion is checked against
 * the workload's, as the API server does), and the new Scale is the answer.
 */
export function updateScale(
  store: KubeStore,
  def: ResourceDef,
  current: KubeObject,
  method: 'PUT' | 'PATCH',
  body: unknown,
  contentType: string,
): KubeObject {
  let scale = scaleOf(current);
  if (method === 'PUT') scale = body as KubeObject;
  else if (contentType === 'application/json-patch+json')
    scale = jsonPatch(scale as never, body) as KubeObject;
  else if (contentType === 'application/strategic-merge-patch+json')
    scale = strategicMergePatch(scale as never, body as never) as KubeObject;
  else scale = mergePatch(scale as never, body as never) as KubeObject;
  const replicas = (scale.spec as { replicas?: unknown } | undefined)?.replicas;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw new KubeStatusError(
      422,
      'Invalid',
      `Scale.autoscaling "${current.metadata.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
    );
  }
  const expectedVersion = method === 'PUT' ? scale.metadata?.resourceVersion : undefined;
  const updated = store.update(
    def.plural,
    { ...current, spec: { ...(current.spec as object), replicas } },
    expectedVersion ? { expectedVersion } : {},
  );
  return scaleOf(updated);
}

type ContainerState = {
  running?: { startedAt?: string };
  waiting?: { reason?: string; message?: string };
  terminated?: {
    exitCode?: number;
    reason?: string;
    message?: string;
    startedAt?: string;
    finishedAt?: string;
  };
};
type ContainerStatus = {
  name: string;
  image?: string;
  imageID?: string;
  state?: ContainerState;
  lastState?: ContainerState;
};

/**
 * What `kubectl logs` shows for a simulated container: the lines its runtime would have logged (what it runs,
 * since when, and how it ended), or the API server's own error when the container has not started (the pull
 * failure's reason included).
 */
export function containerLog(pod: KubeObject, query: URLSearchParams): string {
  const podName = pod.metadata.name;
  const spec = (pod.spec ?? {}) as { containers?: { name: string }[]; initContainers?: { name: string }[] };
  const names = [...(spec.initContainers ?? []), ...(spec.containers ?? [])].map((c) => c.name);
  const main = (spec.containers ?? []).map((c) => c.name);
  const wanted =
    query.get('container') ??
    (main.length === 1
      ? main[0]
      : (pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'] ?? undefined));
  if (!wanted) {
    throw new KubeStatusError(
      400,
      'BadRequest',
      `a container name must be specified for pod ${podName}, choose one of: [${main.join(' ')}]`,
    );
  }
  if (!names.includes(wanted)) {
    throw new KubeStatusError(400, 'BadRequest', `container ${wanted} is not valid for pod ${podName}`);
  }
  const status = (pod.status ?? {}) as {
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
  const cs = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])].find(
    (c) => c.name === wanted,
  );
  const previous = query.get('previous') === 'true';
  const state = previous ? cs?.lastState : cs?.state;
  if (previous && !state?.terminated) {
    throw new KubeStatusError(
      400,
      'BadRequest',
      `previous terminated container "${wanted}" in pod "${podName}" not found`,
    );
  }
  if (!cs || !state || state.waiting) {
    // The API server's own words for a container that has not started; the reason follows, as in events.
    const waiting = state?.waiting;
    const unscheduled = status.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    // The kubelet's words for the two pull states: the first failed pull, then the back-off that follows it.
    const pull =
      waiting?.reason === 'ErrImagePull'
        ? "image can't be pulled"
        : waiting?.reason === 'ImagePullBackOff'
          ? 'trying and failing to pull image'
          : undefined;
    const why =
      pull !== undefined
        ? `${pull}${waiting?.message ? ` (${waiting.message})` : ''}`
        : unscheduled
          ? `the pod is not scheduled (${unscheduled.reason}: ${unscheduled.message ?? ''})`
          : (waiting?.reason ?? 'ContainerCreating');
    throw new KubeStatusError(
      400,
      'BadRequest',
      `container "${wanted}" in pod "${podName}" is waiting to start: ${why}`,
    );
  }
  const started = state.running?.startedAt ?? state.terminated?.startedAt ?? '';
  const lines = [
    `${started} [harborpilot local cloud] container ${wanted} started: ${cs.image ?? ''} (${cs.imageID ?? ''})`,
    `${started} [harborpilot local cloud] simulated container: it runs no process and writes no output of its own`,
  ];
  const t = state.terminated;
  if (t) {
    lines.push(
      `${t.finishedAt ?? ''} [harborpilot local cloud] container ${wanted} exited with code ${t.exitCode ?? 0} (${t.reason ?? 'Completed'})${t.message ? `: ${t.message}` : ''}`,
    );
  }
  const tail = Number(query.get('tailLines') ?? Number.NaN);
  const shown = Number.isInteger(tail) && tail >= 0 ? lines.slice(Math.max(0, lines.length - tail)) : lines;
  // Every line starts with its time, so `timestamps=true` has nothing to add.
  return shown.length > 0 ? `${shown.join('\n')}\n` : '';
}

export const NOT_SERVED_MESSAGE = (sub: string) =>
  `${sub} is not supported by the harborpilot local cloud: its containers are simulated and run no process ` +
  '(kubectl logs shows what each one runs and why it stopped)';

/**
 * kubectl exec, attach and port-forward ask to upgrade the connection (WebSocket, then SPDY). Answered with a
 * Status, not an upgrade, so kubectl prints the reason instead of hanging or reporting a protocol error.
 */
export function refuseUpgrade(req: IncomingMessage, socket: Duplex): void {
  const sub = /\/(exec|attach|portforward)(?:\?|$)/.exec(req.url ?? '')?.[1] ?? 'this request';
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: NOT_SERVED_MESSAGE(sub),
    reason: 'BadRequest',
    code: 400,
  });
  socket.end(
    `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
