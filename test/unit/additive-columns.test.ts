import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { ColumnSpec, DatasetConfig } from '../../shared/core/config/types';
import { keptColumnsOf, peekHeader, withKeptColumns } from '../../shared/core/feeds/extra-columns';
import { byteDecoder, feedOf } from '../../shared/core/feeds/feed';

const columns: ColumnSpec[] = [
  { name: 'id', kind: 'integer' },
  { name: 'note', kind: 'string', nullable: true },
];
const dataset = (over: Partial<DatasetConfig> = {}): DatasetConfig =>
  ({
    name: 'orders',
    keyPattern: 'orders/{date:YYYYMMDD}.csv',
    dateField: 'date',
    schemaPolicy: 'additive',
    format: { kind: 'delimited', delimiter: ';' },
    columns,
    ...over,
  }) as DatasetConfig;

/** The canonical lines a dataset's decoder writes for `text`. */
async function canonical(of: DatasetConfig, text: string): Promise<string[]> {
  const steps = feedOf(of).decoder('none', {})!;
  let stream: Readable = Readable.from([Buffer.from(text)]);
  for (const step of steps) stream = stream.pipe(step);
  let out = '';
  for await (const chunk of stream) out += chunk.toString();
  return out.split('\n').filter((l) => l !== '');
}

describe('the columns an additive file adds', () => {
  it('keeps legal names lower-cased and ignores names Glue cannot take or that clash', () => {
    const { kept, ignored } = keptColumnsOf(columns, [
      'id',
      'Channel',
      'NOTE',
      'source_key',
      'key_date',
      'two words',
      'x'.repeat(256),
      'channel',
      'note',
      '9lives',
    ]);
    expect(kept).toEqual([{ header: 'Channel', name: 'channel' }]);
    expect(ignored).toEqual(['NOTE', 'source_key', 'key_date', 'two words', 'x'.repeat(256), 'channel', '9lives']);
  });

  it('reads a kept column by its header name, after the declared ones, in any order', async () => {
    const widened = withKeptColumns(dataset(), [{ header: 'Channel', name: 'channel' }]);
    expect(widened.columns.map((c) => c.name)).toEqual(['id', 'note', 'channel']);
    expect(widened.columns[2]).toEqual({ name: 'channel', kind: 'string', nullable: true, onTooLong: 'truncate' });
    expect(await canonical(widened, 'Channel;id;Other\nweb;1;z\n')).toEqual(['id,note,channel', '1,,web']);
  });

  it('leaves the dataset as it is when nothing is kept', async () => {
    const plain = dataset();
    expect(withKeptColumns(plain, [])).toBe(plain);
    expect(await canonical(plain, 'Channel;id\nweb;1\n')).toEqual(['id,note', '1,']);
  });

  it('finds the header after skipped and comment lines, through gzip', async () => {
    const of = dataset({ format: { kind: 'delimited', delimiter: ';', skipLines: 1, commentPrefix: '#' } });
    const bytes = gzipSync('report of the day\n# a comment\n\nid;"Chan;nel";note\n1;a;b\n');
    expect(await peekHeader(Readable.from([bytes]), byteDecoder(of, 'gzip'), of)).toEqual(['id', 'Chan;nel', 'note']);
    expect(await peekHeader(Readable.from([Buffer.from('id;note')]), [], of)).toBeNull(); // skipped: no header left
    expect(await peekHeader(Readable.from([gzipSync('id;x\n').subarray(0, 8)]), byteDecoder(of, 'gzip'), of)).toBeNull();
  });
});
