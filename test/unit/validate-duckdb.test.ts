import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retailConfig } from '../../examples/retail/config';
import type { DatasetConfig } from '../../shared/core/config/types';
import { MAX_LINE_BYTES } from '../../shared/core/datasets/line-limits';
import { DuckDbValidator, validateInJavaScript } from '../support/validation-parity';

/**
 * Validation in DuckDB against the JavaScript reference (validate-file.ts), file by file: the same
 * outcome, counts, rejects report (line numbers, reasons, excerpts) and good rows, or, where DuckDB
 * cannot express a rule, an explicit hand-over to the JavaScript (`fallback`).
 */
const config = retailConfig();
const pos = config.datasets.find((d) => d.name === 'pos')!;
const master = config.datasets.find((d) => d.name === 'item_master')!;
const clicks = config.datasets.find((d) => d.format.kind === 'jsonl')!;
const posKeys = { province: 'ON', store: 'ON01', date: '2026-11-23', time: '14:00:00' };
const HEADER = 'store_id\titem_id\ttransaction_date\ttransaction_code\tamount';
const row = (item = 'I0001', amount = '1.00', code = '4', date = '2026-11-23', store = 'ON01') => `${store}\t${item}\t${date}\t${code}\t${amount}`;

const kinds: DatasetConfig = {
  name: 'kinds',
  keyPattern: 'kinds/{date:YYYYMMDD}.csv',
  format: { kind: 'delimited', delimiter: ',' },
  columns: [
    { name: 's', kind: 'string' },
    { name: 'i', kind: 'integer', nullable: true },
    { name: 'd', kind: 'decimal', scale: 3, nullable: true },
    { name: 'dt', kind: 'date', nullable: true },
    { name: 'ts', kind: 'timestamp', nullable: true, equalsKeyField: 'date' },
    { name: 'code', kind: 'integer', allowed: [1, 2, 30], nullable: true },
    { name: 'word', kind: 'string', allowed: ['a', "o'k", '1'], nullable: true },
  ],
  partitionBy: [],
  dateField: 'date',
  maxBadRowRatio: 0.9,
};
const kindsHeader = 's,i,d,dt,ts,code,word';
const kindsKeys = { date: '2026-11-23' };
const jsonl: DatasetConfig = { ...kinds, name: 'kindsj', keyPattern: 'kindsj/{date:YYYYMMDD}.jsonl', format: { kind: 'jsonl' } };

type Case = [name: string, content: string | Uint8Array, dataset: DatasetConfig, keys: Record<string, string>, path?: 'fallback'];
const t = (lines: string[], end = '\n') => `${lines.join(end)}${end}`;
const cases: Case[] = [
  // line ends and framing
  ['LF', t([HEADER, row(), row('I0002')]), pos, posKeys],
  ['CRLF', t([HEADER, row(), row('I0002')], '\r\n'), pos, posKeys],
  ['no final newline', `${HEADER}\n${row()}\n${row('I0002')}`, pos, posKeys],
  ['CRLF, no final newline', `${HEADER}\r\n${row()}\r\n${row('I0002')}`, pos, posKeys],
  ['a BOM', `\uFEFF${t([HEADER, row()])}`, pos, posKeys],
  ['a BOM only', '\uFEFF', pos, posKeys],
  ['blank lines everywhere', `\n\n${HEADER}\n\n${row()}\n   \n\t\n${row('I0002')}\n\n\n`, pos, posKeys],
  ['blank lines before a wrong header', `\n \n${row()}\n`, pos, posKeys],
  ['only blank lines', '\n\n \n\t\n', pos, posKeys],
  ['unicode whitespace lines', `${HEADER}\n \u00a0\u3000\n\u3000\n${row()}\n`, pos, posKeys],
  ['junk before the header and between rows', t(['---- export ----', '----', HEADER, row(), '---- page 2', row('I0002'), '----']), pos, posKeys],
  ['junk then a wrong header', t(['---- export', 'nope', HEADER]), pos, posKeys],
  ['header with trailing spaces', t([`${HEADER}  `, row()]), pos, posKeys],
  ['header only', t([HEADER]), pos, posKeys],
  ['header only, no newline', HEADER, pos, posKeys],
  ['empty file', '', pos, posKeys],
  ['a header in CSV where TSV is expected', t([HEADER.replaceAll('\t', ','), row()]), pos, posKeys],
  ['the header again later', t([HEADER, row(), HEADER, row('I0002')]), pos, posKeys],
  ['a lone CR inside a line', t([HEADER, row(), `${row('I\r0002')}`]), pos, posKeys, 'fallback'],
  ['mixed line ends', `${HEADER}\r\n${row()}\n${row('I0002')}\r\n`, pos, posKeys, 'fallback'],
  ['a CR before CRLF', `${HEADER}\r\n${row()}\r\r\n`, pos, posKeys, 'fallback'],
  ['a NUL byte', t([HEADER, `ON01\u0000\tI0001\t2026-11-23\t4\t1.00`]), pos, posKeys, 'fallback'],
  ['a NUL byte in a junk line', t([HEADER, '----\u0000', row()]), pos, posKeys, 'fallback'],
  ['invalid UTF-8', Uint8Array.from([...new TextEncoder().encode(`${HEADER}\n`), 0x41, 0xff, 0xfe, 0x0a]), pos, posKeys, 'fallback'],
  ['gzip bytes', Uint8Array.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x41]), pos, posKeys, 'fallback'],
  // values
  [
    'bad POS rows of every kind',
    t([
      HEADER,
      row(),
      row('I0001', '12.345'),
      row('I0001', '1.00', '99'),
      'ON01\tI0001\t2026-11-23\t4',
      row('I0001', '1.00', '4', '2026-11-23', 'ON02'),
      row('I0001', '1.00', '4', '2026-02-30'),
      row(''),
      row('I0001', '+1.00'),
      row('I0001', ' 1.00 '),
      row('I0001', '1e2'),
      row('I0001', '1_000'),
      row('I0001', '1.00', '4', '2026/11/23'),
      row('I0001', '1.00', '4.0'),
      row('I0001', '1.00', '04'),
      row('I0001', '-0'),
      row('I0001', '.5'),
      row('I0001', '5.'),
      row('I0001', '12345678901234567'),
      row('I0001', '1234567890123456.12'),
      row('I0001', '1.00', '0'),
      row('I0001', '1.00', '-4'),
      `${row()}\textra`,
      `${row()}\t`,
      ...Array.from({ length: 30 }, (_, i) => row(`G${i}`)),
    ]),
    pos,
    posKeys,
  ],
  [
    'emoji and CJK in values and in excerpts',
    t([HEADER, row('café-店-🍔'), row(`${'🍔'.repeat(40)}x`, 'n/a'), row('😀'.repeat(700), 'bad'), row(`${'x'.repeat(999)}😀`, 'bad')]),
    pos,
    posKeys,
  ],
  ['a quote in TSV is text', t([HEADER, row('"quoted"'), row('a"b')]), pos, posKeys],
  ['mostly bad', t([HEADER, row(), ...Array.from({ length: 3 }, () => row('I', 'n/a'))]), pos, posKeys],
  ['mostly bad, all distinct', t([HEADER, ...Array.from({ length: 50 }, (_, i) => row(`I${i}`, `x${i}`))]), pos, posKeys],
  [
    'lines at the byte limit',
    t([HEADER, row('x'.repeat(MAX_LINE_BYTES - row('').length)), row('x'.repeat(MAX_LINE_BYTES - row('').length + 1)), row('€'.repeat(400_000)), row()]),
    pos,
    posKeys,
  ],
  ['a long first line', t(['x'.repeat(MAX_LINE_BYTES + 10), HEADER]), pos, posKeys],
  ['a long junk line', t([HEADER, `----${'x'.repeat(MAX_LINE_BYTES + 10)}`, row()]), pos, posKeys],
  ['a line over DuckDB’s reader', t([HEADER, row('x'.repeat(9 * MAX_LINE_BYTES)), row()]), pos, posKeys, 'fallback'],
  ['a stray control delimiter', t([HEADER, row('a\x01\x02\x03\x04b'), row()]), pos, posKeys, 'fallback'],
  // RFC 4180 CSV
  [
    'quoted CSV',
    t([
      'item_id,item_name,category,unit_price',
      'I0001,"Classic Burgers, large",Burgers,9.99',
      'I0002,"unterminated,Sides,1.00',
      'I0003,Fries,Sides,2.50',
      'I0004,"say ""hi""",Drinks,1.00',
      '"I0005","",Sides,0',
      'I0006,a"b,Sides,1.00',
      'I0007,"x"y,Sides,1.00',
      '"",x,Sides,1.00',
      'I0009,"a,b",,1.00',
      'I0010,,Sides,',
      'I0011,"""",Sides,1.00',
      'I0012,"a""",Sides,1.00',
      'I0013,"",,',
      'I0014,"x",Sides,1.00,',
      'I0015,x,"Sides",1.00',
      'I0016,x,Sides,"1.00"',
      '"I0017",x,Sides,1.00 ',
    ]),
    master,
    { date: '2026-11-23' },
  ],
  [
    'every column kind',
    t([
      kindsHeader,
      'a,1,1.5,2024-02-29,2026-11-23T00:00:00Z,1,a',
      "b,-0,-0.000,0000-02-29,2026-11-23T23:59:59.999999Z,01,o'k",
      'c,,,,,,',
      ',1,1,2026-01-01,,1,a',
      'd,9999999999999999999,1,2026-01-01,,1,a',
      'e,1,1.2345,2026-01-01,,1,a',
      'f,1,1,2023-02-29,,1,a',
      'g,1,1,1900-02-29,,1,a',
      'h,1,1,2000-02-29,,1,a',
      'i,1,1,2026-13-01,,1,a',
      'j,1,1,2026-00-10,,1,a',
      'k,1,1,2026-04-31,,1,a',
      'l,1,1,,2026-11-23T24:00:00Z,,',
      'm,,,,2026-11-23T12:00:00.1234567Z,,',
      'n,,,,2026-11-24T00:00:00Z,,',
      'o,,,,2026-11-23 12:00:00Z,,',
      'p,,,,2026-11-23T12:00:00,,',
      'q,,,,,30,',
      'r,,,,,3,',
      's,,,,,+1,',
      't,,,,,1.0,',
      'u,,,,,,A',
      'v,,,,,,1',
      'w,,,,,,"o\'k"',
      'x,,,,,0030,',
      'y,123456789012345678,1234567890123456.123,,,,',
      'z,1234567890123456789,12345678901234567,,,,',
      'ä,١٢٣,１,,,,',
    ]),
    kinds,
    kindsKeys,
  ],
  // JSON lines
  [
    'JSON lines of every kind',
    t([
      '{"s":"a","i":1,"d":1.5,"dt":"2024-02-29","ts":"2026-11-23T00:00:00Z","code":1,"word":"a"}',
      '{"s":"b","i":-0,"d":-0.0,"code":30.0}',
      '{"s":"c","i":1e2,"d":1.50}',
      '{"s":"d","i":"7"}',
      '{"s":"e","i":1.5}',
      '{"s":"f","i":true}',
      '{"s":"g","i":[1]}',
      '{"s":"h","i":{"a":1}}',
      '{"s":"i","i":null,"d":null}',
      '{"s":null}',
      '{}',
      '[1]',
      '"x"',
      '1',
      '{"s":"j",}',
      '{"s":"k","x":NaN}',
      '{"s":"l","x":Infinity}',
      '{"s":"l2","x":inf}',
      '{"s":"l3","x":-INF}',
      '{"s":"l4","x":nan}',
      '{"s":"l5","x":[1,]}',
      '{"s":"l6","x":{"a":1 , }}',
      '{"s":"nan inf, }"}',
      '{"s":"q\\"nan"}',
      '{"s":"m","i":1e400}',
      '{"s":"o\\u00e9\\n"}',
      '{"s":"p\\"q"}',
      '{"s":"r, s"}',
      '{"s":"t","i":9007199254740992}',
      '{"s":"u","i":-9007199254740992}',
      '{"s":"v","d":0.000001}',
      '{"s":"w","d":1.5e-7}',
      '{"s":"x","d":123.456}',
      '{"s":"y","d":0.1005}',
      '  {"s":"z"}  ',
      '{"s":"aa","extra":{"a":[1,2,{"b":null}]}}',
      '{"s":"ab","word":"o\'k"}',
      '{"s":"ac","ts":"2026-11-22T23:59:59Z"}',
      '{"s":"ad"} x',
      '{"s":"ae" "i":1}',
      "{'s':'af'}",
      '{"s":"ag","i":-12}',
      '{"s":"ah","i":1E3}',
      '{"s":"ai","d":-1.25e1}',
      '{"s":"aj","code":"1"}',
      '{"s":"ak","code":2e0}',
      '{"s":"al","word":1}',
      '{"s":"am","word":"1"}',
      '{"s":"\\ud83c\\udf54"}',
    ]),
    jsonl,
    kindsKeys,
  ],
  ['a lone surrogate in JSON', t(['{"s":"\\ud800"}', '{"s":"ok"}']), jsonl, kindsKeys, 'fallback'],
  ['a duplicate key in JSON (JSON.parse keeps the last)', t(['{"s":"n","s":"dup"}', '{"s":"ok"}']), jsonl, kindsKeys, 'fallback'],
  ['a JSON integer beyond 2^53 (JavaScript rounds it)', t(['{"s":"t","i":9007199254740993}', '{"s":"ok"}']), jsonl, kindsKeys, 'fallback'],
  [
    'NaN, inf and a trailing comma inside JSON strings are text',
    t(['{"s":"NaN"}', '{"s":"inf,}"}', '{"s":"\\"Infinity\\""}', '{"s":"ok","x":nan}']),
    jsonl,
    kindsKeys,
  ],
  [
    'the clickstream sample shape',
    t([
      '{"event_id":"e1","customer_id":"C1","event_type":"view","product_id":"P1","event_ts":"2026-05-01T10:00:00Z","channel":"web","region":"WEST","order_id":null}',
      '{"event_id":"e2","customer_id":"C1","event_type":"click","event_ts":"2026-05-01T10:00:00Z","channel":"web","region":"WEST"}',
      '{"event_id":"e3"',
    ]),
    clicks,
    { date: '2026-05-01' },
  ],
];

// the newer kinds, in canonical text (a decoder converted decimal commas, boolean spellings, formats)
const newer: DatasetConfig = {
  name: 'newer',
  keyPattern: 'newer/{date:YYYYMMDD}.csv',
  format: { kind: 'delimited', delimiter: ',' },
  columns: [
    { name: 's', kind: 'string' },
    { name: 'x', kind: 'double', nullable: true },
    { name: 'b', kind: 'boolean', nullable: true },
    { name: 't', kind: 'time', nullable: true },
    { name: 'wide', kind: 'decimal', precision: 30, scale: 4, nullable: true },
    { name: 'narrow', kind: 'decimal', precision: 5, scale: 2, nullable: true },
    { name: 'flag', kind: 'boolean', allowed: ['true'], nullable: true },
  ],
  partitionBy: [],
  dateField: 'date',
  maxBadRowRatio: 1,
};
const newerJson: DatasetConfig = { ...newer, name: 'newerj', format: { kind: 'jsonl' } };
const headerless: DatasetConfig = { ...newer, name: 'headerless', format: { kind: 'delimited', delimiter: ',', header: false } };
const nested: DatasetConfig = {
  ...newer,
  name: 'nested',
  format: { kind: 'jsonl' },
  columns: [
    { name: 's', kind: 'string' },
    { name: 'tags', kind: 'list', items: { kind: 'string' }, nullable: true },
    { name: 'user', kind: 'struct', fields: [{ name: 'id', kind: 'integer' }], nullable: true },
  ],
};
const J = '\u0001';
const bad = (reason: string, text: string) => `\u0002${reason}\u0002${text}`;
cases.push(
  [
    'CSV of the newer kinds',
    t([
      's,x,b,t,wide,narrow,flag',
      'a,1.5,true,23:59:59.999999,12345678901234567890123456.1234,999.99,true',
      'b,,,,,,',
      'c,-.5,false,00:00:00,-0,-1.5,',
      'd,5.,TRUE,,,,',
      'e,1e308,,24:00:00,,,',
      'f,1e309,,,,,',
      'g,1E-400,,12:00,,,',
      'h,+1,,,123456789012345678901234567,,',
      'i,0x10,,,,1000,',
      'j,NaN,,,,,false',
      'k,Infinity,yes,,,,',
      'l,00012,,12:30:00.1234567,,1.234,',
      'm,"1,5",1,,,,',
      'n,"2.5e-3",false,"10:00:00",,"-999.99",',
      'p,1e100,,,,,',
      'q,9.99e307,,,,,',
      'r,1e-999,,,,,',
      'u,.5E+99,,,,,',
    ]),
    newer,
    kindsKeys,
  ],
  [
    'JSON lines of the newer kinds',
    t([
      '{"s":"a","x":1.5,"b":true,"t":"23:59:59.999999","wide":"12345678901234567890123456.1234","narrow":999.99,"flag":true}',
      '{"s":"b","x":-0.001,"b":false,"flag":"true"}',
      '{"s":"c","x":"1e3","b":"false"}',
      '{"s":"d2","x":1e400}',
      '{"s":"e","b":1}',
      '{"s":"f","b":"TRUE"}',
      '{"s":"g","t":"12:00"}',
      '{"s":"h","x":true}',
      '{"s":"i","flag":false}',
      '{"s":"j","narrow":1000}',
      '{"s":"k","x":12}',
      '{"s":"l","x":null,"b":null}',
      '{"s":true}',
    ]),
    newerJson,
    kindsKeys,
  ],
  // a double the SQL pattern cannot tell finite (a 302-digit mantissa), one DuckDB prints otherwise than JavaScript
  ['a double of 302 digits', t(['s,x,b,t,wide,narrow,flag', `o,1${'0'.repeat(301)},,,,,`]), newer, kindsKeys, 'fallback'],
  ['a double of 101 digits times 1e99', t(['s,x,b,t,wide,narrow,flag', `o,1${'0'.repeat(100)}e99,,,,,`]), newer, kindsKeys, 'fallback'],
  [
    'doubles too large to be finite',
    t(['s,x,b,t,wide,narrow,flag', 'p,2e308,,,,,', 'q,1e999,,,,,', `r,2${'0'.repeat(308)},,,,,`, 's,1,,,,,']),
    newer,
    kindsKeys,
  ],
  ['a JSON double with an exponent', t(['{"s":"b","x":-1e-7}']), newerJson, kindsKeys, 'fallback'],
  ['a large JSON double', t(['{"s":"b","x":1e300}']), newerJson, kindsKeys, 'fallback'],
  ['a headerless CSV', t(['a,1,true,,,,', '', 'b,x,,,,,', 's,x,b,t,wide,narrow,flag', 'c,2,false,10:00:00,1.5,1.5,true']), headerless, kindsKeys],
  ['a headerless CSV of blank lines', t(['', ' ']), headerless, kindsKeys],
  [
    'junk- and bad-marked lines',
    t([
      `${J}# exported`,
      `${J}`,
      's,x,b,t,wide,narrow,flag',
      'a,1,true,,,,',
      bad('x: "1,5" is not a number', 'a;1,5;wahr'),
      `${J}comment, with "quotes"`,
      bad('bytes invalid in windows-1252', 'caf\ufffd'),
      bad('', ''),
      '\u0002no end mark',
      'b,2,false,,,,',
    ]),
    newer,
    kindsKeys,
  ],
  ['a bad-marked line where the header should be', t([`${J}skipped`, bad('invalid bytes', 'x'), 's,x,b,t,wide,narrow,flag']), newer, kindsKeys],
  [
    'junk- and bad-marked JSON lines',
    t([`${J}`, '{"s":"a"}', bad('malformed JSON record: Unexpected end', '{"s":'), `${J}{"s":"b"}`, '{"s":"c"}']),
    newerJson,
    kindsKeys,
  ],
  ['marks in a headerless CSV', t([`${J}header`, 'a,1,,,,,', bad('too short', 'b')]), headerless, kindsKeys],
  [
    'a long bad-marked line',
    t(['s,x,b,t,wide,narrow,flag', bad('too long a record', 'y'.repeat(MAX_LINE_BYTES + 10)), bad('short', 'z'.repeat(2000)), 'a,,,,,,']),
    newer,
    kindsKeys,
  ],
  [
    'nested columns, null or bad',
    t(['{"s":"a"}', '{"s":"b","tags":null,"user":null}', '{"s":"c","tags":"x"}', '{"s":"d","user":[1]}', '{"s":"e","tags":[1]}']),
    nested,
    kindsKeys,
    'fallback',
  ],
  [
    'nested columns, null or not an object',
    t(['{"s":"a"}', '{"s":"b","tags":null,"user":null}', '{"s":"c","tags":"x"}', '{"s":"d","user":[1]}', '{"s":"e","tags":true}']),
    nested,
    kindsKeys,
  ],
  ['nested values (the JavaScript checks them)', t(['{"s":"a","tags":["x"],"user":{"id":1}}', '{"s":"b"}']), nested, kindsKeys, 'fallback'],
);

describe('validation in DuckDB, against the JavaScript rules', () => {
  let duck: DuckDbValidator;
  beforeAll(async () => {
    duck = await DuckDbValidator.open();
  });
  afterAll(async () => duck.close());

  it.each(cases)('%s', { timeout: 60_000 }, async (_name, content, dataset, keys, path) => {
    const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
    const reference = await validateInJavaScript(bytes, dataset, keys);
    const result = await duck.validate(bytes, dataset, keys);
    if (path === 'fallback') {
      expect(result).toEqual({ fallback: expect.any(String) });
      return;
    }
    expect(result).toEqual(reference);
  });
});

/** A small deterministic generator (mulberry32), so that a failing file can be made again. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

describe('validation in DuckDB, against the JavaScript rules, on generated files', () => {
  let duck: DuckDbValidator;
  beforeAll(async () => {
    duck = await DuckDbValidator.open();
  });
  afterAll(async () => duck.close());

  // values that are good for some column kinds and bad for others, near every rule's edge
  const values = [
    '',
    '0',
    '-0',
    '04',
    '4',
    '9',
    '10',
    '30',
    '0030',
    '-1',
    '1.5',
    '1.50',
    '1.505',
    '12.345',
    '+1',
    ' 1',
    '1 ',
    '1e2',
    '1_000',
    '.5',
    '5.',
    '-',
    '123456789012345678',
    '1234567890123456789',
    '2026-11-23',
    '2026-11-24',
    '2024-02-29',
    '2023-02-29',
    '0000-02-29',
    '1900-02-29',
    '2026-13-01',
    '2026/11/23',
    '2026-11-23T00:00:00Z',
    '2026-11-23T23:59:59.999999Z',
    '2026-11-23T24:00:00Z',
    '2026-11-23T12:00:00.1234567Z',
    '2026-11-23 12:00:00Z',
    'a',
    "o'k",
    'A',
    'ON01',
    'ON02',
    'I0001',
    'café',
    '店',
    '🍔',
    'x y',
    ' ',
    '\u00a0',
    '"',
    'a"b',
    '""',
    'a,b',
    '----',
    'NaN',
  ];
  const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
  // mostly values each column accepts, so that most rows are good
  const goodFor: Record<string, string[]> = {
    s: ['a', 'café', '店', '🍔', 'x y', 'a,b', "o'k", '"q"'],
    i: ['0', '-0', '04', '4', '10', '123456789012345678', ''],
    d: ['1.5', '0', '-0', '12.345', '1.50', ''],
    dt: ['2026-11-23', '2024-02-29', '0000-02-29', ''],
    ts: ['2026-11-23T00:00:00Z', '2026-11-23T23:59:59.999999Z', '2026-11-23T12:00:00.5Z', ''],
    code: ['1', '2', '30', '0030', '01', ''],
    word: ['a', "o'k", '1', ''],
  };
  const valueFor = (r: () => number, column: string) => (r() < 0.93 ? pick(r, goodFor[column]!) : pick(r, values));

  it.each([1, 2, 3, 4, 5, 6])('seed %i: TSV, CSV and JSON lines', { timeout: 60_000 }, async (seed) => {
    const r = random(seed);
    const names = kinds.columns.map((c) => c.name);
    const line = (columns: number, sep: string, quote: boolean) =>
      Array.from({ length: columns + (r() < 0.03 ? (r() < 0.5 ? 1 : -1) : 0) }, (_, i) => {
        const v = sep === ',' ? valueFor(r, names[i] ?? 's') : pick(r, values);
        return quote && (r() < 0.2 || /[,"]/.test(v)) ? `"${v.replaceAll('"', r() < 0.95 ? '""' : '"')}"` : v;
      }).join(sep);
    const noise = () => pick(r, ['', '   ', '\t', '----', '---- junk', '\u3000']);
    const files: Array<[string, DatasetConfig, Record<string, string>]> = [];
    const tsv = [HEADER];
    for (let i = 0; i < 2000; i += 1)
      tsv.push(
        r() < 0.05
          ? noise()
          : r() < 0.6
            ? row(pick(r, values), pick(r, ['1.00', '0', '12.5', pick(r, values)]), pick(r, ['4', '04', pick(r, values)]))
            : line(5, '\t', false),
      );
    files.push([t(tsv, r() < 0.5 ? '\n' : '\r\n'), pos, posKeys]);
    const csv = [kindsHeader];
    for (let i = 0; i < 2000; i += 1) csv.push(r() < 0.05 ? noise() : line(7, ',', true));
    files.push([t(csv), kinds, kindsKeys]);
    const json: string[] = [];
    for (let i = 0; i < 2000; i += 1) {
      const entries = names
        .filter(() => r() < 0.8)
        .map((name) => {
          const v = valueFor(r, name);
          const n = Number(v);
          // (an integer beyond 2^53, which JSON.parse rounds, sends the file to JavaScript: a case above)
          const value =
            r() < 0.3 && v !== '' && Number.isFinite(n) && Math.abs(n) < 2 ** 53
              ? v.replace(/^\+/, '')
              : r() < 0.05
                ? pick(r, ['null', 'true', '[1]', '{"a":1}'])
                : JSON.stringify(v);
          return `"${name}":${value}`;
        });
      json.push(r() < 0.03 ? noise() : `{${entries.join(',')}}`);
    }
    files.push([t(json), jsonl, kindsKeys]);
    for (const [content, dataset, keys] of files) {
      const bytes = new TextEncoder().encode(content);
      const reference = await validateInJavaScript(bytes, { ...dataset, maxBadRowRatio: 1 }, keys);
      const result = await duck.validate(bytes, { ...dataset, maxBadRowRatio: 1 }, keys);
      if ('fallback' in result) {
        expect.fail(`seed ${seed}, ${dataset.name}: ${result.fallback}`);
      }
      expect(result.outcome).toEqual(reference.outcome);
      expect(result.rejects).toEqual(reference.rejects);
      expect(result.good).toEqual(reference.good);
      expect(reference.outcome.rows.out, 'the file has good rows').toBeGreaterThan(0);
      expect(reference.outcome.rows.rejected, 'the file has bad rows').toBeGreaterThan(0);
    }
  });
});

describe('validation in DuckDB of the newer kinds, against the JavaScript rules, on generated files', () => {
  let duck: DuckDbValidator;
  beforeAll(async () => {
    duck = await DuckDbValidator.open();
  });
  afterAll(async () => duck.close());

  // near each rule's edge; each column mostly gets its own good values
  const goodFor: Record<string, string[]> = {
    s: ['a', 'true', '1.5', '12:00:00'],
    x: ['0', '-0', '1.5', '.5', '5.', '-2.5e-3', '1E+2', '00012', '1e-400', '9.9e307', ''],
    b: ['true', 'false', ''],
    t: ['00:00:00', '23:59:59', '12:30:00.5', '12:30:00.123456', ''],
    wide: ['0', '-1.2345', '12345678901234567890123456', ''],
    narrow: ['999.99', '-0.5', '1', ''],
    flag: ['true', ''],
  };
  const others = ['TRUE', '1', 'yes', '24:00:00', '12:30', '1.23456', '1000', '+1', 'NaN', 'Infinity', '1e309', '0x10', '2e308', 'x', ' 1', '1.'];
  const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

  it.each([1, 2, 3])('seed %i: CSV and JSON lines', { timeout: 60_000 }, async (seed) => {
    const r = random(seed * 7919);
    const names = newer.columns.map((c) => c.name);
    const value = (name: string) => (r() < 0.92 ? pick(r, goodFor[name]!) : pick(r, others));
    const csv = ['s,x,b,t,wide,narrow,flag'];
    const json: string[] = [];
    for (let i = 0; i < 1500; i += 1) {
      const values = names.map(value);
      csv.push(r() < 0.03 ? pick(r, ['', '\u0001junk', `\u0002bad ${i}\u0002text`]) : values.join(','));
      const entries = names.flatMap((name, c) => {
        const v = values[c]!;
        if (v === '' && r() < 0.5) return [];
        // JSON numbers and booleans where they are plain (exponents DuckDB prints otherwise send the file to JavaScript)
        const raw =
          (name === 'b' || name === 'flag') && (v === 'true' || v === 'false') && r() < 0.5
            ? v
            : /^-?[0-9]+(\.[0-9]+)?$/.test(v) && !/^-?0[0-9]/.test(v) && Math.abs(Number(v)) < 2 ** 53 && r() < 0.5 && name !== 'wide'
              ? v
              : JSON.stringify(v);
        return [`"${name}":${v === '' && r() < 0.5 ? 'null' : raw}`];
      });
      json.push(`{${entries.join(',')}}`);
    }
    for (const [content, dataset] of [
      [t(csv), newer],
      [t(csv.slice(1)), headerless],
      [t(json), newerJson],
    ] as const) {
      const bytes = new TextEncoder().encode(content);
      const reference = await validateInJavaScript(bytes, dataset, kindsKeys);
      const result = await duck.validate(bytes, dataset, kindsKeys);
      if ('fallback' in result) expect.fail(`seed ${seed}, ${dataset.name}: ${result.fallback}`);
      expect(result.outcome).toEqual(reference.outcome);
      expect(result.rejects).toEqual(reference.rejects);
      expect(result.good).toEqual(reference.good);
      expect(reference.outcome.rows.out, 'the file has good rows').toBeGreaterThan(0);
      expect(reference.outcome.rows.rejected, 'the file has bad rows').toBeGreaterThan(0);
    }
  });
});

describe('byte limits in DuckDB, against the JavaScript rules', () => {
  let duck: DuckDbValidator;
  beforeAll(async () => {
    duck = await DuckDbValidator.open();
  });
  afterAll(async () => duck.close());

  const limited = (format: DatasetConfig['format'], delimiter = ','): [DatasetConfig, (id: string, note: string, code?: string) => string] => [
    {
      ...kinds,
      name: 'limited',
      format,
      columns: [
        { name: 'id', kind: 'string' },
        { name: 'note', kind: 'string', maxBytes: 6, onTooLong: 'truncate', nullable: true },
        { name: 'code', kind: 'string', maxBytes: 3, nullable: true },
      ],
    },
    format.kind === 'jsonl' ? (id, note, code = '') => JSON.stringify({ id, note, code }) : (id, note, code = '') => [id, note, code].join(delimiter),
  ];
  const [csv, csvRow] = limited({ kind: 'delimited', delimiter: ',' });
  const [tsv, tsvRow] = limited({ kind: 'delimited', delimiter: '\t' }, '\t');
  const [json, jsonRow] = limited({ kind: 'jsonl' });
  const long = 'x'.repeat(65_536);
  const wide = 'é'.repeat(32_768); // 65,536 bytes in 32,768 characters
  const lines = (row: (id: string, note: string, code?: string) => string, header: string | null) =>
    t([
      ...(header === null ? [] : [header]),
      row('a', 'short', 'ab'),
      row(long, 'n'),
      row(wide, 'n'),
      row('x'.repeat(65_535), 'n'),
      row('b', 'éééé'),
      row('c', 'a€b€', 'é'),
      row('d', 'abcdefg', 'abcd'),
      row('e', '😀😀', 'éé'),
      row('f', ''),
    ]);

  it.each([
    ['CSV', lines(csvRow, 'id,note,code'), csv],
    ['TSV', lines(tsvRow, 'id\tnote\tcode'), tsv],
    ['JSON lines', lines(jsonRow, null), json],
    ['quoted CSV', lines((id, note, code = '') => [id, note, code].map((v) => `"${v}"`).join(','), 'id,note,code'), csv],
  ])('%s: the same rejects, counts and (truncated) good rows', { timeout: 60_000 }, async (_name, content, dataset) => {
    const bytes = new TextEncoder().encode(content);
    const reference = await validateInJavaScript(bytes, dataset, kindsKeys);
    const result = await duck.validate(bytes, dataset, kindsKeys);
    expect(result).toEqual(reference);
    // the rules themselves: the two long ids and the long codes rejected, the long notes of good rows truncated and counted
    expect(reference.outcome.rows).toEqual({ in: 9, out: 5, rejected: 4, junk: 0, truncated: 2 });
    expect(reference.rejects.map((r) => r.split(',')[0])).toEqual([3, 4, 8, 9].map((n) => String(n - (dataset === json ? 1 : 0))));
    expect(reference.good.slice(2, 4)).toEqual([expect.stringMatching(/^"?b"?,"?ééé"?,/), expect.stringMatching(/^"?c"?,"?a€b"?,/)]);
    expect(reference.rejects[0]).toContain('id: 65536 bytes, more than the 65535 a warehouse VARCHAR holds');
  });
});
