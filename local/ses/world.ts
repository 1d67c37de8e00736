// PLACEHOLDER (owner: ECR/SES helper)
import { z } from 'zod';
export const SesWorldSchema = z.object({}).passthrough();
export type SesWorld = z.infer<typeof SesWorldSchema>;
