/**
 * The `ses` section of a world file: verified identities and the account's sending limits, for one
 * account and region (the world's defaults unless named). Identities declared here are verified;
 * a domain verifies every address at it and at its subdomains.
 */
import * as z from 'zod';

export const SesWorldSchema = z
  .object({
    accountId: z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
    region: z.string().min(1).optional(),
    /** Email addresses (`alerts@example.com`) and domains (`example.com`). */
    identities: z.array(z.string().min(1)).default([]),
    /** Out of the sandbox: any recipient, and production quotas unless set below. */
    production: z.boolean().default(false),
    /** Recipients a rolling 24 hours; sandbox 200, production 50 000 by default; -1 is unlimited. */
    max24HourSend: z.number().int().min(-1).optional(),
    /** Recipients a second; sandbox 1, production 14 by default. */
    maxSendRate: z.number().positive().optional(),
    /** false pauses sending for the account (SendEmail → SendingPausedException). */
    sendingEnabled: z.boolean().default(true),
  })
  .strict();

export type SesWorld = z.input<typeof SesWorldSchema>;
