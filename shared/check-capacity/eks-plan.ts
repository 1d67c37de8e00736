/**
 * EKS capacity (pure): node groups that cannot grow, nodes that take no pods, what each node has left after
 * the pods' requests, and pods the scheduler has given up placing for longer than a short while (a few
 * seconds of Pending is how every pod starts; the cluster autoscaler may still be adding a node).
 */
import type { EksClusterReport, EksClusterState, Finding, NodeHeadroom, PodState } from './model';

const MINUTE = 60_000;

export interface EksPlanOptions {
  nowMs: number;
  pendingPodMinutes: number;
}

const isActivePod = (p: PodState) => p.phase !== 'Succeeded' && p.phase !== 'Failed';

export function planEksCluster(
  cluster: EksClusterState,
  options: EksPlanOptions,
): { report: EksClusterReport; findings: Finding[] } {
  const label = `EKS ${cluster.clusterName}`;
  const findings: Finding[] = [];
  const finding = (f: Omit<Finding, 'cluster' | 'key'>) =>
    findings.push({ ...f, cluster: label, key: `eks:${cluster.clusterName}:${f.subject}:${f.kind}` });
  const threshold = options.pendingPodMinutes * MINUTE;
  const minutesSince = (ms: number) => Math.floor((options.nowMs - ms) / MINUTE);

  // Unschedulable long enough to matter, grouped by owner: a Deployment's pods come and go with new names.
  const unschedulable = new Map<string, PodState[]>();
  const fargatePending = new Map<string, PodState[]>();
  for (const p of cluster.pods) {
    if (p.phase !== 'Pending') continue;
    const group = `${p.namespace}/${p.owner}`;
    if (p.unschedulable && options.nowMs - p.unschedulable.sinceMs > threshold) {
      unschedulable.set(group, [...(unschedulable.get(group) ?? []), p]);
    } else if (p.fargate && options.nowMs - p.createdAtMs > threshold) {
      fargatePending.set(group, [...(fargatePending.get(group) ?? []), p]);
    }
  }

  for (const [group, pods] of [...unschedulable].sort(([a], [b]) => a.localeCompare(b))) {
    const oldest = Math.min(...pods.map((p) => p.unschedulable?.sinceMs ?? options.nowMs));
    const first = pods[0];
    finding({
      kind: 'pods-unschedulable',
      severity: 'critical',
      subject: `pods/${group}`,
      title: `${pods.length} pod(s) of ${group} cannot be scheduled`,
      detail:
        `Unschedulable for ${minutesSince(oldest)} minutes: ${first?.unschedulable?.message ?? ''}`.trim(),
    });
  }
  for (const [group, pods] of [...fargatePending].sort(([a], [b]) => a.localeCompare(b))) {
    const oldest = Math.min(...pods.map((p) => p.createdAtMs));
    finding({
      kind: 'fargate-pods-pending',
      severity: 'warning',
      subject: `pods/${group}`,
      title: `${pods.length} Fargate pod(s) of ${group} pending`,
      detail: `Pending for ${minutesSince(oldest)} minutes; Fargate starts a pod within about a minute normally (check the Fargate profile's subnets and the account's Fargate quota).`,
    });
  }

  // At max size is a shortage only when pods are waiting for room; otherwise it is worth knowing, no more.
  const waiting = unschedulable.size > 0;
  for (const g of cluster.nodegroups) {
    const subject = `nodegroup/${g.nodegroupName}`;
    if (g.healthIssues.length > 0 || g.status === 'DEGRADED') {
      finding({
        kind: 'nodegroup-health',
        severity: g.status === 'DEGRADED' ? 'critical' : 'warning',
        subject,
        title: `node group ${g.nodegroupName} is ${g.status === 'DEGRADED' ? 'degraded' : 'reporting health issues'}`,
        detail: g.healthIssues.map((i) => `${i.code}: ${i.message}`).join('; ') || `status ${g.status}`,
      });
    }
    if (g.desiredSize >= g.maxSize) {
      finding({
        kind: 'nodegroup-at-max-size',
        severity: waiting ? 'warning' : 'info',
        subject,
        title: `node group ${g.nodegroupName} is at its maximum size (${g.maxSize})`,
        detail: waiting
          ? `It cannot add nodes for the pods that cannot be scheduled (scaling ${g.minSize}–${g.maxSize}).`
          : `It cannot add nodes beyond ${g.maxSize} (scaling ${g.minSize}–${g.maxSize}).`,
      });
    }
  }

  const nodes: NodeHeadroom[] = cluster.nodes.map((n) => {
    const on = cluster.pods.filter((p) => p.nodeName === n.name && isActivePod(p));
    return {
      node: n.name,
      ready: n.ready,
      fargate: n.fargate,
      allocatableCpuMillis: n.allocatable.cpuMillis,
      requestedCpuMillis: on.reduce((s, p) => s + p.requests.cpuMillis, 0),
      allocatableMemoryBytes: n.allocatable.memoryBytes,
      requestedMemoryBytes: on.reduce((s, p) => s + p.requests.memoryBytes, 0),
      pods: on.length,
    };
  });
  for (const n of cluster.nodes) {
    if (n.ready) continue;
    finding({
      kind: 'node-not-ready',
      severity: 'warning',
      subject: `node/${n.name}`,
      title: `node ${n.name} is not Ready`,
      detail: `${n.nodegroup ? `Node group ${n.nodegroup}. ` : ''}The scheduler places no new pods on it.`,
    });
  }

  return {
    report: {
      cluster: cluster.clusterName,
      nodes,
      nodegroups: cluster.nodegroups,
      pendingPods: cluster.pods.filter((p) => p.phase === 'Pending').length,
      unschedulablePods: [...unschedulable.values()].reduce((s, pods) => s + pods.length, 0),
    },
    findings,
  };
}
