import { execFile } from 'node:child_process';
import { constants, existsSync, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { Transform, type Readable } from 'node:stream';
import { writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import type { S3Client } from '@aws-sdk/client-s3';
import { FeedRejection } from '../feeds/canonical';
import { readObject } from '../s3/object-io';
import { RawGet, presignedObjectUrl } from '../s3/raw-get';

const MKFIFO = ['/usr/bin/mkfifo', '/bin/mkfifo'].find((p) => existsSync(p));

/**
 * Objects smaller than this are downloaded first. Streaming needs the object to be larger than the
 * pipe's buffer (64 KiB): the writer must still be writing when the reader opens the pipe.
 */
export const STREAMING_THRESHOLD_BYTES = 32 * 1024 * 1024;

/** Whether an object of `size` bytes is streamed into DuckDB through a named pipe on this system. */
export const canStreamInput = (size: number): boolean => MKFIFO !== undefined && size > STREAMING_THRESHOLD_BYTES;

/**
 * Runs `consume(path)` on a named pipe that `body` is streamed into, so that DuckDB parses the
 * object while it downloads instead of after (see openPipeWriter). Both sides must succeed: a
 * download that fails part-way would otherwise read as a shorter file.
 */
export async function withStreamedInput<T>(path: string, body: Readable, consume: (path: string) => Promise<T>, options: { head?: HeadCopy } = {}): Promise<T> {
  const writer = await openPipeWriter(path);
  const head = options.head ? headTap(options.head) : undefined;
  const feeding = (head ? pipeline(body, head.tap, writer) : pipeline(body, writer)).then(() => head?.write());
  const reading = consume(path).catch((err: unknown) => {
    // The reader gave up: stop the download (closing the write end also ends the reader's input).
    body.destroy();
    writer.destroy();
    throw err;
  });
  return bothSucceed(feeding, reading);
}

/**
 * A new named pipe at `path`, its write end opened read-write and non-blocking and driven by the
 * event loop (a libuv pipe, as stdout is): opening never waits for the reader, and no thread of
 * the pool waits on a write, however many streams run in the process.
 */
async function openPipeWriter(path: string): Promise<Socket> {
  if (!MKFIFO) throw new Error('mkfifo is not available: download the object to a file instead');
  await promisify(execFile)(MKFIFO, [path]);
  return new Socket({ fd: openSync(path, constants.O_RDWR | constants.O_NONBLOCK), readable: false, writable: true });
}

/**
 * The reader's value once the download fed all of it: a download that failed part-way reads as a
 * shorter file. A feed that could not be decoded (a truncated gzip) is the error to report even when
 * the reader failed too: the reader only saw its input end early.
 */
async function bothSucceed<T>(feeding: Promise<unknown>, reading: Promise<T>): Promise<T> {
  const [fed, read] = await Promise.allSettled([feeding, reading]);
  if (fed.status === 'rejected' && fed.reason instanceof FeedRejection) throw fed.reason;
  if (read.status === 'rejected') throw read.reason;
  if (fed.status === 'rejected') throw fed.reason;
  return read.value;
}

/** Where to keep the object's first bytes as they stream past (whole lines only: up to the last line end). */
export interface HeadCopy {
  path: string;
  bytes: number;
}

/** Keeps the first `bytes` of a stream as they pass, and writes the whole lines among them. */
class HeadKeeper {
  private readonly kept: Buffer[] = [];
  private size = 0;
  constructor(private readonly head: HeadCopy) {}

  take(chunk: Uint8Array): void {
    if (this.size >= this.head.bytes) return;
    const part = chunk.subarray(0, this.head.bytes - this.size);
    this.kept.push(Buffer.from(part));
    this.size += part.length;
  }

  async write(): Promise<void> {
    const bytes = Buffer.concat(this.kept);
    const end = bytes.lastIndexOf(10);
    await writeFile(this.head.path, end >= 0 ? bytes.subarray(0, end + 1) : Buffer.alloc(0));
  }
}

function headTap(head: HeadCopy): { tap: Transform; write(): Promise<void> } {
  const keeper = new HeadKeeper(head);
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      keeper.take(chunk);
      done(null, chunk);
    },
  });
  return { tap, write: () => keeper.write() };
}

export interface ObjectVersion {
  bucket: string;
  key: string;
  versionId?: string;
}

/**
 * withStreamedInput for an object version of S3, read by RawGet: the body goes from a few reused
 * blocks into the pipe, with no SDK stream (which costs the receiving CPU and garbage collection
 * per byte). An answer other than a plain 200 with a Content-Length, or no answer, is asked of the
 * SDK instead, so S3's errors (a version gone: ObjectGoneError) and retries are the SDK's as before.
 */
export async function withStreamedObject<T>(
  s3: S3Client,
  object: ObjectVersion,
  path: string,
  consume: (path: string) => Promise<T>,
  options: { head?: HeadCopy; signal?: AbortSignal } = {},
): Promise<T> {
  const raw = MKFIFO ? await openRawGet(s3, object, options.signal) : undefined;
  if (!raw) {
    const { chunks } = await readObject(s3, object.bucket, object.key, object.versionId, options.signal);
    return withStreamedInput(path, chunks as Readable, consume, options);
  }
  let writer: Socket;
  try {
    writer = await openPipeWriter(path);
  } catch (err) {
    raw.destroy();
    throw err;
  }
  const head = options.head ? new HeadKeeper(options.head) : undefined;
  // a block is handed back to RawGet once the pipe has taken all of it
  const write = (bytes: Buffer) => new Promise<void>((resolve, reject) => writer.write(bytes, (err) => (err ? reject(err) : resolve())));
  const feeding = raw
    .writeTo(write, head && ((bytes) => head.take(bytes)))
    .then(() => new Promise<void>((resolve) => writer.end(resolve)))
    .then(() => head?.write());
  const reading = consume(path).catch((err: unknown) => {
    // The reader gave up: stop the download (closing the write end also ends the reader's input).
    raw.destroy(new Error("the pipe's reader failed"));
    writer.destroy();
    throw err;
  });
  return bothSucceed(feeding, reading);
}

async function openRawGet(s3: S3Client, object: ObjectVersion, signal?: AbortSignal): Promise<RawGet | undefined> {
  const url = await presignedObjectUrl(s3, object.bucket, object.key, object.versionId);
  try {
    const raw = await RawGet.open(url, { signal });
    if (raw.status === 200 && raw.contentLength !== undefined && raw.headers['transfer-encoding'] === undefined) return raw;
    raw.destroy();
  } catch (err) {
    if (signal?.aborted) throw err;
    // (no connection, a TLS failure, an odd answer: the SDK makes the request and reports)
  }
  return undefined;
}
