import { afterEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { compilePipeline } from '../../shared/core/config/load-config';
import { retailConfig } from '../../examples/retail/config';
const pipelineConfig = retailConfig();
import type { ObjectRef } from '../../shared/core/s3/event-records';
import type { FileState, TransitionDetails } from '../../shared/core/state/file-state';
import type { FileStateStore } from '../../shared/core/state/file-state-store';
import { trackObject } from '../../shared/stages/track/track-object';
import { convertValidatedObject, RowCountMismatchError } from '../../shared/stages/convert/convert-object';
import { lineageMetadata } from '../../shared/core/state/lineage';
import { Readable } from 'node:stream';
import { validateLandedObject } from '../../shared/stages/validate/validate-object';

/* Error paths only (aws-sdk-client-mock): the happy paths run against real servers elsewhere. */

const s3Mock = mockClient(S3Client);
afterEach(() => s3Mock.reset());

const ref: ObjectRef = {
  bucket: 'raw',
  key: 'landing/pos/ON/ON01_20261123_140000.tdf',
  versionId: 'v1',
  eTag: 'e',
  size: 10,
  sequencer: '01',
  eventTime: '2026-11-23T10:00:00Z',
};

/** Records what a handler asked the store to do. */
function recordingStore() {
  const transitions: Array<{ state: FileState; details?: TransitionDetails }> = [];
  const store = {
    receive: async () => {
      transitions.push({ state: 'RECEIVED' });
      return { kind: 'new' as const };
    },
    recordTransition: async (_source: unknown, state: FileState, details?: TransitionDetails) => {
      transitions.push({ state, ...(details ? { details } : {}) });
      return 'applied' as const;
    },
  } as unknown as FileStateStore;
  return { store, transitions };
}

const serverError = () =>
  new S3ServiceException({ name: 'InternalError', $fault: 'server', $metadata: { httpStatusCode: 500 }, message: 'We encountered an internal error' });

describe('validate when S3 fails', () => {
  it('throws on a server error so that Lambda retries, after recording RECEIVED and nothing else', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({ KeyCount: 0 });
    s3Mock.on(GetObjectCommand).rejects(serverError());
    const { store, transitions } = recordingStore();
    await expect(
      validateLandedObject(ref, { s3: new S3Client({ region: 'us-east-1' }), store, pipeline: compilePipeline(pipelineConfig), rawBucket: 'raw' }),
    ).rejects.toThrow('internal error');
    expect(transitions.map((t) => t.state)).toEqual(['RECEIVED']);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('reports a version deleted before validation as REJECTED (unreadable), without throwing', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({ KeyCount: 0 });
    s3Mock.on(GetObjectCommand).rejects(Object.assign(new Error('The specified version does not exist.'), { name: 'NoSuchVersion' }));
    s3Mock.on(PutObjectCommand).resolves({});
    const { store } = recordingStore();
    const result = await validateLandedObject(ref, {
      s3: new S3Client({ region: 'us-east-1' }),
      store,
      pipeline: compilePipeline(pipelineConfig),
      rawBucket: 'raw',
    });
    expect(result).toMatchObject({ kind: 'reported', report: { state: 'REJECTED', reason: expect.stringContaining('unreadable') } });
    const put = s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(put.Key).toBe('reports/pos/ON/ON01_20261123_140000.tdf@v1.json');
  });
});

describe('track with objects it did not write', () => {
  const deps = () => ({ s3: new S3Client({ region: 'us-east-1' }), ...recordingStore(), rawBucket: 'raw', lakeBucket: 'lake' });

  it('ignores a report that is not JSON instead of retrying forever', async () => {
    s3Mock.on(GetObjectCommand).callsFake(async () => ({
      Body: (async function* () {
        yield Buffer.from('not json');
      })(),
    }));
    const d = deps();
    const result = await trackObject({ ...ref, bucket: 'raw', key: 'reports/x.json' }, d);
    expect(result).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('not JSON') });
    expect(d.transitions).toEqual([]);
  });

  it('ignores a Parquet file without lineage metadata', async () => {
    s3Mock.on(HeadObjectCommand).resolves({ Metadata: {}, ContentLength: 4 });
    const d = deps();
    expect(await trackObject({ ...ref, bucket: 'lake', key: 'processed/pos/x.parquet' }, d)).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('no landfall lineage'),
    });
  });

  it('throws on a throttled read so that Lambda retries', async () => {
    s3Mock
      .on(HeadObjectCommand)
      .rejects(new S3ServiceException({ name: 'SlowDown', $fault: 'server', $metadata: { httpStatusCode: 503 }, message: 'Please reduce your request rate.' }));
    await expect(trackObject({ ...ref, bucket: 'lake', key: 'processed/pos/x.parquet' }, deps())).rejects.toThrow('reduce your request rate');
  });
});

describe('convert with a validated object that does not match its lineage', () => {
  it('refuses to upload a Parquet with another row count than validate wrote (a cut-short read)', async () => {
    const source = { ...ref, key: 'landing/pos/ON/ON01_20261123_140000.tdf' };
    const metadata = lineageMetadata({ source, dataset: 'pos', fields: { province: 'ON', store: 'ON01', date: '2026-11-23', time: '140000' }, rows: 5 });
    s3Mock.on(HeadObjectCommand).resolves({ Metadata: metadata, ContentLength: 120 });
    s3Mock.on(ListObjectsV2Command).resolves({ KeyCount: 0 });
    const csv =
      'store_id,item_id,transaction_date,transaction_code,amount\nON01,I0001,2026-11-23,4,1.00\nON01,I0002,2026-11-23,5,2.00\nON01,I0003,2026-11-23,6,3.00\n';
    s3Mock.on(GetObjectCommand).callsFake(async () => ({ Body: Readable.from([Buffer.from(csv)]), Metadata: metadata }));
    const deps = { s3: new S3Client({ region: 'us-east-1' }), pipeline: compilePipeline(pipelineConfig), lakeBucket: 'lake', functionMemoryMb: 512 };
    await expect(convertValidatedObject({ ...ref, key: 'validated/pos/ON/ON01_20261123_140000.tdf' }, deps)).rejects.toThrow(RowCountMismatchError);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});
