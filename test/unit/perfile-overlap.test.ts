import { afterEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { compilePipeline } from '../../shared/core/config/load-config';
import { retailConfig } from '../../examples/retail/config';
import type { ObjectRef } from '../../shared/core/s3/event-records';
import type { FileStateStore } from '../../shared/core/state/file-state-store';
import { uploadFile, WriteConflictError } from '../../shared/core/s3/object-io';
import { validateLandedObject } from '../../shared/stages/validate/validate-object';

/* The per-file time's overlaps and round trips (issue 13): same outcomes, fewer waits. */

const s3Mock = mockClient(S3Client);
afterEach(() => s3Mock.reset());
const client = () => new S3Client({ region: 'us-east-1' });
const pipeline = compilePipeline(retailConfig());
const tsv = 'store_id\titem_id\ttransaction_date\ttransaction_code\tamount\nON01\tI0001\t2026-11-23\t4\t1.00\n';
const ref: ObjectRef = {
  bucket: 'raw',
  key: 'landing/pos/ON/ON01_20261123_140000.tdf',
  versionId: 'v1',
  eTag: 'e',
  size: tsv.length,
  sequencer: '01',
  eventTime: '2026-11-23T10:00:00Z',
};

function store(claim: Awaited<ReturnType<FileStateStore['receive']>>, order: string[]) {
  return {
    receive: async () => {
      order.push('RECEIVED');
      return claim;
    },
  } as unknown as FileStateStore;
}

describe('validate checks the landed version while the claim is made', () => {
  it('writes nothing and reports nothing when the claim says duplicate (the checks that ran ahead are dropped)', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({ KeyCount: 0 });
    s3Mock.on(GetObjectCommand).callsFake(async () => ({ Body: Readable.from([Buffer.from(tsv)]), ContentLength: tsv.length }));
    const order: string[] = [];
    const result = await validateLandedObject(ref, { s3: client(), store: store({ kind: 'duplicate', of: 'v0' } as never, order), pipeline, rawBucket: 'raw' });
    expect(result).toEqual({ kind: 'duplicate', of: 'v0' });
    expect(order).toEqual(['RECEIVED']);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('writes nothing but the report of the first delivery when the report is there already', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({ KeyCount: 1, Contents: [{ Key: 'reports/pos/ON/ON01_20261123_140000.tdf@v1.json' }] });
    s3Mock.on(GetObjectCommand).callsFake(async () => ({ Body: Readable.from([Buffer.from(tsv)]), ContentLength: tsv.length }));
    const order: string[] = [];
    const result = await validateLandedObject(ref, { s3: client(), store: store({ kind: 'new' } as never, order), pipeline, rawBucket: 'raw' });
    expect(result).toMatchObject({ kind: 'already-reported' });
    expect(order).toEqual([]);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('writes the verdict, then the report, only after RECEIVED', async () => {
    const order: string[] = [];
    s3Mock.on(ListObjectsV2Command).resolves({ KeyCount: 0 });
    s3Mock.on(GetObjectCommand).callsFake(async () => ({ Body: Readable.from([Buffer.from(tsv)]), ContentLength: tsv.length }));
    s3Mock.on(PutObjectCommand).callsFake(async (input: { Key: string }) => {
      order.push(input.Key.split('/')[0]!);
      return {};
    });
    const result = await validateLandedObject(ref, { s3: client(), store: store({ kind: 'new' } as never, order), pipeline, rawBucket: 'raw' });
    expect(result).toMatchObject({ kind: 'reported', report: { state: 'VALIDATED', rows: { in: 1, out: 1, rejected: 0 } } });
    expect(order).toEqual(['RECEIVED', 'validated', 'reports']);
  });
});

describe('uploadFile as one streamed PutObject below singlePutBytes', () => {
  const file = async (bytes: number) => {
    const path = join(await mkdtemp(join(tmpdir(), 'landfall-unit-')), 'f.bin');
    await writeFile(path, Buffer.alloc(bytes, 1));
    return path;
  };

  it('sends one PutObject with the length, the metadata and the condition', async () => {
    s3Mock.on(PutObjectCommand).resolves({ VersionId: 'pv' });
    const out = await uploadFile(
      client(),
      'lake',
      'k',
      await file(9 * 1024 * 1024),
      { a: 'b' },
      'x',
      { ifNoneMatch: '*' },
      { singlePutBytes: 32 * 1024 * 1024 },
    );
    expect(out).toEqual({ size: 9 * 1024 * 1024, versionId: 'pv' });
    const calls = s3Mock.calls();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toMatchObject({
      Bucket: 'lake',
      Key: 'k',
      ContentLength: 9 * 1024 * 1024,
      Metadata: { a: 'b' },
      ContentType: 'x',
      IfNoneMatch: '*',
    });
  });

  it('turns a refused condition into WriteConflictError', async () => {
    s3Mock
      .on(PutObjectCommand)
      .rejects(new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 }, message: 'x' }));
    await expect(uploadFile(client(), 'lake', 'k', await file(1024), {}, 'x', { ifMatch: '"e"' }, { singlePutBytes: 1 << 20 })).rejects.toBeInstanceOf(
      WriteConflictError,
    );
  });

  it('a PutObject refused before it read the file closes the file (nothing opens it later, after the caller removed it)', async () => {
    const bodies: Readable[] = [];
    s3Mock.on(PutObjectCommand).callsFake((input: { Body: Readable }) => {
      bodies.push(input.Body);
      throw new Error('crash before the request was sent');
    });
    const path = await file(1024);
    await expect(uploadFile(client(), 'lake', 'k', path, {}, 'x', { ifNoneMatch: '*' }, { singlePutBytes: 1 << 20 })).rejects.toThrow('crash before');
    expect(bodies).toHaveLength(1);
    expect(bodies[0]!.destroyed).toBe(true);
    // and a file that is gone before the upload is a plain rejection, not an error thrown later
    await rm(path);
    await expect(uploadFile(client(), 'lake', 'k', path, {}, 'x', { ifNoneMatch: '*' }, { singlePutBytes: 1 << 20 })).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
