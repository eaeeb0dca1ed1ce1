import { execFile } from 'node:child_process';
import { constants, existsSync, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { Transform, type Readable } from 'node:stream';
import { writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';

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
 * object while it downloads instead of after. The pipe's write end is opened read-write and
 * non-blocking and driven by the event loop (a libuv pipe, as stdout is), so no thread of the
 * pool waits on it, however many conversions run in the process. Both sides must succeed: a
 * download that fails part-way would otherwise read as a shorter file.
 */
export async function withStreamedInput<T>(path: string, body: Readable, consume: (path: string) => Promise<T>, options: { head?: HeadCopy } = {}): Promise<T> {
  if (!MKFIFO) throw new Error('mkfifo is not available: download the object to a file instead');
  await promisify(execFile)(MKFIFO, [path]);
  const writer = new Socket({ fd: openSync(path, constants.O_RDWR | constants.O_NONBLOCK), readable: false, writable: true });
  const head = options.head ? headTap(options.head) : undefined;
  const feeding = (head ? pipeline(body, head.tap, writer) : pipeline(body, writer)).then(() => head?.write());
  const reading = consume(path).catch((err: unknown) => {
    // The reader gave up: stop the download (closing the write end also ends the reader's input).
    body.destroy();
    writer.destroy();
    throw err;
  });
  const [fed, read] = await Promise.allSettled([feeding, reading]);
  if (read.status === 'rejected') throw read.reason;
  if (fed.status === 'rejected') throw fed.reason;
  return read.value;
}

/** Where to keep the object's first bytes as they stream past (whole lines only: up to the last line end). */
export interface HeadCopy {
  path: string;
  bytes: number;
}

function headTap(head: HeadCopy): { tap: Transform; write(): Promise<void> } {
  const kept: Buffer[] = [];
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (size < head.bytes) {
        const part = chunk.subarray(0, head.bytes - size);
        kept.push(Buffer.from(part));
        size += part.length;
      }
      done(null, chunk);
    },
  });
  return {
    tap,
    async write() {
      const bytes = Buffer.concat(kept);
      const end = bytes.lastIndexOf(10);
      await writeFile(head.path, end >= 0 ? bytes.subarray(0, end + 1) : Buffer.alloc(0));
    },
  };
}
