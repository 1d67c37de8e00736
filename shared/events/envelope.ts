/** EventBridge envelope and the helper that validates an event at a handler's boundary. */
import * as z from 'zod';
import { EventValidationError } from '../errors';

export const envelope = <D extends z.ZodType>(source: string, detailType: string, detail: D) =>
  z.object({
    version: z.string(),
    id: z.string().min(1),
    'detail-type': z.literal(detailType),
    source: z.literal(source),
    account: z.string().regex(/^\d{12}$/, 'must be a 12-digit account id'),
    time: z.iso.datetime(),
    region: z.string().min(1),
    resources: z.array(z.string()),
    detail,
  });

export function parseEvent<S extends z.ZodType>(schema: S, event: unknown, eventKind: string): z.infer<S> {
  const result = schema.safeParse(event);
  if (!result.success) {
    throw new EventValidationError(
      eventKind,
      result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(event)'}: ${i.message}`),
    );
  }
  return result.data;
}

/** The id of the event being handled (EventBridge sets one on every event, schedules included). */
export function eventIdOf(event: unknown): string {
  const id = (event as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id !== '' ? id : 'unknown';
}
