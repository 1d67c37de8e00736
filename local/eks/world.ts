// PLACEHOLDER (owner: EKS helper)
import { z } from 'zod';
export const EksWorldSchema = z.object({}).passthrough();
export type EksWorld = z.infer<typeof EksWorldSchema>;
