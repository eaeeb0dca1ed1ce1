import { describe, expect, it } from 'vitest';
import type { FixedWidthFormat } from '../../shared/core/config/pipeline-input.generated';
import type { ColumnSpec } from '../../shared/core/config/types';
import { ConfigError } from '../../shared/core/errors';
import { badLine, JUNK_MARK } from '../../shared/core/feeds/canonical';
import { FixedWidthCanonicalizer } from '../../shared/core/feeds/fixed-width';

const columns: ColumnSpec[] = [
  { name: 'id', kind: 'integer' },
  { name: 'name', kind: 'string', nullable: true },
  { name: 'amount', kind: 'decimal', scale: 2 },
  { name: 'day', kind: 'date', format: 'YYYYMMDD', nullable: true },
];
// id 4, name 10, amount 8, day 8: 30 characters; the last column starts at 22.
const format: FixedWidthFormat = { kind: 'fixedWidth', widths: [4, 10, 8, 8], nullMarkers: ['NULL'], decimalComma: true };

/** A line of the 4, 10, 8, 8 layout (values padded on the right). */
const row = (...values: string[]) => values.map((v, i) => v.padEnd(format.widths[i]!)).join('');

const run = (feed: FixedWidthCanonicalizer, lines: string[]) => lines.map((l) => feed.line(l));

describe('FixedWidthCanonicalizer', () => {
  it('slices, trims, empties null markers and converts', () => {
    const feed = new FixedWidthCanonicalizer({ format, columns });
    const lines = [
      row('0001', 'Ann', '1234,56', '20260331'),
      row('  02', 'Bob, Jr.', '  -0,50', '20240229'),
      row('0003', 'NULL', '0,01', 'NULL'),
      row('0004', '', '1', ''),
    ];
    expect(lines.every((l) => l.length === 30)).toBe(true);
    expect(run(feed, lines)).toEqual(['0001,Ann,1234.56,2026-03-31', '02,"Bob, Jr.",-0.50,2024-02-29', '0003,,0.01,', '0004,,1,']);
  });

  it('a line may stop inside the last column, or at its start', () => {
    const feed = new FixedWidthCanonicalizer({
      format: { kind: 'fixedWidth', widths: [4, 6] },
      columns: [
        { name: 'id', kind: 'integer' },
        { name: 'note', kind: 'string', nullable: true },
      ],
    });
    expect(run(feed, ['0001abcdef', '0001abc', '0001', '000'])).toEqual([
      '0001,abcdef',
      '0001,abc',
      '0001,',
      badLine('line has 3 characters; the columns need at least 4', '000'),
    ]);
  });

  it('a line shorter than the last column start, or longer than the widths, is bad', () => {
    const feed = new FixedWidthCanonicalizer({ format, columns });
    const short = '0001Ann        1234,5';
    const long = '0001Ann        1234,5620260331X';
    expect(feed.line(short)).toBe(badLine('line has 21 characters; the columns need at least 22', short));
    expect(feed.line(long)).toBe(badLine('line has 31 characters; the columns take 30', long));
  });

  it('a value that does not convert makes the row bad with the column named', () => {
    const feed = new FixedWidthCanonicalizer({ format, columns });
    const line = '0001Ann        1234,5620260230';
    expect(feed.line(line)).toBe(badLine('day: "20260230" is not a date in YYYYMMDD', line));
  });

  it('skipLines, header and comments are junk; blank lines stay blank', () => {
    const feed = new FixedWidthCanonicalizer({ format: { ...format, skipLines: 1, header: true, commentPrefix: '*' }, columns });
    const lines = ['EXTRACT 2026-03-31', '', '* comment', 'ID  NAME      AMOUNT  DAY     ', '0001Ann        1234,5620260331', '* end'];
    expect(run(feed, lines)).toEqual([
      `${JUNK_MARK}EXTRACT 2026-03-31`,
      '',
      `${JUNK_MARK}* comment`,
      `${JUNK_MARK}ID  NAME      AMOUNT  DAY     `,
      '0001,Ann,1234.56,2026-03-31',
      `${JUNK_MARK}* end`,
    ]);
  });

  it('widths count characters, not UTF-16 units', () => {
    const feed = new FixedWidthCanonicalizer({
      format: { kind: 'fixedWidth', widths: [2, 3] },
      columns: [
        { name: 'a', kind: 'string' },
        { name: 'b', kind: 'string' },
      ],
    });
    expect(feed.line('😀éabc')).toBe('😀é,abc');
    expect(feed.line('Zürich')).toBe(badLine('line has 6 characters; the columns take 5', 'Zürich'));
  });

  it('U+FFFD in a single-byte encoding is a bad row', () => {
    const feed = new FixedWidthCanonicalizer({ format: { ...format, encoding: 'iso-8859-1' }, columns });
    const line = '0001A\uFFFDn       1234,5620260331';
    expect(feed.line(line)).toBe(badLine('bytes not defined in iso-8859-1', line));
  });

  it('a single null value is a row, never a blank line', () => {
    const feed = new FixedWidthCanonicalizer({
      format: { kind: 'fixedWidth', widths: [3], nullMarkers: ['\\N'] },
      columns: [{ name: 'a', kind: 'string', nullable: true }],
    });
    expect(feed.line('  x')).toBe('x');
    expect(feed.line('\\N ')).toBe('""');
  });

  it('a byte order mark on the first line is not a character of it', () => {
    const feed = new FixedWidthCanonicalizer({ format, columns });
    expect(feed.line(`\ufeff${row('0001', 'Ann', '1', '')}`)).toBe('0001,Ann,1,');
  });

  it('one width per column', () => {
    expect(() => new FixedWidthCanonicalizer({ format: { kind: 'fixedWidth', widths: [4, 10] }, columns })).toThrow(ConfigError);
  });
});
