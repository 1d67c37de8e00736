/** The whole capacity plan (pure): gathered state in, a report with every finding out. */
import { planEcsCluster, planFargateQuota } from './ecs-plan';
import { planEksCluster } from './eks-plan';
import type { CapacityReport, CapacityState, CapacityThresholds, Finding, FindingKind } from './model';
import { SEVERITY_RANK } from './model';

const KIND_ORDER: FindingKind[] = [
  'target-unreadable',
  'no-room',
  'pods-unschedulable',
  'fargate-vcpu-quota',
  'deployment-headroom',
  'nodegroup-at-max-size',
  'nodegroup-health',
  'stuck-deployment',
  'below-desired',
  'fargate-pods-pending',
  'node-not-ready',
  'agent-disconnected',
  'draining',
];

export function planCapacity(state: CapacityState, thresholds: CapacityThresholds): CapacityReport {
  const ecs = state.ecs.map((c) =>
    planEcsCluster(c, {
      nowMs: state.nowMs,
      stuckDeploymentMinutes: thresholds.stuckDeploymentMinutes,
      ...(state.fargate ? { fargate: state.fargate } : {}),
    }),
  );
  const eks = state.eks.map((c) =>
    planEksCluster(c, { nowMs: state.nowMs, pendingPodMinutes: thresholds.pendingPodMinutes }),
  );
  const findings: Finding[] = [
    ...ecs.flatMap((c) => c.findings),
    ...eks.flatMap((c) => c.findings),
    ...(state.fargate ? planFargateQuota(state.fargate) : []),
  ];
  sortFindings(findings);
  return {
    at: new Date(state.nowMs).toISOString(),
    ecs: ecs.map((c) => c.report),
    eks: eks.map((c) => c.report),
    ...(state.fargate ? { fargate: state.fargate } : {}),
    findings,
  };
}

/**
 * Worst first, causes (no room) before symptoms (below desired), then by key: the email's subject names the
 * cause, and the log and the email read the same way every run. In place; returns the array.
 */
export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) =>
      SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
      KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
      a.key.localeCompare(b.key),
  );
}
