import { createHash, randomBytes } from 'node:crypto';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FeedRejection } from '../../shared/core/feeds/canonical';
import { autoDecompressor, compressionOf, decompressor, detectCompression } from '../../shared/core/feeds/compression';

/** Runs `input` (as chunks of `chunkSize` bytes, or whole) through `stream`, collecting what comes out. */
async function run(stream: Transform, input: Buffer, chunkSize = 64 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunkSize) chunks.push(input.subarray(i, i + chunkSize));
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), stream, async (source: AsyncIterable<Buffer>) => {
    for await (const c of source) out.push(c);
  });
  return Buffer.concat(out);
}

const TEXT = Buffer.from('id,name\n1,Zoë\n2,Łukasz\n'.repeat(50));
const gz = (b: Buffer) => zlib.gzipSync(b);
const zst = (b: Buffer) => zlib.zstdCompressSync(b);

/** A few MB of text that compresses, with random runs so a reordering or a lost chunk shows. */
function realData(): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < 80_000; i++) parts.push(`${i},${randomBytes(12).toString('hex')},${'x'.repeat(i % 37)}\n`);
  return Buffer.from(parts.join(''));
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('detecting compression from the bytes', () => {
  it('knows gzip and zstd by their magic numbers, and nothing else', () => {
    expect(detectCompression(gz(TEXT))).toBe('gzip');
    expect(detectCompression(zst(TEXT))).toBe('zstd');
    expect(detectCompression(TEXT)).toBe('none');
    expect(detectCompression(new Uint8Array([0x1f]))).toBe('none');
    expect(detectCompression(new Uint8Array([0x28, 0xb5, 0x2f]))).toBe('none');
    expect(detectCompression(new Uint8Array())).toBe('none');
  });

  it('follows the setting: auto by the bytes, none never, gzip/zstd insisting', () => {
    expect(compressionOf(gz(TEXT), 'auto')).toBe('gzip');
    expect(compressionOf(zst(TEXT), 'auto')).toBe('zstd');
    expect(compressionOf(gz(TEXT), 'none')).toBe('none');
    expect(compressionOf(gz(TEXT), 'gzip')).toBe('gzip');
    expect(() => compressionOf(Buffer.from('PK\x03\x04rest'), 'gzip')).toThrow(new FeedRejection('not gzip data (first bytes 50 4b 03 04)'));
    expect(() => compressionOf(gz(TEXT), 'zstd')).toThrow('not zstd data (first bytes 1f 8b');
    expect(() => compressionOf(new Uint8Array(), 'gzip')).toThrow('not gzip data (the file is empty)');
  });
});

describe('decompressing', () => {
  it('decompresses gzip and zstd', async () => {
    expect(await run(decompressor('gzip'), gz(TEXT))).toEqual(TEXT);
    expect(await run(decompressor('zstd'), zst(TEXT))).toEqual(TEXT);
  });

  it('decodes every member of a multi-member gzip (two .gz files concatenated)', async () => {
    const a = Buffer.from('first member\n');
    const b = Buffer.from('second member\n');
    expect(await run(decompressor('gzip'), Buffer.concat([gz(a), gz(b)]))).toEqual(Buffer.concat([a, b]));
    expect(await run(autoDecompressor('auto'), Buffer.concat([gz(a), gz(b), gz(a)]), 7)).toEqual(Buffer.concat([a, b, a]));
  });

  it('rejects a truncated gzip with a clear reason', async () => {
    const cut = gz(TEXT).subarray(0, -10);
    await expect(run(decompressor('gzip'), cut)).rejects.toThrow(new FeedRejection('corrupt or truncated gzip data: unexpected end of file'));
    await expect(run(autoDecompressor('auto'), cut)).rejects.toBeInstanceOf(FeedRejection);
  });

  it('rejects a corrupt zstd, and gzip followed by garbage', async () => {
    const bad = zst(TEXT);
    bad.fill(0x55, 6, 30);
    await expect(run(decompressor('zstd'), bad)).rejects.toThrow(/^corrupt or truncated zstd data: /);
    await expect(run(decompressor('zstd'), zst(TEXT).subarray(0, -3))).rejects.toThrow('corrupt or truncated zstd data: unexpected end of file');
    await expect(run(decompressor('gzip'), Buffer.concat([gz(TEXT), Buffer.from('trailing junk')]))).rejects.toThrow(
      'corrupt or truncated gzip data: incorrect header check',
    );
  });

  it('is a FeedRejection with its code, so the file is REJECTED whole', async () => {
    const err = await run(decompressor('gzip'), Buffer.from('plain text, not gzip')).catch((e) => e);
    expect(err).toBeInstanceOf(FeedRejection);
    expect(err.code).toBe('FEED_REJECTED');
  });

  it('stops at maxBytes of decompressed data', async () => {
    const bomb = gz(Buffer.alloc(20 << 20));
    expect(bomb.length).toBeLessThan(100_000);
    await expect(run(decompressor('gzip', { maxBytes: 1 << 20 }), bomb)).rejects.toThrow(new FeedRejection('decompressed data larger than 1048576 bytes'));
    await expect(run(autoDecompressor('zstd', { maxBytes: 1000 }), zst(Buffer.alloc(5000)))).rejects.toThrow('decompressed data larger than 1000 bytes');
    expect(await run(decompressor('gzip', { maxBytes: TEXT.length }), gz(TEXT))).toEqual(TEXT);
  });

  it('round-trips a few MB of real data, nothing lost or reordered, whatever the chunking', async () => {
    const data = realData();
    expect(data.length).toBeGreaterThan(3 << 20);
    for (const [compressed, setting] of [
      [gz(data), 'auto'],
      [zst(data), 'auto'],
      [gz(data), 'gzip'],
      [data, 'auto'],
    ] as const) {
      expect(sha(await run(autoDecompressor(setting), compressed, 65_536))).toBe(sha(data));
      expect(sha(await run(autoDecompressor(setting), compressed, 1_000_003))).toBe(sha(data));
    }
  });
});

describe('deciding on the first bytes as they arrive', () => {
  it('passes an uncompressed file through unchanged', async () => {
    expect(await run(autoDecompressor('auto'), TEXT)).toEqual(TEXT);
    expect(await run(autoDecompressor('none'), gz(TEXT))).toEqual(gz(TEXT));
  });

  it('detects from 1-byte chunks', async () => {
    expect(await run(autoDecompressor('auto'), gz(TEXT), 1)).toEqual(TEXT);
    expect(await run(autoDecompressor('auto'), zst(TEXT), 1)).toEqual(TEXT);
    expect(await run(autoDecompressor('auto'), TEXT, 1)).toEqual(TEXT);
  });

  it.each([1, 2, 3, 4, 5])('splits the first bytes at every boundary (%i-byte first chunk)', async (n) => {
    const input = zst(TEXT);
    const out: Buffer[] = [];
    await pipeline(Readable.from([input.subarray(0, n), input.subarray(n)]), autoDecompressor('auto'), async (s: AsyncIterable<Buffer>) => {
      for await (const c of s) out.push(c);
    });
    expect(Buffer.concat(out)).toEqual(TEXT);
  });

  it('handles inputs shorter than the magic number, and an empty input', async () => {
    expect(await run(autoDecompressor('auto'), Buffer.alloc(0))).toEqual(Buffer.alloc(0));
    expect(await run(autoDecompressor('auto'), Buffer.from('ab'))).toEqual(Buffer.from('ab'));
    await expect(run(autoDecompressor('gzip'), Buffer.alloc(0))).rejects.toThrow('not gzip data (the file is empty)');
    await expect(run(autoDecompressor('zstd'), Buffer.from('a\nb\n'), 1)).rejects.toThrow('not zstd data (first bytes 61 0a 62 0a)');
  });

  it('rejects the 2-byte gzip header alone as truncated', async () => {
    await expect(run(autoDecompressor('auto'), Buffer.from([0x1f, 0x8b]))).rejects.toThrow('corrupt or truncated gzip data');
  });

  it('keeps memory bounded when the reader is slow (backpressure through the decompressor)', async () => {
    const data = Buffer.alloc(100 << 20, 'a');
    const stream = autoDecompressor('auto');
    Readable.from([gz(data)]).pipe(stream);
    await new Promise((r) => setTimeout(r, 300));
    // nothing read yet: only a bounded amount of decompressed bytes waits, not the 100 MB
    expect(stream.readableLength).toBeGreaterThan(0);
    expect(stream.readableLength).toBeLessThan(1 << 20);
    let total = 0;
    for await (const c of stream) total += (c as Buffer).length;
    expect(total).toBe(data.length);
  });
});
