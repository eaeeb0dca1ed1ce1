import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Context, S3Event, S3EventRecord } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import type { ObjectRef } from '../../shared/core/s3/event-records';
import { s3RecordHandler } from '../../shared/core/runtime/s3-handler';

/* The handler of the S3-triggered functions, with plain fakes for the processor: no AWS. */

beforeAll(() => {
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
});
afterAll(() => {
  vi.unstubAllEnvs();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const context = {
  functionName: 'landfall-test-validate',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:landfall-test-validate',
  memoryLimitInMB: '1024',
  awsRequestId: 'request-1',
  logGroupName: '/aws/lambda/landfall-test-validate',
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 60_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;

function record(key: string, over: { bucket?: string; versionId?: string; eTag?: string } = {}): S3EventRecord {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: '2026-11-23T10:00:00.000Z',
    eventName: 'ObjectCreated:Put',
    userIdentity: { principalId: 'x' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': 'r', 'x-amz-id-2': 'i' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'landed',
      bucket: { name: over.bucket ?? 'raw', ownerIdentity: { principalId: 'x' }, arn: `arn:aws:s3:::${over.bucket ?? 'raw'}` },
      object: { key, size: 10, eTag: over.eTag ?? '"abc"', sequencer: '0A', ...(over.versionId ? { versionId: over.versionId } : {}) },
    },
  } as S3EventRecord;
}

const eventOf = (...records: unknown[]) => ({ Records: records }) as S3Event;

/** A processor that records the refs it saw and fails on the keys it is told to. */
function processor(fail: Record<string, unknown> = {}) {
  const seen: ObjectRef[] = [];
  const process = async (ref: ObjectRef) => {
    seen.push(ref);
    if (ref.key in fail) throw fail[ref.key];
    return { key: ref.key };
  };
  return { seen, process };
}

class StageError extends Error {
  override readonly name = 'StageError';
}

describe('an S3 record handler', () => {
  it('processes each record in order, with its key decoded, and returns their results', async () => {
    const { seen, process } = processor();
    const handler = s3RecordHandler('validate', () => process);
    const out = await handler(
      eventOf(record('landing/pos/ON/ON01_20261123_140000.tdf', { versionId: 'v1' }), record('landing/notes+from+head+office+%2B1.txt')),
      context,
    );
    expect(out).toEqual({ processed: 2, results: [{ key: 'landing/pos/ON/ON01_20261123_140000.tdf' }, { key: 'landing/notes from head office +1.txt' }] });
    expect(seen).toEqual([
      {
        bucket: 'raw',
        key: 'landing/pos/ON/ON01_20261123_140000.tdf',
        versionId: 'v1',
        eTag: 'abc',
        size: 10,
        sequencer: '0A',
        eventTime: '2026-11-23T10:00:00.000Z',
      },
      { bucket: 'raw', key: 'landing/notes from head office +1.txt', eTag: 'abc', size: 10, sequencer: '0A', eventTime: '2026-11-23T10:00:00.000Z' },
    ]);
    // an unversioned bucket's record names no version (not the string "null")
    expect(seen[1]).not.toHaveProperty('versionId');
  });

  it("sets its processor up once per container, with the first invocation's context", async () => {
    const { process } = processor();
    const setup = vi.fn((_ctx: Context) => process);
    const handler = s3RecordHandler('convert', setup);
    await handler(eventOf(record('validated/a.csv')), context);
    await handler(eventOf(record('validated/b.csv')), { ...context, awsRequestId: 'request-2' });
    expect(setup).toHaveBeenCalledTimes(1);
    expect(setup).toHaveBeenCalledWith(context);
  });

  it('sets up again on the next invocation when the set-up failed', async () => {
    const { process } = processor();
    const setup = vi.fn().mockImplementationOnce(() => {
      throw new Error('missing setting: environment variable RAW_BUCKET is not set');
    });
    setup.mockImplementation(() => process);
    const handler = s3RecordHandler('validate', setup);
    await expect(handler(eventOf(record('landing/a.csv')), context)).rejects.toThrow('RAW_BUCKET');
    expect(await handler(eventOf(record('landing/a.csv')), context)).toEqual({ processed: 1, results: [{ key: 'landing/a.csv' }] });
    expect(setup).toHaveBeenCalledTimes(2);
  });

  it('returns nothing processed for an event without records', async () => {
    const { seen, process } = processor();
    const handler = s3RecordHandler('track', () => process);
    expect(await handler(eventOf(), context)).toEqual({ processed: 0, results: [] });
    expect(await handler({} as S3Event, context)).toEqual({ processed: 0, results: [] });
    expect(await handler(undefined as unknown as S3Event, context)).toEqual({ processed: 0, results: [] });
    expect(seen).toEqual([]);
  });

  it('skips malformed records with an error log, and processes the others without failing the invocation', async () => {
    const errors = vi.spyOn(Logger.prototype, 'error');
    const { seen, process } = processor();
    const handler = s3RecordHandler('validate', () => process);
    const noBucket = record('landing/x.csv', { bucket: '' });
    const noKey = record('landing/y.csv');
    delete (noKey.s3.object as { key?: string }).key;
    const numericKey = record('landing/z.csv');
    (numericKey.s3.object as { key: unknown }).key = 42;
    // S3 encodes every "%" of a key: a lone one cannot be decoded
    const undecodable = record('landing/100%.csv');
    const out = await handler(eventOf(null, { eventName: 'ObjectCreated:Put' }, noBucket, record('landing/good.csv'), noKey, numericKey, undecodable), context);
    expect(out).toEqual({ processed: 1, results: [{ key: 'landing/good.csv' }] });
    expect(seen.map((r) => r.key)).toEqual(['landing/good.csv']);
    const skipped = errors.mock.calls.filter(([message]) => message === 'skipping a malformed S3 event record');
    expect(skipped).toHaveLength(6);
    expect(skipped.map(([, extra]) => ((extra as { error: Error }).error as Error).name)).toEqual([
      'MalformedEventError',
      'MalformedEventError',
      'MalformedEventError',
      'MalformedEventError',
      'MalformedEventError',
      'URIError',
    ]);
  });

  it("processes every record when one fails, then throws that record's own error", async () => {
    const failure = new StageError('pos/ON/ON01_20261123_140000.tdf: the header names no column store_id');
    const { seen, process } = processor({ 'landing/b.csv': failure });
    const handler = s3RecordHandler('validate', () => process);
    const invocation = handler(eventOf(record('landing/a.csv'), record('landing/b.csv'), record('landing/c.csv')), context);
    await expect(invocation).rejects.toBe(failure);
    expect(seen.map((r) => r.key)).toEqual(['landing/a.csv', 'landing/b.csv', 'landing/c.csv']);
  });

  it('throws an AggregateError naming each error when several records fail', async () => {
    const first = new StageError('first broke');
    const second = new TypeError('second broke');
    const { seen, process } = processor({ 'landing/a.csv': first, 'landing/c.csv': second, 'landing/d.csv': 'a bare string' });
    const handler = s3RecordHandler('convert', () => process);
    const err = await handler(eventOf(record('landing/a.csv'), record('landing/b.csv'), record('landing/c.csv'), record('landing/d.csv')), context).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AggregateError);
    expect((err as AggregateError).errors).toEqual([first, second, 'a bare string']);
    expect((err as AggregateError).errors[0]).toBe(first);
    expect((err as AggregateError).message).toBe('3 of 4 records failed in convert: StageError: first broke; TypeError: second broke; a bare string');
    expect(seen).toHaveLength(4);
  });

  it('counts the failures against every record of the event, the skipped ones included', async () => {
    const { process } = processor({ 'landing/a.csv': new Error('a'), 'landing/b.csv': new Error('b') });
    const handler = s3RecordHandler('track', () => process);
    await expect(handler(eventOf(record('landing/a.csv'), null, record('landing/b.csv')), context)).rejects.toThrow(
      /^2 of 3 records failed in track: Error: a; Error: b$/,
    );
  });

  it("keeps the AggregateError's message within 4000 characters", async () => {
    const words = 'x'.repeat(3000);
    const { process } = processor({ 'landing/a.csv': new Error(words), 'landing/b.csv': new Error(words), 'landing/c.csv': new Error(words) });
    const handler = s3RecordHandler('validate', () => process);
    const err = (await handler(eventOf(record('landing/a.csv'), record('landing/b.csv'), record('landing/c.csv')), context).catch(
      (e: unknown) => e,
    )) as AggregateError;
    expect(err.message).toHaveLength(4000);
    expect(err.message.startsWith(`3 of 3 records failed in validate: Error: ${words}; Error: x`)).toBe(true);
    expect(err.errors).toHaveLength(3);
  });
});
