/** Server-side printing: the Table kubectl asks for (`Accept: …;as=Table`), with kubectl's usual columns. */
import type { KubeObject, ResourceDef } from './store';

type Column = {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  cell: (o: KubeObject, now: number) => unknown;
};

export function age(ts: string | undefined, now: number): string {
  const s = Math.max(0, Math.floor((now - Date.parse(ts ?? '')) / 1000));
  if (!Number.isFinite(s)) return '<unknown>';
  if (s < 120) return `${s}s`;
  if (s < 600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
  if (s < 3 * 3600) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

const st = (o: KubeObject, k: string) => Number((o.status as Record<string, number> | undefined)?.[k] ?? 0);
const sp = (o: KubeObject, k: string, d = 1) =>
  Number((o.spec as Record<string, number> | undefined)?.[k] ?? d);
const name: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name };
const ageCol: Column = {
  name: 'Age',
  type: 'string',
  cell: (o, now) => age(o.metadata.creationTimestamp, now),
};
const templateContainers = (o: KubeObject) =>
  (o.spec as { template?: { spec?: { containers?: { name: string; image?: string }[] } } }).template?.spec
    ?.containers ?? [];
const wide = (cols: Column[]): Column[] => cols.map((c) => ({ ...c, priority: 1 }));
const workloadWide = wide([
  {
    name: 'Containers',
    type: 'string',
    cell: (o) =>
      templateContainers(o)
        .map((c) => c.name)
        .join(','),
  },
  {
    name: 'Images',
    type: 'string',
    cell: (o) =>
      templateContainers(o)
        .map((c) => c.image)
        .join(','),
  },
]);

function podStatus(p: KubeObject): string {
  const statuses =
    (p.status?.containerStatuses as { state?: { waiting?: { reason?: string } } }[] | undefined) ?? [];
  const waiting = statuses.find((s) => s.state?.waiting?.reason)?.state?.waiting?.reason;
  return waiting ?? String(p.status?.phase ?? 'Pending');
}

const COLUMNS: Record<string, Column[]> = {
  pods: [
    name,
    {
      name: 'Ready',
      type: 'string',
      cell: (p) => {
        const s = (p.status?.containerStatuses as { ready?: boolean }[] | undefined) ?? [];
        const total = ((p.spec?.containers as unknown[] | undefined) ?? []).length;
        return `${s.filter((x) => x.ready).length}/${total}`;
      },
    },
    { name: 'Status', type: 'string', cell: podStatus },
    { name: 'Restarts', type: 'string', cell: () => '0' },
    ageCol,
    ...wide([
      { name: 'IP', type: 'string', cell: (p) => p.status?.podIP ?? '<none>' },
      { name: 'Node', type: 'string', cell: (p) => p.spec?.nodeName ?? '<none>' },
    ]),
  ],
  deployments: [
    name,
    { name: 'Ready', type: 'string', cell: (o) => `${st(o, 'readyReplicas')}/${sp(o, 'replicas')}` },
    { name: 'Up-to-date', type: 'integer', cell: (o) => st(o, 'updatedReplicas') },
    { name: 'Available', type: 'integer', cell: (o) => st(o, 'availableReplicas') },
    ageCol,
    ...workloadWide,
  ],
  replicasets: [
    name,
    { name: 'Desired', type: 'integer', cell: (o) => sp(o, 'replicas') },
    { name: 'Current', type: 'integer', cell: (o) => st(o, 'replicas') },
    { name: 'Ready', type: 'integer', cell: (o) => st(o, 'readyReplicas') },
    ageCol,
    ...workloadWide,
  ],
  statefulsets: [
    name,
    { name: 'Ready', type: 'string', cell: (o) => `${st(o, 'readyReplicas')}/${sp(o, 'replicas')}` },
    ageCol,
    ...workloadWide,
  ],
  daemonsets: [
    name,
    { name: 'Desired', type: 'integer', cell: (o) => st(o, 'desiredNumberScheduled') },
    { name: 'Current', type: 'integer', cell: (o) => st(o, 'currentNumberScheduled') },
    { name: 'Ready', type: 'integer', cell: (o) => st(o, 'numberReady') },
    { name: 'Up-to-date', type: 'integer', cell: (o) => st(o, 'updatedNumberScheduled') },
    { name: 'Available', type: 'integer', cell: (o) => st(o, 'numberAvailable') },
    ageCol,
    ...workloadWide,
  ],
  nodes: [
    name,
    {
      name: 'Status',
      type: 'string',
      cell: (n) =>
        ((n.status?.conditions as { type: string; status: string }[] | undefined) ?? []).some(
          (c) => c.type === 'Ready' && c.status === 'True',
        )
          ? 'Ready'
          : 'NotReady',
    },
    { name: 'Roles', type: 'string', cell: () => '<none>' },
    ageCol,
    {
      name: 'Version',
      type: 'string',
      cell: (n) => (n.status?.nodeInfo as { kubeletVersion?: string } | undefined)?.kubeletVersion ?? '',
    },
    ...wide([
      {
        name: 'Instance-Type',
        type: 'string',
        cell: (n) => n.metadata.labels?.['node.kubernetes.io/instance-type'] ?? '<none>',
      },
      {
        name: 'Nodegroup',
        type: 'string',
        cell: (n) =>
          n.metadata.labels?.['eks.amazonaws.com/nodegroup'] ??
          n.metadata.labels?.['eks.amazonaws.com/fargate-profile'] ??
          '<none>',
      },
    ]),
  ],
  namespaces: [name, { name: 'Status', type: 'string', cell: () => 'Active' }, ageCol],
  configmaps: [
    name,
    {
      name: 'Data',
      type: 'integer',
      cell: (o) =>
        Object.keys((o.data as object | undefined) ?? {}).length +
        Object.keys((o.binaryData as object | undefined) ?? {}).length,
    },
    ageCol,
  ],
  secrets: [
    name,
    { name: 'Type', type: 'string', cell: (o) => o.type ?? 'Opaque' },
    { name: 'Data', type: 'integer', cell: (o) => Object.keys((o.data as object | undefined) ?? {}).length },
    ageCol,
  ],
  events: [
    { name: 'Last Seen', type: 'string', cell: (e, now) => age(e.lastTimestamp as string, now) },
    { name: 'Type', type: 'string', cell: (e) => e.type },
    { name: 'Reason', type: 'string', cell: (e) => e.reason },
    {
      name: 'Object',
      type: 'string',
      cell: (e) => {
        const i = e.involvedObject as { kind: string; name: string };
        return `${i.kind.toLowerCase()}/${i.name}`;
      },
    },
    { name: 'Message', type: 'string', cell: (e) => e.message },
  ],
};

export function toTable(def: ResourceDef, items: KubeObject[], resourceVersion: string, now: number) {
  const cols = COLUMNS[def.plural] ?? [name, ageCol];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: cols.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: c.name,
      priority: c.priority ?? 0,
    })),
    rows: items.map((o) => ({
      cells: cols.map((c) => c.cell(o, now)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}
