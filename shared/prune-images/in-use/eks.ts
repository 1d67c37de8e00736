/**
 * The EKS in-use source: every image a pod of an EKS cluster runs, or a workload may start, across all
 * namespaces (an image in use in a namespace rollEks ignores is still in use). Read per cluster through the
 * same DescribeCluster + EKS token connection as rollEks and checkCapacity. Any cluster that cannot be read
 * fails the source, so pruning deletes nothing (fail closed).
 */
import type { EKSClient } from '@aws-sdk/client-eks';
import pLimit from 'p-limit';
import { type EksConnector, eksClusterNames } from '../../aws/eks-connect';
import { digestOfImageId, parseKubeObject } from '../../aws/kube';
import { errorMessage } from '../../errors';
import * as z from '../../zod';
import type { InUseRef, InUseSource } from './model';

const CONCURRENCY = 4;

const Container = z.looseObject({ name: z.string(), image: z.optional(z.string()) });
const PodSpec = z.looseObject({
  containers: z.nullish(z.array(Container)),
  initContainers: z.nullish(z.array(Container)),
  ephemeralContainers: z.nullish(z.array(Container)),
});
const Metadata = z.looseObject({ name: z.string(), namespace: z.optional(z.string()) });
const Status = z.looseObject({
  name: z.string(),
  image: z.optional(z.string()),
  imageID: z.optional(z.string()),
});
const Pod = z.looseObject({
  metadata: Metadata,
  spec: z.nullish(PodSpec),
  status: z.nullish(
    z.looseObject({
      phase: z.optional(z.string()),
      containerStatuses: z.nullish(z.array(Status)),
      initContainerStatuses: z.nullish(z.array(Status)),
      ephemeralContainerStatuses: z.nullish(z.array(Status)),
    }),
  ),
});
const Templated = z.looseObject({
  metadata: Metadata,
  spec: z.nullish(z.looseObject({ template: z.nullish(z.looseObject({ spec: z.nullish(PodSpec) })) })),
});
const CronJob = z.looseObject({
  metadata: Metadata,
  spec: z.nullish(
    z.looseObject({
      jobTemplate: z.nullish(
        z.looseObject({
          spec: z.nullish(
            z.looseObject({ template: z.nullish(z.looseObject({ spec: z.nullish(PodSpec) })) }),
          ),
        }),
      ),
    }),
  ),
});

/** Workloads whose pod templates count (scaled to zero or suspended included: they can start any time). */
const TEMPLATED: { kind: string; path: string }[] = [
  { kind: 'Deployment', path: '/apis/apps/v1/deployments' },
  // Old ReplicaSets are a Deployment's rollback targets: `kubectl rollout undo` pulls their images.
  { kind: 'ReplicaSet', path: '/apis/apps/v1/replicasets' },
  { kind: 'StatefulSet', path: '/apis/apps/v1/statefulsets' },
  { kind: 'DaemonSet', path: '/apis/apps/v1/daemonsets' },
  { kind: 'Job', path: '/apis/batch/v1/jobs' },
];

export class EksInUseError extends Error {
  constructor(readonly failures: { cluster: string; error: string }[]) {
    super(failures.map((f) => `EKS cluster ${f.cluster}: ${f.error}`).join('; '));
    this.name = 'EksInUseError';
  }
}

type PodSpecT = z.infer<typeof PodSpec>;

function templateRefs(spec: PodSpecT | null | undefined, usedBy: string): InUseRef[] {
  const all = [
    ...(spec?.initContainers ?? []),
    ...(spec?.containers ?? []),
    ...(spec?.ephemeralContainers ?? []),
  ];
  return all
    .filter((c) => c.image)
    .map((c) => ({ image: c.image as string, usedBy: `${usedBy} container ${c.name}` }));
}

/** One cluster's references: pods (spec images and the digests the kubelet resolved) and workload templates. */
export async function clusterInUse(
  kube: { list(path: string): Promise<unknown[]> },
  cluster: string,
): Promise<InUseRef[]> {
  const refs: InUseRef[] = [];
  for (const item of await kube.list('/api/v1/pods')) {
    const pod = parseKubeObject(Pod, item, cluster, 'Pod');
    const phase = pod.status?.phase ?? 'Unknown';
    // Finished pods run nothing; their owners' templates (Jobs, CronJobs) are read below.
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    const who = `EKS pod ${cluster}/${pod.metadata.namespace ?? 'default'}/${pod.metadata.name} (${phase})`;
    refs.push(...templateRefs(pod.spec, who));
    const statuses = [
      ...(pod.status?.initContainerStatuses ?? []),
      ...(pod.status?.containerStatuses ?? []),
      ...(pod.status?.ephemeralContainerStatuses ?? []),
    ];
    for (const s of statuses) {
      const digest = digestOfImageId(s.imageID);
      if (digest)
        refs.push({ ...(s.image ? { image: s.image } : {}), digest, usedBy: `${who} container ${s.name}` });
    }
  }
  for (const { kind, path } of TEMPLATED) {
    for (const item of await kube.list(path)) {
      const w = parseKubeObject(Templated, item, cluster, kind);
      const who = `EKS ${kind} ${cluster}/${w.metadata.namespace ?? 'default'}/${w.metadata.name}`;
      refs.push(...templateRefs(w.spec?.template?.spec, who));
    }
  }
  for (const item of await kube.list('/apis/batch/v1/cronjobs')) {
    const cj = parseKubeObject(CronJob, item, cluster, 'CronJob');
    const who = `EKS CronJob ${cluster}/${cj.metadata.namespace ?? 'default'}/${cj.metadata.name}`;
    refs.push(...templateRefs(cj.spec?.jobTemplate?.spec?.template?.spec, who));
  }
  return refs;
}

export interface EksInUseOptions {
  eks: EKSClient;
  connect: EksConnector;
  /** `eks.clusters`; empty: every cluster of the account and region. */
  clusters: readonly string[];
}

/** Every EKS cluster in scope, read concurrently; one unreadable cluster fails the whole source. */
export function eksInUseSource(options: EksInUseOptions): InUseSource {
  return {
    name: 'eks',
    async collect(): Promise<InUseRef[]> {
      const names = await eksClusterNames(options.eks, options.clusters);
      const limit = pLimit(CONCURRENCY);
      const failures: { cluster: string; error: string }[] = [];
      const results = await Promise.all(
        names.map((cluster) =>
          limit(async () => {
            try {
              return await clusterInUse(await options.connect(cluster), cluster);
            } catch (err) {
              failures.push({ cluster, error: errorMessage(err) });
              return [];
            }
          }),
        ),
      );
      if (failures.length > 0) throw new EksInUseError(failures);
      return results.flat();
    },
  };
}
