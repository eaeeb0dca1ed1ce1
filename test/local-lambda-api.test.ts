import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidRequestContentException,
  InvokeCommand,
  LambdaClient,
  RequestTooLargeException,
  ResourceNotFoundException,
  ServiceException,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda';
import { startLocalLambdaApi, type LocalLambdaApi } from '../local/lambda-api';
import { LocalLambdas, type AsyncFailureRecord } from '../local/lambda-runner';
import type { LocalFunction } from '../deploy/serverless-config';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test-secret' };
const decode = (payload: Uint8Array | undefined) => JSON.parse(Buffer.from(payload ?? []).toString('utf8')) as unknown;
const encode = (value: unknown) => Buffer.from(JSON.stringify(value));

// Two real handler modules, run by the real runner: one answers, one throws.
const ECHO = `export const handler = async (event, context) => {
  (globalThis.landfallEchoSeen ??= []).push(event);
  return { echo: event, functionName: context.functionName, arn: context.invokedFunctionArn };
};`;
const BOOM = `export const handler = async (event, context) => {
  (globalThis.landfallBoomRequests ??= []).push(context.awsRequestId);
  const err = new Error('boom: ' + (event.why ?? 'no reason'));
  err.name = 'BoomError';
  throw err;
};`;

const seen = () => ((globalThis as { landfallEchoSeen?: unknown[] }).landfallEchoSeen ??= []);

describe('local Lambda API (real LambdaClient over REST-JSON, real handlers through LocalLambdas)', () => {
  let dir: string;
  let lambdas: LocalLambdas;
  let api: LocalLambdaApi;
  let client: LambdaClient;
  let once: LambdaClient;
  const destination: AsyncFailureRecord[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'landfall-lambda-api-'));
    await writeFile(join(dir, 'echo.mjs'), ECHO);
    await writeFile(join(dir, 'boom.mjs'), BOOM);
    const fn = (name: string): LocalFunction => ({
      name,
      sourceModule: join(dir, `${name}.mjs`),
      memoryMb: 128,
      timeoutSeconds: 10,
      triggers: [],
      streams: [],
    });
    lambdas = new LocalLambdas([fn('echo'), fn('boom')], {
      namePrefix: 'landfall-test',
      region: 'us-east-1',
      accountId: '000000000000',
      retryDelaysMs: [10, 20],
    });
    lambdas.setFailureDestination(async (record) => void destination.push(record));
    api = await startLocalLambdaApi({ lambdas, region: 'us-east-1', accountId: '000000000000' });
    client = new LambdaClient({ endpoint: api.endpoint, region: 'us-east-1', credentials });
    once = new LambdaClient({ endpoint: api.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  });
  afterAll(async () => {
    client?.destroy();
    once?.destroy();
    await api?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('invokes synchronously by name, deployed name or ARN and answers the handler result', async () => {
    const names = [
      'echo',
      'landfall-test-echo',
      'arn:aws:lambda:us-east-1:000000000000:function:landfall-test-echo',
      'arn:aws:lambda:us-east-1:000000000000:function:landfall-test-echo:$LATEST',
      '000000000000:function:echo',
    ];
    for (const FunctionName of names) {
      const out = await client.send(new InvokeCommand({ FunctionName, Payload: encode({ hello: FunctionName }) }));
      expect(out.StatusCode).toBe(200);
      expect(out.FunctionError).toBeUndefined();
      expect(out.ExecutedVersion).toBe('$LATEST');
      expect(decode(out.Payload)).toEqual({
        echo: { hello: FunctionName },
        functionName: 'landfall-test-echo',
        arn: 'arn:aws:lambda:us-east-1:000000000000:function:landfall-test-echo',
      });
    }
    const qualified = await client.send(new InvokeCommand({ FunctionName: 'echo', Qualifier: '$LATEST', Payload: encode({}) }));
    expect(qualified.StatusCode).toBe(200);
  });

  it('answers a handler error as AWS does: 200, X-Amz-Function-Error Unhandled, the runtime error shape', async () => {
    const out = await client.send(new InvokeCommand({ FunctionName: 'boom', Payload: encode({ why: 'disk full' }) }));
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe('Unhandled');
    const body = decode(out.Payload) as { errorType: string; errorMessage: string; trace: string[] };
    expect(body).toMatchObject({ errorType: 'BoomError', errorMessage: 'boom: disk full' });
    expect(body.trace[0]).toBe('BoomError: boom: disk full');
  });

  it('queues an Event invocation (202) that runs with async retries, and sends the exhausted one to the failure destination', async () => {
    const before = seen().length;
    const ok = await client.send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'Event', Payload: encode({ Records: [{ n: 1 }] }) }));
    expect(ok.StatusCode).toBe(202);
    expect(Buffer.from(ok.Payload ?? []).length).toBe(0);
    const event = { Records: [{ s3: { object: { key: 'landing/x.csv' } } }] };
    const failing = await client.send(new InvokeCommand({ FunctionName: 'landfall-test-boom', InvocationType: 'Event', Payload: encode(event) }));
    expect(failing.StatusCode).toBe(202);
    await lambdas.settled(100, 10_000);
    expect(seen().slice(before)).toEqual([{ Records: [{ n: 1 }] }]);
    expect(lambdas.failures.at(-1)).toMatchObject({ functionName: 'boom', attempts: 3, error: 'BoomError: boom: no reason' });
    expect(destination).toHaveLength(1);
    const record = destination[0]!;
    expect(record).toMatchObject({
      version: '1.0',
      requestContext: {
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:landfall-test-boom:$LATEST',
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
      },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'BoomError', errorMessage: 'boom: no reason' },
    });
    // one request id across the three attempts, as Lambda keeps it for an async invocation's retries
    const requestIds = (globalThis as { landfallBoomRequests?: string[] }).landfallBoomRequests!.slice(-3);
    expect(requestIds).toEqual([record.requestContext.requestId, record.requestContext.requestId, record.requestContext.requestId]);
    expect(Date.parse(record.timestamp)).not.toBeNaN();
  });

  it('only checks on DryRun (204), without running the handler', async () => {
    const count = lambdas.invocations.get('echo') ?? 0;
    const out = await client.send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'DryRun' }));
    expect(out.StatusCode).toBe(204);
    expect(lambdas.invocations.get('echo') ?? 0).toBe(count);
  });

  it('refuses unknown functions, other qualifiers, bad JSON and oversized async payloads with typed errors', async () => {
    const missing = await client.send(new InvokeCommand({ FunctionName: 'nope', Payload: encode({}) })).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect((missing as Error).message).toBe('Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope');
    await expect(client.send(new InvokeCommand({ FunctionName: 'echo', Qualifier: '7' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(client.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{not json') }))).rejects.toBeInstanceOf(
      InvalidRequestContentException,
    );
    const big = encode({ blob: 'x'.repeat(1024 * 1024) });
    await expect(client.send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'Event', Payload: big }))).rejects.toBeInstanceOf(
      RequestTooLargeException,
    );
  });

  it('injects throttling (429 TooManyRequestsException) and service errors (500 ServiceException)', async () => {
    api.fault('Invoke', { kind: 'throttle' });
    const throttled = await once.send(new InvokeCommand({ FunctionName: 'echo', Payload: encode({}) })).catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(TooManyRequestsException);
    expect(throttled).toMatchObject({ Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', $metadata: { httpStatusCode: 429 } });
    api.fault('Invoke', { kind: 'error' });
    await expect(once.send(new InvokeCommand({ FunctionName: 'echo', Payload: encode({}) }))).rejects.toBeInstanceOf(ServiceException);
    // the SDK retries both: two faults, then the invocation goes through
    api.fault('Invoke', { kind: 'throttle' });
    api.fault('Invoke', { kind: 'error' });
    const calls = api.calls().length;
    const out = await client.send(new InvokeCommand({ FunctionName: 'echo', Payload: encode({ after: 'faults' }) }));
    expect(decode(out.Payload)).toMatchObject({ echo: { after: 'faults' } });
    expect(
      api
        .calls()
        .slice(calls)
        .map((c) => c.status),
    ).toEqual([429, 500, 200]);
  });
});
