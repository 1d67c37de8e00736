/** Errors that carry what went wrong and where, so the log line and the DLQ message say it. */

export class EventValidationError extends Error {
  constructor(
    readonly eventKind: string,
    readonly problems: string[],
  ) {
    super(`malformed ${eventKind} event: ${problems.join('; ')}`);
    this.name = 'EventValidationError';
  }
}

/** Thrown at the end of an invocation in which some items failed, after the others were done. */
export class PartialFailureError extends Error {
  constructor(
    readonly operation: string,
    readonly failures: { item: string; error: string }[],
    readonly succeeded: number,
  ) {
    super(
      `${operation}: ${failures.length} failed, ${succeeded} succeeded: ` +
        failures.map((f) => `${f.item}: ${f.error}`).join('; '),
    );
    this.name = 'PartialFailureError';
  }
}

/**
 * An error's message for a log line or another error's text, whatever was thrown. With its class name
 * (`ThrottlingException: Rate exceeded`) unless `{ name: false }`: where the text around it already says what
 * failed (`tag harborpilot:policy: unknown policy …`, `not valid YAML: …`).
 */
export function errorMessage(err: unknown, options: { name?: boolean } = {}): string {
  if (err instanceof Error) {
    const named = options.name !== false && err.name && err.name !== 'Error';
    return named ? `${err.name}: ${err.message}` : err.message;
  }
  return String(err);
}
