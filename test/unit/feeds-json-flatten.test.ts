import { describe, expect, it } from 'vitest';
import type { ColumnSpec } from '../../shared/core/config/types';
import { parseBadLine } from '../../shared/core/feeds/canonical';
import { jsonRecordCanonicalizer } from '../../shared/core/feeds/json-flatten';

function canonicalizer(columns: ColumnSpec[], decimalComma = false): (record: string) => string {
  const canonicalize = jsonRecordCanonicalizer(columns, { decimalComma });
  if (!canonicalize) throw new Error('expected a canonicalizer');
  return canonicalize;
}

const clickstream: ColumnSpec[] = [
  { name: 'event_id', kind: 'string' },
  { name: 'ts', kind: 'timestamp', format: 'epochMillis' },
  { name: 'user_id', kind: 'string', path: 'user.id' },
  { name: 'country', kind: 'string', path: 'user.geo.country', nullable: true },
  { name: 'logged_in', kind: 'boolean', path: 'user.loggedIn', nullable: true },
  { name: 'price', kind: 'decimal', scale: 2, nullable: true },
  {
    name: 'items',
    kind: 'list',
    nullable: true,
    items: {
      kind: 'struct',
      fields: [
        { name: 'sku', kind: 'string' },
        { name: 'qty', kind: 'integer' },
      ],
    },
  },
  { name: 'device', kind: 'struct', nullable: true, fields: [{ name: 'os', kind: 'string' }] },
];

describe('jsonRecordCanonicalizer', () => {
  it('is null when every column is read by its name with no conversion', () => {
    const flat: ColumnSpec[] = [
      { name: 'id', kind: 'integer' },
      { name: 'at', kind: 'timestamp' },
      { name: 'tags', kind: 'list', items: { kind: 'string' } },
      { name: 'a', kind: 'string', path: 'a' },
    ];
    expect(jsonRecordCanonicalizer(flat, {})).toBeNull();
    expect(jsonRecordCanonicalizer([...flat, { name: 'b', kind: 'string', path: 'x.b' }], {})).not.toBeNull();
    expect(jsonRecordCanonicalizer([...flat, { name: 'ok', kind: 'boolean' }], {})).not.toBeNull();
  });

  it('flattens a Firehose-like nested record: paths, epoch millis, lists and structs kept', () => {
    const canonicalize = canonicalizer(clickstream);
    const record = JSON.stringify({
      event_id: 'e1',
      ts: 1700000000123,
      user: { id: 'u1', loggedIn: true, geo: { country: 'CA', city: 'Toronto' } },
      price: 19.99,
      items: [
        { sku: 'a', qty: 2 },
        { sku: 'b', qty: 1 },
      ],
      device: { os: 'ios', version: 17 },
      extra: 'ignored',
    });
    const line = canonicalize(record);
    expect(line).toBe(
      '{"event_id":"e1","ts":"2023-11-14T22:13:20.123Z","user_id":"u1","country":"CA","logged_in":"true","price":"19.99",' +
        '"items":[{"sku":"a","qty":2},{"sku":"b","qty":1}],"device":{"os":"ios","version":17}}',
    );
    expect(Object.keys(JSON.parse(line))).toEqual(clickstream.map((c) => c.name));
  });

  it('a missing optional path, an intermediate non-object and JSON null are null', () => {
    const canonicalize = canonicalizer(clickstream);
    const out = JSON.parse(canonicalize('{"event_id":"e2","ts":-1,"user":{"id":7,"geo":"unknown"},"price":null}'));
    expect(out).toEqual({
      event_id: 'e2',
      ts: '1969-12-31T23:59:59.999Z',
      user_id: '7',
      country: null,
      logged_in: null,
      price: null,
      items: null,
      device: null,
    });
    const noUser = JSON.parse(canonicalize('{"event_id":"e3","ts":"1700000000000","user":[{"id":"u"}]}'));
    expect(noUser.user_id).toBeNull();
    expect(noUser.ts).toBe('2023-11-14T22:13:20Z');
  });

  it('inherited properties are not values', () => {
    const canonicalize = canonicalizer([{ name: 'c', kind: 'string', path: 'a.constructor' }]);
    expect(canonicalize('{"a":{}}')).toBe('{"c":null}');
  });

  it('a malformed record is a bad row with the parser message', () => {
    const canonicalize = canonicalizer(clickstream);
    const bad = parseBadLine(canonicalize('{"event_id":"e1",'));
    expect(bad?.text).toBe('{"event_id":"e1",');
    expect(bad?.reason).toMatch(/^not JSON: /);
  });

  it.each(['[1,2]', '"text"', '42', 'null'])('%s is not a JSON object', (record) => {
    expect(parseBadLine(canonicalizer(clickstream)(record))).toEqual({ reason: 'not a JSON object', text: record });
  });

  it('a value that does not convert is a bad row naming the column', () => {
    const canonicalize = canonicalizer(clickstream);
    const record = '{"event_id":"e1","ts":"yesterday","user":{"id":"u"}}';
    expect(parseBadLine(canonicalize(record))).toEqual({ reason: 'ts: "yesterday" is not a timestamp in epochMillis', text: record });
    const boolRecord = '{"event_id":"e1","ts":0,"user":{"id":"u","loggedIn":"perhaps"}}';
    expect(parseBadLine(canonicalize(boolRecord))?.reason).toBe('logged_in: "perhaps" is not a boolean (true/false, t/f, yes/no, y/n, 1/0)');
  });

  it('scalars become JSON strings; objects where a scalar is declared, and scalars where a struct is, are left for the engine', () => {
    const canonicalize = canonicalizer(clickstream);
    const out = JSON.parse(canonicalize('{"event_id":{"x":1},"ts":0,"user":{"id":true},"device":"ios","items":5}'));
    expect(out.event_id).toEqual({ x: 1 });
    expect(out.user_id).toBe('true');
    expect(out.device).toBe('ios');
    expect(out.items).toBe(5);
  });

  it('numbers a double cannot hold are kept as written, nested ones too', () => {
    const canonicalize = canonicalizer([
      { name: 'id', kind: 'integer', path: 'order.id' },
      { name: 'amount', kind: 'decimal', scale: 18, path: 'order.amount' },
      { name: 'lines', kind: 'list', items: { kind: 'integer' }, path: 'order.lines' },
    ]);
    const line = canonicalize('{"order":{"id":12345678901234567891,"amount":0.123456789012345678,"lines":[98765432109876543210]}}');
    expect(line).toBe('{"id":"12345678901234567891","amount":"0.123456789012345678","lines":[98765432109876543210]}');
  });

  it('numbers with few digits take the fast path and keep their value', () => {
    const canonicalize = canonicalizer([{ name: 'n', kind: 'double', path: 'v.n' }]);
    expect(canonicalize('{"v":{"n":1.50}}')).toBe('{"n":"1.5"}');
    expect(canonicalize('{"v":{"n":-0.25e2}}')).toBe('{"n":"-25"}');
  });

  it('under a decimal comma, a JSON number is already canonical and a string is converted', () => {
    const canonicalize = canonicalizer([{ name: 'amount', kind: 'decimal', scale: 2, path: 'a' }], true);
    expect(canonicalize('{"a":12.5}')).toBe('{"amount":"12.5"}');
    expect(canonicalize('{"a":"1234,56"}')).toBe('{"amount":"1234.56"}');
  });

  it('boolean spellings and epoch seconds with a fraction', () => {
    const canonicalize = canonicalizer([
      { name: 'flag', kind: 'boolean' },
      { name: 'at', kind: 'timestamp', format: 'epochSeconds' },
      { name: 'when', kind: 'timestamp', format: 'iso', path: 'meta.when' },
    ]);
    expect(JSON.parse(canonicalize('{"flag":"Y","at":1700000000.25,"meta":{"when":"2026-12-31T23:30:00-01:00"}}'))).toEqual({
      flag: 'true',
      at: '2023-11-14T22:13:20.25Z',
      when: '2027-01-01T00:30:00Z',
    });
    expect(JSON.parse(canonicalize('{"flag":0,"at":1700000000.123456}'))).toEqual({ flag: 'false', at: '2023-11-14T22:13:20.123456Z', when: null });
  });
});
