import { describe, expect, it } from 'vitest';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { S3EventRecord } from 'aws-lambda';
import type { FileStateStore } from '../../shared/core/state/file-state-store';
import { lineageMetadata } from '../../shared/core/state/lineage';
import { s3EventFor } from '../../shared/stages/reconcile/s3-event';
import { drainFailedEvents, type FailedEvent } from '../../shared/stages/reconcile/failed-events';

/* The reconciler's reading of the failed-events queue, with plain fakes of SQS, S3 and the store. */

const QUEUE = 'http://sqs.local/000000000000/failed-events';
const LANDED = {
  bucket: 'raw',
  key: 'landing/pos/ON/ON01_20261123_140000.tdf',
  versionId: 'v1',
  eTag: 'e1',
  size: 100,
  sequencer: '0A',
  eventTime: '2026-11-23T10:00:00.000Z',
};
const fnArn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

/** A queue of message bodies; receiving hides what it returns, deleting removes it. */
function fakeSqs(bodies: string[]) {
  const queue = bodies.map((body, i) => ({ Body: body, ReceiptHandle: `rh-${i}`, MessageId: `m-${i}`, received: false }));
  const deleted: string[] = [];
  let receives = 0;
  const sqs = {
    send: async (command: unknown) => {
      if (command instanceof ReceiveMessageCommand) {
        receives += 1;
        expect(command.input.QueueUrl).toBe(QUEUE);
        const out = queue.filter((m) => !m.received).slice(0, command.input.MaxNumberOfMessages ?? 1);
        for (const m of out) m.received = true;
        return { Messages: out.map(({ Body, ReceiptHandle, MessageId }) => ({ Body, ReceiptHandle, MessageId })) };
      }
      if (command instanceof DeleteMessageCommand) {
        expect(command.input.QueueUrl).toBe(QUEUE);
        deleted.push(command.input.ReceiptHandle!);
        return {};
      }
      throw new Error(`unexpected SQS command ${String(command)}`);
    },
  } as unknown as SQSClient;
  return { sqs, deleted, receives: () => receives };
}

/** S3 answering HEAD with these objects' metadata (by `bucket/key`); anything else is gone. */
function fakeS3(objects: Record<string, Record<string, string>> = {}) {
  const heads: string[] = [];
  const s3 = {
    send: async (command: unknown) => {
      if (!(command instanceof HeadObjectCommand)) throw new Error(`unexpected S3 command ${String(command)}`);
      const id = `${command.input.Bucket}/${command.input.Key}`;
      heads.push(`${id}${command.input.VersionId ? `?versionId=${command.input.VersionId}` : ''}`);
      const metadata = objects[id];
      if (!metadata) throw Object.assign(new Error('Not Found'), { name: 'NotFound' });
      return { Metadata: metadata, ContentLength: 1, ETag: '"x"' };
    },
  } as unknown as S3Client;
  return { s3, heads };
}

function fakeFiles() {
  const noted: Array<[string, string, string]> = [];
  const files = {
    noteError: async (key: string, versionId: string, error: string) => {
      noted.push([key, versionId, error]);
    },
  } as unknown as FileStateStore;
  return { files, noted };
}

/** A Lambda async invocation whose retries ran out, as its on-failure destination writes it. */
const asyncFailure = (functionArn: string, records: unknown[], response?: FailedEvent['responsePayload']): string =>
  JSON.stringify({
    requestContext: { functionArn, condition: 'RetriesExhausted', approximateInvokeCount: 3 },
    requestPayload: { Records: records },
    ...(response ? { responsePayload: response } : {}),
  });

const recordOf = (ref: Parameters<typeof s3EventFor>[0]): S3EventRecord => s3EventFor(ref).Records[0]!;

async function drain(bodies: string[], objects?: Record<string, Record<string, string>>, limit?: number) {
  const sqs = fakeSqs(bodies);
  const s3 = fakeS3(objects);
  const files = fakeFiles();
  const parked = await drainFailedEvents({ sqs: sqs.sqs, queueUrl: QUEUE, s3: s3.s3, rawBucket: 'raw', files: files.files }, limit);
  return { parked, deleted: sqs.deleted, receives: sqs.receives(), heads: s3.heads, noted: files.noted };
}

describe('draining the failed-events queue', () => {
  it('takes a failed validate of a landed version as that version, with the function and its error', async () => {
    const body = asyncFailure(`${fnArn('landfall-test-validate')}:$LATEST`, [recordOf(LANDED)], {
      errorType: 'TransientError',
      errorMessage: 'DynamoDB throttled',
    });
    const { parked, deleted, noted, heads } = await drain([body]);
    const error = 'landfall-test-validate: TransientError: DynamoDB throttled';
    expect(parked).toEqual({ failedFiles: [{ source: LANDED, error, functionName: 'landfall-test-validate' }], messages: 1 });
    expect(noted).toEqual([[LANDED.key, 'v1', error]]);
    expect(deleted).toEqual(['rh-0']);
    expect(heads).toEqual([]);
  });

  it('finds the landed version of a failed track from the report key, without reading S3', async () => {
    const body = asyncFailure(fnArn('landfall-test-track'), [recordOf({ bucket: 'raw', key: 'reports/pos/ON/ON01_20261123_140000.tdf@null.json' })]);
    const { parked, noted, heads } = await drain([body]);
    expect(parked.failedFiles).toEqual([
      {
        source: { bucket: 'raw', key: LANDED.key, eTag: '', size: 0, sequencer: '', eventTime: '' },
        error: 'landfall-test-track: Error: no error message',
        functionName: 'landfall-test-track',
      },
    ]);
    expect(noted).toEqual([[LANDED.key, 'null', 'landfall-test-track: Error: no error message']]);
    expect(heads).toEqual([]);
  });

  it("finds the landed version of a failed convert (or track of a Parquet) in the object's lineage, at the version named", async () => {
    const lineage = lineageMetadata({ source: LANDED, dataset: 'pos', fields: { province: 'ON' } });
    const validated = asyncFailure(
      fnArn('landfall-test-convert'),
      [recordOf({ bucket: 'raw', key: 'validated/pos/ON/ON01_20261123_140000.tdf', versionId: 'vv1' })],
      { errorType: 'RowCountMismatchError', errorMessage: 'off by one' },
    );
    const parquet = asyncFailure(fnArn('landfall-test-track'), [
      recordOf({ bucket: 'lake', key: 'processed/pos/dt=2026-11-23/province=ON/ON01_20261123_140000.parquet' }),
    ]);
    const { parked, heads, noted } = await drain([validated, parquet], {
      'raw/validated/pos/ON/ON01_20261123_140000.tdf': lineage,
      'lake/processed/pos/dt=2026-11-23/province=ON/ON01_20261123_140000.parquet': lineage,
    });
    expect(heads).toEqual([
      'raw/validated/pos/ON/ON01_20261123_140000.tdf?versionId=vv1',
      'lake/processed/pos/dt=2026-11-23/province=ON/ON01_20261123_140000.parquet',
    ]);
    expect(parked.failedFiles.map((f) => [f.source, f.functionName])).toEqual([
      [LANDED, 'landfall-test-convert'],
      [LANDED, 'landfall-test-track'],
    ]);
    expect(noted.map(([key, versionId]) => [key, versionId])).toEqual([
      [LANDED.key, 'v1'],
      [LANDED.key, 'v1'],
    ]);
  });

  it("skips what it cannot place (gone, not landfall's, malformed), and deletes the message anyway", async () => {
    const body = asyncFailure(fnArn('landfall-test-convert'), [
      recordOf({ bucket: 'raw', key: 'validated/gone.csv' }),
      recordOf({ bucket: 'raw', key: 'validated/foreign.csv' }),
      { eventName: 'ObjectCreated:Put' },
      null,
      recordOf(LANDED),
    ]);
    const { parked, deleted, noted } = await drain([body], { 'raw/validated/foreign.csv': { owner: 'someone else' } });
    expect(parked.failedFiles.map((f) => f.source)).toEqual([LANDED]);
    expect(noted).toHaveLength(1);
    expect(deleted).toEqual(['rh-0']);
  });

  it('keeps the earliest arrival of the stream batches the resolver gave up on', async () => {
    const lost = (first: string) =>
      JSON.stringify({
        requestContext: { functionArn: fnArn('landfall-test-resolve'), condition: 'RetryAttemptsExhausted' },
        DDBStreamBatchInfo: { approximateArrivalOfFirstRecord: first, approximateArrivalOfLastRecord: first, batchSize: 5 },
      });
    const { parked, noted } = await drain([lost('2026-11-23T10:05:00Z'), lost('2026-11-23T09:59:00Z'), lost('2026-11-23T10:01:00Z')]);
    expect(parked).toEqual({ failedFiles: [], lostStreamSince: '2026-11-23T09:59:00Z', messages: 3 });
    expect(noted).toEqual([]);
  });

  it("counts and deletes a message that is not one of Lambda's", async () => {
    const { parked, deleted } = await drain(['not json', '{}', '[]', '5', '"text"']);
    expect(parked).toEqual({ failedFiles: [], messages: 5 });
    expect(deleted).toEqual(['rh-0', 'rh-1', 'rh-2', 'rh-3', 'rh-4']);
  });

  // A body that parses but is not of the shape AWS writes (the JSON literal null once threw a
  // TypeError before the delete) must not stop the drain: the message would come back after its
  // visibility timeout and fail every reconciler pass, the poison event the drain means to end.
  it('counts and deletes a message whose body is null', async () => {
    const { parked, deleted } = await drain(['null', '{}']);
    expect(parked).toEqual({ failedFiles: [], messages: 2 });
    expect(deleted).toEqual(['rh-0', 'rh-1']);
  });

  it('counts and deletes a message whose fields are not of the shapes AWS writes', async () => {
    const bodies = [
      { requestContext: null, requestPayload: null, responsePayload: null, DDBStreamBatchInfo: null },
      { requestContext: { functionArn: 5 }, requestPayload: { Records: 5 }, DDBStreamBatchInfo: { approximateArrivalOfFirstRecord: 5 } },
      { requestContext: { functionArn: {} }, requestPayload: { Records: {} }, responsePayload: { errorType: [], errorMessage: {} }, DDBStreamBatchInfo: [] },
      { requestContext: [], requestPayload: { Records: 'landing/pos/ON/ON01_20261123_140000.tdf' }, responsePayload: 'Error' },
    ].map((body) => JSON.stringify(body));
    const { parked, deleted, noted } = await drain(bodies);
    expect(parked).toEqual({ failedFiles: [], messages: 4 });
    expect(deleted).toEqual(['rh-0', 'rh-1', 'rh-2', 'rh-3']);
    expect(noted).toEqual([]);
  });

  it('reads until the queue is empty, ten at a time', async () => {
    const bodies = Array.from({ length: 23 }, () => '{}');
    const { parked, deleted, receives } = await drain(bodies);
    expect(parked.messages).toBe(23);
    expect(deleted).toHaveLength(23);
    // 10 + 10 + 3, then an empty receive ends the pass
    expect(receives).toBe(4);
  });

  it('stops once it has read its limit, leaving the rest for the next pass', async () => {
    const { parked, receives } = await drain(
      Array.from({ length: 30 }, () => '{}'),
      undefined,
      20,
    );
    expect(parked.messages).toBe(20);
    expect(receives).toBe(2);
  });

  // Each receive asks for no more than is left of the limit (it once asked for 10, so a limit of 5
  // read 10).
  it('reads no more than a limit that is not a multiple of ten', async () => {
    const { parked } = await drain(
      Array.from({ length: 30 }, () => '{}'),
      undefined,
      5,
    );
    expect(parked.messages).toBeLessThanOrEqual(5);
    const {
      parked: more,
      deleted,
      receives,
    } = await drain(
      Array.from({ length: 30 }, () => '{}'),
      undefined,
      25,
    );
    expect(more.messages).toBe(25);
    expect(deleted).toHaveLength(25);
    // 10 + 10 + 5
    expect(receives).toBe(3);
  });
});
