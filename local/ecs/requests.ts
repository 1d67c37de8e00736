/**
 * ECS's request shapes (the members the local cloud reads, with their constraints) and its dialect:
 * ECS refuses a request with `InvalidParameterException` and a sentence about the first member that
 * is wrong ("service can not be blank.", "maxResults must be between 1 and 100."). Some members have
 * ECS's own wording, given in the shape.
 */
import type {
  Attribute,
  ContainerDefinition,
  Service,
  TaskDefinition as TaskDefinitionShape,
} from '@aws-sdk/client-ecs';
import * as z from 'zod';
import { opaque, readPage, sentenceDialect } from '../aws/request';
import type { Wire } from '../aws/response';
import { LAUNCH_TYPES } from './model';

export const ecsDialect = sentenceDialect({
  code: 'InvalidParameterException',
  missing: 'can not be blank',
  stop: '.',
  badToken: () => 'Invalid nextToken.',
});

/** Every ECS List operation: 100 a page unless asked, at most 100. */
export const ECS_PAGE = { default: 100, max: 100 } as const;

/** A page of the ARNs a List operation lists, for its maxResults and nextToken. */
export const arnPage = (arns: string[], input: object) =>
  readPage(arns, (arn) => arn, input, ECS_PAGE, ecsDialect);

const Cluster = { cluster: z.string().optional() };
const Include = { include: z.array(z.string()).optional() };
const Paging = { nextToken: z.string().optional(), maxResults: z.int().optional() };
const TAG_KEY = 'Tag keys must be non-empty strings.';
const Tags = z
  .array(z.object({ key: z.string({ error: TAG_KEY }).min(1, TAG_KEY), value: z.string().optional() }), {
    error: 'tags must be a list.',
  })
  .optional();
const LaunchType = z.enum(LAUNCH_TYPES, { error: (iss) => `Invalid launch type: ${String(iss.input)}` });
const CapacityProviderStrategy = z.array(
  z.object({ capacityProvider: z.string(), weight: z.int().optional(), base: z.int().optional() }),
);
const DeploymentConfiguration = z.object({
  minimumHealthyPercent: z.int().optional(),
  maximumPercent: z.int().optional(),
  deploymentCircuitBreaker: z
    .object({ enable: z.boolean().optional(), rollback: z.boolean().optional() })
    .optional(),
  strategy: z.string().optional(),
  bakeTimeInMinutes: z.int().optional(),
});
export type DeploymentConfigurationInput = z.infer<typeof DeploymentConfiguration>;
/** Names or ARNs ECS takes a batch of, with its own words for an empty list and a long one. */
const References = (empty: string, max: number, tooMany: string) =>
  z.array(z.string(), { error: empty }).min(1, empty).max(max, tooMany);
const Name = (message: string) => z.string({ error: message }).regex(/^[a-zA-Z0-9_-]{1,255}$/, message);
const Strings = z.array(z.string());

// ---- clusters ----
export const CreateClusterRequest = z.object({
  clusterName: Name('Cluster name is invalid.').optional(),
  tags: Tags,
  capacityProviders: Strings.optional(),
});
export const DescribeClustersRequest = z.object({ clusters: Strings.optional(), ...Include });
export const ListClustersRequest = z.object({ ...Paging });
export const ClusterRequest = z.object({ ...Cluster });

// ---- services ----
/** Members of CreateService that ECS keeps and returns as given. */
const ServiceEcho = {
  networkConfiguration: opaque<Wire<NonNullable<Service['networkConfiguration']>>>(),
  loadBalancers: z.array(opaque<Wire<NonNullable<Service['loadBalancers']>[number]>>()),
  healthCheckGracePeriodSeconds: z.int(),
  roleArn: z.string(),
};
export const SERVICE_ECHO = Object.keys(ServiceEcho) as (keyof typeof ServiceEcho)[];

export const CreateServiceRequest = z.object({
  ...Cluster,
  serviceName: Name('serviceName is invalid.'),
  taskDefinition: z.string().optional(),
  launchType: LaunchType.optional(),
  capacityProviderStrategy: CapacityProviderStrategy.optional(),
  desiredCount: z.int().min(0, 'desiredCount must be >= 0.').optional(),
  deploymentConfiguration: DeploymentConfiguration.optional(),
  deploymentController: z.object({ type: z.enum(['ECS', 'CODE_DEPLOY', 'EXTERNAL']) }).optional(),
  tags: Tags,
  ...z.object(ServiceEcho).partial().shape,
});
export const UpdateServiceRequest = z.object({
  ...Cluster,
  service: z.string(),
  taskDefinition: z.string().optional(),
  forceNewDeployment: z.boolean().optional(),
  deploymentConfiguration: DeploymentConfiguration.optional(),
  desiredCount: z.int().min(0, 'desiredCount must be >= 0.').optional(),
  capacityProviderStrategy: CapacityProviderStrategy.optional(),
  networkConfiguration: ServiceEcho.networkConfiguration.optional(),
});
export const ServiceRequest = z.object({ ...Cluster, service: z.string(), force: z.boolean().optional() });
export const DescribeServicesRequest = z.object({
  ...Cluster,
  services: References('Services cannot be empty.', 10, 'service names can have at most 10 items.'),
  ...Include,
});
export const ListServicesRequest = z.object({ ...Cluster, launchType: z.string().optional(), ...Paging });
export const ListServiceDeploymentsRequest = z.object({
  ...Cluster,
  service: z.string(),
  status: Strings.optional(),
  // Epoch seconds on the wire, as every ECS timestamp.
  createdAt: z.object({ before: z.number().optional(), after: z.number().optional() }).optional(),
  ...Paging,
});
export const StopServiceDeploymentRequest = z.object({
  serviceDeploymentArn: z.string(),
  stopType: z.string().optional(),
});
export const DescribeServiceDeploymentsRequest = z.object({
  serviceDeploymentArns: References(
    'serviceDeploymentArns must have 1 to 20 items.',
    20,
    'serviceDeploymentArns must have 1 to 20 items.',
  ),
});
export const DescribeServiceRevisionsRequest = z.object({
  serviceRevisionArns: References(
    'serviceRevisionArns must have 1 to 20 items.',
    20,
    'serviceRevisionArns must have 1 to 20 items.',
  ),
});

// ---- tasks ----
const TaskPlacement = {
  ...Cluster,
  taskDefinition: z.string().optional(),
  group: z.string().optional(),
  startedBy: z.string().optional(),
  tags: Tags,
};
export const RunTaskRequest = z.object({
  ...TaskPlacement,
  count: z
    .int()
    .min(1, 'count must be between 1 and 10.')
    .max(10, 'count must be between 1 and 10.')
    .optional(),
  launchType: LaunchType.optional(),
  capacityProviderStrategy: CapacityProviderStrategy.optional(),
});
export type RunTaskRequest = z.infer<typeof RunTaskRequest>;
export const StartTaskRequest = z.object({
  ...TaskPlacement,
  containerInstances: z
    .array(z.string(), { error: 'containerInstances can not be empty.' })
    .min(1, 'containerInstances can not be empty.'),
});
export const StopTaskRequest = z.object({ ...Cluster, task: z.string(), reason: z.string().optional() });
export const ListTasksRequest = z.object({
  ...Cluster,
  serviceName: z.string().optional(),
  family: z.string().optional(),
  startedBy: z.string().optional(),
  desiredStatus: z.string().optional(),
  containerInstance: z.string().optional(),
  ...Paging,
});
export const DescribeTasksRequest = z.object({
  ...Cluster,
  tasks: References('Tasks cannot be empty.', 100, 'Tasks can have at most 100 items.'),
  ...Include,
});

// ---- tags ----
export const TagResourceRequest = z.object({ resourceArn: z.string(), tags: Tags });
export const UntagResourceRequest = z.object({ resourceArn: z.string(), tagKeys: Strings });
export const ListTagsForResourceRequest = z.object({ resourceArn: z.string() });

// ---- task definitions ----
/** Members of RegisterTaskDefinition that ECS keeps and returns as given. */
const TaskDefinitionEcho = {
  taskRoleArn: z.string(),
  executionRoleArn: z.string(),
  volumes: z.array(opaque<Wire<NonNullable<TaskDefinitionShape['volumes']>[number]>>()),
  placementConstraints: z.array(
    opaque<Wire<NonNullable<TaskDefinitionShape['placementConstraints']>[number]>>(),
  ),
  runtimePlatform: opaque<Wire<NonNullable<TaskDefinitionShape['runtimePlatform']>>>(),
  pidMode: z.enum(['host', 'task']),
  ipcMode: z.enum(['host', 'task', 'none']),
};
export const TASK_DEFINITION_ECHO = Object.keys(TaskDefinitionEcho) as (keyof typeof TaskDefinitionEcho)[];

/** A container definition: the scheduler reads a few members, the rest is kept and returned as given. */
export const ContainerDefinitionInput = opaque<Wire<ContainerDefinition>>();

export const RegisterTaskDefinitionRequest = z.object({
  family: z.string().optional(),
  containerDefinitions: z.array(ContainerDefinitionInput).optional(),
  requiresCompatibilities: z
    .array(z.enum(LAUNCH_TYPES, { error: 'Invalid requiresCompatibilities value.' }))
    .optional(),
  cpu: z.union([z.string(), z.number()]).transform(String).optional(),
  memory: z.union([z.string(), z.number()]).transform(String).optional(),
  networkMode: z.enum(['bridge', 'host', 'awsvpc', 'none']).optional(),
  tags: Tags,
  ...z.object(TaskDefinitionEcho).partial().shape,
});
export const TaskDefinitionRequest = z.object({ taskDefinition: z.string().optional(), ...Include });
export const ListTaskDefinitionsRequest = z.object({
  familyPrefix: z.string().optional(),
  status: z.string().optional(),
  sort: z.string().optional(),
  ...Paging,
});
export const ListTaskDefinitionFamiliesRequest = z.object({
  familyPrefix: z.string().optional(),
  status: z.string().optional(),
  ...Paging,
});

// ---- container instances ----
export const RegisterContainerInstanceRequest = z.object({
  ...Cluster,
  totalResources: z
    .array(z.object({ name: z.string().optional(), integerValue: z.int().optional() }))
    .optional(),
  attributes: z.array(opaque<Wire<Attribute>>()).optional(),
  instanceIdentityDocument: z.string().optional(),
  tags: Tags,
});
export const DeregisterContainerInstanceRequest = z.object({
  ...Cluster,
  containerInstance: z.string(),
  force: z.boolean().optional(),
});
export const ListContainerInstancesRequest = z.object({
  ...Cluster,
  status: z.string().optional(),
  ...Paging,
});
export const DescribeContainerInstancesRequest = z.object({
  ...Cluster,
  containerInstances: z
    .array(z.string())
    .max(100, 'containerInstances can have at most 100 items.')
    .optional(),
  ...Include,
});
export const UpdateContainerInstancesStateRequest = z.object({
  ...Cluster,
  containerInstances: Strings.optional(),
  status: z.enum(['ACTIVE', 'DRAINING'], { error: 'status must be ACTIVE or DRAINING.' }),
});

/** `include: ['TAGS']` asks for tags in describe responses. */
export const includesTags = (input: { include?: string[] | undefined }) =>
  input.include?.includes('TAGS') === true;

/** ECS tags as stored: a tag without a value has the empty value. */
export const tagsOf = (tags: { key: string; value?: string | undefined }[] | undefined) =>
  (tags ?? []).map((t) => ({ key: t.key, value: t.value ?? '' }));
