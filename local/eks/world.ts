/**
 * The `eks:` section of a world file: clusters with self-managed nodes, managed node groups and Fargate
 * profiles, the Kubernetes objects they run (manifests as `kubectl apply` takes them), and the access keys
 * whose token signatures the clusters' Kubernetes APIs verify.
 */
import * as z from 'zod';

const Nodegroup = z
  .object({
    name: z.string().min(1),
    minSize: z.number().int().min(0).default(1),
    maxSize: z.number().int().min(1).default(3),
    desiredSize: z.number().int().min(0).default(2),
    instanceTypes: z.array(z.string()).default(['t3.medium']),
    capacityType: z.enum(['ON_DEMAND', 'SPOT', 'CAPACITY_BLOCK']).default('ON_DEMAND'),
    labels: z.record(z.string(), z.string()).default({}),
    /** Node size when not the instance type's (Kubernetes quantities, e.g. cpu: 1930m, memory: 3Gi). */
    cpu: z.string().optional(),
    memory: z.string().optional(),
    /** Health issues the node group reports, e.g. [{ code: AsgInstanceLaunchFailures, message: ... }]. */
    healthIssues: z.array(z.object({ code: z.string(), message: z.string() }).strict()).default([]),
  })
  .strict();

const FargateProfile = z
  .object({
    name: z.string().min(1),
    selectors: z
      .array(
        z
          .object({ namespace: z.string().min(1), labels: z.record(z.string(), z.string()).optional() })
          .strict(),
      )
      .min(1),
  })
  .strict();

/** Self-managed nodes: EC2 instances joined to the cluster outside any managed node group. */
const SelfManagedNodes = z
  .object({
    name: z.string().min(1).default('self-managed'),
    count: z.number().int().min(0).default(1),
    instanceType: z.string().default('m5.large'),
    labels: z.record(z.string(), z.string()).default({}),
    cpu: z.string().optional(),
    memory: z.string().optional(),
  })
  .strict();

/** A Kubernetes object (Deployment, StatefulSet, DaemonSet, Pod, Namespace...) with its metadata.name. */
const KubeObject = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({ name: z.string().min(1), namespace: z.string().optional() }),
});

export const EksWorldSchema = z
  .object({
    /**
     * Secrets of access keys, so the Kubernetes APIs check token signatures made with them (`test`/`test` is
     * always known); tokens signed with an unknown key are checked for everything but the signature.
     */
    accessKeys: z
      .array(z.object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1) }).strict())
      .default([]),
    clusters: z
      .array(
        z
          .object({
            name: z.string().min(1),
            /** Another account's cluster (default: the world's accountId), e.g. a workload account's. */
            accountId: z
              .string()
              .regex(/^\d{12}$/)
              .optional(),
            /** Another region's cluster (default: the world's region). */
            region: z.string().min(1).optional(),
            version: z.string().default('1.32'),
            nodes: z.array(SelfManagedNodes).default([]),
            nodegroups: z.array(Nodegroup).default([]),
            fargateProfiles: z.array(FargateProfile).default([]),
            tags: z.record(z.string(), z.string()).default({}),
            /** Objects created at start-up, in order (namespaces they name are created). */
            objects: z.array(KubeObject).default([]),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

export type EksWorld = z.infer<typeof EksWorldSchema>;
