import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_FILE } from '../../ops/config-reference';
import { retailConfig } from '../../examples/retail/config';
import { parsePipelineConfig } from '../../shared/core/config/parse-config';
import type { ColumnSpec, DatasetConfig } from '../../shared/core/config/types';
import { openDuckDb, type DuckDb } from '../../shared/core/duckdb/duckdb';
import { ConfigError } from '../../shared/core/errors';
import { WAREHOUSE_VARCHAR_BYTES, byteLimit, bytesOver, truncateUtf8 } from '../../shared/core/feeds/value-limits';
import { truncateUtf8Sql } from '../../shared/stages/validate/line-rules-sql';
import { compileRowCheck, compileRowFit, nestedCheck, valueCheck } from '../../shared/stages/validate/row-checks';
import { validateInJavaScript } from '../support/validation-parity';
import { thrown } from '../support/thrown';

const item: ColumnSpec = { name: 'item_id', kind: 'string' };
const bytes = (s: string) => Buffer.byteLength(s);

describe('a string value is held to the warehouse VARCHAR limit, in bytes', () => {
  it('rejects 65,536 bytes with a reason naming the column and the limit, and accepts 65,535', () => {
    const check = valueCheck(item, {});
    expect(check('x'.repeat(65_536))).toBe('item_id: 65536 bytes, more than the 65535 a warehouse VARCHAR holds');
    expect(check('x'.repeat(65_535))).toBeNull();
  });

  it('counts bytes, not characters: 32,768 two-byte characters are over, 21,845 three-byte ones are not', () => {
    const check = valueCheck(item, {});
    expect(check('é'.repeat(32_768))).toBe('item_id: 65536 bytes, more than the 65535 a warehouse VARCHAR holds');
    expect(check('€'.repeat(21_845))).toBeNull();
    // a surrogate pair is 4 bytes for 2 UTF-16 units
    expect(check(`${'😀'.repeat(16_383)}xxx`)).toBeNull();
    expect(check(`${'😀'.repeat(16_383)}xxxx`)).toBe('item_id: 65536 bytes, more than the 65535 a warehouse VARCHAR holds');
  });

  it("names the column's own maxBytes when it declares one", () => {
    const check = valueCheck({ name: 'code', kind: 'string', maxBytes: 4 }, {});
    expect(check('abcd')).toBeNull();
    expect(check('abcé')).toBe("code: 5 bytes, more than the column's maxBytes of 4");
  });

  it('holds a string inside a struct or list (a SUPER value) to the same limit, naming its path', () => {
    const check = nestedCheck({ kind: 'list', items: { kind: 'struct', fields: [{ name: 'sku', kind: 'string' }] } }, 'items');
    expect(check([{ sku: 'a' }, { sku: 'x'.repeat(65_536) }])).toBe('items[1].sku: 65536 bytes, more than the 65535 a warehouse VARCHAR holds');
    expect(check([{ sku: 'x'.repeat(65_535) }])).toBeNull();
  });

  it('leaves other kinds alone (their canonical syntax keeps them short)', () => {
    expect(byteLimit({ kind: 'integer' })).toBeNull();
    expect(byteLimit({ kind: 'string' })).toEqual({ maxBytes: WAREHOUSE_VARCHAR_BYTES, onTooLong: 'reject', declared: false });
  });

  it('measures only what may be over', () => {
    expect(bytesOver('abc', 3)).toBeNull();
    expect(bytesOver('abé', 3)).toBe(4);
    expect(bytesOver('ab', 1)).toBe(2);
  });
});

describe('truncation at a UTF-8 character boundary', () => {
  it.each([
    ['ascii', 'abcdef', 4, 'abcd'],
    ['a two-byte character across the cut', 'abé', 3, 'ab'],
    ['a three-byte character across the cut', 'a€b', 2, 'a'],
    ['a three-byte character ending at the cut', 'a€b', 4, 'a€'],
    ['a four-byte character across the cut', 'a😀b', 4, 'a'],
    ['a first character longer than the limit', '😀', 3, ''],
    ['a value that fits', 'é', 2, 'é'],
  ])('%s', (_what, text, maxBytes, expected) => {
    const cut = truncateUtf8(text, maxBytes);
    expect(cut).toBe(expected);
    expect(bytes(cut)).toBeLessThanOrEqual(maxBytes);
  });

  it('keeps a truncate column good and cuts its value in the row', () => {
    const columns: ColumnSpec[] = [item, { name: 'note', kind: 'string', maxBytes: 5, onTooLong: 'truncate' }];
    expect(compileRowCheck(columns, {})(['a', 'ééé'])).toBeNull();
    const fitRow = compileRowFit(columns)!;
    const row = ['a', 'ééé'];
    expect(fitRow(row)).toBe(true);
    expect(row).toEqual(['a', 'éé']);
    const short = ['a', 'abc'];
    expect(fitRow(short)).toBe(false);
    expect(short).toEqual(['a', 'abc']);
    expect(compileRowFit([item])).toBeNull();
  });

  describe('in DuckDB (convert) exactly as in JavaScript (validate)', () => {
    let duckdb: DuckDb;
    beforeAll(async () => {
      duckdb = await openDuckDb({ workDir: '/tmp', functionMemoryMb: 512 });
    });
    afterAll(() => duckdb.close());

    it('cuts every value at every limit to the same text', async () => {
      const texts = ['', 'a', 'abcdef', 'é', 'aé', 'aéb', '€€€', 'a€b€', '😀', 'a😀', 'ab😀cd', 'é€😀x', 'x'.repeat(70_000), `${'€'.repeat(21_845)}é`];
      const cases: Array<[string, number]> = [];
      for (const text of texts) for (const max of [1, 2, 3, 4, 5, 7, 65_535]) cases.push([text, max]);
      const sql = cases.map(([, max], i) => `${truncateUtf8Sql(`$t${i}`, max)} AS c${i}`).join(', ');
      const params = Object.fromEntries(cases.map(([text], i) => [`t${i}`, text]));
      const row = (await duckdb.conn.runAndReadAll(`SELECT ${sql}`, params)).getRows()[0]!;
      expect(row).toEqual(cases.map(([text, max]) => truncateUtf8(text, max)));
    });
  });
});

describe('the configuration of a byte limit', () => {
  const clone = () => structuredClone(retailConfig()) as unknown as Record<string, any>;
  const fieldOf = (mutate: (c: Record<string, any>) => void) => {
    const config = clone();
    mutate(config);
    return thrown(ConfigError, () => parsePipelineConfig(config)).field;
  };
  // datasets[0].columns[1] is pos's item_id (a string), [4] its amount (a decimal)
  it('loads maxBytes and onTooLong on a string column', () => {
    const config = clone();
    Object.assign(config.datasets[0].columns[1], { maxBytes: 20, onTooLong: 'truncate' });
    const column = parsePipelineConfig(config).datasets[0]!.columns[1]!;
    expect(column).toMatchObject({ name: 'item_id', maxBytes: 20, onTooLong: 'truncate' });
  });

  it('the JSON Schema says the same', () => {
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true });
    ajv.addSchema(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')), 'pipeline');
    const column = ajv.getSchema('pipeline#/$defs/column')!;
    expect(column({ name: 'note', kind: 'string', maxBytes: 100, onTooLong: 'truncate' })).toBe(true);
    expect(column({ name: 'amount', kind: 'decimal', scale: 2, maxBytes: 10 })).toBe(false);
    expect(column({ name: 'note', kind: 'string', maxBytes: 65_536 })).toBe(false);
    expect(column({ name: 'note', kind: 'string', onTooLong: 'drop' })).toBe(false);
    expect(column({ name: 'x'.repeat(128), kind: 'string' })).toBe(false);
  });

  it.each([
    ['maxBytes on a decimal', (c: any) => (c.datasets[0].columns[4].maxBytes = 10), 'datasets[0].columns[4].maxBytes'],
    ['onTooLong on a decimal', (c: any) => (c.datasets[0].columns[4].onTooLong = 'truncate'), 'datasets[0].columns[4].onTooLong'],
    ['maxBytes over what a VARCHAR holds', (c: any) => (c.datasets[0].columns[1].maxBytes = 65_536), 'datasets[0].columns[1].maxBytes'],
    ['maxBytes 0', (c: any) => (c.datasets[0].columns[1].maxBytes = 0), 'datasets[0].columns[1].maxBytes'],
    ['an unknown onTooLong', (c: any) => (c.datasets[0].columns[1].onTooLong = 'drop'), 'datasets[0].columns[1].onTooLong'],
    ['a column name longer than 127', (c: any) => (c.datasets[0].columns[1].name = 'x'.repeat(128)), 'datasets[0].columns[1].name'],
  ])('refuses %s, naming the field', (_what, mutate, field) => {
    expect(fieldOf(mutate)).toBe(field);
  });
});

describe('validation of a file with long values (JavaScript rules)', () => {
  const dataset: DatasetConfig = {
    name: 'notes',
    keyPattern: 'notes/{date:YYYYMMDD}.csv',
    format: { kind: 'delimited', delimiter: ',' },
    columns: [
      { name: 'id', kind: 'string' },
      { name: 'note', kind: 'string', maxBytes: 6, onTooLong: 'truncate', nullable: true },
    ],
    partitionBy: [],
    dateField: 'date',
    maxBadRowRatio: 0.9,
  };
  it('rejects the long id, keeps and counts the truncated notes', async () => {
    const text = ['id,note', 'a,short', `${'x'.repeat(65_536)},n`, 'b,éééé', 'c,', 'd,abcdefg'].join('\n');
    const result = await validateInJavaScript(new TextEncoder().encode(text), dataset, {});
    expect(result.outcome).toEqual({ state: 'VALIDATED', rows: { in: 5, out: 4, rejected: 1, junk: 0, truncated: 2 } });
    expect(result.good).toEqual(['a,short', 'b,ééé', 'c,', 'd,abcdef']);
    expect(result.rejects).toEqual([`3,"id: 65536 bytes, more than the 65535 a warehouse VARCHAR holds",${'x'.repeat(1000)}`]);
  });
});
