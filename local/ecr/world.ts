// PLACEHOLDER (owner: ECR/SES helper)
import { z } from 'zod';
export const EcrWorldSchema = z.object({}).passthrough();
export type EcrWorld = z.infer<typeof EcrWorldSchema>;
