// PLACEHOLDER (owner: ECS helper)
import { z } from 'zod';
export const EcsWorldSchema = z.object({}).passthrough();
export type EcsWorld = z.infer<typeof EcsWorldSchema>;
