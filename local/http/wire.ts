/**
 * The wire shapes of responses and errors, per protocol, as the AWS SDK v3 and botocore (AWS CLI)
 * parse them:
 * - awsJson1_0/1_1: body `{"__type": Code, "message"}` and header `x-amzn-ErrorType: Code`
 *   (the SDK reads `__type` first, botocore reads `__type`);
 * - restJson1: header `x-amzn-ErrorType: Code` (read first by both) and body `{"message"}`;
 * - query (STS): `<ErrorResponse><Error><Type>Sender</Type><Code>..</Code><Message>..` + RequestId.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import { AwsServiceError } from '../errors';

export type Protocol = 'json' | 'rest' | 'query';

const MAX_BODY_BYTES = 16 * 1024 * 1024;

export class BodyTooLargeError extends Error {
  constructor() {
    super(`request body larger than ${MAX_BODY_BYTES} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLargeError());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** awsJson and restJson send timestamps as epoch seconds; a backend returning a Date still works. */
function jsonReplacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  return raw instanceof Date ? raw.getTime() / 1000 : value;
}

export function toJson(value: unknown): string {
  return JSON.stringify(value ?? {}, jsonReplacer);
}

export function requestId(res: ServerResponse): string {
  let id = res.getHeader('x-amzn-RequestId');
  if (typeof id !== 'string') {
    id = randomUUID();
    res.setHeader('x-amzn-RequestId', id);
  }
  return id;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, contentType: string): void {
  const text = toJson(body);
  requestId(res);
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendXml(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(xml) });
  res.end(xml);
}

/** Anything a backend throws becomes an AWS error: its own, a validation error, or an internal one. */
export function toServiceError(err: unknown): AwsServiceError {
  if (err instanceof AwsServiceError) return err;
  if (err instanceof z.ZodError) {
    const problems = err.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
    return new AwsServiceError('ValidationException', problems.join('; '));
  }
  if (err instanceof SyntaxError) {
    return new AwsServiceError(
      'SerializationException',
      'Start of structure or map found where not expected.',
    );
  }
  // A bug in the local cloud: say so in the log, and answer as AWS does for its own failures.
  console.error('[harborpilot local] internal error:', err);
  return new AwsServiceError('InternalFailure', (err as Error)?.message ?? String(err), 500);
}

export function sendError(
  res: ServerResponse,
  protocol: Protocol,
  error: AwsServiceError,
  options: { jsonContentType?: string; xmlns?: string; typePrefix?: string } = {},
): void {
  res.setHeader('x-amzn-ErrorType', error.code);
  switch (protocol) {
    case 'json':
      sendJson(
        res,
        error.status,
        { __type: `${options.typePrefix ?? ''}${error.code}`, message: error.message },
        options.jsonContentType ?? 'application/x-amz-json-1.1',
      );
      return;
    case 'rest':
      sendJson(res, error.status, { message: error.message }, 'application/json');
      return;
    case 'query': {
      const id = requestId(res);
      const type = error.status >= 500 ? 'Receiver' : 'Sender';
      sendXml(
        res,
        error.status,
        `<ErrorResponse xmlns="${options.xmlns ?? ''}"><Error><Type>${type}</Type><Code>${xmlEscape(error.code)}</Code>` +
          `<Message>${xmlEscape(error.message)}</Message></Error><RequestId>${id}</RequestId></ErrorResponse>`,
      );
      return;
    }
    default: {
      const never: never = protocol;
      throw new Error(`unknown protocol ${String(never)}`);
    }
  }
}

export function xmlEscape(text: string): string {
  const entities: Record<string, string> = {
    '<': '&lt;',
    '>': '&gt;',
    '&': '&amp;',
    "'": '&apos;',
    '"': '&quot;',
  };
  return text.replace(/[<>&'"]/g, (c) => entities[c] ?? c);
}
