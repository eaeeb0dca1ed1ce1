import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { DatasetConfig } from '../../shared/core/config/types';
import { BAD_MARK, FeedRejection, JUNK_MARK, parseBadLine } from '../../shared/core/feeds/canonical';
import { decodes, feedOf } from '../../shared/core/feeds/feed';
import { rejected } from '../support/thrown';

const dataset = (over: Partial<DatasetConfig>): DatasetConfig => ({
  name: 'orders',
  keyPattern: 'orders/{date:YYYYMMDD}.csv',
  format: { kind: 'delimited', delimiter: ',' },
  columns: [
    { name: 'id', kind: 'integer' },
    { name: 'amount', kind: 'decimal', scale: 2 },
  ],
  partitionBy: [],
  dateField: 'date',
  maxBadRowRatio: 0.5,
  ...over,
});

/** The canonical text of `bytes` through a feed's decoder. */
async function decode(steps: Transform[] | null, bytes: Buffer): Promise<string> {
  if (steps === null) return bytes.toString('utf8');
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      out.push(chunk);
      done();
    },
  });
  await pipeline([Readable.from([bytes]), ...steps, sink]);
  return Buffer.concat(out).toString('utf8');
}

describe('feedOf: how a dataset’s landed bytes become the engine’s text', () => {
  it('reads the earlier formats as they are: no decoding, the dataset unchanged', () => {
    for (const format of [
      { kind: 'delimited', delimiter: ',' },
      { kind: 'delimited', delimiter: '\t', junkLinePrefix: '--' },
      { kind: 'delimited', delimiter: ',', header: false },
      { kind: 'jsonl' },
    ] as DatasetConfig['format'][]) {
      const d = dataset({ format });
      const feed = feedOf(d);
      expect(feed.canonical).toBe(d);
      expect(feed.decoder('none', {})).toBeNull();
      expect(feed.parquet).toBe(false);
    }
  });

  it('decompresses a plain CSV told gzip, and nothing else', async () => {
    const feed = feedOf(dataset({}));
    expect(await decode(feed.decoder('gzip', {}), gzipSync('id,amount\n1,2.50\n'))).toBe('id,amount\n1,2.50\n');
  });

  it('rejects a truncated gzip whole', async () => {
    const feed = feedOf(dataset({}));
    const gz = gzipSync('id,amount\n1,2.50\n'.repeat(1000));
    const err = await rejected(FeedRejection, decode(feed.decoder('gzip', {}), gz.subarray(0, gz.length - 20)));
    expect(err.message).toMatch(/truncated gzip/);
  });

  it('turns a ; windows-1252 decimal-comma file, header in another order, into canonical CSV, one line per line', async () => {
    const d = dataset({
      format: { kind: 'delimited', delimiter: ';', encoding: 'windows-1252', decimalComma: true, commentPrefix: '#' },
      schemaPolicy: 'additive',
    });
    const feed = feedOf(d);
    expect(feed.canonical.format).toEqual({ kind: 'delimited', delimiter: ',', header: true, junkLinePrefix: JUNK_MARK });
    const notes = {};
    const bytes = Buffer.concat([Buffer.from('# export\namount;note;id\n1234,56;"a;b";7\n'), Buffer.from([0x31, 0x2c, 0x30, 0x3b, 0x81, 0x3b, 0x38, 0x0a])]);
    const lines = (await decode(feed.decoder('none', notes), bytes)).split('\n');
    expect(lines.slice(0, 3)).toEqual([`${JUNK_MARK}# export`, 'id,amount', '7,1234.56']);
    expect(lines[3]!.startsWith(BAD_MARK)).toBe(true);
    expect(parseBadLine(lines[3]!)?.reason).toMatch(/windows-1252/);
    expect(notes).toEqual({ extraColumns: ['note'] });
  });

  it('splits concatenated JSON records and takes columns by path', async () => {
    const d = dataset({
      format: { kind: 'json', records: 'concatenated' },
      columns: [
        { name: 'country', kind: 'string', path: 'user.geo.country', nullable: true },
        { name: 'n', kind: 'integer' },
      ],
    });
    const feed = feedOf(d);
    expect(feed.canonical.format).toEqual({ kind: 'jsonl' });
    const text = await decode(feed.decoder('gzip', {}), gzipSync('{"user":{"geo":{"country":"CA"}},"n":1}{"n":2}\n{"n":'));
    const lines = text.trimEnd().split('\n');
    expect(JSON.parse(lines[0]!)).toEqual({ country: 'CA', n: '1' });
    expect(JSON.parse(lines[1]!)).toEqual({ country: null, n: '2' });
    expect(parseBadLine(lines[2]!)?.reason).toMatch(/truncated JSON record/);
  });

  it('reads fixed-width text as headerless canonical CSV', async () => {
    const d = dataset({ format: { kind: 'fixedWidth', widths: [3, 8], decimalComma: true } });
    const feed = feedOf(d);
    expect(feed.canonical.format).toMatchObject({ kind: 'delimited', delimiter: ',', header: false });
    expect(await decode(feed.decoder('none', {}), Buffer.from('  1    2,50\n 12   10,00\n'))).toBe('1,2.50\n12,10.00\n');
  });

  it('decodes Parquet from a whole file, never streamed', () => {
    const feed = feedOf(dataset({ format: { kind: 'parquet' } }));
    expect(feed.parquet).toBe(true);
    expect(feed.canonical.format).toEqual({ kind: 'jsonl' });
  });
});

describe('decodes: whether a landed object needs decoding, without building the transforms', () => {
  it('agrees with the decoder for every kind of feed and compression', () => {
    const datasets = [
      dataset({}),
      dataset({ format: { kind: 'jsonl' } }),
      dataset({ format: { kind: 'json', records: 'array' } }),
      dataset({ format: { kind: 'jsonl', encoding: 'windows-1252' } }),
      dataset({ format: { kind: 'delimited', delimiter: ';' } }),
      dataset({ format: { kind: 'fixedWidth', widths: [3, 8] } }),
    ];
    for (const d of datasets) {
      const feed = feedOf(d);
      for (const kind of ['none', 'gzip', 'zstd'] as const) expect(decodes(feed, kind), `${d.format.kind} ${kind}`).toBe(feed.decoder(kind, {}) !== null);
    }
  });
});
