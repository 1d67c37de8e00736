/**
 * SES v2's request shapes (restJson1: path, query and body members as one input) and its dialect:
 * SES refuses a request with `BadRequestException` and a sentence about the first member that is
 * wrong ("EmailIdentity is required.", "PageSize must be between 0 and 1000.").
 */
import * as z from 'zod';
import { sentenceDialect } from '../aws/request';

export const sesDialect = sentenceDialect({
  code: 'BadRequestException',
  missing: 'is required',
  stop: '.',
  badToken: (member) => `Invalid ${member}.`,
});

/** ListEmailIdentities: PageSize 0 to 1000 (0 is the default, 100). */
export const IDENTITIES_PAGE = {
  default: 100,
  min: 0,
  max: 1000,
  size: 'PageSize',
  token: 'NextToken',
} as const;

const Tags = z.array(z.object({ Key: z.string(), Value: z.string() }));
const Addresses = z.array(z.string()).optional();

export const CreateEmailIdentityRequest = z.object({
  EmailIdentity: z.string({ error: 'EmailIdentity is required.' }).min(1, 'EmailIdentity is required.'),
  Tags: Tags.optional(),
});
export const EmailIdentityRequest = z.object({ EmailIdentity: z.string() });
export const ListEmailIdentitiesRequest = z.object({
  PageSize: z.coerce.number().int().optional(),
  NextToken: z.string().optional(),
});
export const SendEmailRequest = z.object({
  FromEmailAddress: z.string().optional(),
  Destination: z
    .object({ ToAddresses: Addresses, CcAddresses: Addresses, BccAddresses: Addresses })
    .optional(),
  /** Simple, Raw or Template: read by local/ses/content.ts, which words its own errors. */
  Content: z.record(z.string(), z.unknown()),
});
