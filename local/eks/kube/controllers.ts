/**
 * The workload controllers of kube-controller-manager, simulated on the cloud's clock: a Deployment's changed
 * pod template makes a new ReplicaSet and pods roll within maxSurge/maxUnavailable; ReplicaSets keep their pod
 * count; StatefulSets replace pods from the highest ordinal down; DaemonSets keep one pod per node. Statuses
 * (observedGeneration, updated/ready/available replicas, Progressing with ProgressDeadlineExceeded) follow.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SimClock } from '../../clock';
import { isPodReady, type PodLifecycle } from './pods';
import type { KubeObject, KubeStore } from './store';

type Cond = {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
};

/** The parts of Deployment, StatefulSet and DaemonSet specs the controllers read. */
interface WorkloadSpec {
  replicas?: number;
  /** A pod template: metadata and spec of the pods to make. */
  template?: {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec?: Record<string, unknown> & { nodeSelector?: Record<string, string> };
  };
  selector?: { matchLabels?: Record<string, string> };
  strategy?: { type?: string; rollingUpdate?: { maxSurge?: unknown; maxUnavailable?: unknown } };
  updateStrategy?: { type?: string; rollingUpdate?: { partition?: number; maxUnavailable?: unknown } };
  podManagementPolicy?: string;
  progressDeadlineSeconds?: number;
}

/**
 * The fields of a pod template whose Go type is a pointer, where false or 0 says something absence does not
 * (`enableServiceLinks: false`, `runAsUser: 0`, `defaultMode: 0`...). Every other bool, number and string is a
 * plain Go field with omitempty: its zero value and its absence are the same template.
 */
const ZERO_IS_A_VALUE = new Set([
  'terminationGracePeriodSeconds',
  'activeDeadlineSeconds',
  'automountServiceAccountToken',
  'shareProcessNamespace',
  'priority',
  'enableServiceLinks',
  'hostUsers',
  'setHostnameAsFQDN',
  'runAsUser',
  'runAsGroup',
  'runAsNonRoot',
  'fsGroup',
  'privileged',
  'readOnlyRootFilesystem',
  'allowPrivilegeEscalation',
  'defaultMode',
  'mode',
  'optional',
  'expirationSeconds',
]);

/**
 * A pod template as the API server's Go types hold it, so that two spellings of one template compare equal:
 * keys sorted; nulls, empty objects and lists, and the zero values of plain fields left out; and without the
 * controller's own pod-template-hash label (which kubectl removes before an undo). kubectl writes
 * `"creationTimestamp": null` and `"resources": {}` into every template it sends back (`rollout undo`,
 * `replace -f` of `get -o yaml` output), and protobuf bodies carry every plain field (`stdin: false`).
 */
function comparableTemplate(template: unknown): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const c = canonical((v as Record<string, unknown>)[k]);
      if (c === null || c === undefined || (typeof c === 'object' && Object.keys(c).length === 0)) continue;
      if ((c === false || c === 0 || c === '') && !ZERO_IS_A_VALUE.has(k)) continue;
      out[k] = c;
    }
    return out;
  };
  const t = structuredClone((template ?? {}) as NonNullable<WorkloadSpec['template']>);
  delete t.metadata?.labels?.['pod-template-hash'];
  return JSON.stringify(canonical(t));
}

/** The pod-template-hash of a template (or of its comparableTemplate): the same for every spelling of it. */
export const templateHash = (template: unknown, comparable = comparableTemplate(template)) =>
  createHash('sha256').update(comparable).digest('hex').slice(0, 10);

/**
 * The Deployment annotations the deployment controller does not copy onto its ReplicaSets (and kubectl rollout
 * undo does not copy back): the controller's own bookkeeping and kubectl apply's last configuration.
 */
const ANNOTATIONS_NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  'deployment.kubernetes.io/revision',
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

/**
 * The Deployment's annotations on its newest ReplicaSet, as the controller copies them on every sync: a
 * change cause recorded after the rollout (kubectl annotate … kubernetes.io/change-cause=…) shows in
 * `kubectl rollout history`, and `kubectl rollout undo`, which gives the Deployment the annotations of the
 * ReplicaSet it goes back to, keeps the Deployment's own (harborpilot.io/policy among them).
 */
function copiedAnnotations(dep: KubeObject, rs: KubeObject): Record<string, string> | undefined {
  const annotations = { ...(rs.metadata.annotations ?? {}) };
  let changed = false;
  for (const [k, v] of Object.entries(copyableAnnotations(dep))) {
    if (annotations[k] === v) continue;
    annotations[k] = v;
    changed = true;
  }
  return changed ? annotations : undefined;
}

/** The Deployment's annotations a ReplicaSet of it carries (all but ANNOTATIONS_NOT_COPIED). */
function copyableAnnotations(dep: KubeObject): Record<string, string> {
  return Object.fromEntries(
    Object.entries(dep.metadata.annotations ?? {}).filter(([k]) => !ANNOTATIONS_NOT_COPIED.has(k)),
  );
}

const suffix = () => randomBytes(4).toString('hex').slice(0, 5);

/** maxSurge / maxUnavailable: an int or a percentage of replicas. */
function intOrPercent(v: unknown, replicas: number, roundUp: boolean, dflt: string): number {
  const s = v === undefined || v === null ? dflt : String(v);
  if (s.endsWith('%')) {
    const x = (Number(s.slice(0, -1)) / 100) * replicas;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  return Number(s) || 0;
}

const owned = (objs: KubeObject[], owner: KubeObject) =>
  objs.filter((o) => o.metadata.ownerReferences?.some((r) => r.uid === owner.metadata.uid));

const ownerRef = (o: KubeObject) => ({
  apiVersion: o.apiVersion ?? 'apps/v1',
  kind: o.kind ?? '',
  name: o.metadata.name,
  uid: o.metadata.uid as string,
  controller: true,
  blockOwnerDeletion: true,
});

export interface ControllerDeps {
  store: KubeStore;
  clock: SimClock;
  pods: PodLifecycle;
  /** Admission of a new pod (the Fargate profile webhook). */
  admit(pod: KubeObject): KubeObject;
  event(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** Asks for another pass at a given delay (deadlines, retries). */
  requeue(delayMs: number): void;
}

export class WorkloadControllers {
  /** Deployment uid → last progress fingerprint and when it changed (for progressDeadlineSeconds). */
  private readonly progress = new Map<string, { fingerprint: string; sinceMs: number }>();

  constructor(private readonly d: ControllerDeps) {}

  reconcile(): void {
    const { store } = this.d;
    for (const dep of store.list('deployments')) this.deployment(dep);
    for (const rs of store.list('replicasets')) this.replicaSet(rs);
    for (const sts of store.list('statefulsets')) this.statefulSet(sts);
    for (const ds of store.list('daemonsets')) this.daemonSet(ds);
    this.collectOrphans();
  }

  /** Garbage collection: pods and ReplicaSets whose owner is gone go too. */
  private collectOrphans(): void {
    const { store } = this.d;
    const uids = new Set(
      ['deployments', 'replicasets', 'statefulsets', 'daemonsets'].flatMap((p) =>
        store.list(p).map((o) => o.metadata.uid),
      ),
    );
    for (const rs of store.list('replicasets')) {
      const ref = rs.metadata.ownerReferences?.[0];
      if (ref && !uids.has(ref.uid)) store.delete('replicasets', rs.metadata.namespace, rs.metadata.name);
    }
    for (const pod of store.list('pods')) {
      const ref = pod.metadata.ownerReferences?.[0];
      if (ref && !uids.has(ref.uid)) this.d.pods.deletePod(pod);
    }
  }

  private createPod(
    owner: KubeObject,
    name: string,
    template: WorkloadSpec['template'],
    extraLabels: Record<string, string>,
    onNode?: string,
  ): void {
    const t = (template ?? {}) as {
      metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec?: Record<string, unknown>;
    };
    this.d.store.create(
      'pods',
      this.d.admit({
        metadata: {
          name,
          namespace: owner.metadata.namespace as string,
          labels: { ...(t.metadata?.labels ?? {}), ...extraLabels },
          ...(t.metadata?.annotations ? { annotations: t.metadata.annotations } : {}),
          ownerReferences: [ownerRef(owner)],
        },
        // A DaemonSet pod is pinned to its node through node affinity; a nodeSelector on the hostname does the same.
        spec: {
          ...(t.spec ?? {}),
          ...(onNode
            ? {
                nodeSelector: {
                  ...((t.spec?.nodeSelector as object) ?? {}),
                  'kubernetes.io/hostname': onNode,
                },
              }
            : {}),
        },
      }),
    );
  }

  private deployment(current: KubeObject): void {
    let dep = current;
    const { store } = this.d;
    const spec = (dep.spec ?? {}) as WorkloadSpec;
    const ns = dep.metadata.namespace as string;
    const replicas: number = spec.replicas ?? 1;
    // The new ReplicaSet is the one whose template is the Deployment's (the controller compares templates, not
    // names): after `rollout undo` the old ReplicaSet scales back up, no new one is made.
    const wanted = comparableTemplate(spec.template);
    const hash = templateHash(spec.template, wanted);
    const sets = owned(store.list('replicasets', ns), dep);
    const revisionOf = (rs: KubeObject) =>
      Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
    let newRs = sets.find(
      (rs) => comparableTemplate((rs.spec as WorkloadSpec | undefined)?.template) === wanted,
    );
    const old = sets.filter((rs) => rs !== newRs).sort((a, b) => revisionOf(a) - revisionOf(b));
    const specReplicas = (rs: KubeObject) => Number((rs.spec as { replicas?: number }).replicas ?? 0);
    const st = (rs: KubeObject, k: string) =>
      Number((rs.status as Record<string, number> | undefined)?.[k] ?? 0);
    const maxSurge = intOrPercent(spec.strategy?.rollingUpdate?.maxSurge, replicas, true, '25%');
    // What the controller notes on every ReplicaSet it scales: the Deployment's size and its ceiling then.
    const sizes = {
      'deployment.kubernetes.io/desired-replicas': String(replicas),
      'deployment.kubernetes.io/max-replicas': String(replicas + maxSurge),
    };
    const setReplicas = (rs: KubeObject, n: number) => {
      const from = specReplicas(rs);
      if (from === n) return rs;
      this.d.event(
        dep,
        'Normal',
        'ScalingReplicaSet',
        `Scaled ${n > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${n}`,
      );
      return store.update('replicasets', {
        ...rs,
        metadata: { ...rs.metadata, annotations: { ...rs.metadata.annotations, ...sizes } },
        spec: { ...rs.spec, replicas: n },
      });
    };
    if (!newRs) {
      const revision = Math.max(0, ...sets.map(revisionOf)) + 1;
      const template: NonNullable<WorkloadSpec['template']> = structuredClone(spec.template ?? {});
      template.metadata = {
        ...(template.metadata ?? {}),
        labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash },
      };
      const activeOld = old.some((rs) => specReplicas(rs) > 0);
      newRs = store.create('replicasets', {
        metadata: {
          name: `${dep.metadata.name}-${hash}`,
          namespace: ns,
          labels: { ...(spec.template?.metadata?.labels ?? {}), 'pod-template-hash': hash },
          annotations: {
            ...copyableAnnotations(dep),
            'deployment.kubernetes.io/revision': String(revision),
            ...sizes,
          },
          ownerReferences: [ownerRef(dep)],
        },
        spec: {
          replicas: 0,
          selector: {
            ...(spec.selector ?? {}),
            matchLabels: { ...(spec.selector?.matchLabels ?? {}), 'pod-template-hash': hash },
          },
          template,
        },
      });
      if (!activeOld) newRs = setReplicas(newRs, replicas);
    } else if (old.some((rs) => revisionOf(rs) > revisionOf(newRs as KubeObject))) {
      // Back to an older template (rollout undo, or a revert by hand): its ReplicaSet becomes the newest revision,
      // the number it had is kept in revision-history, as the deployment controller does.
      const previous = String(revisionOf(newRs));
      const history = newRs.metadata.annotations?.['deployment.kubernetes.io/revision-history'];
      newRs = store.update('replicasets', {
        ...newRs,
        metadata: {
          ...newRs.metadata,
          annotations: {
            ...newRs.metadata.annotations,
            'deployment.kubernetes.io/revision': String(Math.max(...old.map(revisionOf)) + 1),
            'deployment.kubernetes.io/revision-history': history ? `${history},${previous}` : previous,
          },
        },
      });
    }
    const annotations = copiedAnnotations(dep, newRs);
    if (annotations)
      newRs = store.update('replicasets', { ...newRs, metadata: { ...newRs.metadata, annotations } });
    // The Deployment carries its current revision (kubectl rollout undo and history read it).
    const revision = String(revisionOf(newRs));
    if (dep.metadata.annotations?.['deployment.kubernetes.io/revision'] !== revision) {
      dep = store.update('deployments', {
        ...dep,
        metadata: {
          ...dep.metadata,
          annotations: { ...dep.metadata.annotations, 'deployment.kubernetes.io/revision': revision },
        },
      });
    }
    let maxUnavailable = intOrPercent(spec.strategy?.rollingUpdate?.maxUnavailable, replicas, false, '25%');
    if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
    if (spec.strategy?.type === 'Recreate') {
      for (const rs of old) setReplicas(rs, 0);
      const oldPods = old.reduce((n, rs) => n + st(rs, 'replicas'), 0);
      if (oldPods === 0) newRs = setReplicas(newRs, replicas);
    } else {
      const total = [newRs, ...old].reduce((n, rs) => n + specReplicas(rs), 0);
      const cur = specReplicas(newRs);
      if (cur > replicas) newRs = setReplicas(newRs, replicas);
      else if (cur < replicas && replicas + maxSurge - total > 0) {
        newRs = setReplicas(newRs, Math.min(replicas, cur + (replicas + maxSurge - total)));
      }
      const minAvailable = replicas - maxUnavailable;
      const allPods = [newRs, ...old].reduce((n, rs) => n + st(rs, 'replicas'), 0);
      const newUnavailable = specReplicas(newRs) - st(newRs, 'availableReplicas');
      let budget = allPods - minAvailable - newUnavailable;
      // Old pods that are not available cost no availability: they go first.
      for (const rs of old) {
        if (budget <= 0) break;
        const unhealthy = Math.max(0, specReplicas(rs) - st(rs, 'availableReplicas'));
        const n = Math.min(unhealthy, budget);
        if (n > 0) {
          setReplicas(rs, specReplicas(rs) - n);
          budget -= n;
        }
      }
      const fresh = owned(store.list('replicasets', ns), dep);
      const available = fresh.reduce((n, rs) => n + st(rs, 'availableReplicas'), 0);
      let down = available - minAvailable;
      for (const rs of fresh.filter((r) => r.metadata.uid !== newRs?.metadata.uid)) {
        if (down <= 0) break;
        const n = Math.min(specReplicas(rs), down);
        if (n > 0) {
          setReplicas(rs, specReplicas(rs) - n);
          down -= n;
        }
      }
    }
    this.deploymentStatus(dep, newRs, replicas, maxUnavailable);
  }

  private deploymentStatus(
    dep: KubeObject,
    newRs: KubeObject,
    replicas: number,
    maxUnavailable: number,
  ): void {
    const { store } = this.d;
    const sets = owned(store.list('replicasets', dep.metadata.namespace), dep);
    const sum = (k: string, list = sets) =>
      list.reduce((n, rs) => n + Number((rs.status as Record<string, number> | undefined)?.[k] ?? 0), 0);
    const total = sum('replicas');
    const updated = Number(
      (
        store.find('replicasets', newRs.metadata.namespace, newRs.metadata.name)?.status as
          | { replicas?: number }
          | undefined
      )?.replicas ?? 0,
    );
    const ready = sum('readyReplicas');
    const available = sum('availableReplicas');
    const now = store.timestamp();
    const nowMs = this.d.clock.nowMs();
    const complete = updated === replicas && total === replicas && available === replicas;
    const fingerprint = `${dep.metadata.generation}/${newRs.metadata.name}/${updated}/${ready}/${available}/${total}`;
    const uid = dep.metadata.uid as string;
    let p = this.progress.get(uid);
    const progressed = !p || p.fingerprint !== fingerprint;
    if (progressed) {
      p = { fingerprint, sinceMs: nowMs };
      this.progress.set(uid, p);
    }
    const deadlineMs =
      Number((dep.spec as { progressDeadlineSeconds?: number }).progressDeadlineSeconds ?? 600) * 1000;
    const oldConds = (dep.status?.conditions as Cond[] | undefined) ?? [];
    const cond = (c: Cond, touch: boolean): Cond => {
      const prev = oldConds.find((o) => o.type === c.type);
      const same = prev?.status === c.status;
      return {
        ...c,
        lastUpdateTime: touch || !prev || prev.reason !== c.reason ? now : (prev.lastUpdateTime ?? now),
        lastTransitionTime: same ? (prev?.lastTransitionTime ?? now) : now,
      };
    };
    const prevProgressing = oldConds.find((c) => c.type === 'Progressing');
    let progressing: Cond;
    const rsName = newRs.metadata.name;
    if (complete) {
      progressing = cond(
        {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetAvailable',
          message: `ReplicaSet "${rsName}" has successfully progressed.`,
        },
        prevProgressing?.reason !== 'NewReplicaSetAvailable',
      );
    } else if (!progressed && nowMs - (p as { sinceMs: number }).sinceMs >= deadlineMs) {
      progressing = cond(
        {
          type: 'Progressing',
          status: 'False',
          reason: 'ProgressDeadlineExceeded',
          message: `ReplicaSet "${rsName}" has timed out progressing.`,
        },
        false,
      );
    } else {
      progressing = cond(
        {
          type: 'Progressing',
          status: 'True',
          reason: 'ReplicaSetUpdated',
          message: `ReplicaSet "${rsName}" is progressing.`,
        },
        progressed,
      );
      this.d.requeue(deadlineMs - (nowMs - (p as { sinceMs: number }).sinceMs) + 1);
    }
    const availableCond =
      available >= replicas - maxUnavailable
        ? cond(
            {
              type: 'Available',
              status: 'True',
              reason: 'MinimumReplicasAvailable',
              message: 'Deployment has minimum availability.',
            },
            false,
          )
        : cond(
            {
              type: 'Available',
              status: 'False',
              reason: 'MinimumReplicasUnavailable',
              message: 'Deployment does not have minimum availability.',
            },
            false,
          );
    const status: Record<string, unknown> = {
      observedGeneration: dep.metadata.generation,
      replicas: total,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      ...(replicas - available > 0 ? { unavailableReplicas: replicas - available } : {}),
      conditions: [availableCond, progressing],
    };
    store.update('deployments', { ...dep, status }, { subresource: 'status' });
  }

  private replicaSet(rs: KubeObject): void {
    const { store } = this.d;
    const want = Number((rs.spec as { replicas?: number }).replicas ?? 1);
    const pods = owned(store.list('pods', rs.metadata.namespace), rs);
    const template = (rs.spec as WorkloadSpec).template;
    for (let i = pods.length; i < want; i++) {
      this.createPod(rs, `${rs.metadata.name}-${suffix()}`, template, {});
    }
    if (pods.length > want) {
      // Unscheduled first, then not ready, then the youngest: what the ReplicaSet controller deletes first.
      const rank = (p: KubeObject) => (p.spec?.nodeName ? 0 : 2) + (isPodReady(p) ? 0 : 1);
      const victims = [...pods]
        .sort(
          (a, b) =>
            rank(b) - rank(a) ||
            String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)),
        )
        .slice(0, pods.length - want);
      for (const v of victims) this.d.pods.deletePod(v);
    }
    const now = owned(store.list('pods', rs.metadata.namespace), rs);
    const ready = now.filter(isPodReady).length;
    store.update(
      'replicasets',
      {
        ...rs,
        status: {
          replicas: now.length,
          fullyLabeledReplicas: now.length,
          readyReplicas: ready,
          availableReplicas: ready,
          observedGeneration: rs.metadata.generation,
        },
      },
      { subresource: 'status' },
    );
  }

  private statefulSet(sts: KubeObject): void {
    const { store } = this.d;
    const spec = (sts.spec ?? {}) as WorkloadSpec;
    const want: number = spec.replicas ?? 1;
    const updateRevision = `${sts.metadata.name}-${templateHash(spec.template)}`;
    const prev = (sts.status ?? {}) as { currentRevision?: string };
    let pods = owned(store.list('pods', sts.metadata.namespace), sts);
    const ordinal = (p: KubeObject) => Number(p.metadata.name.slice(sts.metadata.name.length + 1));
    const parallel = spec.podManagementPolicy === 'Parallel';
    for (let i = 0; i < want; i++) {
      if (pods.some((p) => ordinal(p) === i)) continue;
      const lowerReady = pods.filter((p) => ordinal(p) < i).every(isPodReady);
      if (!parallel && !lowerReady) break;
      this.createPod(sts, `${sts.metadata.name}-${i}`, spec.template, {
        'controller-revision-hash': updateRevision,
        'apps.kubernetes.io/pod-index': String(i),
        'statefulset.kubernetes.io/pod-name': `${sts.metadata.name}-${i}`,
      });
      if (!parallel) break;
    }
    for (const p of pods.filter((x) => ordinal(x) >= want).sort((a, b) => ordinal(b) - ordinal(a)))
      this.d.pods.deletePod(p);
    pods = owned(store.list('pods', sts.metadata.namespace), sts);
    const rev = (p: KubeObject) => p.metadata.labels?.['controller-revision-hash'];
    if (spec.updateStrategy?.type !== 'OnDelete' && pods.length === want && pods.every(isPodReady)) {
      const partition = Number(spec.updateStrategy?.rollingUpdate?.partition ?? 0);
      const stale = pods
        .filter((p) => rev(p) !== updateRevision && ordinal(p) >= partition)
        .sort((a, b) => ordinal(b) - ordinal(a))[0];
      if (stale) this.d.pods.deletePod(stale);
    }
    pods = owned(store.list('pods', sts.metadata.namespace), sts);
    const updated = pods.filter((p) => rev(p) === updateRevision).length;
    const ready = pods.filter(isPodReady).length;
    const currentRevision =
      updated === want && ready === want ? updateRevision : (prev.currentRevision ?? updateRevision);
    store.update(
      'statefulsets',
      {
        ...sts,
        status: {
          observedGeneration: sts.metadata.generation,
          replicas: pods.length,
          readyReplicas: ready,
          availableReplicas: ready,
          currentReplicas: pods.filter((p) => rev(p) === currentRevision).length,
          updatedReplicas: updated,
          currentRevision,
          updateRevision,
          collisionCount: 0,
        },
      },
      { subresource: 'status' },
    );
  }

  private daemonSet(ds: KubeObject): void {
    const { store } = this.d;
    const spec = (ds.spec ?? {}) as WorkloadSpec;
    const hash = templateHash(spec.template);
    const selector = (spec.template?.spec?.nodeSelector ?? {}) as Record<string, string>;
    const nodes = store.list('nodes').filter((n) => {
      const l = n.metadata.labels ?? {};
      return (
        l['eks.amazonaws.com/compute-type'] !== 'fargate' &&
        Object.entries(selector).every(([k, v]) => l[k] === v)
      );
    });
    const names = new Set(nodes.map((n) => n.metadata.name));
    let pods = owned(store.list('pods', ds.metadata.namespace), ds);
    const nodeOf = (p: KubeObject) =>
      (p.spec?.nodeSelector as Record<string, string> | undefined)?.['kubernetes.io/hostname'];
    for (const p of pods) if (!names.has(nodeOf(p) as string)) this.d.pods.deletePod(p);
    pods = owned(store.list('pods', ds.metadata.namespace), ds);
    for (const n of nodes) {
      if (pods.some((p) => nodeOf(p) === n.metadata.name)) continue;
      this.createPod(
        ds,
        `${ds.metadata.name}-${suffix()}`,
        spec.template,
        { 'controller-revision-hash': hash },
        n.metadata.name,
      );
    }
    const maxUnavailable =
      intOrPercent(spec.updateStrategy?.rollingUpdate?.maxUnavailable, nodes.length, false, '1') || 1;
    const unavailable = pods.filter((p) => !isPodReady(p)).length;
    if (spec.updateStrategy?.type !== 'OnDelete' && unavailable < maxUnavailable) {
      const stale = pods
        .filter((p) => p.metadata.labels?.['controller-revision-hash'] !== hash)
        .slice(0, maxUnavailable - unavailable);
      for (const p of stale) this.d.pods.deletePod(p);
    }
    pods = owned(store.list('pods', ds.metadata.namespace), ds);
    const ready = pods.filter(isPodReady).length;
    store.update(
      'daemonsets',
      {
        ...ds,
        status: {
          observedGeneration: ds.metadata.generation,
          desiredNumberScheduled: nodes.length,
          currentNumberScheduled: pods.length,
          numberMisscheduled: 0,
          numberReady: ready,
          numberAvailable: ready,
          ...(nodes.length - ready > 0 ? { numberUnavailable: nodes.length - ready } : {}),
          updatedNumberScheduled: pods.filter((p) => p.metadata.labels?.['controller-revision-hash'] === hash)
            .length,
        },
      },
      { subresource: 'status' },
    );
  }
}
