import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { headObject, uploadFile, WriteConflictError, type WriteCondition } from '../shared/core/s3/object-io';
import { startMinio, type RunningServer } from '../local/servers';

/*
 * uploadFile's conditional writes against MinIO (the local S3) with the unmodified SDK and
 * lib-storage: a small file is one PutObject, a large one a multipart upload whose
 * CompleteMultipartUpload carries the condition.
 */

const CREDENTIALS = { accessKeyId: 'landfall', secretAccessKey: 'landfall-local-secret' };
const BUCKET = 'conditional-upload';
let minio: RunningServer;
let workDir: string;
let s3: S3Client;
/** the conditional headers each request carried, as sent on the wire */
const sent: string[] = [];

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'landfall-conditional-'));
  minio = await startMinio({ workDir, accessKey: CREDENTIALS.accessKeyId, secretKey: CREDENTIALS.secretAccessKey, region: 'us-east-1', webhooks: {} });
  s3 = new S3Client({ endpoint: minio.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: CREDENTIALS });
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const headers = (args.request as { headers: Record<string, string> }).headers;
      const condition = headers['if-match'] ? ` If-Match` : headers['if-none-match'] ? ` If-None-Match:${headers['if-none-match']}` : '';
      sent.push(`${context.commandName}${condition}`);
      return next(args);
    },
    { step: 'finalizeRequest', name: 'recordConditions' },
  );
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
});

afterAll(async () => {
  await minio?.process.stop();
  await rm(workDir, { recursive: true, force: true });
});

async function file(name: string, bytes: number, fill: number): Promise<string> {
  const path = join(workDir, name);
  await writeFile(path, Buffer.alloc(bytes, fill));
  return path;
}

const put = (key: string, path: string, condition: WriteCondition) => uploadFile(s3, BUCKET, key, path, { marker: key }, 'application/octet-stream', condition);
const versions = async (key: string) =>
  ((await s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: key }))).Versions ?? []).filter((v) => v.Key === key).length;
const openUploads = async () => ((await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? []).length;

describe.each([
  { size: 'small (one PutObject)', bytes: 1024, upload: ['PutObjectCommand'] },
  {
    size: 'large (multipart, 20 MiB)',
    bytes: 20 * 1024 * 1024,
    upload: ['CreateMultipartUploadCommand', 'UploadPartCommand', 'UploadPartCommand', 'UploadPartCommand', 'CompleteMultipartUploadCommand'],
  },
])('uploadFile with a condition, $size', ({ bytes, upload }) => {
  const key = `k/${bytes}`;
  const withCondition = (condition: string) =>
    upload.map((c) => (c === 'PutObjectCommand' || c === 'CompleteMultipartUploadCommand' ? `${c} ${condition}` : c));

  it('If-None-Match: * writes where nothing is, and refuses (nothing written) where something is', async () => {
    const [a, b] = [await file(`a-${bytes}`, bytes, 1), await file(`b-${bytes}`, bytes, 2)];
    sent.length = 0;
    await put(key, a, { ifNoneMatch: '*' });
    expect(sent).toEqual(withCondition('If-None-Match:*'));
    await expect(put(key, b, { ifNoneMatch: '*' })).rejects.toBeInstanceOf(WriteConflictError);
    expect(await versions(key)).toBe(1);
    expect(await openUploads()).toBe(0);
    expect((await headObject(s3, BUCKET, key)).size).toBe(bytes);
  });

  it('If-Match writes over the ETag seen, and refuses a stale ETag', async () => {
    const [c, d] = [await file(`c-${bytes}`, bytes, 3), await file(`d-${bytes}`, bytes, 4)];
    const seen = (await headObject(s3, BUCKET, key)).eTag;
    sent.length = 0;
    await put(key, c, { ifMatch: seen });
    expect(sent).toEqual(withCondition('If-Match'));
    const err = await put(key, d, { ifMatch: seen }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteConflictError);
    expect(((err as Error).cause as Error).name).toBe('PreconditionFailed');
    expect(await versions(key)).toBe(2);
    expect(await openUploads()).toBe(0);
  });

  it('If-Match on a key whose object was deleted is a conflict; If-None-Match then writes (a delete marker is no object)', async () => {
    const e = await file(`e-${bytes}`, bytes, 5);
    const seen = (await headObject(s3, BUCKET, key)).eTag;
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    await expect(put(key, e, { ifMatch: seen })).rejects.toBeInstanceOf(WriteConflictError);
    await put(key, e, { ifNoneMatch: '*' });
    expect(await versions(key)).toBe(3);
    expect(await openUploads()).toBe(0);
  });

  it('of several writers on the same condition exactly one wins', async () => {
    const paths = await Promise.all([6, 7, 8].map((fill) => file(`race-${fill}-${bytes}`, bytes, fill)));
    const raced = `race/${bytes}`;
    const results = await Promise.allSettled(paths.map((p) => put(raced, p, { ifNoneMatch: '*' })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(WriteConflictError);
    // bytes other than the current ones: an ETag names content, not a write (see the next test)
    const others = await Promise.all([9, 10, 11].map((fill) => file(`race-${fill}-${bytes}`, bytes, fill)));
    const seen = (await headObject(s3, BUCKET, raced)).eTag;
    const again = await Promise.allSettled(others.map((p) => put(raced, p, { ifMatch: seen })));
    expect(again.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await versions(raced)).toBe(2);
    expect(await openUploads()).toBe(0);
  });

  it('rewriting the very bytes that are there keeps the ETag (why convert never rewrites its own version)', async () => {
    const same = await file(`same-${bytes}`, bytes, 12);
    const key2 = `same/${bytes}`;
    await put(key2, same, { ifNoneMatch: '*' });
    const seen = (await headObject(s3, BUCKET, key2)).eTag;
    await put(key2, same, { ifMatch: seen });
    expect((await headObject(s3, BUCKET, key2)).eTag).toBe(seen);
    await put(key2, same, { ifMatch: seen }); // still matches: a stale reader would not notice
    expect(await versions(key2)).toBe(3);
  });
});
