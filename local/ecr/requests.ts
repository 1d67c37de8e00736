/**
 * ECR's request shapes (the members the local cloud reads, with the model's constraints) and its
 * dialect: Coral's `ValidationException` for a member that breaks the model, InvalidParameterException
 * for a page token ECR did not issue.
 */
import type { ImageTagMutability, TagStatus } from '@aws-sdk/client-ecr';
import * as z from 'zod';
import { coralDialect } from '../aws/request';
import { AwsServiceError } from '../errors';

export const ecrDialect = coralDialect({
  badToken: (member, token) =>
    new AwsServiceError('InvalidParameterException', `Invalid parameter at '${member}': '${token}'`),
});

/** DescribeRepositories, DescribeImages and ListImages: 100 a page unless asked, at most 1000. */
export const ECR_PAGE = { default: 100, max: 1000 } as const;
/** BatchGetImage, BatchDeleteImage and DescribeImages by id take at most 100 ids. */
const MAX_IDS = 100;
export const MAX_TAGS = 50;

const RepositoryName = z.string().min(2).max(256);
const Repository = { registryId: z.string().optional(), repositoryName: RepositoryName };
const Paging = { nextToken: z.string().optional(), maxResults: z.int().optional() };

export const ImageIdentifier = z.object({
  imageDigest: z.string().optional(),
  imageTag: z.string().optional(),
});
export type ImageIdentifier = z.infer<typeof ImageIdentifier>;
const ImageIds = z.array(ImageIdentifier).min(1).max(MAX_IDS);

const Tags = z.array(z.object({ Key: z.string(), Value: z.string() })).max(MAX_TAGS);
const TagStatusFilter = z
  .object({ tagStatus: z.enum(['TAGGED', 'ANY', 'UNTAGGED'] satisfies TagStatus[]).optional() })
  .optional();

export const CreateRepositoryRequest = z.object({
  registryId: z.string().optional(),
  repositoryName: RepositoryName,
  tags: Tags.optional(),
  imageTagMutability: z.enum(['MUTABLE', 'IMMUTABLE'] satisfies ImageTagMutability[]).optional(),
  imageScanningConfiguration: z.object({ scanOnPush: z.boolean().optional() }).optional(),
  encryptionConfiguration: z
    .object({ encryptionType: z.enum(['AES256', 'KMS', 'KMS_DSSE']), kmsKey: z.string().optional() })
    .optional(),
});

export const DescribeRepositoriesRequest = z.object({
  registryId: z.string().optional(),
  repositoryNames: z.array(RepositoryName).min(1).max(100).optional(),
  ...Paging,
});

export const DeleteRepositoryRequest = z.object({ ...Repository, force: z.boolean().optional() });

export const ResourceRequest = z.object({ resourceArn: z.string() });
export const TagResourceRequest = z.object({ resourceArn: z.string(), tags: Tags });
export const UntagResourceRequest = z.object({
  resourceArn: z.string(),
  tagKeys: z.array(z.string()).max(MAX_TAGS),
});

export const PutImageRequest = z.object({
  ...Repository,
  imageManifest: z.string().min(1).max(4_194_304),
  imageManifestMediaType: z.string().optional(),
  imageTag: z.string().optional(),
  imageDigest: z.string().optional(),
});
export type PutImageRequest = z.infer<typeof PutImageRequest>;

export const DescribeImagesRequest = z.object({
  ...Repository,
  imageIds: ImageIds.optional(),
  filter: TagStatusFilter,
  ...Paging,
});

export const ListImagesRequest = z.object({ ...Repository, filter: TagStatusFilter, ...Paging });

export const BatchImagesRequest = z.object({ ...Repository, imageIds: ImageIds });

export const DescribeImageScanFindingsRequest = z.object({
  ...Repository,
  imageId: ImageIdentifier,
  ...Paging,
});

export const StartImageScanRequest = z.object({ ...Repository, imageId: ImageIdentifier });

export const PutImageScanningConfigurationRequest = z.object({
  ...Repository,
  imageScanningConfiguration: z.object({ scanOnPush: z.boolean().optional() }),
});
