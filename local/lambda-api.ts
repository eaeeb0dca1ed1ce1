import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { listenOnLoopback, readBody } from './http';
import type { LocalLambdas } from './lambda-runner';

/** An injected fault: `throttle` answers 429 TooManyRequestsException, `error` 500 ServiceException. */
export interface LambdaApiFault {
  kind: 'throttle' | 'error';
  /** how many requests it answers (default 1) */
  times?: number;
}

/** One Invoke request, as answered. */
export interface LambdaApiCall {
  functionName: string;
  invocationType: string;
  status: number;
  /** the error type answered (x-amzn-errortype), or `Unhandled` for a handler error */
  error?: string;
}

export interface LocalLambdaApi {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** the next `times` requests of `operation` (only 'Invoke' exists) fail as `kind` says */
  fault(operation: 'Invoke', fault: LambdaApiFault): void;
  clearFaults(): void;
  /** every Invoke received, in order */
  calls(): LambdaApiCall[];
  stop(): Promise<void>;
}

/** The runner's side the API needs: name resolution and the two ways to invoke. */
export type LambdaBackend = Pick<LocalLambdas, 'resolveFunctionName' | 'invoke' | 'invokeAsync'>;

// Lambda's payload limits: 6 MB synchronous, 1 MB asynchronous (raised from 256 KB in 2025).
const MAX_SYNC_PAYLOAD = 6 * 1024 * 1024;
const MAX_ASYNC_PAYLOAD = 1024 * 1024;
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/?]+)\/invocations(?:\?(.*))?$/;

/** A REST-JSON error: the type goes in x-amzn-errortype, the body carries Type and the message. */
class ApiError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * A local AWS Lambda API for `Invoke`, over the REST-JSON protocol the installed
 * @aws-sdk/client-lambda speaks (POST /2015-03-31/functions/{FunctionName}/invocations), so the
 * unmodified LambdaClient invokes the real handlers: RequestResponse runs the handler and answers
 * its result (a thrown error as 200 with X-Amz-Function-Error: Unhandled and the runtime's
 * `{errorType, errorMessage, trace}`), Event queues it with Lambda's async retries (202), DryRun
 * only checks (204).
 */
export async function startLocalLambdaApi(options: { lambdas: LambdaBackend; region?: string; accountId?: string }): Promise<LocalLambdaApi> {
  const { lambdas } = options;
  const notFound = (name: string) => {
    const arn = name.startsWith('arn:') ? name : `arn:aws:lambda:${options.region ?? 'us-east-1'}:${options.accountId ?? '000000000000'}:function:${name}`;
    return new ApiError('ResourceNotFoundException', 404, `Function not found: ${arn}`, { Type: 'User', Message: `Function not found: ${arn}` });
  };
  const faults: Array<LambdaApiFault['kind']> = [];
  const log: LambdaApiCall[] = [];

  const send = (res: ServerResponse, status: number, headers: Record<string, string>, body: string) => {
    res.writeHead(status, { 'x-amzn-requestid': randomUUID(), ...headers });
    res.end(body);
  };

  const invoke = async (
    rawName: string,
    query: URLSearchParams,
    headers: Record<string, string | string[] | undefined>,
    payload: string,
    res: ServerResponse,
    call: LambdaApiCall,
  ) => {
    const qualifier = query.get('Qualifier');
    const local = lambdas.resolveFunctionName(qualifier ? `${rawName}:${qualifier}` : rawName);
    if (!local) throw notFound(qualifier ? `${rawName}:${qualifier}` : rawName);
    const type = String(headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (!['RequestResponse', 'Event', 'DryRun'].includes(type)) {
      throw new ApiError('InvalidParameterValueException', 400, `Unsupported invocation type ${type}`, {
        Type: 'User',
        message: `Unsupported invocation type ${type}`,
      });
    }
    const limit = type === 'Event' ? MAX_ASYNC_PAYLOAD : MAX_SYNC_PAYLOAD;
    if (Buffer.byteLength(payload) > limit) {
      const message = `Request must be smaller than ${limit} bytes for the InvokeFunction operation`;
      throw new ApiError('RequestTooLargeException', 413, message, { Type: 'User', message });
    }
    let event: unknown;
    try {
      event = payload === '' ? {} : JSON.parse(payload);
    } catch (err) {
      const message = `Could not parse request body into json: ${(err as Error).message}`;
      throw new ApiError('InvalidRequestContentException', 400, message, { Type: 'User', message });
    }
    if (type === 'DryRun') {
      call.status = 204;
      send(res, 204, {}, '');
      return;
    }
    if (type === 'Event') {
      lambdas.invokeAsync(local, event);
      call.status = 202;
      send(res, 202, {}, '');
      return;
    }
    let result: unknown;
    try {
      result = await lambdas.invoke(local, event);
    } catch (err) {
      // A handler error is the function's answer, not an API error: 200 with the runtime's shape.
      const e = err instanceof Error ? err : new Error(String(err));
      const body = { errorType: e.name, errorMessage: e.message, trace: (e.stack ?? '').split('\n').filter((l) => l !== '') };
      call.status = 200;
      call.error = 'Unhandled';
      send(res, 200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '$LATEST' }, JSON.stringify(body));
      return;
    }
    call.status = 200;
    send(res, 200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' }, JSON.stringify(result ?? null));
  };

  const server = createServer((req, res) => {
    void (async () => {
      const match = INVOKE_PATH.exec(req.url ?? '');
      const call: LambdaApiCall = {
        functionName: match ? decodeURIComponent(match[1]!) : '',
        invocationType: String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse'),
        status: 0,
      };
      log.push(call);
      try {
        const payload = await readBody(req);
        if (req.method !== 'POST' || !match)
          throw new ApiError('UnknownOperationException', 404, `Unknown operation ${req.method} ${req.url}`, { Type: 'User', message: 'Unknown operation' });
        const fault = faults.shift();
        if (fault === 'throttle') {
          throw new ApiError(
            'TooManyRequestsException',
            429,
            'Rate Exceeded.',
            { Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', Type: 'User', message: 'Rate Exceeded.' },
            { 'retry-after': '1' },
          );
        }
        if (fault === 'error')
          throw new ApiError('ServiceException', 500, 'An internal error occurred (injected)', {
            Type: 'Service',
            Message: 'An internal error occurred (injected)',
          });
        await invoke(call.functionName, new URLSearchParams(match[2] ?? ''), req.headers, payload, res, call);
      } catch (err) {
        const e =
          err instanceof ApiError ? err : new ApiError('ServiceException', 500, (err as Error).message, { Type: 'Service', Message: (err as Error).message });
        call.status = e.status;
        call.error = e.type;
        send(res, e.status, { 'content-type': 'application/json', 'x-amzn-errortype': e.type, ...e.headers }, JSON.stringify(e.body));
      }
    })();
  });
  const listening = await listenOnLoopback(server);

  return {
    endpoint: listening.endpoint,
    fault(operation, fault) {
      if (operation !== 'Invoke') throw new Error(`local Lambda API: no operation ${String(operation)}`);
      for (let i = 0; i < (fault.times ?? 1); i++) faults.push(fault.kind);
    },
    clearFaults: () => void faults.splice(0),
    calls: () => log.map((c) => ({ ...c })),
    async stop() {
      await listening.close();
    },
  };
}
