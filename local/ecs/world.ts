/**
 * The `ecs` section of a world file: clusters with their container instances, task definitions and
 * services. Services start steady: their tasks are RUNNING on the digest their image resolves to.
 */
import * as z from 'zod';

const PortMappingSchema = z
  .object({
    containerPort: z.number().int().min(1).max(65535),
    /** Fixed host port (EC2/EXTERNAL bridge mode): one task per instance can use it. */
    hostPort: z.number().int().min(0).max(65535).optional(),
    protocol: z.enum(['tcp', 'udp']).optional(),
  })
  .strict();

const ContainerSchema = z
  .object({
    name: z.string().min(1),
    /** Full image reference, e.g. `000000000000.dkr.ecr.us-east-1.amazonaws.com/shop/api:v1.2.0`; public images too. */
    image: z.string().min(1),
    cpu: z.number().int().min(0).optional(),
    memory: z.number().int().min(1).optional(),
    essential: z.boolean().optional(),
    portMappings: z.array(PortMappingSchema).optional(),
  })
  .strict();

const TaskDefinitionSchema = z
  .object({
    family: z.string().min(1),
    /** Task-level CPU units and MiB (required by Fargate). */
    cpu: z.number().int().min(1).optional(),
    memory: z.number().int().min(1).optional(),
    requiresCompatibilities: z.array(z.enum(['EC2', 'FARGATE', 'EXTERNAL'])).optional(),
    networkMode: z.enum(['bridge', 'host', 'awsvpc', 'none']).optional(),
    containers: z.array(ContainerSchema).min(1),
    tags: z.record(z.string(), z.string()).optional(),
  })
  .strict();

const ContainerInstanceSchema = z
  .object({
    /** EC2 instances get an `i-...` id; EXTERNAL ones a `mi-...` id. */
    kind: z.enum(['EC2', 'EXTERNAL']).default('EC2'),
    cpu: z.number().int().min(1).default(2048),
    memory: z.number().int().min(1).default(4096),
    /** How many identical instances. */
    count: z.number().int().min(1).max(100).default(1),
    attributes: z.record(z.string(), z.string()).optional(),
  })
  .strict();

const CapacityProviderItemSchema = z
  .object({
    capacityProvider: z.string().min(1),
    weight: z.number().int().min(0).optional(),
    base: z.number().int().min(0).optional(),
  })
  .strict();

const ServiceSchema = z
  .object({
    name: z.string().min(1),
    /** Family (latest revision) or `family:revision`. */
    taskDefinition: z.string().min(1),
    desiredCount: z.number().int().min(0).default(1),
    launchType: z.enum(['EC2', 'FARGATE', 'EXTERNAL']).optional(),
    capacityProviderStrategy: z.array(CapacityProviderItemSchema).optional(),
    minimumHealthyPercent: z.number().int().min(0).default(100),
    maximumPercent: z.number().int().min(100).default(200),
    circuitBreaker: z.object({ enable: z.boolean(), rollback: z.boolean() }).strict().optional(),
    /** ROLLING (the default), or BLUE_GREEN, LINEAR, CANARY: the new revision beside the old until bake time ends. */
    strategy: z.enum(['ROLLING', 'BLUE_GREEN', 'LINEAR', 'CANARY']).optional(),
    bakeTimeInMinutes: z.number().int().min(0).max(1440).optional(),
    /** Who deploys the service: ECS (the default), CODE_DEPLOY (blue/green) or EXTERNAL (task sets). */
    deploymentController: z.enum(['ECS', 'CODE_DEPLOY', 'EXTERNAL']).optional(),
    tags: z.record(z.string(), z.string()).optional(),
  })
  .strict();

const ClusterSchema = z
  .object({
    name: z.string().min(1),
    accountId: z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
    region: z.string().min(1).optional(),
    containerInstances: z.array(ContainerInstanceSchema).default([]),
    services: z.array(ServiceSchema).default([]),
    tags: z.record(z.string(), z.string()).optional(),
  })
  .strict();

export const EcsWorldSchema = z
  .object({
    taskDefinitions: z.array(TaskDefinitionSchema).default([]),
    clusters: z.array(ClusterSchema).default([]),
  })
  .strict();
export type EcsWorld = z.infer<typeof EcsWorldSchema>;
export type EcsWorldInput = z.input<typeof EcsWorldSchema>;
export type EcsWorldService = z.infer<typeof ServiceSchema>;
