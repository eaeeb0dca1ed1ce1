import { randomUUID } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { readBody } from './http';

/** An error in the AWS JSON protocols' shape (`__type`), so the SDK raises its typed exception. */
export class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export type JsonOperation = (body: Record<string, unknown>) => unknown;

export interface AwsJsonServiceOptions {
  /** the X-Amz-Target prefix, e.g. `AWSStepFunctions.` */
  targetPrefix: string;
  /** awsJson1_0 or awsJson1_1 */
  version: '1.0' | '1.1';
  operations: Record<string, JsonOperation>;
  /** runs before a known operation (fault injection may throw a ServiceError here) */
  beforeOperation?: (name: string) => void;
  /** the error type for an unexpected exception (HTTP 500) */
  internalErrorType: string;
}

/**
 * A local AWS service speaking an AWS JSON protocol: `POST /` with `X-Amz-Target: <prefix><Op>`,
 * a JSON object in, a JSON object out, errors as `{__type, message}` (also `Message`, which some
 * SDK clients read). Every local stand-in of a JSON-protocol service uses it.
 */
export function awsJsonServer(options: AwsJsonServiceOptions): Server {
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': `application/x-amz-json-${options.version}`, 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify(body));
  };
  return createServer((req, res) => {
    void (async () => {
      try {
        const target = String(req.headers['x-amz-target'] ?? '');
        const name = target.startsWith(options.targetPrefix) ? target.slice(options.targetPrefix.length) : '';
        const operation = Object.hasOwn(options.operations, name) ? options.operations[name] : undefined;
        const raw = await readBody(req);
        if (req.method !== 'POST' || !operation) throw new ServiceError('UnknownOperationException', `Unknown operation ${target || '(no X-Amz-Target)'}`);
        options.beforeOperation?.(name);
        let body: unknown;
        try {
          body = JSON.parse(raw || '{}');
        } catch {
          throw new ServiceError('SerializationException', 'Request body is not JSON');
        }
        if (typeof body !== 'object' || body === null || Array.isArray(body))
          throw new ServiceError('SerializationException', 'Request body is not a JSON object');
        send(res, 200, await operation(body as Record<string, unknown>));
      } catch (err) {
        const e = err instanceof ServiceError ? err : new ServiceError(options.internalErrorType, err instanceof Error ? err.message : String(err), 500);
        send(res, e.status, { __type: e.type, message: e.message, Message: e.message });
      }
    })();
  });
}

/** A request's optional string field; anything else than a string (or nothing) is a ValidationException. */
export function str(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ServiceError('ValidationException', `${field} must be a string`);
  return value;
}

/** Dates in the AWS JSON protocols: seconds since the epoch, with milliseconds as the fraction. */
export function epochSeconds(date: Date | undefined): number | undefined {
  return date === undefined ? undefined : date.getTime() / 1000;
}
