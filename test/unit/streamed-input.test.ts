import { createReadStream } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { canStreamInput, STREAMING_THRESHOLD_BYTES, withStreamedInput } from '../../shared/core/duckdb/streamed-input';

const chunks = (n: number, size = 1 << 20) => Array.from({ length: n }, (_, i) => Buffer.alloc(size, 97 + (i % 26)));

async function countBytes(path: string): Promise<number> {
  let total = 0;
  for await (const c of createReadStream(path)) total += (c as Buffer).length;
  return total;
}

describe('streaming an object into a reader through a named pipe', () => {
  it('is used only for objects larger than the pipe threshold', () => {
    expect(canStreamInput(1000)).toBe(false);
    expect(canStreamInput(STREAMING_THRESHOLD_BYTES + 1)).toBe(true); // mkfifo is on these machines
  });

  it('hands every byte to the reader', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'landfall-fifo-'));
    const body = Readable.from(chunks(40));
    expect(await withStreamedInput(join(dir, 'in'), body, countBytes)).toBe(40 << 20);
  });

  it('fails when the download fails part-way, even though the reader saw a (shorter) file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'landfall-fifo-'));
    let seen = 0;
    const body = Readable.from(
      (async function* () {
        yield* chunks(3);
        throw new Error('connection reset');
      })(),
    );
    await expect(withStreamedInput(join(dir, 'in'), body, async (p) => (seen = await countBytes(p)))).rejects.toThrow('connection reset');
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThanOrEqual(3 << 20);
  });

  it('fails, without waiting forever, when the reader gives up first', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'landfall-fifo-'));
    const body = Readable.from(chunks(100));
    await expect(
      withStreamedInput(join(dir, 'in'), body, async () => {
        throw new Error('bad input');
      }),
    ).rejects.toThrow('bad input');
    await expect(withStreamedInput(join(dir, 'in2'), Readable.from(chunks(100)), async (p) => (await readFile(p)).subarray(0, 10).length)).resolves.toBe(10);
  });
});
