/**
 * Nodes and pods as checkCapacity reads them (through the KubeReader of shared/aws/kube.ts; tests pass fakes):
 * Kubernetes quantities and the parsing of nodes and pods into capacity state.
 */
import { parseKubeObject } from '../aws/kube';
import * as z from '../zod';
import type { NodeState, PodState } from './model';

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes quantity (`250m`, `1.5`, `128Mi`, `1e3`) in base units; NaN when it is not one. */
export function parseQuantity(q: string | number | undefined): number {
  if (q === undefined) return 0;
  if (typeof q === 'number') return q;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?$/.exec(q.trim());
  if (!m) return Number.NaN;
  return Number(m[1]) * (SUFFIX[m[2] ?? ''] ?? Number.NaN);
}

const Quantity = z.union([z.string(), z.number()]);
const Resources = z.optional(z.record(z.string(), Quantity));
const Condition = z.looseObject({
  type: z.string(),
  status: z.string(),
  reason: z.optional(z.string()),
  message: z.optional(z.string()),
  lastTransitionTime: z.nullish(z.string()),
});
const Metadata = z.looseObject({
  name: z.string(),
  namespace: z.optional(z.string()),
  creationTimestamp: z.optional(z.string()),
  labels: z.nullish(z.record(z.string(), z.string())),
  ownerReferences: z.nullish(z.array(z.looseObject({ kind: z.string(), name: z.string() }))),
});

const KubeNode = z.looseObject({
  metadata: Metadata,
  status: z.optional(z.looseObject({ allocatable: Resources, conditions: z.nullish(z.array(Condition)) })),
});

const Container = z.looseObject({
  resources: z.nullish(z.looseObject({ requests: Resources })),
});
const KubePod = z.looseObject({
  metadata: Metadata,
  spec: z.prefault(
    z.looseObject({
      nodeName: z.optional(z.string()),
      schedulerName: z.optional(z.string()),
      containers: z._default(z.array(Container), []),
      initContainers: z.nullish(z.array(Container)),
      overhead: Resources,
    }),
    {},
  ),
  status: z.prefault(
    z.looseObject({ phase: z.optional(z.string()), conditions: z.nullish(z.array(Condition)) }),
    {},
  ),
});

const finite = (n: number) => (Number.isFinite(n) ? n : 0);

export function toNodeState(item: unknown, cluster: string): NodeState {
  const n = parseKubeObject(KubeNode, item, cluster, 'node');
  const labels = n.metadata.labels ?? {};
  const alloc = n.status?.allocatable ?? {};
  const nodegroup = labels['eks.amazonaws.com/nodegroup'];
  return {
    name: n.metadata.name,
    ready: (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    fargate: labels['eks.amazonaws.com/compute-type'] === 'fargate' || n.metadata.name.startsWith('fargate-'),
    ...(nodegroup ? { nodegroup } : {}),
    allocatable: {
      cpuMillis: Math.round(finite(parseQuantity(alloc.cpu)) * 1000),
      memoryBytes: Math.round(finite(parseQuantity(alloc.memory))),
      pods: Math.round(finite(parseQuantity(alloc.pods))),
    },
  };
}

type Requests = { cpuMillis: number; memoryBytes: number };
function requestsOf(r: Record<string, string | number> | undefined | null): Requests {
  return {
    cpuMillis: Math.round(finite(parseQuantity(r?.cpu)) * 1000),
    memoryBytes: Math.round(finite(parseQuantity(r?.memory))),
  };
}

/** What the scheduler counts: the containers' sum, or the largest init container if larger, plus overhead. */
function podRequests(spec: z.infer<typeof KubePod>['spec']): Requests {
  const sum = spec.containers
    .map((c) => requestsOf(c.resources?.requests))
    .reduce(
      (a, b) => ({ cpuMillis: a.cpuMillis + b.cpuMillis, memoryBytes: a.memoryBytes + b.memoryBytes }),
      {
        cpuMillis: 0,
        memoryBytes: 0,
      },
    );
  for (const c of spec.initContainers ?? []) {
    const r = requestsOf(c.resources?.requests);
    sum.cpuMillis = Math.max(sum.cpuMillis, r.cpuMillis);
    sum.memoryBytes = Math.max(sum.memoryBytes, r.memoryBytes);
  }
  const overhead = requestsOf(spec.overhead);
  return {
    cpuMillis: sum.cpuMillis + overhead.cpuMillis,
    memoryBytes: sum.memoryBytes + overhead.memoryBytes,
  };
}

/** The workload a user knows: a ReplicaSet's pods belong to its Deployment (name minus the template hash). */
function ownerOf(meta: z.infer<typeof Metadata>): string {
  const ref = meta.ownerReferences?.[0];
  if (!ref) return `pod/${meta.name}`;
  const hash = meta.labels?.['pod-template-hash'];
  if (ref.kind === 'ReplicaSet' && hash && ref.name.endsWith(`-${hash}`)) {
    return `deployment/${ref.name.slice(0, -hash.length - 1)}`;
  }
  return `${ref.kind.toLowerCase()}/${ref.name}`;
}

export function toPodState(item: unknown, cluster: string): PodState {
  const p = parseKubeObject(KubePod, item, cluster, 'pod');
  const labels = p.metadata.labels ?? {};
  const created = Date.parse(p.metadata.creationTimestamp ?? '');
  const scheduled = (p.status.conditions ?? []).find((c) => c.type === 'PodScheduled');
  const unschedulable =
    scheduled && scheduled.status === 'False' && scheduled.reason === 'Unschedulable'
      ? {
          sinceMs: Date.parse(scheduled.lastTransitionTime ?? '') || created || 0,
          message: scheduled.message ?? '',
        }
      : undefined;
  return {
    namespace: p.metadata.namespace ?? 'default',
    name: p.metadata.name,
    owner: ownerOf(p.metadata),
    phase: p.status.phase ?? 'Unknown',
    ...(p.spec.nodeName ? { nodeName: p.spec.nodeName } : {}),
    fargate: p.spec.schedulerName === 'fargate-scheduler' || 'eks.amazonaws.com/fargate-profile' in labels,
    requests: podRequests(p.spec),
    createdAtMs: Number.isFinite(created) ? created : 0,
    ...(unschedulable ? { unschedulable } : {}),
  };
}
