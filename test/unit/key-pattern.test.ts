import { describe, expect, it } from 'vitest';
import { keyFieldsOf } from '../../shared/core/config/parse-dataset';
import { compileKeyPattern, isCalendarDate, isDateFormat, matchKey } from '../../shared/core/datasets/key-pattern';

const POS = compileKeyPattern('pos/{province}/{store}_{date:YYYYMMDD}_{time:HHMMSS}.tdf');
const MASTER = compileKeyPattern('master/{date:YYYYMMDD}/Item.csv');

describe('compiling a key pattern', () => {
  it('lists its fields in order, with their formats', () => {
    expect(POS.fields).toEqual([
      { name: 'province', format: 'segment' },
      { name: 'store', format: 'segment' },
      { name: 'date', format: 'YYYYMMDD' },
      { name: 'time', format: 'HHMMSS' },
    ]);
    expect(POS.source).toBe('pos/{province}/{store}_{date:YYYYMMDD}_{time:HHMMSS}.tdf');
    expect(compileKeyPattern('static/file.csv').fields).toEqual([]);
  });

  it.each([
    ['an unclosed placeholder', 'master/{date:YYYYMMDD/Item.csv', 'malformed placeholder near "master/{date:YYYYMMDD/Item.csv"'],
    ['a stray closing brace', 'master/date}/Item.csv', 'malformed placeholder near "master/date}/Item.csv"'],
    ['an upper-case field name', 'pos/{Province}/x.tdf', 'malformed placeholder near "pos/{Province}/x.tdf"'],
    ['an unknown format', 'pos/{date:DD.MM.YYYY}.tdf', 'malformed placeholder near "pos/{date:DD.MM.YYYY}.tdf"'],
    ['a lower-case format', 'pos/{hour:hh}.tdf', 'malformed placeholder near "pos/{hour:hh}.tdf"'],
    ['a brace between placeholders', 'pos/{a}{/{b}.tdf', 'malformed placeholder near "{/"'],
    ['a field named twice', 'pos/{store}/{store}.tdf', 'placeholder {store} appears twice'],
  ])('refuses %s', (_what, pattern, message) => {
    expect(() => compileKeyPattern(pattern)).toThrow(message);
  });
});

describe('matching a key', () => {
  it('captures fields, with dates and times in ISO form', () => {
    expect(matchKey(POS, 'pos/ON/ON01_20261123_140502.tdf')).toEqual({
      ok: true,
      fields: { province: 'ON', store: 'ON01', date: '2026-11-23', time: '14:05:02' },
    });
    expect(matchKey(MASTER, 'master/20240229/Item.csv')).toEqual({ ok: true, fields: { date: '2024-02-29' } });
  });

  it.each([
    ['another extension', 'pos/ON/ON01_20261123_140000.csv'],
    ['a longer key', 'pos/ON/ON01_20261123_140000.tdf.bak'],
    ['a prefix', 'x/pos/ON/ON01_20261123_140000.tdf'],
    ['a field holding "/"', 'pos/ON/sub/ON01_20261123_140000.tdf'],
    ['a field holding "_"', 'pos/ON/ON_01_20261123_140000.tdf'],
    ['an empty field', 'pos//ON01_20261123_140000.tdf'],
    ['a short date', 'pos/ON/ON01_2026112_140000.tdf'],
    ['a date with dashes', 'pos/ON/ON01_2026-11-23_140000.tdf'],
    ['a time with colons', 'pos/ON/ON01_20261123_14:00:00.tdf'],
  ])('does not match %s', (_what, key) => {
    expect(matchKey(POS, key)).toBeNull();
  });

  it('takes the dot of a pattern literally', () => {
    expect(matchKey(MASTER, 'master/20261123/ItemXcsv')).toBeNull();
    const dotted = compileKeyPattern('exports/(v1)+[{part}].csv');
    expect(matchKey(dotted, 'exports/(v1)+[p1].csv')).toEqual({ ok: true, fields: { part: 'p1' } });
    expect(matchKey(dotted, 'exports/v1[p1].csv')).toBeNull();
  });

  it('matches any other character in a segment field, non-ASCII included', () => {
    expect(matchKey(POS, 'pos/QC/Montréal-1 (est)_20261123_000000.tdf')).toEqual({
      ok: true,
      fields: { province: 'QC', store: 'Montréal-1 (est)', date: '2026-11-23', time: '00:00:00' },
    });
  });

  it('rejects, with a reason, a key of the right shape whose date or time does not exist', () => {
    expect(matchKey(POS, 'pos/ON/ON01_20260229_140000.tdf')).toEqual({ ok: false, reason: 'key field date: 20260229 is not a calendar date' });
    expect(matchKey(POS, 'pos/ON/ON01_20261301_140000.tdf')).toEqual({ ok: false, reason: 'key field date: 20261301 is not a calendar date' });
    expect(matchKey(POS, 'pos/ON/ON01_20261100_140000.tdf')).toEqual({ ok: false, reason: 'key field date: 20261100 is not a calendar date' });
    expect(matchKey(POS, 'pos/ON/ON01_20261123_240000.tdf')).toEqual({ ok: false, reason: 'key field time: 240000 is not a time of day' });
    expect(matchKey(POS, 'pos/ON/ON01_20261123_236000.tdf')).toEqual({ ok: false, reason: 'key field time: 236000 is not a time of day' });
    expect(matchKey(POS, 'pos/ON/ON01_20261123_235960.tdf')).toEqual({ ok: false, reason: 'key field time: 235960 is not a time of day' });
    expect(matchKey(POS, 'pos/ON/ON01_20261123_235959.tdf')).toMatchObject({ ok: true, fields: { time: '23:59:59' } });
  });
});

describe('date and hour layouts (Firehose folders, dashed dates, hours, object names)', () => {
  const FIREHOSE = compileKeyPattern('clicks/{date:YYYY/MM/DD}/{hour:HH}/{name:TEXT}');

  it('compiles the new formats', () => {
    expect(FIREHOSE.fields).toEqual([
      { name: 'date', format: 'YYYY/MM/DD' },
      { name: 'hour', format: 'HH' },
      { name: 'name', format: 'TEXT' },
    ]);
    expect(compileKeyPattern('d/{day:YYYY-MM-DD}.csv').fields).toEqual([{ name: 'day', format: 'YYYY-MM-DD' }]);
  });

  it('matches a full Firehose key: the date across three folders, the hour, the object name', () => {
    const key = 'clicks/2026/12/07/10/clicks-stream-1-2026-12-07-10-15-00-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0.gz';
    expect(matchKey(FIREHOSE, key)).toEqual({
      ok: true,
      fields: { date: '2026-12-07', hour: '10', name: 'clicks-stream-1-2026-12-07-10-15-00-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0.gz' },
    });
  });

  it.each([
    ['a date in two folders', 'clicks/2026/12/10/x.gz'],
    ['a one-digit month', 'clicks/2026/1/07/10/x.gz'],
    ['a three-digit hour', 'clicks/2026/12/07/100/x.gz'],
    ['an object name in a sub-folder', 'clicks/2026/12/07/10/sub/x.gz'],
    ['no object name', 'clicks/2026/12/07/10/'],
  ])('does not match %s', (_what, key) => {
    expect(matchKey(FIREHOSE, key)).toBeNull();
  });

  it('rejects, with a reason, an impossible date or hour in folders', () => {
    expect(matchKey(FIREHOSE, 'clicks/2026/02/30/10/x.gz')).toEqual({ ok: false, reason: 'key field date: 2026/02/30 is not a calendar date' });
    expect(matchKey(FIREHOSE, 'clicks/2026/13/01/10/x.gz')).toEqual({ ok: false, reason: 'key field date: 2026/13/01 is not a calendar date' });
    expect(matchKey(FIREHOSE, 'clicks/2026/12/07/24/x.gz')).toEqual({ ok: false, reason: 'key field hour: 24 is not an hour of the day' });
    expect(matchKey(FIREHOSE, 'clicks/2024/02/29/00/x.gz')).toMatchObject({ ok: true, fields: { date: '2024-02-29', hour: '00' } });
    expect(matchKey(FIREHOSE, 'clicks/2026/12/31/23/x.gz')).toMatchObject({ ok: true, fields: { date: '2026-12-31', hour: '23' } });
  });

  it('records a dashed date as it is, and checks it', () => {
    const dashed = compileKeyPattern('exports/{region}/{day:YYYY-MM-DD}/{part}.json');
    expect(matchKey(dashed, 'exports/eu/2026-12-07/p1.json')).toEqual({ ok: true, fields: { region: 'eu', day: '2026-12-07', part: 'p1' } });
    expect(matchKey(dashed, 'exports/eu/2026-02-29/p1.json')).toEqual({ ok: false, reason: 'key field day: 2026-02-29 is not a calendar date' });
    expect(matchKey(dashed, 'exports/eu/20261207/p1.json')).toBeNull();
    expect(matchKey(dashed, 'exports/eu/2026/12/07/p1.json')).toBeNull();
  });

  it('lets a TEXT field hold "_" and "-" but not "/", and stops before a literal suffix', () => {
    const named = compileKeyPattern('drops/{file:TEXT}.csv.gz');
    expect(matchKey(named, 'drops/acme_orders-2026.csv.gz')).toEqual({ ok: true, fields: { file: 'acme_orders-2026' } });
    expect(matchKey(named, 'drops/a/b.csv.gz')).toBeNull();
    expect(matchKey(named, 'drops/.csv.gz')).toBeNull();
  });

  it('matches an archive member key', () => {
    const member = compileKeyPattern('partner/{partner}_{date:YYYYMMDD}.zip!/{table}_{part}.csv');
    expect(matchKey(member, 'partner/acme_20261207.zip!/orders_1.csv')).toEqual({
      ok: true,
      fields: { partner: 'acme', date: '2026-12-07', table: 'orders', part: '1' },
    });
    expect(matchKey(member, 'partner/acme_20261207.zip/orders_1.csv')).toBeNull();
  });

  it('counts every date format as a date key field, and nothing else', () => {
    expect(['YYYYMMDD', 'YYYY-MM-DD', 'YYYY/MM/DD'].every((f) => isDateFormat(f as never))).toBe(true);
    expect(['HHMMSS', 'HH', 'TEXT', 'segment'].some((f) => isDateFormat(f as never))).toBe(false);
    expect(keyFieldsOf('clicks/{date:YYYY/MM/DD}/{hour:HH}/{name:TEXT}')).toEqual({ names: ['date', 'hour', 'name'], dates: ['date'] });
    expect(keyFieldsOf('x/{a:YYYYMMDD}/{b:YYYY-MM-DD}/{c}_{t:HHMMSS}.csv')).toEqual({ names: ['a', 'b', 'c', 't'], dates: ['a', 'b'] });
  });
});

describe('calendar dates', () => {
  it.each(['2026-11-23', '2024-02-29', '2000-02-29', '2026-01-31', '2026-12-31'])('knows %s', (date) => {
    expect(isCalendarDate(date)).toBe(true);
  });

  it.each([
    '2026-02-29',
    '1900-02-29',
    '2100-02-29',
    '2026-04-31',
    '2026-06-31',
    '2026-13-01',
    '2026-00-01',
    '2026-01-00',
    '2026-1-1',
    '26-11-23',
    '2026-11-23T00:00:00Z',
    ' 2026-11-23',
    '',
  ])('refuses %j', (date) => {
    expect(isCalendarDate(date)).toBe(false);
  });
});
