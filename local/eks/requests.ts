/**
 * EKS's request shapes (restJson1: path labels, query and body members as one input) and its
 * dialect: EKS refuses a request with `InvalidParameterException` and a sentence about the first
 * member that is wrong ("nodegroupName is required", "maxResults must be between 1 and 100").
 */
import type { CapacityTypes } from '@aws-sdk/client-eks';
import * as z from 'zod';
import { sentenceDialect } from '../aws/request';

export const eksDialect = sentenceDialect({
  code: 'InvalidParameterException',
  missing: 'is required',
  stop: '',
  badToken: (member) => `${member} is invalid`,
});

/** ListClusters, ListNodegroups, ListFargateProfiles: 100 a page unless asked, at most 100. */
export const EKS_PAGE = { default: 100, max: 100 } as const;

const StringMap = z.record(z.string(), z.string());
const Required = (member: string) =>
  z.string({ error: `${member} is required` }).min(1, `${member} is required`);
const ClusterName = { name: z.string() };
const ScalingConfig = z.object({
  minSize: z.int().optional(),
  maxSize: z.int().optional(),
  desiredSize: z.int().optional(),
});

export const ListRequest = z.object({
  name: z.string().optional(),
  maxResults: z.coerce.number().int().optional(),
  nextToken: z.string().optional(),
});

const CLUSTER_NAME = 'name is required and must be a valid cluster name';
export const CreateClusterRequest = z.object({
  name: z.string({ error: CLUSTER_NAME }).regex(/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/, CLUSTER_NAME),
  version: z.string().optional(),
  roleArn: z.string().optional(),
  tags: StringMap.optional(),
});
export type CreateClusterRequest = z.infer<typeof CreateClusterRequest>;
export const ClusterRequest = z.object(ClusterName);

export const CreateNodegroupRequest = z.object({
  ...ClusterName,
  nodegroupName: Required('nodegroupName'),
  scalingConfig: ScalingConfig.optional(),
  instanceTypes: z.array(z.string()).optional(),
  capacityType: z.enum(['ON_DEMAND', 'SPOT', 'CAPACITY_BLOCK'] satisfies CapacityTypes[]).optional(),
  labels: StringMap.optional(),
  tags: StringMap.optional(),
  nodeRole: z.string().optional(),
});
export type CreateNodegroupRequest = z.infer<typeof CreateNodegroupRequest>;
export const NodegroupRequest = z.object({ ...ClusterName, nodegroupName: z.string() });
export const UpdateNodegroupConfigRequest = z.object({
  ...ClusterName,
  nodegroupName: z.string(),
  scalingConfig: ScalingConfig.optional(),
});

const SELECTORS = 'selectors: at least one selector is required';
export const CreateFargateProfileRequest = z.object({
  ...ClusterName,
  fargateProfileName: Required('fargateProfileName'),
  selectors: z
    .array(z.object({ namespace: z.string(), labels: StringMap.optional() }), { error: SELECTORS })
    .min(1, SELECTORS),
  podExecutionRoleArn: z.string().optional(),
  tags: StringMap.optional(),
});
export type CreateFargateProfileRequest = z.infer<typeof CreateFargateProfileRequest>;
export const FargateProfileRequest = z.object({ ...ClusterName, fargateProfileName: z.string() });
