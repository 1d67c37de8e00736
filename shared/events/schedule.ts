/** `Scheduled Event` from aws.events (EventBridge schedule rules). */
import * as z from 'zod';
import { envelope } from './envelope';

export const ScheduledEvent = envelope('aws.events', 'Scheduled Event', z.object({}).passthrough());
export type ScheduledEvent = z.infer<typeof ScheduledEvent>;
