/**
 * Headroom as CloudWatch metrics, written as Embedded Metric Format to the log by Powertools Metrics (no
 * PutMetricData call, no extra permission): one EMF record per cluster, service, node group or the
 * Fargate quota, so users graph how much room is left and alarm before it runs out.
 */
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CapacityReport } from './model';

export const METRICS_NAMESPACE = 'harborpilot';

export interface MetricPoint {
  name: string;
  unit: 'Count' | 'Percent' | 'None';
  value: number;
  dimensions: Record<string, string>;
}

export interface MetricPublisher {
  publish(points: MetricPoint[]): void;
}

/** Every number a user may want to graph, from the report alone (pure). */
export function headroomMetrics(report: CapacityReport): MetricPoint[] {
  const points: MetricPoint[] = [];
  const put = (
    name: string,
    value: number,
    dimensions: Record<string, string>,
    unit: MetricPoint['unit'] = 'None',
  ) => {
    if (Number.isFinite(value)) points.push({ name, unit, value, dimensions });
  };
  for (const c of report.ecs) {
    for (const [type, t] of [
      ['EC2', c.ec2],
      ['EXTERNAL', c.external],
    ] as const) {
      if (t.instances === 0) continue;
      const d = { Platform: 'ECS', Cluster: c.cluster, CapacityType: type };
      put('RemainingCpu', t.remainingCpu, d);
      put('RemainingMemory', t.remainingMemory, d);
      put('UsableInstances', t.usable, d, 'Count');
    }
    for (const s of c.services) {
      const d = { Platform: 'ECS', Cluster: c.cluster, Service: s.serviceName };
      if (s.tasksThatStillFit !== null) put('TasksThatStillFit', s.tasksThatStillFit, d, 'Count');
      put('TasksBelowDesired', Math.max(0, s.desiredCount - s.runningCount), d, 'Count');
    }
  }
  for (const c of report.eks) {
    const d = { Platform: 'EKS', Cluster: c.cluster };
    const ready = c.nodes.filter((n) => n.ready && !n.fargate);
    put(
      'RemainingCpu',
      ready.reduce((s, n) => s + n.allocatableCpuMillis - n.requestedCpuMillis, 0),
      d,
    );
    put(
      'RemainingMemory',
      ready.reduce((s, n) => s + n.allocatableMemoryBytes - n.requestedMemoryBytes, 0),
      d,
    );
    put('ReadyNodes', ready.length, d, 'Count');
    put('PendingPods', c.pendingPods, d, 'Count');
    put('UnschedulablePods', c.unschedulablePods, d, 'Count');
    for (const g of c.nodegroups) {
      put('NodegroupSpareNodes', g.maxSize - g.desiredSize, { ...d, Nodegroup: g.nodegroupName }, 'Count');
    }
  }
  if (report.fargate) {
    const d = { Platform: 'ECS', Cluster: 'Fargate' };
    put('FargateVcpuInUse', report.fargate.onDemandVcpu, d);
    put('FargateVcpuQuotaUsed', (100 * report.fargate.onDemandVcpu) / report.fargate.quotaVcpu, d, 'Percent');
  }
  return points;
}

const UNITS = { Count: MetricUnit.Count, Percent: MetricUnit.Percent, None: MetricUnit.NoUnit } as const;

/** Powertools Metrics: one EMF record per dimension set (a record carries one set of dimensions). */
export function emfPublisher(metrics: Metrics): MetricPublisher {
  return {
    publish(points) {
      const groups = new Map<string, MetricPoint[]>();
      for (const p of points) {
        const key = JSON.stringify(p.dimensions);
        groups.set(key, [...(groups.get(key) ?? []), p]);
      }
      for (const group of groups.values()) {
        const first = group[0];
        if (!first) continue;
        metrics.addDimensions(first.dimensions);
        for (const p of group) metrics.addMetric(p.name, UNITS[p.unit], p.value);
        metrics.publishStoredMetrics();
      }
    },
  };
}
