import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { downloadToFile, ObjectGoneError, RANGED_DOWNLOAD_THRESHOLD } from '../shared/core/s3/object-io';
import { startMinio, type RunningServer } from '../local/servers';

/*
 * downloadToFile against MinIO with the unmodified SDK: a small object in one GET, a large one as
 * ranged GETs written at their offsets in blocks, every range of the version asked for.
 */

const CREDENTIALS = { accessKeyId: 'landfall', secretAccessKey: 'landfall-local-secret' };
const BUCKET = 'download';
let minio: RunningServer;
let workDir: string;
let s3: S3Client;
/** each GET's Range header, as sent */
const ranges: string[] = [];

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'landfall-download-'));
  minio = await startMinio({ workDir, accessKey: CREDENTIALS.accessKeyId, secretKey: CREDENTIALS.secretAccessKey, region: 'us-east-1', webhooks: {} });
  s3 = new S3Client({ endpoint: minio.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: CREDENTIALS });
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetObjectCommand') ranges.push((args.request as { headers: Record<string, string> }).headers.range ?? 'whole');
      return next(args);
    },
    { step: 'finalizeRequest', name: 'recordRanges' },
  );
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
}, 60_000);

afterAll(async () => {
  await minio?.process.stop();
  await rm(workDir, { recursive: true, force: true });
});

async function put(key: string, body: Buffer): Promise<string> {
  return (await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }))).VersionId!;
}

describe('downloadToFile', () => {
  it('fetches a small object in one GET, byte for byte, with its metadata', async () => {
    const body = randomBytes(3 * 1024 * 1024 + 17);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'small.bin', Body: body, Metadata: { origin: 'test' } }));
    ranges.length = 0;
    const path = join(workDir, 'small.out');
    const metadata = await downloadToFile(s3, BUCKET, 'small.bin', undefined, path, body.length);
    expect(ranges).toEqual(['whole']);
    expect((await readFile(path)).equals(body)).toBe(true);
    expect(metadata).toEqual({ origin: 'test' });
  });

  it('fetches a large object as 16 MiB ranges of the version asked for, even after a newer version landed', async () => {
    const size = RANGED_DOWNLOAD_THRESHOLD + 21 * 1024 * 1024 + 5; // 4 ranges, the last one short
    const first = randomBytes(size);
    const version = await put('large.bin', first);
    await put('large.bin', randomBytes(size)); // the key now holds other bytes
    ranges.length = 0;
    const path = join(workDir, 'large.out');
    await downloadToFile(s3, BUCKET, 'large.bin', version, path, size);
    const mib = 16 * 1024 * 1024;
    expect([...ranges].sort()).toEqual(
      [`bytes=0-${mib - 1}`, `bytes=${mib}-${2 * mib - 1}`, `bytes=${2 * mib}-${3 * mib - 1}`, `bytes=${3 * mib}-${size - 1}`].sort(),
    );
    expect((await readFile(path)).equals(first)).toBe(true);
  }, 60_000);

  it('fails when the object is shorter than the size it was asked for, and when the version is gone', async () => {
    const body = randomBytes(RANGED_DOWNLOAD_THRESHOLD + 1024);
    const version = await put('short.bin', body);
    const path = join(workDir, 'short.out');
    // a caller that was told the object is larger than it is: the last range cannot be served whole
    await expect(downloadToFile(s3, BUCKET, 'short.bin', version, path, body.length + 16 * 1024 * 1024)).rejects.toThrow();
    await writeFile(path, '');
    await expect(downloadToFile(s3, BUCKET, 'short.bin', '00000000-0000-0000-0000-000000000000', path, body.length)).rejects.toBeInstanceOf(ObjectGoneError);
  }, 60_000);
});
