/** The `eks:` section of a world file: clusters with managed node groups and Fargate profiles. */
import { z } from 'zod';

const Nodegroup = z
  .object({
    name: z.string().min(1),
    minSize: z.number().int().min(0).default(1),
    maxSize: z.number().int().min(1).default(3),
    desiredSize: z.number().int().min(0).default(2),
    instanceTypes: z.array(z.string()).default(['t3.medium']),
    capacityType: z.enum(['ON_DEMAND', 'SPOT', 'CAPACITY_BLOCK']).default('ON_DEMAND'),
    labels: z.record(z.string(), z.string()).default({}),
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

export const EksWorldSchema = z
  .object({
    clusters: z
      .array(
        z
          .object({
            name: z.string().min(1),
            version: z.string().default('1.32'),
            nodegroups: z.array(Nodegroup).default([]),
            fargateProfiles: z.array(FargateProfile).default([]),
            tags: z.record(z.string(), z.string()).default({}),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

export type EksWorld = z.infer<typeof EksWorldSchema>;
