/**
 * The objects of one cluster, as the API server keeps them: metadata the server owns (uid, resourceVersion,
 * creationTimestamp, generation), optimistic concurrency on update, and watch events with a short history so
 * a watch from a resourceVersion sees what it missed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { SimClock } from '../../clock';

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    generateName?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
    [k: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [k: string]: unknown;
};

export interface ResourceDef {
  group: '' | 'apps' | 'batch';
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  /** Spec changes bump metadata.generation (the controllers' observedGeneration compares to it). */
  generation: boolean;
}

export const RESOURCES: ResourceDef[] = [
  {
    group: '',
    plural: 'namespaces',
    singular: 'namespace',
    kind: 'Namespace',
    namespaced: false,
    shortNames: ['ns'],
    generation: false,
  },
  {
    group: '',
    plural: 'nodes',
    singular: 'node',
    kind: 'Node',
    namespaced: false,
    shortNames: ['no'],
    generation: false,
  },
  {
    group: '',
    plural: 'pods',
    singular: 'pod',
    kind: 'Pod',
    namespaced: true,
    shortNames: ['po'],
    generation: false,
  },
  {
    group: '',
    plural: 'events',
    singular: 'event',
    kind: 'Event',
    namespaced: true,
    shortNames: ['ev'],
    generation: false,
  },
  // Stored and served as on EKS (kubectl create configmap|secret, envFrom in pod templates); no controller reads them.
  {
    group: '',
    plural: 'configmaps',
    singular: 'configmap',
    kind: 'ConfigMap',
    namespaced: true,
    shortNames: ['cm'],
    generation: false,
  },
  {
    group: '',
    plural: 'secrets',
    singular: 'secret',
    kind: 'Secret',
    namespaced: true,
    shortNames: [],
    generation: false,
  },
  {
    group: 'apps',
    plural: 'deployments',
    singular: 'deployment',
    kind: 'Deployment',
    namespaced: true,
    shortNames: ['deploy'],
    generation: true,
  },
  {
    group: 'apps',
    plural: 'replicasets',
    singular: 'replicaset',
    kind: 'ReplicaSet',
    namespaced: true,
    shortNames: ['rs'],
    generation: true,
  },
  {
    group: 'apps',
    plural: 'statefulsets',
    singular: 'statefulset',
    kind: 'StatefulSet',
    namespaced: true,
    shortNames: ['sts'],
    generation: true,
  },
  {
    group: 'apps',
    plural: 'daemonsets',
    singular: 'daemonset',
    kind: 'DaemonSet',
    namespaced: true,
    shortNames: ['ds'],
    generation: true,
  },
  // Stored and served (kubectl, pruneImages's in-use set read their pod templates); no Job controller runs them.
  {
    group: 'batch',
    plural: 'jobs',
    singular: 'job',
    kind: 'Job',
    namespaced: true,
    shortNames: [],
    generation: true,
  },
  {
    group: 'batch',
    plural: 'cronjobs',
    singular: 'cronjob',
    kind: 'CronJob',
    namespaced: true,
    shortNames: ['cj'],
    generation: true,
  },
];

/** The API groups served besides the core group, in discovery order. */
export const GROUPS = ['apps', 'batch'] as const;

export const resourceByPlural = new Map(RESOURCES.map((r) => [r.plural, r]));
export const resourceByKind = new Map(RESOURCES.map((r) => [r.kind, r]));

export class KubeStatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details: { name?: string; kind?: string; group?: string } = {},
  ) {
    super(message);
    this.name = 'KubeStatusError';
  }
}

export const notFound = (def: ResourceDef, name: string) =>
  new KubeStatusError(
    404,
    'NotFound',
    `${def.plural}${def.group ? `.${def.group}` : ''} "${name}" not found`,
    {
      name,
      kind: def.plural,
      ...(def.group ? { group: def.group } : {}),
    },
  );

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
}

interface HistoryEntry extends WatchEvent {
  rv: number;
  plural: string;
}

type Listener = (plural: string, event: WatchEvent) => void;

const HISTORY = 5000;

/** The same JSON whatever the order of keys: the API server compares Go values, not bytes. */
function sameJson(a: unknown, b: unknown): boolean {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sorted)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sorted((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}

export const apiVersionOf = (def: ResourceDef) => (def.group ? `${def.group}/v1` : 'v1');
const keyOf = (ns: string | undefined, name: string) => `${ns ?? ''}/${name}`;

export class KubeStore {
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private rv = 1;
  private readonly history: HistoryEntry[] = [];
  private readonly listeners = new Set<Listener>();

  constructor(private readonly clock: SimClock) {
    for (const r of RESOURCES) this.objects.set(r.plural, new Map());
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  timestamp(): string {
    return this.clock
      .now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  }

  list(plural: string, namespace?: string): KubeObject[] {
    const all = [...(this.objects.get(plural)?.values() ?? [])];
    const filtered = namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
    return filtered.sort((a, b) =>
      keyOf(a.metadata.namespace, a.metadata.name).localeCompare(
        keyOf(b.metadata.namespace, b.metadata.name),
      ),
    );
  }

  find(plural: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(plural)?.get(keyOf(namespace, name));
  }

  get(plural: string, namespace: string | undefined, name: string): KubeObject {
    const o = this.find(plural, namespace, name);
    const def = resourceByPlural.get(plural);
    if (!o || !def) throw notFound(def ?? (RESOURCES[0] as ResourceDef), name);
    return o;
  }

  create(plural: string, input: KubeObject): KubeObject {
    const def = resourceByPlural.get(plural) as ResourceDef;
    const meta = { ...input.metadata };
    if (!meta.name && meta.generateName)
      meta.name = meta.generateName + randomBytes(3).toString('hex').slice(0, 5);
    if (!meta.name || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(meta.name) || meta.name.length > 253) {
      throw new KubeStatusError(
        422,
        'Invalid',
        `${def.kind} "${meta.name ?? ''}" is invalid: metadata.name: Invalid value`,
        {
          kind: def.plural,
        },
      );
    }
    if (def.namespaced) {
      meta.namespace ??= 'default';
      if (!this.find('namespaces', undefined, meta.namespace)) {
        throw new KubeStatusError(404, 'NotFound', `namespaces "${meta.namespace}" not found`, {
          name: meta.namespace,
          kind: 'namespaces',
        });
      }
    } else delete meta.namespace;
    const map = this.objects.get(plural) as Map<string, KubeObject>;
    if (map.has(keyOf(meta.namespace, meta.name))) {
      throw new KubeStatusError(409, 'AlreadyExists', `${def.plural} "${meta.name}" already exists`, {
        name: meta.name,
        kind: def.plural,
      });
    }
    const obj: KubeObject = {
      ...input,
      apiVersion: apiVersionOf(def),
      kind: def.kind,
      metadata: {
        ...meta,
        uid: randomUUID(),
        creationTimestamp: this.timestamp(),
        ...(def.generation ? { generation: 1 } : {}),
        resourceVersion: String(++this.rv),
      },
    };
    delete obj.metadata.generateName;
    map.set(keyOf(meta.namespace, meta.name), obj);
    this.emit(plural, 'ADDED', obj);
    return obj;
  }

  /**
   * Replaces an object. `expectedVersion` (a PUT's metadata.resourceVersion) must match, as the API server's
   * optimistic concurrency demands; server-owned metadata is kept; spec changes bump the generation.
   */
  update(
    plural: string,
    next: KubeObject,
    options: { expectedVersion?: string; subresource?: 'status' } = {},
  ): KubeObject {
    const def = resourceByPlural.get(plural) as ResourceDef;
    const current = this.get(
      plural,
      next.metadata.namespace ?? (def.namespaced ? 'default' : undefined),
      next.metadata.name,
    );
    if (options.expectedVersion && options.expectedVersion !== current.metadata.resourceVersion) {
      throw new KubeStatusError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${def.plural}${def.group ? `.${def.group}` : ''} "${current.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name: current.metadata.name, kind: def.plural },
      );
    }
    const merged: KubeObject =
      options.subresource === 'status'
        ? { ...current, status: next.status ?? {} }
        : { ...next, ...(current.status && !next.status ? { status: current.status } : {}) };
    merged.apiVersion = apiVersionOf(def);
    merged.kind = def.kind;
    merged.metadata = {
      ...(options.subresource === 'status' ? current.metadata : next.metadata),
      name: current.metadata.name,
      uid: current.metadata.uid as string,
      creationTimestamp: current.metadata.creationTimestamp as string,
      ...(current.metadata.namespace ? { namespace: current.metadata.namespace } : {}),
    };
    if (def.generation) {
      const changed = !sameJson(merged.spec ?? {}, current.spec ?? {});
      merged.metadata.generation = (current.metadata.generation ?? 1) + (changed ? 1 : 0);
    }
    const { resourceVersion: _, ...a } = merged.metadata;
    const { resourceVersion: __, ...b } = current.metadata;
    if (sameJson({ ...merged, metadata: a }, { ...current, metadata: b })) return current;
    merged.metadata.resourceVersion = String(++this.rv);
    (this.objects.get(plural) as Map<string, KubeObject>).set(
      keyOf(merged.metadata.namespace, merged.metadata.name),
      merged,
    );
    this.emit(plural, 'MODIFIED', merged);
    return merged;
  }

  delete(plural: string, namespace: string | undefined, name: string): KubeObject {
    const obj = this.get(plural, namespace, name);
    (this.objects.get(plural) as Map<string, KubeObject>).delete(keyOf(namespace, name));
    const gone = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    this.emit(plural, 'DELETED', gone);
    return gone;
  }

  /** Events after `sinceRv` (when the history still holds them), then live ones; returns the unsubscribe. */
  watch(plural: string, sinceRv: number | undefined, fn: (e: WatchEvent) => void): () => void {
    if (sinceRv !== undefined) {
      for (const h of this.history)
        if (h.plural === plural && h.rv > sinceRv) fn({ type: h.type, object: h.object });
    }
    const listener: Listener = (p, e) => {
      if (p === plural) fn(e);
    };
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every change of every kind (the controllers' trigger). */
  onChange(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(plural: string, type: WatchEvent['type'], object: KubeObject): void {
    this.history.push({ rv: Number(object.metadata.resourceVersion), plural, type, object });
    if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY);
    for (const l of [...this.listeners]) l(plural, { type, object });
  }
}
