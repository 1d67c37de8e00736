import { describe, expect, it } from 'vitest';
import { planEksCluster } from '../../../shared/check-capacity/eks-plan';
import type { EksClusterState, NodegroupState, PodState } from '../../../shared/check-capacity/model';
import { MIN, NOW, node, pod } from '../../fixtures/capacity-builders';

const group = (o: Partial<NodegroupState> = {}): NodegroupState => ({
  nodegroupName: 'workers',
  status: 'ACTIVE',
  minSize: 2,
  maxSize: 6,
  desiredSize: 3,
  healthIssues: [],
  ...o,
});
const eks = (o: Partial<EksClusterState>): EksClusterState => ({
  clusterName: 'dev',
  nodegroups: [],
  nodes: [],
  pods: [],
  ...o,
});
const plan = (c: EksClusterState, pendingPodMinutes = 5) =>
  planEksCluster(c, { nowMs: NOW, pendingPodMinutes });
const keys = (r: ReturnType<typeof plan>) => r.findings.map((f) => `${f.key}=${f.severity}`);
const unschedulable = (name: string, minutes: number, o: Partial<PodState> = {}) =>
  pod(name, {
    phase: 'Pending',
    createdAtMs: NOW - minutes * MIN,
    unschedulable: { sinceMs: NOW - minutes * MIN, message: '0/3 nodes are available: 3 Insufficient cpu.' },
    ...o,
  });

describe('pending pods', () => {
  it.each([
    [1, []],
    [4, []],
    [6, ['eks:dev:pods/shop/deployment/api:pods-unschedulable=critical']],
  ])('Unschedulable for %i minutes (threshold 5)', (minutes, expected) => {
    expect(keys(plan(eks({ pods: [unschedulable('api-7d9c-x1', minutes)] })))).toEqual(expected);
  });

  it('groups the pods of one owner into one finding, whatever their generated names', () => {
    const r = plan(
      eks({
        pods: [
          unschedulable('api-7d9c-x1', 9),
          unschedulable('api-7d9c-x2', 7),
          unschedulable('db-0', 7, { owner: 'statefulset/db' }),
        ],
      }),
    );
    expect(keys(r)).toEqual([
      'eks:dev:pods/shop/deployment/api:pods-unschedulable=critical',
      'eks:dev:pods/shop/statefulset/db:pods-unschedulable=critical',
    ]);
    expect(r.findings[0]?.title).toBe('2 pod(s) of shop/deployment/api cannot be scheduled');
    expect(r.findings[0]?.detail).toBe(
      'Unschedulable for 9 minutes: 0/3 nodes are available: 3 Insufficient cpu.',
    );
    expect(r.report.unschedulablePods).toBe(3);
  });

  it('Fargate pods pending past the threshold; not before', () => {
    const f = (minutes: number) =>
      pod('job-x', { phase: 'Pending', fargate: true, owner: 'job/x', createdAtMs: NOW - minutes * MIN });
    expect(keys(plan(eks({ pods: [f(3)] })))).toEqual([]);
    expect(keys(plan(eks({ pods: [f(8)] })))).toEqual([
      'eks:dev:pods/shop/job/x:fargate-pods-pending=warning',
    ]);
  });

  it('Pending pods that are scheduled (pulling images) are not a capacity problem', () => {
    expect(
      plan(eks({ pods: [pod('api-1', { phase: 'Pending', nodeName: 'n1', createdAtMs: NOW - 60 * MIN })] }))
        .findings,
    ).toEqual([]);
  });
});

describe('node groups and nodes', () => {
  it('at max size: info alone, a warning while pods cannot be scheduled', () => {
    const full = group({ desiredSize: 6 });
    expect(keys(plan(eks({ nodegroups: [full] })))).toEqual([
      'eks:dev:nodegroup/workers:nodegroup-at-max-size=info',
    ]);
    expect(keys(plan(eks({ nodegroups: [full], pods: [unschedulable('api-1', 10)] })))).toEqual([
      'eks:dev:pods/shop/deployment/api:pods-unschedulable=critical',
      'eks:dev:nodegroup/workers:nodegroup-at-max-size=warning',
    ]);
    expect(plan(eks({ nodegroups: [group()] })).findings).toEqual([]);
  });

  it.each([
    ['ACTIVE', 'warning'],
    ['DEGRADED', 'critical'],
  ])('health issues on a %s node group are %s', (status, severity) => {
    const r = plan(
      eks({
        nodegroups: [
          group({ status, healthIssues: [{ code: 'Ec2LaunchTemplateNotFound', message: 'lt-0 gone' }] }),
        ],
      }),
    );
    expect(keys(r)).toEqual([`eks:dev:nodegroup/workers:nodegroup-health=${severity}`]);
    expect(r.findings[0]?.detail).toBe('Ec2LaunchTemplateNotFound: lt-0 gone');
  });

  it('nodes not Ready, and allocatable minus requested per node', () => {
    const r = plan(
      eks({
        nodes: [node('n1'), node('n2', { ready: false, nodegroup: 'workers' })],
        pods: [
          pod('a', { nodeName: 'n1', requests: { cpuMillis: 500, memoryBytes: 2 ** 30 } }),
          pod('b', { nodeName: 'n1', requests: { cpuMillis: 250, memoryBytes: 2 ** 29 } }),
          pod('done', {
            nodeName: 'n1',
            phase: 'Succeeded',
            requests: { cpuMillis: 1000, memoryBytes: 2 ** 30 },
          }),
        ],
      }),
    );
    expect(keys(r)).toEqual(['eks:dev:node/n2:node-not-ready=warning']);
    expect(r.report.nodes[0]).toMatchObject({
      node: 'n1',
      requestedCpuMillis: 750,
      requestedMemoryBytes: 1.5 * 2 ** 30,
      pods: 2,
    });
  });
});
