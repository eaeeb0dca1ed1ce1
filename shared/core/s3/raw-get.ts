import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { LandfallError } from '../errors';

/**
 * One HTTP/1.1 GET whose body is written (to a named pipe DuckDB reads) through a few reused
 * buffers. The SDK's HTTP stack hands each socket read (64 KiB) to JavaScript as
 * a new Buffer, so streaming an object costs the receiver CPU and garbage collection in proportion
 * to its size (measured at 100 MB against MinIO on 2 cores: 0.3–0.4 s of CPU a GET through the SDK
 * into a pipe, against 0.05 s here). Only the successful answer to a presigned GET is read this
 * way; anything else (another status, a chunked body) is for the caller to hand to the SDK, which
 * knows S3's errors and retries.
 */

/** The request was not answered with a body this reader streams (the SDK should make it instead). */
export class RawGetUnsupportedError extends LandfallError {
  override readonly name = 'RawGetUnsupportedError';
  readonly code = 'RAW_GET_UNSUPPORTED';
}

/** The body ended before its Content-Length (the connection was cut): what was written is incomplete. */
export class RawGetTruncatedError extends LandfallError {
  override readonly name = 'RawGetTruncatedError';
  readonly code = 'RAW_GET_TRUNCATED';
}

/** A GET URL for one object version, signed with the client's credentials, region and endpoint. */
export function presignedObjectUrl(s3: S3Client, bucket: string, key: string, versionId?: string): Promise<string> {
  return getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }), { expiresIn: 15 * 60 });
}

/** one socket read at most; each is copied at once into a write buffer, so this one is never held */
const READ_BUFFER_BYTES = 1024 * 1024;
/** the body is written to the file in blocks of up to this size, from a pool of WRITE_BUFFERS */
const WRITE_BUFFER_BYTES = 2 * READ_BUFFER_BYTES;
const WRITE_BUFFERS = 3;
/** a response head larger than this is not S3's */
const MAX_HEAD_BYTES = 64 * 1024;
/** no byte for this long fails the GET (the caller's Lambda retries it) */
const IDLE_TIMEOUT_MS = 120_000;

export interface RawGetOptions {
  signal?: AbortSignal;
  /** TLS options beyond the defaults (tests: a private CA) */
  tls?: ConnectionOptions;
}

interface Block {
  buffer: Buffer;
  length: number;
}

/**
 * A GET in flight: `open` resolves once the status and headers have arrived; `writeTo` then writes
 * the body in order. Each socket read goes into one reused buffer and is copied at once into a block
 * of a small pool; a full block (or any, when the file is waiting) is written. The socket is paused
 * while no block has room for another read, so memory stays at 7 MiB whatever the object's size
 * and however slowly the file is read.
 */
export class RawGet {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** the body's length (Content-Length) */
  readonly contentLength: number | undefined;

  private readonly socket: Socket;
  private readonly free: Buffer[] = Array.from({ length: WRITE_BUFFERS }, () => Buffer.allocUnsafe(WRITE_BUFFER_BYTES));
  /** where reads are copied (none while paused for want of a free block) */
  private filling: Block | undefined;
  private readonly queue: Block[] = [];
  private received = 0;
  /** onBody answered false: the socket stopped reading (isPaused() does not say so) until release */
  private paused = false;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  private constructor(socket: Socket, head: { status: number; headers: Record<string, string> }) {
    this.socket = socket;
    this.status = head.status;
    this.headers = head.headers;
    const length = head.headers['content-length'];
    this.contentLength = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
    this.filling = { buffer: this.free.pop()!, length: 0 };
  }

  static open(url: string | URL, options: RawGetOptions = {}): Promise<RawGet> {
    const target = new URL(url);
    if (target.protocol !== 'https:' && target.protocol !== 'http:') return Promise.reject(new RawGetUnsupportedError(`not an HTTP URL: ${target.protocol}`));
    const secure = target.protocol === 'https:';
    const port = Number(target.port || (secure ? 443 : 80));
    return new Promise<RawGet>((resolve, reject) => {
      let get: RawGet | undefined;
      let head = Buffer.alloc(0);
      const onread = {
        buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
        callback: (n: number, buffer: Buffer): boolean => {
          if (get) return get.onBody(buffer.subarray(0, n));
          // the status line and headers, then the body's first bytes in the same read
          head = Buffer.concat([head, buffer.subarray(0, n)]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) {
            if (head.length > MAX_HEAD_BYTES) fail(new RawGetUnsupportedError(`no end of the response head in ${head.length} bytes`));
            return true;
          }
          const parsed = parseHead(head.subarray(0, end).toString('latin1'));
          if (!parsed) {
            fail(new RawGetUnsupportedError(`not an HTTP/1.x response: ${JSON.stringify(head.subarray(0, 40).toString('latin1'))}`));
            return false;
          }
          get = new RawGet(socket, parsed);
          const more = get.onBody(head.subarray(end + 4));
          resolve(get);
          return more;
        },
      };
      const connectOptions = { host: target.hostname, port, onread };
      const socket: Socket = secure
        ? connectTls({ ...connectOptions, servername: isIp(target.hostname) ? undefined : target.hostname, ALPNProtocols: ['http/1.1'], ...options.tls })
        : connectTcp(connectOptions);
      const fail = (err: Error) => {
        if (get) get.fail(err);
        else reject(err);
        socket.destroy();
      };
      const closed = () => (get ? get.onEnd() : fail(new RawGetUnsupportedError('the connection closed before a response')));
      socket.setTimeout(IDLE_TIMEOUT_MS, () => fail(new Error(`GET ${target.host}${target.pathname}: no data for ${IDLE_TIMEOUT_MS / 1000} s`)));
      socket.on(secure ? 'secureConnect' : 'connect', () => {
        socket.write(`GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nUser-Agent: landfall\r\nConnection: close\r\n\r\n`);
      });
      socket.on('error', fail);
      socket.on('close', closed);
      const signal = options.signal;
      if (signal) {
        const aborted = () => fail(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        if (signal.aborted) aborted();
        else signal.addEventListener('abort', aborted, { once: true });
        socket.once('close', () => signal.removeEventListener('abort', aborted));
      }
    });
  }

  /** Stops the GET; `err` is what writeTo then throws. */
  destroy(err?: Error): void {
    if (err) this.fail(err);
    this.socket.destroy();
  }

  /**
   * Hands the body to `write`, block by block and in order (a block is reused once its write has
   * resolved), and resolves with the body's length once all of it is written. `onChunk` sees every
   * block before it is written (it must copy what it keeps).
   */
  async writeTo(write: (bytes: Buffer) => Promise<void>, onChunk?: (bytes: Buffer) => void): Promise<number> {
    if (this.contentLength === undefined) throw new RawGetUnsupportedError('no Content-Length');
    let written = 0;
    for (;;) {
      if (this.failure) throw this.failure;
      // the file waits: what has arrived is written now rather than when its block is full
      if (this.queue.length === 0 && this.filling && this.filling.length > 0 && this.free.length > 0) this.rotate();
      const next = this.queue.shift();
      if (next) {
        const bytes = next.buffer.subarray(0, next.length);
        onChunk?.(bytes);
        await write(bytes);
        written += bytes.length;
        this.release(next.buffer);
        continue;
      }
      if (written >= this.contentLength) {
        this.socket.destroy();
        return written;
      }
      if (this.ended) throw new RawGetTruncatedError(`the connection closed after ${written} of ${this.contentLength} bytes`);
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Copies a read into the filling block; false (pause) when no block has room for the next read. */
  private onBody(bytes: Buffer): boolean {
    // bytes past Content-Length are not the body's
    const body = this.contentLength === undefined ? bytes : bytes.subarray(0, Math.max(0, this.contentLength - this.received));
    this.received += body.length;
    let at = 0;
    while (at < body.length) {
      // Reads can still arrive after the socket was paused (TLS hands over records it had already
      // decrypted): the pool then grows by a block rather than lose them.
      this.filling ??= { buffer: Buffer.allocUnsafe(WRITE_BUFFER_BYTES), length: 0 };
      const block = this.filling;
      const copied = body.copy(block.buffer, block.length, at);
      block.length += copied;
      at += copied;
      if (block.length === block.buffer.length) this.rotate();
    }
    if (this.contentLength !== undefined && this.received >= this.contentLength && this.filling && this.filling.length > 0) this.rotate();
    if (this.filling && this.filling.buffer.length - this.filling.length < READ_BUFFER_BYTES) this.rotate();
    this.notify();
    // no block to copy the next read into: the socket pauses until a write frees one (release)
    if (this.filling === undefined) this.paused = true;
    return !this.paused;
  }

  /** Queues the filling block for writing and takes a free one (none left: reads wait for one). */
  private rotate(): void {
    if (this.filling && this.filling.length > 0) this.queue.push(this.filling);
    else if (this.filling) this.free.push(this.filling.buffer);
    const next = this.free.pop();
    this.filling = next ? { buffer: next, length: 0 } : undefined;
  }

  private release(buffer: Buffer): void {
    if (this.filling) this.free.push(buffer);
    else this.filling = { buffer, length: 0 };
    // paused for want of a block (onBody): there is one now
    if (this.paused && !this.socket.destroyed) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private onEnd(): void {
    this.ended = true;
    this.notify();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

function parseHead(text: string): { status: number; headers: Record<string, string> } | undefined {
  const [statusLine, ...lines] = text.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
  if (!match) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(match[1]), headers };
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':') || host.startsWith('[');
}
