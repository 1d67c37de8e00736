/**
 * SES v2's request shapes (restJson1: path, query and body members as one input) and its dialect:
 * SES refuses a request with `BadRequestException` and a sentence about the first member that is
 * wrong ("EmailIdentity is required.", "PageSize must be between 0 and 1000.").
 */
import { z } from 'zod';
import { article, bounds, sentenceDialect } from '../aws/request';

export const sesDialect = sentenceDialect({
  code: 'BadRequestException',
  sentence: (member, c) => {
    switch (c.kind) {
      case 'required':
        return `${member} is required.`;
      case 'type':
        return `${member} must be ${article(c.expected)}.`;
      case 'range':
        return `${member} must be ${bounds(c)}.`;
      case 'length':
        return `${member} must have a length ${bounds(c)}.`;
      case 'enum':
        return `${member} must be one of ${c.values.join(', ')}.`;
      case 'pattern':
        return `${member} is invalid.`;
      default: {
        const never: never = c;
        throw new Error(`unknown constraint ${JSON.stringify(never)}`);
      }
    }
  },
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
