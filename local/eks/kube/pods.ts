/**
 * What happens to a pod after it is created, as EKS does it: Fargate admission (a pod matching a Fargate
 * profile gets the fargate-scheduler and a micro-VM node of its own), scheduling by CPU/memory requests
 * (Pending + Unschedulable when nothing fits), and the kubelet: image pull through the local ECR (digest into
 * status.containerStatuses[].imageID, or ErrImagePull → ImagePullBackOff), start, Ready.
 */

import type { SimClock } from '../../clock';
import { imageIdOf } from '../../image-reference';
import { nodeObject, randomNodeName } from './nodes';
import { quantityValue as parseQuantity } from './quantity';
import type { KubeObject, KubeStore } from './store';

export interface FargateSelector {
  profile: string;
  namespace: string;
  labels?: Record<string, string>;
}

export interface PodRuntime {
  store: KubeStore;
  clock: SimClock;
  /** The local ECR's answer for an image: its digest now, or why the pull fails. */
  resolve(image: string): { digest: string } | { error: string };
  fargateSelectors(): FargateSelector[];
  kubeletVersion: string;
  zone: string;
  /** Writes a core/v1 Event about an object. */
  event(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

const PULL_MS = 1500;
const BACKOFF_MS = 10_000;

type Container = { name: string; image?: string; resources?: { requests?: Record<string, string | number> } };
const containersOf = (pod: KubeObject) => (pod.spec?.containers as Container[] | undefined) ?? [];
const initContainersOf = (pod: KubeObject) => (pod.spec?.initContainers as Container[] | undefined) ?? [];

export function podRequests(pod: KubeObject): { cpu: number; memory: number } {
  const sum = { cpu: 0, memory: 0 };
  for (const c of containersOf(pod)) {
    sum.cpu += parseQuantity(c.resources?.requests?.cpu) || 0;
    sum.memory += parseQuantity(c.resources?.requests?.memory) || 0;
  }
  for (const c of initContainersOf(pod)) {
    sum.cpu = Math.max(sum.cpu, parseQuantity(c.resources?.requests?.cpu) || 0);
    sum.memory = Math.max(sum.memory, parseQuantity(c.resources?.requests?.memory) || 0);
  }
  return sum;
}

const isTerminal = (pod: KubeObject) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
export const isPodReady = (pod: KubeObject) =>
  ((pod.status?.conditions as { type: string; status: string }[] | undefined) ?? []).some(
    (c) => c.type === 'Ready' && c.status === 'True',
  );

/** The EKS Fargate webhook: a pod matching a profile's selectors runs on Fargate. */
export function admitPod(pod: KubeObject, selectors: FargateSelector[]): KubeObject {
  const labels = pod.metadata.labels ?? {};
  const match = selectors.find(
    (s) =>
      s.namespace === (pod.metadata.namespace ?? 'default') &&
      Object.entries(s.labels ?? {}).every(([k, v]) => labels[k] === v),
  );
  const spec = { ...(pod.spec ?? {}) };
  spec.restartPolicy ??= 'Always';
  spec.schedulerName ??= 'default-scheduler';
  if (match) spec.schedulerName = 'fargate-scheduler';
  return {
    ...pod,
    metadata: {
      ...pod.metadata,
      ...(match ? { labels: { ...labels, 'eks.amazonaws.com/fargate-profile': match.profile } } : {}),
    },
    spec,
    status: { phase: 'Pending', qosClass: 'BestEffort', ...(pod.status ?? {}) },
  };
}

export class PodLifecycle {
  /** Pods whose kubelet work is under way (uid), so one pod gets one pull at a time. */
  private readonly starting = new Set<string>();

  constructor(private readonly rt: PodRuntime) {}

  /** One scheduling pass over the pods without a node. */
  schedulePending(): boolean {
    const { store } = this.rt;
    let unschedulable = false;
    const nodes = store.list('nodes');
    for (const pod of store.list('pods')) {
      if (pod.spec?.nodeName || isTerminal(pod)) continue;
      if (pod.spec?.schedulerName === 'fargate-scheduler') {
        this.bindFargate(pod);
        continue;
      }
      const need = podRequests(pod);
      const selector = (pod.spec?.nodeSelector as Record<string, string> | undefined) ?? {};
      const reasons = new Map<string, number>();
      const note = (r: string) => reasons.set(r, (reasons.get(r) ?? 0) + 1);
      let best: { node: KubeObject; freeCpu: number } | undefined;
      for (const node of nodes) {
        const labels = node.metadata.labels ?? {};
        if (labels['eks.amazonaws.com/compute-type'] === 'fargate') {
          note('node(s) had untolerated taint {eks.amazonaws.com/compute-type: fargate}');
          continue;
        }
        if (node.spec?.unschedulable) {
          note('node(s) were unschedulable');
          continue;
        }
        if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) {
          note("node(s) didn't match Pod's node affinity/selector");
          continue;
        }
        const alloc = (node.status?.allocatable ?? {}) as Record<string, string>;
        const onNode = store
          .list('pods')
          .filter((p) => p.spec?.nodeName === node.metadata.name && !isTerminal(p));
        const used = onNode
          .map(podRequests)
          .reduce((a, b) => ({ cpu: a.cpu + b.cpu, memory: a.memory + b.memory }), { cpu: 0, memory: 0 });
        const freeCpu = parseQuantity(alloc.cpu) - used.cpu;
        const freeMem = parseQuantity(alloc.memory) - used.memory;
        if (onNode.length >= parseQuantity(alloc.pods)) {
          note('Too many pods');
          continue;
        }
        if (need.cpu > freeCpu + 1e-9) {
          note('Insufficient cpu');
          if (need.memory > freeMem) note('Insufficient memory');
          continue;
        }
        if (need.memory > freeMem) {
          note('Insufficient memory');
          continue;
        }
        if (!best || freeCpu > best.freeCpu) best = { node, freeCpu };
      }
      if (best) {
        this.bind(pod, best.node.metadata.name);
        continue;
      }
      unschedulable = true;
      const detail = [...reasons]
        .map(([r, n]) => `${n} ${r}`)
        .sort()
        .join(', ');
      const message = `0/${nodes.length} nodes are available: ${detail || 'no nodes available to schedule pods'}.`;
      this.setCondition(
        pod,
        { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message },
        () => this.rt.event(pod, 'Warning', 'FailedScheduling', message),
      );
    }
    return unschedulable;
  }

  private setCondition(
    pod: KubeObject,
    cond: { type: string; status: string; reason?: string; message?: string },
    onChange?: () => void,
  ): void {
    const conditions = ((pod.status?.conditions as (typeof cond)[] | undefined) ?? []).filter(
      (c) => c.type !== cond.type,
    );
    const old = ((pod.status?.conditions as (typeof cond)[] | undefined) ?? []).find(
      (c) => c.type === cond.type,
    );
    if (old && old.status === cond.status && old.reason === cond.reason && old.message === cond.message)
      return;
    this.rt.store.update(
      'pods',
      {
        ...pod,
        status: {
          ...pod.status,
          phase: 'Pending',
          conditions: [
            ...conditions,
            { ...cond, lastProbeTime: null, lastTransitionTime: this.rt.store.timestamp() },
          ],
        },
      },
      { subresource: 'status' },
    );
    onChange?.();
  }

  private bind(pod: KubeObject, nodeName: string): void {
    const { store } = this.rt;
    const bound = store.update('pods', { ...pod, spec: { ...pod.spec, nodeName } });
    const node = store.find('nodes', undefined, nodeName);
    const hostIP = ((node?.status?.addresses as { type: string; address: string }[] | undefined) ?? []).find(
      (a) => a.type === 'InternalIP',
    )?.address;
    store.update(
      'pods',
      {
        ...bound,
        status: {
          ...bound.status,
          phase: 'Pending',
          ...(hostIP ? { hostIP } : {}),
          conditions: [
            {
              type: 'PodScheduled',
              status: 'True',
              lastProbeTime: null,
              lastTransitionTime: store.timestamp(),
            },
          ],
        },
      },
      { subresource: 'status' },
    );
    this.rt.event(
      pod,
      'Normal',
      'Scheduled',
      `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${nodeName}`,
    );
    this.startKubelet(bound);
  }

  /** One micro-VM per pod, sized to its requests, named fargate-ip-…; it goes when the pod goes. */
  private bindFargate(pod: KubeObject): void {
    const name = randomNodeName('fargate-ip');
    const req = podRequests(pod);
    const vcpu = req.cpu <= 0.25 ? 0.25 : req.cpu <= 0.5 ? 0.5 : req.cpu <= 1 ? 1 : req.cpu <= 2 ? 2 : 4;
    const node = nodeObject(
      {
        name,
        instanceType: 'fargate',
        zone: this.rt.zone,
        cpu: `${Math.round(vcpu * 1000)}m`,
        memory: `${Math.max(512, Math.ceil((req.memory || 0) / 2 ** 20) + 256)}Mi`,
        pods: 1,
        labels: {
          'eks.amazonaws.com/compute-type': 'fargate',
          'eks.amazonaws.com/fargate-profile':
            pod.metadata.labels?.['eks.amazonaws.com/fargate-profile'] ?? '',
        },
      },
      this.rt.kubeletVersion,
    );
    this.rt.store.create('nodes', node);
    this.bind(pod, name);
  }

  /** Removes a pod (and its Fargate node), as a graceful deletion ends. */
  deletePod(pod: KubeObject): void {
    const { store } = this.rt;
    if (!store.find('pods', pod.metadata.namespace, pod.metadata.name)) return;
    store.delete('pods', pod.metadata.namespace, pod.metadata.name);
    this.rt.event(pod, 'Normal', 'Killing', `Stopping container ${containersOf(pod)[0]?.name ?? ''}`.trim());
    const nodeName = pod.spec?.nodeName as string | undefined;
    if (nodeName?.startsWith('fargate-') && store.find('nodes', undefined, nodeName)) {
      store.delete('nodes', undefined, nodeName);
    }
  }

  private startKubelet(pod: KubeObject, delay = PULL_MS): void {
    const uid = pod.metadata.uid as string;
    if (this.starting.has(uid)) return;
    this.starting.add(uid);
    this.rt.clock.setTimer(delay, () => {
      this.starting.delete(uid);
      const current = this.rt.store.find('pods', pod.metadata.namespace, pod.metadata.name);
      if (current?.metadata.uid === uid) this.pullAndStart(current);
    });
  }

  private pullAndStart(pod: KubeObject): void {
    const { store } = this.rt;
    const all = [
      ...initContainersOf(pod).map((c) => ({ c, init: true })),
      ...containersOf(pod).map((c) => ({ c, init: false })),
    ];
    const pulled: { name: string; image: string; imageID: string; init: boolean }[] = [];
    for (const { c, init } of all) {
      const image = c.image ?? '';
      this.rt.event(pod, 'Normal', 'Pulling', `Pulling image "${image}"`);
      const r = this.rt.resolve(image);
      if ('error' in r) {
        this.rt.event(pod, 'Warning', 'Failed', `Failed to pull image "${image}": ${r.error}`);
        this.rt.event(pod, 'Warning', 'Failed', 'Error: ErrImagePull');
        this.waiting(pod, c.name, init, 'ErrImagePull', r.error);
        this.rt.clock.setTimer(BACKOFF_MS / 2, () => {
          const cur = store.find('pods', pod.metadata.namespace, pod.metadata.name);
          if (!cur || cur.metadata.uid !== pod.metadata.uid) return;
          // As the kubelet words it since 1.29: the back-off, then the pull error behind it.
          this.waiting(
            cur,
            c.name,
            init,
            'ImagePullBackOff',
            `Back-off pulling image "${image}": ErrImagePull: ${r.error}`,
          );
          this.rt.event(cur, 'Normal', 'BackOff', `Back-off pulling image "${image}"`);
          this.startKubelet(cur, BACKOFF_MS);
        });
        return;
      }
      pulled.push({ name: c.name, image, imageID: imageIdOf(image, r.digest), init });
      this.rt.event(pod, 'Normal', 'Pulled', `Successfully pulled image "${image}"`);
    }
    const now = store.timestamp();
    const running = pulled.filter((p) => !p.init);
    for (const p of running) {
      this.rt.event(pod, 'Normal', 'Created', `Created container ${p.name}`);
      this.rt.event(pod, 'Normal', 'Started', `Started container ${p.name}`);
    }
    const cond = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: now });
    store.update(
      'pods',
      {
        ...pod,
        status: {
          ...pod.status,
          phase: 'Running',
          startTime: now,
          podIP: `192.168.${Math.floor(Math.random() * 254)}.${1 + Math.floor(Math.random() * 253)}`,
          conditions: [
            'PodReadyToStartContainers',
            'Initialized',
            'Ready',
            'ContainersReady',
            'PodScheduled',
          ].map(cond),
          ...(pulled.some((p) => p.init)
            ? {
                initContainerStatuses: pulled
                  .filter((p) => p.init)
                  .map((p) => ({
                    name: p.name,
                    image: p.image,
                    imageID: p.imageID,
                    ready: true,
                    restartCount: 0,
                    started: false,
                    state: {
                      terminated: { exitCode: 0, reason: 'Completed', startedAt: now, finishedAt: now },
                    },
                  })),
              }
            : {}),
          containerStatuses: running.map((p) => ({
            name: p.name,
            image: p.image,
            imageID: p.imageID,
            ready: true,
            started: true,
            restartCount: 0,
            containerID: `containerd://${p.imageID.slice(-64)}`,
            state: { running: { startedAt: now } },
          })),
        },
      },
      { subresource: 'status' },
    );
  }

  private waiting(pod: KubeObject, name: string, init: boolean, reason: string, message: string): void {
    const statuses = (c: Container[]) =>
      c.map((x) => ({
        name: x.name,
        image: x.image ?? '',
        imageID: '',
        ready: false,
        started: false,
        restartCount: 0,
        state:
          x.name === name ? { waiting: { reason, message } } : { waiting: { reason: 'PodInitializing' } },
      }));
    this.rt.store.update(
      'pods',
      {
        ...pod,
        status: {
          ...pod.status,
          phase: 'Pending',
          conditions: [
            {
              type: 'PodScheduled',
              status: 'True',
              lastProbeTime: null,
              lastTransitionTime: this.rt.store.timestamp(),
            },
            {
              type: 'Ready',
              status: 'False',
              reason: 'ContainersNotReady',
              message: `containers with unready status: [${name}]`,
              lastProbeTime: null,
              lastTransitionTime: this.rt.store.timestamp(),
            },
          ],
          ...(init ? { initContainerStatuses: statuses(initContainersOf(pod)) } : {}),
          containerStatuses: statuses(containersOf(pod)),
        },
      },
      { subresource: 'status' },
    );
  }
}
