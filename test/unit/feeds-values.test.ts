import { describe, expect, it } from 'vitest';
import type { ColumnSpec } from '../../shared/core/config/types';
import { ConfigError } from '../../shared/core/errors';
import { isCalendarDate } from '../../shared/core/datasets/key-pattern';
import { type ValueConverter, valueConverter, valueFormatProblem } from '../../shared/core/feeds/values';

function converter(column: Partial<ColumnSpec> & Pick<ColumnSpec, 'kind'>, decimalComma = false): ValueConverter {
  const convert = valueConverter({ name: 'c', ...column }, { decimalComma });
  if (!convert) throw new Error('expected a conversion');
  return convert;
}

const value = (v: string) => ({ value: v });

describe('valueConverter: canonical columns need none', () => {
  it.each<Partial<ColumnSpec> & Pick<ColumnSpec, 'kind'>>([
    { kind: 'string' },
    { kind: 'integer' },
    { kind: 'decimal', scale: 2 },
    { kind: 'double' },
    { kind: 'date' },
    { kind: 'timestamp' },
    { kind: 'time' },
    { kind: 'struct' },
    { kind: 'list' },
  ])('%o', (column) => {
    expect(valueConverter({ name: 'c', ...column }, {})).toBeNull();
  });

  it('an integer keeps its text under a decimal comma', () => {
    expect(valueConverter({ name: 'n', kind: 'integer' }, { decimalComma: true })).toBeNull();
  });
});

describe('decimal comma', () => {
  const decimal = converter({ kind: 'decimal', scale: 2 }, true);
  const double = converter({ kind: 'double' }, true);

  it.each([
    ['1234,56', '1234.56'],
    ['-0,5', '-0.5'],
    ['42', '42'],
    ['0,01', '0.01'],
  ])('decimal %s → %s', (raw, out) => {
    expect(decimal(raw)).toEqual(value(out));
  });

  it.each([
    ['1,5e3', '1.5e3'],
    ['-2,25', '-2.25'],
    [',5', '.5'],
    ['7', '7'],
    ['1E-3', '1E-3'],
  ])('double %s → %s', (raw, out) => {
    expect(double(raw)).toEqual(value(out));
  });

  it('a point is a problem, never read silently', () => {
    expect(decimal('1.234,56')).toEqual({ problem: 'c: "1.234,56" has a "." but the decimal separator is ","' });
    expect(double('1234.5')).toEqual({ problem: 'c: "1234.5" has a "." but the decimal separator is ","' });
  });

  it.each(['1,2,3', 'abc', '12,', '--1', '1 234,5'])('%s is not a decimal', (raw) => {
    expect(decimal(raw)).toEqual({ problem: `c: ${JSON.stringify(raw)} is not a decimal (with a decimal comma)` });
  });

  it('an empty value stays empty (null)', () => {
    expect(decimal('')).toEqual(value(''));
  });
});

describe('booleans', () => {
  const bool = converter({ kind: 'boolean' });
  it.each(['true', 'TRUE', 'True', 't', 'T', 'yes', 'YES', 'y', 'Y', '1'])('%s → true', (raw) => {
    expect(bool(raw)).toEqual(value('true'));
  });
  it.each(['false', 'False', 'f', 'F', 'no', 'NO', 'n', 'N', '0'])('%s → false', (raw) => {
    expect(bool(raw)).toEqual(value('false'));
  });
  it.each(['maybe', '2', 'ja', ' true', 'yes '])('%j is a problem', (raw) => {
    expect(bool(raw)).toEqual({ problem: `c: ${JSON.stringify(raw)} is not a boolean (true/false, t/f, yes/no, y/n, 1/0)` });
  });
  it('empty stays empty', () => {
    expect(bool('')).toEqual(value(''));
  });
});

describe('date formats', () => {
  it.each([
    ['DD.MM.YYYY', '31.03.2026', '2026-03-31'],
    ['DD/MM/YYYY', '01/02/2026', '2026-02-01'],
    ['MM/DD/YYYY', '01/02/2026', '2026-01-02'],
    ['YYYYMMDD', '20260315', '2026-03-15'],
    ['YYYY-MM-DD', '2026-03-15', '2026-03-15'],
    ['DD.MM.YYYY', '29.02.2024', '2024-02-29'],
    ['DD.MM.YYYY', '29.02.2000', '2000-02-29'],
  ])('%s: %s → %s', (format, raw, out) => {
    expect(converter({ kind: 'date', format })(raw)).toEqual(value(out));
  });

  it.each([
    ['DD.MM.YYYY', '31.02.2026'],
    ['DD.MM.YYYY', '29.02.2026'],
    ['DD.MM.YYYY', '29.02.1900'],
    ['DD.MM.YYYY', '00.01.2026'],
    ['DD.MM.YYYY', '01.13.2026'],
    ['DD.MM.YYYY', '1.3.2026'],
    ['DD.MM.YYYY', '01-03-2026'],
    ['DD.MM.YYYY', '01.03.2026 '],
    ['YYYYMMDD', '2026031'],
    ['MM/DD/YYYY', '13/01/2026'],
  ])('%s: %s is not a date', (format, raw) => {
    expect(converter({ kind: 'date', format, name: 'order_date' } as ColumnSpec)(raw)).toEqual({
      problem: `order_date: ${JSON.stringify(raw)} is not a date in ${format}`,
    });
  });

  it('the same value twice has the same verdict (memoized)', () => {
    const date = converter({ kind: 'date', format: 'DD.MM.YYYY' });
    expect(date('31.02.2026')).toEqual(date('31.02.2026'));
    expect(date('28.02.2026')).toEqual(value('2026-02-28'));
    expect(date('28.02.2026')).toEqual(value('2026-02-28'));
  });
});

describe('timestamp formats', () => {
  it.each([
    ['DD/MM/YYYY HH:mm', '31/12/2026 23:59', '2026-12-31T23:59:00Z'],
    ['DD.MM.YYYY HH:mm:ss', '01.03.2026 07:05:09', '2026-03-01T07:05:09Z'],
    ['YYYY-MM-DD HH:mm:ss.SSS', '2026-03-01 07:05:09.123', '2026-03-01T07:05:09.123Z'],
    ['YYYY-MM-DD HH:mm:ss.SSS', '2026-03-01 07:05:09.123456', '2026-03-01T07:05:09.123456Z'],
    ['YYYY-MM-DD HH:mm:ss.SSS', '2026-03-01 07:05:09.5', '2026-03-01T07:05:09.5Z'],
    ['YYYY-MM-DD HH:mm:ss.SSS', '2026-03-01 07:05:09.000', '2026-03-01T07:05:09Z'],
    ['YYYYMMDDHHmmss', '20240229235959', '2024-02-29T23:59:59Z'],
    ['DD.MM.YYYY', '15.06.2026', '2026-06-15T00:00:00Z'],
  ])('%s: %s → %s', (format, raw, out) => {
    expect(converter({ kind: 'timestamp', format })(raw)).toEqual(value(out));
  });

  it.each([
    ['DD/MM/YYYY HH:mm', '31/12/2026 24:00'],
    ['DD/MM/YYYY HH:mm', '31/12/2026 23:60'],
    ['DD/MM/YYYY HH:mm', '30/02/2026 10:00'],
    ['DD/MM/YYYY HH:mm', '31/12/2026'],
    ['YYYY-MM-DD HH:mm:ss.SSS', '2026-03-01 07:05:09.1234567'],
    ['YYYY-MM-DD HH:mm:ss', '2026-03-01 07:05:60'],
  ])('%s: %s is a problem', (format, raw) => {
    expect(converter({ kind: 'timestamp', format })(raw)).toEqual({ problem: `c: ${JSON.stringify(raw)} is not a timestamp in ${format}` });
  });
});

describe('timestamp iso: converted to UTC exactly', () => {
  const iso = converter({ kind: 'timestamp', format: 'iso' });
  it.each([
    ['2026-03-01T10:00:00Z', '2026-03-01T10:00:00Z'],
    ['2026-03-01T10:00:00z', '2026-03-01T10:00:00Z'],
    ['2026-03-01 10:00:00', '2026-03-01T10:00:00Z'],
    ['2026-03-01T10:00', '2026-03-01T10:00:00Z'],
    ['2026-03-01T10:00:00+02:00', '2026-03-01T08:00:00Z'],
    ['2026-03-01T10:00:00+0200', '2026-03-01T08:00:00Z'],
    ['2026-03-01T10:00:00+02', '2026-03-01T08:00:00Z'],
    ['2026-03-01T10:00:00-05:30', '2026-03-01T15:30:00Z'],
    ['2026-12-31T23:30:00-01:00', '2027-01-01T00:30:00Z'],
    ['2026-01-01T00:30:00+01:00', '2025-12-31T23:30:00Z'],
    ['2024-03-01T00:15:00+00:30', '2024-02-29T23:45:00Z'],
    ['2023-03-01T00:15:00+00:30', '2023-02-28T23:45:00Z'],
    ['2024-02-28T23:00:00-01:00', '2024-02-29T00:00:00Z'],
    ['2026-03-01T10:00:00.1+01:00', '2026-03-01T09:00:00.1Z'],
    ['2026-03-01T10:00:00.123456-00:00', '2026-03-01T10:00:00.123456Z'],
    ['2026-03-01T10:00:00.999999+14:00', '2026-02-28T20:00:00.999999Z'],
    ['2026-03-01T10:00:00.120000Z', '2026-03-01T10:00:00.12Z'],
    ['2026-03-01T10:00:00.123456000Z', '2026-03-01T10:00:00.123456Z'],
    ['0050-01-01T00:30:00+01:00', '0049-12-31T23:30:00Z'],
  ])('%s → %s', (raw, out) => {
    expect(iso(raw)).toEqual(value(out));
  });

  it.each([
    ['2026-02-29T10:00:00Z', 'is not an ISO 8601 timestamp'],
    ['2026-03-01T24:00:00Z', 'is not an ISO 8601 timestamp'],
    ['2026-03-01', 'is not an ISO 8601 timestamp'],
    ['2026-03-01T10:00:00+2:00', 'is not an ISO 8601 timestamp'],
    ['2026-03-01T10:00:00 +02:00', 'is not an ISO 8601 timestamp'],
    ['yesterday', 'is not an ISO 8601 timestamp'],
    ['2026-03-01T10:00:00+24:00', 'has an offset out of range'],
    ['2026-03-01T10:00:00+02:60', 'has an offset out of range'],
    ['2026-03-01T10:00:00.1234567Z', 'has more precision than microseconds'],
    ['9999-12-31T23:30:00-01:00', 'is out of range (years 0000–9999 in UTC)'],
  ])('%s %s', (raw, why) => {
    expect(iso(raw)).toEqual({ problem: `c: ${JSON.stringify(raw)} ${why}` });
  });
});

describe('timestamp epochSeconds and epochMillis', () => {
  const seconds = converter({ kind: 'timestamp', format: 'epochSeconds' });
  const millis = converter({ kind: 'timestamp', format: 'epochMillis' });

  it.each([
    ['0', '1970-01-01T00:00:00Z'],
    ['1700000000', '2023-11-14T22:13:20Z'],
    ['1700000000.5', '2023-11-14T22:13:20.5Z'],
    ['1700000000.123456', '2023-11-14T22:13:20.123456Z'],
    ['1700000000.100', '2023-11-14T22:13:20.1Z'],
    ['1709164800', '2024-02-29T00:00:00Z'],
    ['-1', '1969-12-31T23:59:59Z'],
    ['-1.5', '1969-12-31T23:59:58.5Z'],
    ['-0.000001', '1969-12-31T23:59:59.999999Z'],
    ['253402300799', '9999-12-31T23:59:59Z'],
  ])('seconds %s → %s', (raw, out) => {
    expect(seconds(raw)).toEqual(value(out));
  });

  it.each([
    ['1700000000123', '2023-11-14T22:13:20.123Z'],
    ['1700000000000', '2023-11-14T22:13:20Z'],
    ['1700000000001', '2023-11-14T22:13:20.001Z'],
    ['1700000000123.456', '2023-11-14T22:13:20.123456Z'],
    ['1700000000123.4', '2023-11-14T22:13:20.1234Z'],
    ['-1', '1969-12-31T23:59:59.999Z'],
    ['-1000', '1969-12-31T23:59:59Z'],
    ['-1.5', '1969-12-31T23:59:59.9985Z'],
    ['1709251199999', '2024-02-29T23:59:59.999Z'],
  ])('millis %s → %s', (raw, out) => {
    expect(millis(raw)).toEqual(value(out));
  });

  it.each([
    [seconds, 'soon', 'is not a timestamp in epochSeconds'],
    [seconds, '1.2.3', 'is not a timestamp in epochSeconds'],
    [seconds, '+5', 'is not a timestamp in epochSeconds'],
    [seconds, '1e9', 'is not a timestamp in epochSeconds'],
    [seconds, '1.1234567', 'has more precision than microseconds'],
    [seconds, '253402300800', 'is out of range (years 0000–9999 in UTC)'],
    [millis, '1700000000123.4567', 'has more precision than microseconds'],
    [millis, '9999999999999999', 'is out of range (years 0000–9999 in UTC)'],
  ])('%#: %s %s', (convert, raw, why) => {
    expect(convert(raw)).toEqual({ problem: `c: ${JSON.stringify(raw)} ${why}` });
  });

  it('sub-microsecond zeros are not precision', () => {
    expect(seconds('1.1234560')).toEqual(value('1970-01-01T00:00:01.123456Z'));
  });
});

describe('time formats', () => {
  it.each([
    ['HH:mm', '07:05', '07:05:00'],
    ['HH:mm:ss', '23:59:59', '23:59:59'],
    ['HH:mm:ss.SSS', '00:00:00.250', '00:00:00.25'],
    ['HHmmss', '120000', '12:00:00'],
  ])('%s: %s → %s', (format, raw, out) => {
    expect(converter({ kind: 'time', format })(raw)).toEqual(value(out));
  });

  it.each([
    ['HH:mm', '24:00'],
    ['HH:mm', '7:05'],
    ['HH:mm:ss', '12:00:61'],
  ])('%s: %s is a problem', (format, raw) => {
    expect(converter({ kind: 'time', format })(raw)).toEqual({ problem: `c: ${JSON.stringify(raw)} is not a time in ${format}` });
  });
});

describe('formats a kind cannot use', () => {
  it.each<[ColumnSpec['kind'], string, string]>([
    ['integer', 'YYYY', 'an integer column takes no format'],
    ['string', 'YYYY', 'a string column takes no format'],
    ['date', 'DD.MM', 'DD.MM: a date format needs YYYY (tokens YYYY MM DD HH mm ss SSS)'],
    ['date', 'YYYY-MM-DD HH:mm', 'YYYY-MM-DD HH:mm: a date format takes no time of day'],
    ['date', 'iso', 'iso: only a timestamp takes it (a date takes tokens)'],
    ['date', 'yyyy-MM-DD', 'yyyy-MM-DD: "y" is not a token (YYYY MM DD HH mm ss SSS) nor a literal (any character but a letter, or T)'],
    [
      'timestamp',
      'YYYY-MM-DD hh:mm',
      'YYYY-MM-DD hh:mm: "h" is not a token (YYYY MM DD HH mm ss SSS) nor a literal (any character but a letter, or T); or give iso, epochSeconds or epochMillis',
    ],
    ['time', 'HH', 'HH: a time format needs mm (tokens YYYY MM DD HH mm ss SSS)'],
    ['time', 'YYYY HH:mm', 'YYYY HH:mm: a time format takes no date'],
    ['timestamp', 'YYYY-MM-DD HH:mm:ss.SSS.SSS', 'YYYY-MM-DD HH:mm:ss.SSS.SSS: SSS appears twice'],
    ['timestamp', 'YYYY-MM-DD mm', 'YYYY-MM-DD mm: mm (minutes) needs HH'],
    ['timestamp', 'YYYY-MM-DD HH:ss', 'YYYY-MM-DD HH:ss: ss needs mm'],
  ])('%s %s', (kind, format, problem) => {
    expect(valueFormatProblem(kind, format)).toBe(problem);
    expect(() => valueConverter({ name: 'c', kind, format }, {})).toThrow(ConfigError);
  });

  it('accepts the named timestamp formats', () => {
    for (const format of ['iso', 'epochSeconds', 'epochMillis', 'DD/MM/YYYY HH:mm']) expect(valueFormatProblem('timestamp', format)).toBeNull();
  });
});

describe('calendar arithmetic agrees with the Date reference', () => {
  it('every day-month pair of 1900, 2000, 2023, 2024 and 2100 is a date exactly when isCalendarDate says so', () => {
    const date = converter({ kind: 'date', format: 'DD.MM.YYYY' });
    for (const year of [1900, 2000, 2023, 2024, 2100]) {
      for (let month = 0; month <= 13; month += 1) {
        for (let day = 0; day <= 32; day += 1) {
          const [dd, mm] = [day, month].map((n) => String(n).padStart(2, '0'));
          const iso = `${year}-${mm}-${dd}`;
          expect('value' in date(`${dd}.${mm}.${year}`), iso).toBe(isCalendarDate(iso));
        }
      }
    }
  });

  it('offsets and epoch values convert as Date computes them (whole milliseconds)', () => {
    const iso = converter({ kind: 'timestamp', format: 'iso' });
    const millis = converter({ kind: 'timestamp', format: 'epochMillis' });
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    for (let i = 0; i < 2000; i += 1) {
      // any day of years 0001–9800, any millisecond of it
      const ms = (next(3_580_000) - 719_000) * 86_400_000 + next(86_400_000);
      const reference = new Date(ms).toISOString();
      const expected = reference.replace(/\.000Z$/, 'Z').replace(/(\.\d*?)0+Z$/, '$1Z');
      expect(millis(String(ms)), String(ms)).toEqual(value(expected));
      const offsetMinutes = (next(28 * 60) - 14 * 60) * (next(2) ? 1 : -1);
      const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 23);
      const sign = offsetMinutes < 0 ? '-' : '+';
      const abs = Math.abs(offsetMinutes);
      const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
      if (Math.floor(abs / 60) > 23) continue;
      expect(iso(`${local}${offset}`), `${local}${offset}`).toEqual(value(expected));
    }
  });
});
