/** `Scheduled Event` from aws.events (EventBridge schedule rules). */
import * as z from '../zod';
import { envelope } from './envelope';

export const ScheduledEvent = envelope('aws.events', 'Scheduled Event', z.looseObject({}));
export type ScheduledEvent = z.infer<typeof ScheduledEvent>;
