import { describe, expect, it } from 'vitest';
import { KubeObjectError } from '../../../shared/aws/kube';
import { parseQuantity, toNodeState, toPodState } from '../../../shared/check-capacity/kube';

describe('Kubernetes quantities', () => {
  it.each([
    ['250m', 0.25],
    ['2', 2],
    ['1.5', 1.5],
    ['128Mi', 128 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1G', 1e9],
    ['1e3', 1000],
    ['7901536Ki', 7901536 * 1024],
    ['100n', 1e-7],
  ])('%s', (q, expected) => {
    expect(parseQuantity(q)).toBeCloseTo(expected);
  });
  it('is NaN for what is not a quantity', () => {
    expect(parseQuantity('lots')).toBeNaN();
  });
});

describe('nodes and pods from the API', () => {
  it('reads Ready, Fargate and allocatable', () => {
    const n = toNodeState(
      {
        metadata: {
          name: 'fargate-ip-10-0-1-5.ec2.internal',
          labels: { 'eks.amazonaws.com/compute-type': 'fargate' },
        },
        status: {
          allocatable: { cpu: '1930m', memory: '7901536Ki', pods: '29' },
          conditions: [{ type: 'Ready', status: 'True' }],
        },
      },
      'dev',
    );
    expect(n).toEqual({
      name: 'fargate-ip-10-0-1-5.ec2.internal',
      ready: true,
      fargate: true,
      allocatable: { cpuMillis: 1930, memoryBytes: 7901536 * 1024, pods: 29 },
    });
  });

  it('names the Deployment behind a ReplicaSet, counts the larger of containers and init containers, and reads Unschedulable', () => {
    const p = toPodState(
      {
        metadata: {
          name: 'api-7d9c5b-x1',
          namespace: 'shop',
          creationTimestamp: '2026-11-25T10:00:00Z',
          labels: { 'pod-template-hash': '7d9c5b' },
          ownerReferences: [{ kind: 'ReplicaSet', name: 'api-7d9c5b' }],
        },
        spec: {
          containers: [
            { resources: { requests: { cpu: '250m', memory: '256Mi' } } },
            { resources: { requests: { cpu: '100m' } } },
          ],
          initContainers: [{ resources: { requests: { memory: '1Gi' } } }],
        },
        status: {
          phase: 'Pending',
          conditions: [
            {
              type: 'PodScheduled',
              status: 'False',
              reason: 'Unschedulable',
              message: '0/3 nodes are available',
              lastTransitionTime: '2026-11-25T10:01:00Z',
            },
          ],
        },
      },
      'dev',
    );
    expect(p).toMatchObject({
      owner: 'deployment/api',
      phase: 'Pending',
      requests: { cpuMillis: 350, memoryBytes: 2 ** 30 },
      unschedulable: { sinceMs: Date.parse('2026-11-25T10:01:00Z'), message: '0/3 nodes are available' },
      fargate: false,
    });
  });

  it('fails loudly, naming the cluster and object, on what is not a pod', () => {
    expect(() => toPodState({ metadata: {} }, 'dev')).toThrow(KubeObjectError);
    expect(() => toPodState({ metadata: { name: 'x' }, spec: { containers: 'no' } }, 'dev')).toThrow(
      'unexpected pod x from the Kubernetes API of dev: spec.containers',
    );
  });
});
