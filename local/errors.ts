/** An error the local cloud returns in the wire shape of the service that raised it. */
export class AwsServiceError extends Error {
  constructor(
    /** AWS error code, e.g. ServiceNotFoundException, ThrottlingException. */
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}

export const validation = (message: string) => new AwsServiceError('ValidationException', message);
