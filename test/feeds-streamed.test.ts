import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { STREAMING_THRESHOLD_BYTES } from '../shared/core/duckdb/streamed-input';
import { landAndSettle, useLocalStack } from './support/local-stack';

/*
 * Compressed feeds through the real handlers on the local stack, on both of validate's and
 * convert's paths: an object above the streaming threshold is decompressed as it streams from S3
 * into DuckDB through a pipe; a smaller one is downloaded and decoded first. zstd as well as gzip;
 * a truncated object on the streamed path is rejected whole, with the decoder's reason.
 */
const configDir = await mkdtemp(join(tmpdir(), 'landfall-streamed-'));
process.env.LANDFALL_CONFIG_FILE = join(configDir, 'pipeline.json');
await writeFile(
  process.env.LANDFALL_CONFIG_FILE,
  JSON.stringify({
    datasets: [
      {
        name: 'events',
        keyPattern: 'events/{part}_{date:YYYYMMDD}.{ext}',
        format: { kind: 'delimited', delimiter: '|', header: false, nullMarkers: ['\\N'] },
        columns: [
          { name: 'id', kind: 'integer' },
          { name: 'token', kind: 'string' },
          { name: 'amount', kind: 'decimal', scale: 2, nullable: true },
        ],
        dateField: 'date',
      },
      {
        name: 'clicks',
        keyPattern: 'clicks/{part}_{date:YYYYMMDD}.jsonl.gz',
        format: { kind: 'jsonl' },
        columns: [
          { name: 'id', kind: 'string' },
          { name: 'user', kind: 'string' },
          { name: 'amount', kind: 'decimal', scale: 2 },
          { name: 'qty', kind: 'integer' },
          { name: 'ok', kind: 'boolean' },
          { name: 'note', kind: 'string', nullable: true },
          { name: 'day', kind: 'date', equalsKeyField: 'date' },
          { name: 'at', kind: 'timestamp' },
        ],
        dateField: 'date',
      },
    ],
  }),
);

const stack = useLocalStack();

/** `rows` rows of random tokens (they hardly compress), one with `\N`, one bad. */
function rowsText(rows: number): string {
  const lines: string[] = [];
  for (let i = 0; i < rows; i += 1)
    lines.push(`${i}|${randomBytes(24).toString('base64')}|${i === 7 ? '\\N' : `${i % 1000}.${String(i % 100).padStart(2, '0')}`}`);
  lines.push('x|not-a-row|1.00');
  return `${lines.join('\n')}\n`;
}

const ROWS = 1_100_000;
/** the large object, generated once: above the streaming threshold compressed */
let bigGzip: Buffer | undefined;
const big = () => (bigGzip ??= gzipSync(rowsText(ROWS), { level: 1 }));

const item = async (relative: string) => (await stack().fileStates.listAll()).find((i) => i.key === `landing/${relative}`)!;

describe('compressed feeds, streamed and downloaded', () => {
  it('decompresses a large gzip as it streams, and a small zstd once downloaded; the rows are counted exactly', { timeout: 300_000 }, async () => {
    const rows = ROWS;
    // above the threshold: validate and convert stream it
    expect(big().length).toBeGreaterThan(STREAMING_THRESHOLD_BYTES);
    await landAndSettle(stack(), 'events/a_20261207.gz', big());
    const a = await item('events/a_20261207.gz');
    expect({ state: a.state, rows: a.rows, parquet: a.parquetRows }).toEqual({
      state: 'CONVERTED',
      rows: { in: rows + 1, out: rows, rejected: 1, junk: 0 },
      parquet: rows,
    });

    await landAndSettle(stack(), 'events/b_20261207.zst', zstdCompressSync(rowsText(1000)));
    const b = await item('events/b_20261207.zst');
    expect({ state: b.state, rows: b.rows, parquet: b.parquetRows }).toEqual({
      state: 'CONVERTED',
      rows: { in: 1001, out: 1000, rejected: 1, junk: 0 },
      parquet: 1000,
    });
  });

  it('converts JSON lines of tens of MB (a Firehose object) in bounded memory', { timeout: 300_000 }, async () => {
    const rows = 200_000;
    const lines: string[] = [];
    for (let i = 0; i < rows; i += 1)
      lines.push(
        JSON.stringify({
          id: `e${i}`,
          user: randomBytes(12).toString('hex'),
          amount: `${i % 500}.${String(i % 100).padStart(2, '0')}`,
          qty: i % 9,
          ok: i % 2 === 0,
          note: i % 5 ? 'note' : null,
          day: '2026-12-07',
          at: `2026-12-07T10:${String(i % 60).padStart(2, '0')}:00Z`,
        }),
      );
    const text = `${lines.join('\n')}\n`;
    expect(text.length).toBeGreaterThan(20_000_000);
    await landAndSettle(stack(), 'clicks/a_20261207.jsonl.gz', gzipSync(text, { level: 1 }));
    const a = await item('clicks/a_20261207.jsonl.gz');
    expect({ state: a.state, rows: a.rows, parquet: a.parquetRows }).toEqual({
      state: 'CONVERTED',
      rows: { in: rows, out: rows, rejected: 0, junk: 0 },
      parquet: rows,
    });
  });

  it('rejects a truncated gzip on the streamed path whole, with the reason', { timeout: 300_000 }, async () => {
    await landAndSettle(stack(), 'events/c_20261207.gz', big().subarray(0, big().length - 1000));
    const c = await item('events/c_20261207.gz');
    expect(c.state).toBe('REJECTED');
    expect(c.reason).toMatch(/^corrupt or truncated gzip data/);
    expect(c.parquetRows).toBeUndefined();
  });
});
