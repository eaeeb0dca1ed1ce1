import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { compilePipeline } from '../../shared/core/config/load-config';
import { retailConfig } from '../../examples/retail/config';
const pipelineConfig = retailConfig();
import { convertValidatedObject, placeAgainst } from '../../shared/stages/convert/convert-object';
import type { ObjectRef } from '../../shared/core/s3/event-records';
import { uploadFile, WriteConflictError } from '../../shared/core/s3/object-io';
import type { SourceVersion } from '../../shared/core/state/file-state';
import { lineageMetadata } from '../../shared/core/state/lineage';

const landed = (
  versionId: string | undefined,
  sequencer: string,
  eTag = `etag-${versionId}`,
  key = 'landing/pos/ON/ON01_20261123_140000.tdf',
): SourceVersion => ({
  bucket: 'raw',
  key,
  ...(versionId ? { versionId } : {}),
  eTag,
  size: 10,
  sequencer,
  eventTime: '2026-11-23T10:00:00Z',
});

describe('placeAgainst: what a convert may do to the Parquet already at its key', () => {
  it('replaces nothing or a Parquet without lineage', () => {
    expect(placeAgainst(landed('v1', '0A'), undefined)).toBe('replace');
  });

  it('recognises the same landed version (a redelivery)', () => {
    expect(placeAgainst(landed('v1', '0A'), landed('v1', '0A'))).toBe('already-converted');
    // an unversioned raw bucket: the version is "null" on both sides, the ETag tells them apart
    expect(placeAgainst(landed(undefined, '0A', 'e1'), landed(undefined, '0A', 'e1'))).toBe('already-converted');
    expect(placeAgainst(landed(undefined, '0B', 'e2'), landed(undefined, '0A', 'e1'))).toBe('replace');
  });

  it('never replaces a newer version of the key, by sequencer (hex of varying length)', () => {
    expect(placeAgainst(landed('v1', '0A'), landed('v2', '0B'))).toBe('superseded');
    expect(placeAgainst(landed('v1', 'FF'), landed('v2', '100'))).toBe('superseded');
    expect(placeAgainst(landed('v1', '00000000000000FF'), landed('v2', '100'))).toBe('superseded');
  });

  it('replaces an older version', () => {
    expect(placeAgainst(landed('v2', '0B'), landed('v1', '0A'))).toBe('replace');
    expect(placeAgainst(landed('v2', '100'), landed('v1', 'FF'))).toBe('replace');
  });

  it('replaces when the order cannot be known: another landed key, or a sequencer missing', () => {
    expect(placeAgainst(landed('v1', '0A'), landed('v9', 'FF', 'e', 'landing/pos/ON/other/ON01_20261123_140000.tdf'))).toBe('replace');
    expect(placeAgainst(landed('v1', '0A'), landed('v2', ''))).toBe('replace');
    expect(placeAgainst(landed('v1', ''), landed('v2', '0B'))).toBe('replace');
  });
});

/* Error paths only (aws-sdk-client-mock): the races themselves run against MinIO in test/processed-order.test.ts. */

const s3Mock = mockClient(S3Client);
afterEach(() => s3Mock.reset());

const conflict = (name: 'PreconditionFailed' | 'ConditionalRequestConflict', status: 412 | 409) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: `${name}` });

describe('uploadFile with a condition when S3 refuses', () => {
  const small = async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'landfall-unit-')), 'f.bin');
    await writeFile(path, 'x');
    return path;
  };
  const client = () => new S3Client({ region: 'us-east-1' });

  it('turns 412 and 409 into WriteConflictError, and sends the condition', async () => {
    s3Mock.on(PutObjectCommand).rejectsOnce(conflict('PreconditionFailed', 412)).rejectsOnce(conflict('ConditionalRequestConflict', 409));
    await expect(uploadFile(client(), 'lake', 'k', await small(), {}, 'x', { ifMatch: '"e1"' })).rejects.toBeInstanceOf(WriteConflictError);
    await expect(uploadFile(client(), 'lake', 'k', await small(), {}, 'x', { ifNoneMatch: '*' })).rejects.toBeInstanceOf(WriteConflictError);
    const inputs = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => [i.IfMatch, i.IfNoneMatch])).toEqual([
      ['"e1"', undefined],
      [undefined, '*'],
    ]);
  });

  it('a 404 is a conflict under If-Match (the object seen is gone), not otherwise', async () => {
    const gone = () => new S3ServiceException({ name: 'NoSuchKey', $fault: 'client', $metadata: { httpStatusCode: 404 }, message: 'gone' });
    s3Mock.on(PutObjectCommand).rejectsOnce(gone()).rejectsOnce(gone());
    await expect(uploadFile(client(), 'lake', 'k', await small(), {}, 'x', { ifMatch: '"e1"' })).rejects.toBeInstanceOf(WriteConflictError);
    await expect(uploadFile(client(), 'lake', 'k', await small(), {}, 'x', { ifNoneMatch: '*' })).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  it('passes other errors through unchanged, and refuses an empty If-Match (it would write unconditionally)', async () => {
    s3Mock
      .on(PutObjectCommand)
      .rejects(new S3ServiceException({ name: 'InternalError', $fault: 'server', $metadata: { httpStatusCode: 500 }, message: 'internal' }));
    await expect(uploadFile(client(), 'lake', 'k', await small(), {}, 'x', { ifNoneMatch: '*' })).rejects.toMatchObject({ name: 'InternalError' });
    s3Mock.reset();
    await expect(uploadFile(client(), 'lake', 'k', await small(), {}, 'x', { ifMatch: '' })).rejects.toThrow('If-Match needs the ETag');
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});

describe('convert when its conditional write loses', () => {
  const source = landed('v1', '0A', 'e');
  const fields = { province: 'ON', store: 'ON01', date: '2026-11-23', time: '140000' };
  const validatedMetadata = lineageMetadata({ source, dataset: 'pos', fields, rows: 3 });
  const ref: ObjectRef = {
    bucket: 'raw',
    key: 'validated/pos/ON/ON01_20261123_140000.tdf',
    versionId: 'val-1',
    eTag: 'x',
    size: 120,
    sequencer: '',
    eventTime: '2026-11-23T10:00:00Z',
  };
  const processed = 'processed/pos/dt=2026-11-23/province=ON/ON01_20261123_140000.parquet';
  const csv =
    'store_id,item_id,transaction_date,transaction_code,amount\nON01,I0001,2026-11-23,4,1.00\nON01,I0002,2026-11-23,5,2.00\nON01,I0003,2026-11-23,6,3.00\n';
  const deps = () => ({ s3: new S3Client({ region: 'us-east-1' }), pipeline: compilePipeline(pipelineConfig), lakeBucket: 'lake', functionMemoryMb: 512 });

  /** The validated object, and a lake whose key holds nothing at first and then, after each LIST, what `parquetAfter` says. */
  function lake(parquetAfter: (list: number) => { eTag: string; source: SourceVersion } | undefined) {
    s3Mock.on(HeadObjectCommand, { Bucket: 'raw' }).resolves({ Metadata: validatedMetadata, ContentLength: 120 });
    s3Mock.on(GetObjectCommand, { Bucket: 'raw' }).callsFake(async () => ({ Body: Readable.from([Buffer.from(csv)]), Metadata: validatedMetadata }));
    let lists = 0;
    let now: ReturnType<typeof parquetAfter>;
    s3Mock.on(ListObjectsV2Command, { Bucket: 'lake' }).callsFake(async () => {
      now = parquetAfter(lists++);
      return now ? { Contents: [{ Key: processed }], KeyCount: 1 } : { KeyCount: 0 };
    });
    s3Mock
      .on(HeadObjectCommand, { Bucket: 'lake' })
      .callsFake(async () => ({ ETag: now!.eTag, Metadata: lineageMetadata({ source: now!.source, dataset: 'pos', fields, rows: 3 }), ContentLength: 99 }));
  }

  it('a 409 then the same version there: a concurrent redelivery won, already-converted', async () => {
    lake((list) => (list === 0 ? undefined : { eTag: '"p1"', source }));
    s3Mock.on(PutObjectCommand).rejects(conflict('ConditionalRequestConflict', 409));
    expect(await convertValidatedObject(ref, deps())).toEqual({ kind: 'already-converted', key: processed });
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it('a 412 then a newer version there: superseded, not written', async () => {
    lake((list) => (list === 0 ? undefined : { eTag: '"p2"', source: landed('v2', '0B') }));
    s3Mock.on(PutObjectCommand).rejects(conflict('PreconditionFailed', 412));
    expect(await convertValidatedObject(ref, deps())).toEqual({ kind: 'superseded', key: processed, by: 'v2' });
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it('an older version written meanwhile is written over, on its new ETag', async () => {
    lake((list) => (list === 0 ? undefined : { eTag: '"p0"', source: landed('v0', '09') }));
    s3Mock.on(PutObjectCommand).rejectsOnce(conflict('PreconditionFailed', 412)).resolves({ VersionId: 'pv' });
    expect(await convertValidatedObject(ref, deps())).toEqual({ kind: 'converted', key: processed, rows: 3 });
    const inputs = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => [i.IfMatch, i.IfNoneMatch])).toEqual([
      [undefined, '*'],
      ['"p0"', undefined],
    ]);
  });

  it('gives up after 5 lost writes (Lambda retries the invocation)', async () => {
    lake((list) => ({ eTag: `"p${list}"`, source: landed('v0', '09') }));
    s3Mock.on(PutObjectCommand).rejects(conflict('PreconditionFailed', 412));
    await expect(convertValidatedObject(ref, deps())).rejects.toBeInstanceOf(WriteConflictError);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(5);
  });
});
