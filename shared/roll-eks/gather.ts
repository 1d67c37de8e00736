/**
 * Reads the Deployments, StatefulSets and DaemonSets of a cluster (all namespaces, or the configured ones) and,
 * for those that use a relevant image, the digests their pods run.
 */
import { digestOfImageId, type KubeClient, parseKubeObject } from '../aws/kube';
import { holdSettingsOf } from '../holds/gates';
import type { Digest } from '../image-ref';
import { NOTIFY_ANNOTATION } from '../outcomes/model';
import type { TargetScope } from '../targets';
import * as z from '../zod';
import {
  POLICY_ANNOTATION,
  ROLLED_ANNOTATION,
  WORKLOAD_KINDS,
  type Workload,
  type WorkloadKind,
} from './model';
import { rolloutStatus } from './rollout';

const RESOURCE: Record<WorkloadKind, string> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
};

const Container = z.looseObject({ name: z.string(), image: z.optional(z.string()) });
const KubeWorkload = z.looseObject({
  metadata: z.looseObject({
    name: z.string(),
    namespace: z._default(z.string(), 'default'),
    annotations: z.nullish(z.record(z.string(), z.string())),
  }),
  spec: z.looseObject({
    selector: z.nullish(z.looseObject({ matchLabels: z.nullish(z.record(z.string(), z.string())) })),
    template: z.looseObject({
      spec: z.looseObject({
        containers: z._default(z.array(Container), []),
        initContainers: z.nullish(z.array(Container)),
      }),
    }),
  }),
});
const KubePod = z.looseObject({
  status: z.nullish(
    z.looseObject({
      containerStatuses: z.nullish(
        z.array(z.looseObject({ name: z.string(), imageID: z.optional(z.string()) })),
      ),
      initContainerStatuses: z.nullish(
        z.array(z.looseObject({ name: z.string(), imageID: z.optional(z.string()) })),
      ),
    }),
  ),
});

export interface GatherOptions {
  namespaces: readonly string[];
  /** Only workloads with a container using such an image are kept (and their pods read). */
  isRelevantImage: (image: string) => boolean;
  /** The cluster is in another target: its workloads carry that account and region. */
  scope?: TargetScope | undefined;
}

export async function gatherWorkloads(kube: KubeClient, options: GatherOptions): Promise<Workload[]> {
  const out: Workload[] = [];
  for (const kind of WORKLOAD_KINDS) {
    const paths =
      options.namespaces.length === 0
        ? [`/apis/apps/v1/${RESOURCE[kind]}`]
        : options.namespaces.map((ns) => `/apis/apps/v1/namespaces/${ns}/${RESOURCE[kind]}`);
    for (const path of paths) {
      for (const item of await kube.list(path)) {
        const w = parseKubeObject(KubeWorkload, item, kube.cluster, kind);
        const spec = w.spec.template.spec;
        const containers = [
          ...spec.containers.map((c) => ({ name: c.name, image: c.image ?? '', init: false })),
          ...(spec.initContainers ?? []).map((c) => ({ name: c.name, image: c.image ?? '', init: true })),
        ];
        if (!containers.some((c) => options.isRelevantImage(c.image))) continue;
        const policy = w.metadata.annotations?.[POLICY_ANNOTATION];
        const rolled = w.metadata.annotations?.[ROLLED_ANNOTATION];
        const holdSettings = holdSettingsOf((key) => w.metadata.annotations?.[`harborpilot.io/${key}`]);
        const notify = w.metadata.annotations?.[NOTIFY_ANNOTATION];
        out.push({
          cluster: kube.cluster,
          ...(options.scope ? { scope: options.scope } : {}),
          kind,
          namespace: w.metadata.namespace,
          name: w.metadata.name,
          ...(policy !== undefined ? { policyAnnotation: policy } : {}),
          ...(rolled !== undefined ? { rolled } : {}),
          ...(holdSettings ? { holdSettings } : {}),
          ...(notify !== undefined ? { notify } : {}),
          rollout: rolloutStatus(kind, item),
          containers,
          runningDigests: await runningDigests(
            kube,
            w.metadata.namespace,
            w.spec.selector?.matchLabels ?? {},
          ),
        });
      }
    }
  }
  return out;
}

/** Digests per container name over the pods the workload's selector matches. */
async function runningDigests(
  kube: KubeClient,
  namespace: string,
  matchLabels: Record<string, string>,
): Promise<Record<string, Digest[]>> {
  const selector = Object.entries(matchLabels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  // A workload without matchLabels would match every pod of the namespace: better to know nothing.
  if (selector === '') return {};
  const pods = await kube.list(`/api/v1/namespaces/${namespace}/pods`, { labelSelector: selector });
  const found: Record<string, Set<Digest>> = {};
  for (const item of pods) {
    const pod = KubePod.safeParse(item);
    if (!pod.success) continue;
    for (const s of [
      ...(pod.data.status?.containerStatuses ?? []),
      ...(pod.data.status?.initContainerStatuses ?? []),
    ]) {
      const d = digestOfImageId(s.imageID);
      if (!d) continue;
      found[s.name] ??= new Set();
      found[s.name]?.add(d);
    }
  }
  return Object.fromEntries(Object.entries(found).map(([k, v]) => [k, [...v]]));
}
