import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { RawGet, RawGetTruncatedError } from '../shared/core/s3/raw-get';
import { withStreamedObject } from '../shared/core/duckdb/streamed-input';
import { ObjectGoneError } from '../shared/core/s3/object-io';
import { startMinio, type RunningServer } from '../local/servers';
import { DuckDBInstance } from '@duckdb/node-api';

/*
 * RawGet against a local HTTP(S) server that can misbehave (a body cut short, a stall, another
 * status), and withStreamedObject against MinIO with the unmodified SDK presigning: the pipe's
 * reader sees the version asked for byte for byte, and every failure (the GET's or the reader's)
 * ends the call with an error instead of a hang.
 */

const TLS_DIR = join(import.meta.dirname, 'fixtures', 'tls');
const body = randomBytes(9 * 1024 * 1024 + 333);

/** what each path serves: the body in odd-sized writes, cut short, stalled, or missing */
function serve(path: string, res: ServerResponse): void {
  if (path === '/missing') {
    res.writeHead(404, { 'content-type': 'application/xml', 'content-length': '9' });
    res.end('<Error/>\n');
    return;
  }
  res.writeHead(200, { 'content-length': String(body.length) });
  const upTo = path === '/cut' ? 3 * 1024 * 1024 + 7 : path === '/stall' ? 1024 * 1024 : body.length;
  let at = 0;
  const more = () => {
    while (at < upTo) {
      const size = Math.min(upTo - at, 1 + ((at * 7919) % 200_000));
      const ok = res.write(body.subarray(at, at + size));
      at += size;
      if (!ok) return void res.once('drain', more);
    }
    if (path === '/cut') res.socket?.destroy();
    else if (path !== '/stall') res.end();
  };
  more();
}

let http: Server;
let https: Server;
let workDir: string;
const urlOf = (server: Server, scheme: string, path: string) => `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'landfall-raw-get-'));
  http = createServer((req, res) => serve(req.url ?? '/', res));
  https = createTlsServer({ key: readFileSync(join(TLS_DIR, 'key.pem')), cert: readFileSync(join(TLS_DIR, 'cert.pem')) }, (req, res) =>
    serve(req.url ?? '/', res),
  );
  await Promise.all([http, https].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
});

afterAll(async () => {
  http.closeAllConnections();
  https.closeAllConnections();
  await Promise.all([http, https].map((s) => new Promise((resolve) => s.close(resolve))));
  await rm(workDir, { recursive: true, force: true });
});

async function getInto(
  url: string,
  name: string,
  options: Parameters<typeof RawGet.open>[1] = {},
  writeDelayMs = 0,
): Promise<{ written: number; path: string; seen: number }> {
  const get = await RawGet.open(url, options);
  expect(get.status).toBe(200);
  const path = join(workDir, name);
  const file = await open(path, 'w');
  let seen = 0;
  try {
    const written = await get.writeTo(
      async (bytes) => {
        if (writeDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, writeDelayMs));
        await file.write(bytes);
      },
      (bytes) => (seen += bytes.length),
    );
    return { written, path, seen };
  } finally {
    await file.close();
  }
}

describe('RawGet', () => {
  it('writes the whole body, byte for byte, over HTTP', async () => {
    const { written, path, seen } = await getInto(urlOf(http, 'http', '/whole'), 'http.out');
    expect(written).toBe(body.length);
    expect(seen).toBe(body.length);
    expect((await readFile(path)).equals(body)).toBe(true);
  });

  it('writes the whole body over TLS, checking the server against the CA it is given', async () => {
    const ca = readFileSync(join(TLS_DIR, 'cert.pem'));
    const { path } = await getInto(urlOf(https, 'https', '/whole'), 'https.out', { tls: { ca } });
    expect((await readFile(path)).equals(body)).toBe(true);
    // without that CA the certificate is refused
    await expect(RawGet.open(urlOf(https, 'https', '/whole'))).rejects.toThrow(/self.signed|certificate/i);
  });

  it('keeps every byte when reads arrive while it waits for a slow writer (TLS delivers records already decrypted after a pause)', async () => {
    const ca = readFileSync(join(TLS_DIR, 'cert.pem'));
    const { path } = await getInto(urlOf(https, 'https', '/whole'), 'https-slow.out', { tls: { ca } }, 25);
    expect((await readFile(path)).equals(body)).toBe(true);
  });

  it('fails a body cut short (the connection closed before its Content-Length)', async () => {
    await expect(getInto(urlOf(http, 'http', '/cut'), 'cut.out')).rejects.toBeInstanceOf(RawGetTruncatedError);
  });

  it('answers another status as it is, for the caller to hand to the SDK', async () => {
    const get = await RawGet.open(urlOf(http, 'http', '/missing'));
    expect(get.status).toBe(404);
    get.destroy();
  });

  it('stops when its signal aborts, with the signal’s reason', async () => {
    const stop = new AbortController();
    const writing = getInto(urlOf(http, 'http', '/stall'), 'stall.out', { signal: stop.signal });
    setTimeout(() => stop.abort(new Error('validation stopped')), 200);
    await expect(writing).rejects.toThrow('validation stopped');
  });
});

describe('withStreamedObject (MinIO)', () => {
  const CREDENTIALS = { accessKeyId: 'landfall', secretAccessKey: 'landfall-local-secret' };
  const BUCKET = 'streamed';
  let minio: RunningServer;
  let s3: S3Client;
  let gets = 0;
  const large = randomBytes(40 * 1024 * 1024 + 11);
  let oldVersion: string;
  const lines = 400_000;
  const text = Buffer.from(Array.from({ length: lines }, (_, i) => `line ${i} of a landed text file\n`).join(''));

  beforeAll(async () => {
    minio = await startMinio({ workDir, accessKey: CREDENTIALS.accessKeyId, secretKey: CREDENTIALS.secretAccessKey, region: 'us-east-1', webhooks: {} });
    s3 = new S3Client({ endpoint: minio.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: CREDENTIALS });
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetObjectCommand') gets += 1;
        return next(args);
      },
      { step: 'finalizeRequest', name: 'countSdkGets' },
    );
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
    oldVersion = (await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'landed.bin', Body: large }))).VersionId!;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'landed.bin', Body: Buffer.from('a newer version\n') }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'landed.txt', Body: text }));
  }, 60_000);

  afterAll(async () => {
    await minio?.process.stop();
  });

  const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
  /** reads the pipe to its end, as DuckDB would */
  const hashOf = (path: string) =>
    new Promise<{ sha: string; bytes: number }>((resolve, reject) => {
      const hash = createHash('sha256');
      let bytes = 0;
      createReadStream(path)
        .on('data', (chunk) => {
          hash.update(chunk);
          bytes += chunk.length;
        })
        .on('end', () => resolve({ sha: hash.digest('hex'), bytes }))
        .on('error', reject);
    });

  it('streams the version asked for into the pipe, byte for byte, without the SDK’s GET, keeping its first lines', async () => {
    gets = 0;
    const head = { path: join(workDir, 'head'), bytes: 1024 * 1024 };
    const read = await withStreamedObject(s3, { bucket: BUCKET, key: 'landed.bin', versionId: oldVersion }, join(workDir, 'p1'), hashOf, { head });
    expect(read).toEqual({ sha: sha(large), bytes: large.length });
    expect(gets).toBe(0);
    // the head copy ends at the last line end of the first 1 MiB
    const first = large.subarray(0, 1024 * 1024);
    expect((await readFile(head.path)).equals(first.subarray(0, first.lastIndexOf(10) + 1))).toBe(true);
  });

  it('asks the SDK when the raw GET is not answered 200: a version that is gone is ObjectGoneError', async () => {
    gets = 0;
    const reading = withStreamedObject(s3, { bucket: BUCKET, key: 'landed.bin', versionId: 'null' }, join(workDir, 'p2'), hashOf);
    await expect(reading).rejects.toBeInstanceOf(ObjectGoneError);
    expect(gets).toBe(1);
  });

  it('streams into as many DuckDB readers at once as the thread pool has threads, and more (no pool thread waits on a pipe)', async () => {
    const duckdb = await DuckDBInstance.create(':memory:', { threads: '1' });
    const readers = 6; // UV_THREADPOOL_SIZE is 4: each running query holds one of them
    try {
      const counts = await Promise.all(
        Array.from({ length: readers }, async (_, i) => {
          const conn = await duckdb.connect();
          try {
            return await withStreamedObject(s3, { bucket: BUCKET, key: 'landed.txt' }, join(workDir, `many-${i}`), async (path) =>
              Number(
                (
                  await conn.runAndReadAll(
                    `SELECT count(*)::BIGINT FROM read_csv($path, columns = {'line': 'VARCHAR'}, header = false, delim = '\t', quote = '', escape = '', auto_detect = false)`,
                    { path },
                  )
                ).getRows()[0]![0],
              ),
            );
          } finally {
            conn.closeSync();
          }
        }),
      );
      expect(counts).toEqual(Array.from({ length: readers }, () => lines));
    } finally {
      duckdb.closeSync();
    }
  }, 60_000);

  it('ends with the reader’s error when the reader fails before opening the pipe', async () => {
    const reading = withStreamedObject(s3, { bucket: BUCKET, key: 'landed.bin', versionId: oldVersion }, join(workDir, 'p3'), async () => {
      throw new Error('the reader could not start');
    });
    await expect(reading).rejects.toThrow('the reader could not start');
  });

  it('ends with the reader’s error when the reader stops part-way', async () => {
    const reading = withStreamedObject(s3, { bucket: BUCKET, key: 'landed.bin', versionId: oldVersion }, join(workDir, 'p4'), async (path) => {
      const file = await open(path, 'r');
      await file.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, null);
      await file.close();
      throw new Error('the reader gave up');
    });
    await expect(reading).rejects.toThrow('the reader gave up');
    expect((await stat(join(workDir, 'p4'))).isFIFO()).toBe(true);
  });
});
