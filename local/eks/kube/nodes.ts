/** Node objects for self-managed instances, managed node group instances and Fargate micro-VMs. */
import { randomBytes } from 'node:crypto';
import type { KubeObject } from './store';

/** vCPU and GiB of the instance types worlds use (anything else counts as t3.medium). */
const INSTANCE_TYPES: Record<string, { vcpu: number; gib: number; pods: number }> = {
  't3.small': { vcpu: 2, gib: 2, pods: 11 },
  't3.medium': { vcpu: 2, gib: 4, pods: 17 },
  't3.large': { vcpu: 2, gib: 8, pods: 35 },
  't3.xlarge': { vcpu: 4, gib: 16, pods: 58 },
  'm5.large': { vcpu: 2, gib: 8, pods: 29 },
  'm5.xlarge': { vcpu: 4, gib: 16, pods: 58 },
  'm6i.large': { vcpu: 2, gib: 8, pods: 29 },
  'c5.large': { vcpu: 2, gib: 4, pods: 29 },
  'c5.xlarge': { vcpu: 4, gib: 8, pods: 58 },
};

export interface NodeSpec {
  name: string;
  instanceType: string;
  labels: Record<string, string>;
  /** Overrides of the instance type's size. */
  cpu?: string;
  memory?: string;
  pods?: number;
  zone: string;
}

export function instanceSize(instanceType: string) {
  return (
    INSTANCE_TYPES[instanceType] ??
    (INSTANCE_TYPES['t3.medium'] as { vcpu: number; gib: number; pods: number })
  );
}

export function randomNodeName(prefix = 'ip'): string {
  const b = randomBytes(2);
  return `${prefix}-192-168-${b[0]}-${b[1]}.ec2.internal`;
}

const randomInstanceId = () => `i-0${randomBytes(8).toString('hex').slice(0, 16)}`;

export function nodeObject(spec: NodeSpec, kubeletVersion: string): KubeObject {
  const size = instanceSize(spec.instanceType);
  // What the kubelet reserves on EKS AMIs, roughly: allocatable is what pods get.
  const cpuMillis = spec.cpu ? undefined : size.vcpu * 1000 - 70;
  const memMi = spec.memory ? undefined : Math.floor(size.gib * 1024 * 0.88);
  const ip = spec.name
    .replace(/^(fargate-)?ip-/, '')
    .replace(/\.ec2\.internal$/, '')
    .replace(/-/g, '.');
  const fargate = spec.labels['eks.amazonaws.com/compute-type'] === 'fargate';
  return {
    metadata: {
      name: spec.name,
      labels: {
        'kubernetes.io/hostname': spec.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'topology.kubernetes.io/zone': spec.zone,
        'topology.kubernetes.io/region': spec.zone.slice(0, -1),
        ...(fargate ? {} : { 'node.kubernetes.io/instance-type': spec.instanceType }),
        ...spec.labels,
      },
    },
    spec: fargate
      ? {
          providerID: `aws:///${spec.zone}/${randomBytes(8).toString('hex')}/${spec.name}`,
          taints: [{ key: 'eks.amazonaws.com/compute-type', value: 'fargate', effect: 'NoSchedule' }],
        }
      : { providerID: `aws:///${spec.zone}/${randomInstanceId()}` },
    status: {
      capacity: {
        cpu: String(size.vcpu),
        memory: `${size.gib * 1024 * 1024}Ki`,
        pods: String(spec.pods ?? size.pods),
      },
      allocatable: {
        cpu: spec.cpu ?? `${cpuMillis}m`,
        memory: spec.memory ?? `${memMi}Mi`,
        pods: String(spec.pods ?? size.pods),
      },
      conditions: [
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory' },
        { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure' },
        { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID' },
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
      ],
      addresses: [
        { type: 'InternalIP', address: ip },
        { type: 'Hostname', address: spec.name },
      ],
      nodeInfo: {
        kubeletVersion,
        kubeProxyVersion: kubeletVersion,
        containerRuntimeVersion: 'containerd://1.7.27',
        osImage: fargate ? 'Amazon Linux 2' : 'Amazon Linux 2023.7.20250414',
        kernelVersion: '6.1.132-147.221.amzn2023.x86_64',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}
