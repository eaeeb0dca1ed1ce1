import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { FeedRejection } from './canonical';

/**
 * The compression layer of a feed: gzip and zstd, recognised from the bytes themselves (a `.gz`
 * suffix lies as often as it is missing), decompressed as a stream. A corrupt or truncated stream,
 * or one that decompresses to more than the limit, rejects the whole file: none of its rows count.
 */

export type Compression = 'gzip' | 'zstd';
export type CompressionSetting = 'auto' | 'none' | Compression;

export interface DecompressionLimits {
  /** more decompressed bytes than this reject the file (a bomb, or simply too large) */
  maxBytes?: number;
}

/** How many leading bytes detection needs (zstd's magic number is the longest). */
export const MAGIC_BYTES = 4;

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/** The compression the first bytes of a file announce (at least MAGIC_BYTES of them, unless the file is shorter). */
export function detectCompression(first: Uint8Array): Compression | 'none' {
  if (startsWith(first, GZIP_MAGIC)) return 'gzip';
  if (startsWith(first, ZSTD_MAGIC)) return 'zstd';
  return 'none';
}

function describeFirstBytes(first: Uint8Array): string {
  if (first.length === 0) return 'the file is empty';
  const hex = Array.from(first.subarray(0, MAGIC_BYTES), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `first bytes ${hex}`;
}

/**
 * What to do with a file whose first bytes are `first`, for a dataset's `compression` setting:
 * `auto` follows the bytes, `gzip`/`zstd` insist on them (FeedRejection otherwise), `none` never decompresses.
 */
export function compressionOf(first: Uint8Array, setting: CompressionSetting): Compression | 'none' {
  if (setting === 'none') return 'none';
  const found = detectCompression(first);
  if (setting === 'auto' || found === setting) return found;
  throw new FeedRejection(`not ${setting} data (${describeFirstBytes(first)})`);
}

function zlibStream(kind: Compression): Transform {
  const options = { chunkSize: 64 * 1024 };
  return kind === 'gzip' ? zlib.createGunzip(options) : zlib.createZstdDecompress(options);
}

/** zlib's own words (`unexpected end of file`, `incorrect header check`) after a sentence a user can act on. */
function rejectionOf(kind: Compression, err: Error): FeedRejection {
  return err instanceof FeedRejection ? err : new FeedRejection(`corrupt or truncated ${kind} data: ${err.message}`, { cause: err });
}

/**
 * A Transform that decides, from the first MAGIC_BYTES it receives, whether to pass bytes through or
 * relay them through a decompressor. Backpressure holds end to end: a write is acknowledged only once
 * the decompressor took it, and the decompressor is paused while this stream's reader is full, so a
 * highly compressed input never piles up decompressed bytes in memory.
 */
class Decompressing extends Transform {
  private head: Buffer[] = [];
  private headLength = 0;
  /** undefined until decided; null passes bytes through */
  private inner: Transform | null | undefined;
  private kind: Compression | undefined;
  private produced = 0;
  private failure: Error | undefined;
  /** the callback of the write (or the end) waiting on the decompressor */
  private waiting: ((err?: Error | null) => void) | undefined;

  constructor(
    private readonly decide: (first: Buffer) => Compression | 'none',
    private readonly maxBytes: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.inner === undefined) {
      this.head.push(chunk);
      this.headLength += chunk.length;
      if (this.headLength < MAGIC_BYTES) {
        callback();
        return;
      }
      const first = Buffer.concat(this.head);
      this.head = [];
      if (!this.choose(first, callback)) return;
      chunk = first;
    }
    this.forward(chunk, callback);
  }

  override _flush(callback: TransformCallback): void {
    if (this.inner === undefined) {
      // the whole input is shorter than the magic number: decide on what there is
      const first = Buffer.concat(this.head);
      this.head = [];
      if (!this.choose(first, callback)) return;
      if (first.length > 0) {
        this.forward(first, (err, data) => (err ? callback(err) : this.finish(callback, data)));
        return;
      }
    }
    this.finish(callback);
  }

  private finish(callback: TransformCallback, passed?: Buffer): void {
    if (!this.inner || this.failure) {
      callback(this.failure ?? null, passed);
      return;
    }
    this.waiting = callback;
    this.inner.end();
  }

  override _read(size: number): void {
    this.inner?.resume();
    super._read(size);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.inner?.destroy();
    callback(err);
  }

  /** Settles on a decompressor (or none); false when the first bytes already reject the file. */
  private choose(first: Buffer, callback: TransformCallback): boolean {
    let kind: Compression | 'none';
    try {
      kind = this.decide(first);
    } catch (err) {
      callback(err as Error);
      return false;
    }
    if (kind === 'none') {
      this.inner = null;
      return true;
    }
    const inner = zlibStream(kind);
    this.inner = inner;
    this.kind = kind;
    inner.on('data', (data: Buffer) => this.relay(data));
    inner.on('end', () => this.settle());
    inner.on('error', (err) => this.settle(rejectionOf(kind, err)));
    return true;
  }

  private forward(chunk: Buffer, callback: TransformCallback): void {
    if (!this.inner || this.failure) {
      callback(this.failure ?? null, this.inner ? undefined : chunk);
    } else if (this.inner.write(chunk)) {
      callback();
    } else {
      this.waiting = callback;
      this.inner.once('drain', () => this.settle());
    }
  }

  private relay(data: Buffer): void {
    if (this.failure) return;
    this.produced += data.length;
    if (this.produced > this.maxBytes) {
      this.settle(new FeedRejection(`decompressed data larger than ${this.maxBytes} bytes`));
      this.inner?.destroy();
      return;
    }
    if (!this.push(data)) this.inner?.pause();
  }

  /** Releases the waiting write or end, with the failure if there is one; a failure with nothing waiting ends the stream. */
  private settle(err?: Error): void {
    if (err && !this.failure) this.failure = err;
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) waiting(this.failure ?? null);
    else if (err && this.failure === err && this.kind) this.destroy(err);
  }
}

/** Decompresses gzip (every member of a multi-member file) or zstd; FeedRejection when the data is corrupt, truncated or too large. */
export function decompressor(kind: Compression, limits: DecompressionLimits = {}): Transform {
  return new Decompressing(() => kind, limits.maxBytes ?? Number.POSITIVE_INFINITY);
}

/**
 * Decompresses as the dataset's `compression` setting says, deciding on the first bytes received
 * (`auto` passes an uncompressed file through unchanged, byte for byte).
 */
export function autoDecompressor(setting: CompressionSetting, limits: DecompressionLimits = {}): Transform {
  return new Decompressing((first) => compressionOf(first, setting), limits.maxBytes ?? Number.POSITIVE_INFINITY);
}
