/** EventBridge envelope and the helper that validates an event at a handler's boundary. */

import { EventValidationError } from '../errors';
import * as z from '../zod';

export const envelope = <D extends z.ZodMiniType>(source: string, detailType: string, detail: D) =>
  z.object({
    version: z.string(),
    id: z.string().check(z.minLength(1)),
    'detail-type': z.literal(detailType),
    source: z.literal(source),
    account: z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit account id')),
    time: z.iso.datetime(),
    region: z.string().check(z.minLength(1)),
    resources: z.array(z.string()),
    detail,
  });

export function parseEvent<S extends z.ZodMiniType>(
  schema: S,
  event: unknown,
  eventKind: string,
): z.infer<S> {
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
