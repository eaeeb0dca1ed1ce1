import { describe, expect, it } from 'vitest';
import type { ColumnSpec } from '../../shared/core/config/types';
import { canonicalNested, compileRowCheck, decimalIntegerDigits, isUtcTimestamp, parseJsonExact, valueCheck } from '../../shared/stages/validate/row-checks';

const check = (column: ColumnSpec, keyFields: Record<string, string> = {}) => valueCheck(column, keyFields);

describe('UTC timestamps', () => {
  it.each(['2026-11-23T10:00:00Z', '2026-11-23T23:59:59.5Z', '2026-11-23T00:00:00.123456Z', '2024-02-29T12:00:00Z'])('accepts %s', (text) => {
    expect(isUtcTimestamp(text)).toBe(true);
  });

  it.each([
    ['no zone', '2026-11-23T10:00:00'],
    ['an offset instead of Z', '2026-11-23T10:00:00+00:00'],
    ['a lower-case z', '2026-11-23T10:00:00z'],
    ['a space for T', '2026-11-23 10:00:00Z'],
    ['no seconds', '2026-11-23T10:00Z'],
    ['seven fraction digits', '2026-11-23T10:00:00.1234567Z'],
    ['an empty fraction', '2026-11-23T10:00:00.Z'],
    ['hour 24', '2026-11-23T24:00:00Z'],
    ['minute 60', '2026-11-23T10:60:00Z'],
    ['a leap second', '2026-12-31T23:59:60Z'],
    ['a day February does not have', '2026-02-29T10:00:00Z'],
    ['the 31st of a 30-day month', '2026-04-31T10:00:00Z'],
    ['surrounding text', ' 2026-11-23T10:00:00Z'],
  ])('refuses %s', (_what, text) => {
    expect(isUtcTimestamp(text)).toBe(false);
  });
});

describe('digits a decimal may have before its point', () => {
  it('never lets the value outgrow DECIMAL(18, scale), and never exceeds 16', () => {
    for (let scale = 0; scale <= 9; scale += 1) {
      const digits = decimalIntegerDigits(scale);
      expect(digits + scale).toBeLessThanOrEqual(18);
      expect(digits).toBeLessThanOrEqual(16);
    }
    expect(decimalIntegerDigits(0)).toBe(16);
    expect(decimalIntegerDigits(2)).toBe(16);
    expect(decimalIntegerDigits(3)).toBe(15);
    expect(decimalIntegerDigits(9)).toBe(9);
  });
});

describe('checking one value', () => {
  it('refuses an empty value unless the column is nullable', () => {
    expect(check({ name: 'store_id', kind: 'string' })('')).toBe('store_id: empty value');
    expect(check({ name: 'qty', kind: 'integer' })('')).toBe('qty: empty value');
    expect(check({ name: 'qty', kind: 'integer', nullable: true })('')).toBeNull();
    // an empty value is NULL: neither the allowed list nor the key field applies to it
    expect(check({ name: 'code', kind: 'string', allowed: ['A'], equalsKeyField: 'store', nullable: true }, { store: 'ON01' })('')).toBeNull();
  });

  it('refuses a line break in any column, even a free-form string', () => {
    for (const value of ['a\nb', 'a\rb', '\r\n']) {
      expect(check({ name: 'note', kind: 'string' })(value)).toBe('note: a value with a line break');
      expect(check({ name: 'note', kind: 'string', nullable: true })(value)).toBe('note: a value with a line break');
    }
  });

  it('accepts any other text in a string column', () => {
    for (const value of [' ', 'Classic Burgers, large', '"quoted"', 'é€😀', '\t']) expect(check({ name: 'item_name', kind: 'string' })(value)).toBeNull();
  });

  describe('integers', () => {
    const qty = check({ name: 'qty', kind: 'integer' });
    it.each(['0', '-1', '007', '123456789012345678', '-123456789012345678'])('accepts %s', (value) => {
      expect(qty(value)).toBeNull();
    });
    it.each(['1234567890123456789', '+1', '1.0', '1e3', ' 1', '1 ', '--1', '-', '0x10', '١٢'])('refuses %j', (value) => {
      expect(qty(value)).toBe(`qty: ${JSON.stringify(value)} is not an integer`);
    });
  });

  describe('decimals', () => {
    const price = check({ name: 'price', kind: 'decimal', scale: 2 });
    it.each(['0', '9.99', '-0.5', '12.3', '1234567890123456.78'])('accepts %s at scale 2', (value) => {
      expect(price(value)).toBeNull();
    });
    it.each(['1.234', '.5', '5.', '1,50', '+1.00', '1e2', '12345678901234567', 'NaN'])('refuses %j at scale 2', (value) => {
      expect(price(value)).toBe(`price: ${JSON.stringify(value)} is not a decimal with at most 2 places`);
    });

    it('allows no point at all at scale 0', () => {
      const whole = check({ name: 'units', kind: 'decimal', scale: 0 });
      expect(whole('42')).toBeNull();
      expect(whole('42.0')).toBe('units: "42.0" is not a decimal with at most 0 places');
    });

    it('limits the digits before the point by the scale (DECIMAL(18, scale))', () => {
      const scale4 = check({ name: 'rate', kind: 'decimal', scale: 4 });
      expect(scale4(`${'9'.repeat(14)}.9999`)).toBeNull();
      expect(scale4(`${'9'.repeat(15)}.9999`)).toMatch(/is not a decimal/);
      const scale9 = check({ name: 'rate', kind: 'decimal', scale: 9 });
      expect(scale9('123456789.123456789')).toBeNull();
      expect(scale9('1234567890.1')).toMatch(/is not a decimal/);
    });
  });

  describe('dates', () => {
    const day = check({ name: 'day', kind: 'date' });
    it.each(['2026-11-23', '2024-02-29', '2000-02-29', '2026-12-31'])('accepts %s', (value) => {
      expect(day(value)).toBeNull();
    });
    it.each(['2026-02-29', '1900-02-29', '2026-04-31', '2026-13-01', '2026-00-10', '2026-1-01', '20261123', '2026/11/23', '2026-11-23T00:00:00Z'])(
      'refuses %s',
      (value) => {
        expect(day(value)).toBe(`day: ${JSON.stringify(value)} is not a date (YYYY-MM-DD)`);
      },
    );
  });

  it('names the timestamp format when it refuses one', () => {
    expect(check({ name: 'event_ts', kind: 'timestamp' })('2026-11-23 10:00:00')).toBe(
      'event_ts: "2026-11-23 10:00:00" is not a UTC timestamp (YYYY-MM-DDTHH:MM:SS[.sss]Z)',
    );
  });

  it('shows at most 60 characters of a value it refuses', () => {
    const long = `x${'9'.repeat(99)}`;
    expect(check({ name: 'qty', kind: 'integer' })(long)).toBe(`qty: "${long.slice(0, 60)}…" is not an integer`);
    expect(check({ name: 'qty', kind: 'integer' })('x'.repeat(60))).toBe(`qty: "${'x'.repeat(60)}" is not an integer`);
  });

  describe('allowed values', () => {
    it('refuses a string outside the list, exactly (no case folding, no trimming)', () => {
      const type = check({ name: 'event_type', kind: 'string', allowed: ['view', 'purchase'] });
      expect(type('view')).toBeNull();
      expect(type('View')).toBe('event_type: "View" is not a known value');
      expect(type('view ')).toBe('event_type: "view " is not a known value');
    });

    it('compares integers by value, so that "04" is code 4', () => {
      const code = check({ name: 'code', kind: 'integer', allowed: [1, 4, '7'] });
      expect(code('4')).toBeNull();
      expect(code('04')).toBeNull();
      expect(code('0007')).toBeNull();
      expect(code('5')).toBe('code: "5" is not a known value');
      expect(code('-4')).toBe('code: "-4" is not a known value');
    });

    it('checks the type before the list', () => {
      expect(check({ name: 'code', kind: 'integer', allowed: [1] })('1.0')).toBe('code: "1.0" is not an integer');
    });
  });

  describe('values equal to a key field', () => {
    it('compares text exactly with the field taken from the object key', () => {
      const store = check({ name: 'store_id', kind: 'string', equalsKeyField: 'store' }, { store: 'ON01', date: '2026-11-23' });
      expect(store('ON01')).toBeNull();
      expect(store('ON02')).toBe('store_id: "ON02" does not match the file\'s store "ON01"');
      expect(store('on01')).toBe('store_id: "on01" does not match the file\'s store "ON01"');
    });

    it('compares a timestamp by its UTC date with a date key field', () => {
      const ts = check({ name: 'event_ts', kind: 'timestamp', equalsKeyField: 'date' }, { date: '2026-11-23' });
      expect(ts('2026-11-23T00:00:00Z')).toBeNull();
      expect(ts('2026-11-23T23:59:59.999Z')).toBeNull();
      expect(ts('2026-11-24T00:00:00Z')).toBe('event_ts: "2026-11-24T00:00:00Z" is not on the file\'s date "2026-11-23" (UTC)');
      expect(ts('2026-11-22T23:59:59Z')).toMatch(/is not on the file's date/);
      // a malformed timestamp is reported as such, not as being on another day
      expect(ts('2026-11-23T25:00:00Z')).toMatch(/is not a UTC timestamp/);
    });

    it('reports an unknown value before a key-field mismatch', () => {
      const code = check({ name: 'province', kind: 'string', allowed: ['ON', 'QC'], equalsKeyField: 'province' }, { province: 'ON' });
      expect(code('BC')).toBe('province: "BC" is not a known value');
      expect(code('QC')).toBe('province: "QC" does not match the file\'s province "ON"');
      expect(code('ON')).toBeNull();
    });
  });

  it('gives the same verdict for a value seen before, beyond the memo bound too', () => {
    const day = check({ name: 'day', kind: 'date' });
    expect(day('2026-02-30')).toMatch(/is not a date/);
    expect(day('2026-02-30')).toMatch(/is not a date/);
    expect(day('2026-02-28')).toBeNull();
    expect(day('2026-02-28')).toBeNull();
    // more distinct values than the memo keeps: values past the bound are still checked
    const base = Date.UTC(2000, 0, 1);
    for (let i = 0; i < 10_050; i += 1) expect(day(new Date(base + i * 86_400_000).toISOString().slice(0, 10))).toBeNull();
    expect(day('2031-02-29')).toMatch(/is not a date/);
    expect(day('2032-02-29')).toBeNull();
  });

  it("keeps the verdicts of one key field apart from another file's", () => {
    const column: ColumnSpec = { name: 'store_id', kind: 'string', equalsKeyField: 'store' };
    const on01 = check(column, { store: 'ON01' });
    const on02 = check(column, { store: 'ON02' });
    expect(on01('ON01')).toBeNull();
    expect(on02('ON01')).toMatch(/does not match the file's store "ON02"/);
  });
});

describe('checking a row', () => {
  const columns: ColumnSpec[] = [
    { name: 'store_id', kind: 'string', equalsKeyField: 'store' },
    { name: 'qty', kind: 'integer' },
    { name: 'price', kind: 'decimal', scale: 2, nullable: true },
  ];
  const row = compileRowCheck(columns, { store: 'ON01' });

  it('accepts a good row', () => {
    expect(row(['ON01', '3', '9.99'])).toBeNull();
    expect(row(['ON01', '3', ''])).toBeNull();
  });

  it('counts the columns before looking at any value', () => {
    expect(row(['ON01', '3'])).toBe('expected 3 columns, found 2');
    expect(row(['ON02', 'x', '1', 'extra'])).toBe('expected 3 columns, found 4');
    expect(row([])).toBe('expected 3 columns, found 0');
  });

  it('reports the first bad value, in column order', () => {
    expect(row(['ON02', 'x', '1.234'])).toBe('store_id: "ON02" does not match the file\'s store "ON01"');
    expect(row(['ON01', 'x', '1.234'])).toBe('qty: "x" is not an integer');
    expect(row(['ON01', '3', '1.234'])).toBe('price: "1.234" is not a decimal with at most 2 places');
  });

  it('takes a row with no columns as the empty list', () => {
    expect(compileRowCheck([], {})([])).toBeNull();
    expect(compileRowCheck([], {})([''])).toBe('expected 0 columns, found 1');
  });
});

describe('the canonical values of the newer kinds', () => {
  it('limits a decimal by its precision', () => {
    const narrow = check({ name: 'rate', kind: 'decimal', scale: 2, precision: 5 });
    expect(narrow('999.99')).toBeNull();
    expect(narrow('1000.00')).toBe('rate: "1000.00" is not a decimal with at most 3 digits before the point and 2 after it');
    const wide = check({ name: 'big', kind: 'decimal', scale: 6, precision: 38 });
    expect(wide(`${'9'.repeat(32)}.123456`)).toBeNull();
    expect(wide(`${'9'.repeat(33)}`)).toMatch(/is not a decimal/);
    expect(decimalIntegerDigits(6, 38)).toBe(32);
    expect(decimalIntegerDigits(0, 10)).toBe(10);
    expect(decimalIntegerDigits(0, 18)).toBe(16);
  });

  describe('doubles', () => {
    const x = check({ name: 'x', kind: 'double' });
    it.each(['0', '-1.5', '.5', '5.', '1e3', '1E-300', '-2.5e+10', '00012', '1e-400'])('accepts %s', (value) => {
      expect(x(value)).toBeNull();
    });
    it.each(['+1', 'NaN', 'Infinity', '1e309', '-1e400', '0x10', '1,5', '1e', '.', '-', ' 1', '1_000'])('refuses %j', (value) => {
      expect(x(value)).toBe(`x: ${JSON.stringify(value)} is not a finite number`);
    });
  });

  it('reads a boolean as true or false only (the decoder spells the others so)', () => {
    const flag = check({ name: 'flag', kind: 'boolean' });
    expect(flag('true')).toBeNull();
    expect(flag('false')).toBeNull();
    for (const value of ['TRUE', 'True', '1', 't', 'yes', 'false ']) expect(flag(value)).toBe(`flag: ${JSON.stringify(value)} is not true or false`);
  });

  describe('times of day', () => {
    const at = check({ name: 'at', kind: 'time' });
    it.each(['00:00:00', '23:59:59', '12:30:00.5', '12:30:00.123456'])('accepts %s', (value) => {
      expect(at(value)).toBeNull();
    });
    it.each(['24:00:00', '12:60:00', '12:30', '12:30:00.1234567', '12:30:00Z', '1:30:00', 'T12:30:00'])('refuses %s', (value) => {
      expect(at(value)).toBe(`at: ${JSON.stringify(value)} is not a time of day (HH:MM:SS[.ffffff])`);
    });
  });
});

describe('nested values (JSON text)', () => {
  const items = check({
    name: 'items',
    kind: 'list',
    items: {
      kind: 'struct',
      fields: [
        { name: 'sku', kind: 'string' },
        { name: 'qty', kind: 'integer' },
        { name: 'price', kind: 'decimal', scale: 2, nullable: true },
        { name: 'gift', kind: 'boolean', nullable: true },
      ],
    },
  });

  it('accepts values of the declared shape, extra keys ignored', () => {
    expect(items('[]')).toBeNull();
    expect(items('[{"sku":"a","qty":2,"extra":{"x":[1]}},{"sku":"b","qty":"3","price":"9.99","gift":true}]')).toBeNull();
  });

  it('names the path of the first problem', () => {
    expect(items('[{"sku":"a","qty":1},{"sku":"b","qty":1},{"sku":"c"}]')).toBe('items[2].qty: missing or null');
    expect(items('[{"sku":"a","qty":null}]')).toBe('items[0].qty: missing or null');
    expect(items('[{"sku":"a","qty":1.5}]')).toBe('items[0].qty: "1.5" is not an integer');
    expect(items('[{"sku":"a","qty":1,"price":1.234}]')).toBe('items[0].price: "1.234" is not a decimal with at most 2 places');
    expect(items('[{"sku":"a","qty":1,"gift":"yes"}]')).toBe('items[0].gift: "yes" is not true or false');
    expect(items('[{"sku":true,"qty":1}]')).toBe('items[0].sku: a boolean is not a column value');
    expect(items('[null]')).toBe('items[0]: missing or null');
    expect(items('[[1]]')).toBe('items[0]: a list is not an object');
    expect(items('{"sku":"a"}')).toBe('items: an object is not a list');
    expect(items('[{"sku":"a\\nb","qty":1}]')).toBe('items[0].sku: a value with a line break');
  });

  it('reads a JSON number as written, every digit kept (an exponent as JavaScript prints it)', () => {
    expect(items('[{"sku":"a","qty":9007199254740993}]')).toBeNull();
    expect(items('[{"sku":"a","qty":1e2}]')).toBeNull();
    expect(items('[{"sku":"a","qty":12345678901234567890}]')).toBe('items[0].qty: "12345678901234567890" is not an integer');
    expect(items('[{"sku":"a","qty":1,"price":1234567890123456.50}]')).toBeNull();
    expect(items('[{"sku":"a","qty":1,"price":1.505}]')).toBe('items[0].price: "1.505" is not a decimal with at most 2 places');
    expect(items('[{"sku":"a","qty":1,"price":1e400}]')).toBe('items[0].price: a number is not a column value');
    expect(items('[{"sku":"a","qty":{"n":1}}]')).toBe('items[0].qty: an object is not a column value');
  });

  it('gives the canonical form of a good value: declared fields only, leaves as their canonical text', () => {
    const type = {
      kind: 'list' as const,
      items: {
        kind: 'struct' as const,
        fields: [
          { name: 'qty', kind: 'integer' as const },
          { name: 'price', kind: 'decimal' as const, scale: 2, nullable: true },
          { name: 'gift', kind: 'boolean' as const, nullable: true },
        ],
      },
    };
    const value = parseJsonExact('[{"qty":9007199254740993,"price":1234567890123456.50,"gift":true,"extra":[1]},{"qty":1e2}]');
    expect(JSON.stringify(canonicalNested(type, value))).toBe(
      '[{"qty":"9007199254740993","price":"1234567890123456.50","gift":"true"},{"qty":"100","price":null,"gift":null}]',
    );
  });

  it('refuses text that is not JSON, and takes an empty value as null', () => {
    expect(items('[{')).toBe('items: "[{" is not JSON');
    expect(items('')).toBe('items: empty value');
    expect(check({ name: 'items', kind: 'list', items: { kind: 'integer' }, nullable: true })('')).toBeNull();
    expect(check({ name: 'tags', kind: 'list', items: { kind: 'string', nullable: true } })('["a",null]')).toBeNull();
    expect(check({ name: 'tags', kind: 'list', items: { kind: 'string' } })('["a",null]')).toBe('tags[1]: missing or null');
  });

  it('checks structs within structs', () => {
    const user = check({
      name: 'user',
      kind: 'struct',
      fields: [
        {
          name: 'geo',
          kind: 'struct',
          fields: [
            { name: 'country', kind: 'string', nullable: true },
            { name: 'at', kind: 'timestamp' },
          ],
        },
      ],
    });
    expect(user('{"geo":{"at":"2026-11-23T10:00:00Z"}}')).toBeNull();
    expect(user('{"geo":{"country":"CA","at":"2026-11-23 10:00:00"}}')).toMatch(/^user\.geo\.at: "2026-11-23 10:00:00" is not a UTC timestamp/);
    expect(user('{"geo":{}}')).toBe('user.geo.at: missing or null');
    expect(user('{}')).toBe('user.geo: missing or null');
  });
});

describe('byte limits in a row', () => {
  const columns: ColumnSpec[] = [
    { name: 'id', kind: 'string' },
    { name: 'note', kind: 'string', maxBytes: 10, onTooLong: 'truncate' },
    { name: 'code', kind: 'string', maxBytes: 2, nullable: true },
  ];
  const checkRow = compileRowCheck(columns, {});

  it('names the first column over its limit, in bytes', () => {
    expect(checkRow(['a'.repeat(65_536), 'n', ''])).toBe('id: 65536 bytes, more than the 65535 a warehouse VARCHAR holds');
    expect(checkRow(['a', 'n', 'éa'])).toBe("code: 3 bytes, more than the column's maxBytes of 2");
  });

  it('keeps a row whose long value is to be truncated', () => {
    expect(checkRow(['a', 'x'.repeat(100_000), 'ab'])).toBeNull();
  });
});
