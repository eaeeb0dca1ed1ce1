import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { retailConfig } from '../../examples/retail/config';
const pipelineConfig = retailConfig();
import type { DatasetConfig } from '../../shared/core/config/types';
import { csvToParquet } from '../../shared/stages/convert/csv-to-parquet';
import { openDuckDb, threadsForMemory } from '../../shared/core/duckdb/duckdb';
import { MAX_LINE_BYTES } from '../../shared/core/datasets/line-limits';
import { FileLineSink } from '../../shared/stages/validate/file-sink';
import { validateFile } from '../../shared/stages/validate/validate-file';
import { allGoodRowsSql, goodRowsSql, typedColumnsSql } from '../../shared/stages/validate/line-rules-sql';
import { glueType } from '../../shared/stages/catalog/glue-types';

const master = pipelineConfig.datasets.find((d) => d.name === 'item_master')!;

describe('CSV to Parquet with DuckDB', () => {
  it('writes the explicit schema, binds constants, and keeps quoted text intact', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'landfall-duck-'));
    const csv = join(dir, 'in.csv');
    await writeFile(csv, 'item_id,item_name,category,unit_price\nI0001,"Burger, ""double""",Burgers,9.99\nI0002,Café 店,Sides,0\n');
    const duckdb = await openDuckDb({ workDir: dir, functionMemoryMb: 512 });
    const { conn } = duckdb;
    const parquet = join(dir, 'out.parquet');
    const hostile = "x'); DROP TABLE t; --";
    expect(
      await csvToParquet(conn, {
        csvPath: csv,
        parquetPath: parquet,
        columns: master.columns,
        constants: [
          ['key_date', '2026-11-23'],
          ['source_key', hostile],
        ],
      }),
    ).toBe(2);
    const rows = (await conn.runAndReadAll('SELECT * FROM read_parquet($1) ORDER BY item_id', [parquet])).getRowObjectsJson();
    expect(rows).toEqual([
      { item_id: 'I0001', item_name: 'Burger, "double"', category: 'Burgers', unit_price: '9.99', key_date: '2026-11-23', source_key: hostile },
      { item_id: 'I0002', item_name: 'Café 店', category: 'Sides', unit_price: '0.00', key_date: '2026-11-23', source_key: hostile },
    ]);
    const types = (await conn.runAndReadAll('SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet($1))', [parquet])).getRows();
    expect(types).toContainEqual(['unit_price', 'DECIMAL(18,2)']);
    duckdb.close();
  });

  it('refuses a column name that is not a safe identifier', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'landfall-duck-'));
    const duckdb = await openDuckDb({ workDir: dir, functionMemoryMb: 512 });
    const { conn } = duckdb;
    await expect(csvToParquet(conn, { csvPath: 'x', parquetPath: 'y', columns: [{ name: 'a"b', kind: 'string' }], constants: [] })).rejects.toThrow(
      /not a safe identifier/,
    );
    await expect(csvToParquet(conn, { csvPath: 'x', parquetPath: 'y', columns: master.columns, constants: [['Bad Name', 'v']] })).rejects.toThrow(
      /not a safe identifier/,
    );
    duckdb.close();
  });

  /** Validates `text` into a CSV file the way validate writes it; returns the file and the outcome. */
  async function validated(dir: string, dataset: DatasetConfig, text: string) {
    const good = new FileLineSink(join(dir, `${dataset.name}.csv`));
    async function* chunks() {
      yield new TextEncoder().encode(text);
    }
    const outcome = await validateFile(chunks(), dataset, { date: '2026-11-23' }, { good, rejects: { write() {} } });
    await good.close();
    return { csvPath: good.path, outcome };
  }
  const dataset = (name: string, columns: DatasetConfig['columns']): DatasetConfig => ({
    name,
    keyPattern: `${name}/{date:YYYYMMDD}.tsv`,
    format: { kind: 'delimited', delimiter: '\t' },
    columns,
    partitionBy: [],
    dateField: 'date',
    maxBadRowRatio: 0.5,
  });

  it('converts the longest line validate accepts, though CSV quoting doubles it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'landfall-duck-'));
    // 17 values of nothing but quotes (each within a warehouse VARCHAR's 65,535 bytes): every `"`
    // becomes `""` in the validated CSV, plus the quotes around
    const names = Array.from({ length: 17 }, (_, i) => `c${i}`);
    const notes = dataset(
      'notes',
      names.map((name) => ({ name, kind: 'string' as const })),
    );
    const value = '"'.repeat(61_680);
    const line = names.map(() => value).join('\t');
    expect(Buffer.byteLength(line)).toBe(MAX_LINE_BYTES);
    const { csvPath, outcome } = await validated(dir, notes, `${names.join('\t')}\n${line}\n`);
    expect(outcome).toMatchObject({ state: 'VALIDATED', rows: { out: 1, rejected: 0 } });
    const longest = Math.max(...(await readFile(csvPath, 'utf8')).split('\n').map((l) => Buffer.byteLength(l)));
    expect(longest).toBeGreaterThan(2 * MAX_LINE_BYTES); // over DuckDB's default max_line_size (2 MiB)
    const duckdb = await openDuckDb({ workDir: dir, functionMemoryMb: 512 });
    const parquet = join(dir, 'notes.parquet');
    expect(await csvToParquet(duckdb.conn, { csvPath, parquetPath: parquet, columns: notes.columns, constants: [] })).toBe(1);
    const rows = (
      await duckdb.conn.runAndReadAll(`SELECT ${names.map((n) => `${n} = $v`).join(' AND ')} AS same FROM read_parquet($path)`, { v: value, path: parquet })
    ).getRowObjects();
    expect(rows).toEqual([{ same: true }]);
    duckdb.close();
  });

  it('converts the dates and timestamps validate accepts, at the ends of the range, unchanged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'landfall-duck-'));
    const dates = dataset('dates', [
      { name: 'd', kind: 'date' },
      { name: 'ts', kind: 'timestamp' },
    ]);
    const good = [
      ['0000-02-29', '0000-02-29T00:00:00Z'], // year 0 (1 BC) is a leap year for JavaScript and DuckDB alike
      ['0001-01-01', '0000-12-31T23:59:59.999999Z'],
      ['2024-02-29', '2026-11-23T12:00:00.5Z'],
      ['9999-12-31', '9999-12-31T23:59:59.999999Z'],
    ];
    const bad = [
      ['0000-02-30', '2026-11-23T00:00:00Z'],
      ['2023-02-29', '2026-11-23T00:00:00Z'],
      ['2026-11-23', '0001-02-29T00:00:00Z'],
    ];
    const lines = ['d\tts', ...[...good, ...bad].map((r) => r.join('\t'))];
    const { csvPath, outcome } = await validated(dir, dates, `${lines.join('\n')}\n`);
    expect(outcome).toMatchObject({ state: 'VALIDATED', rows: { out: good.length, rejected: bad.length } });
    const duckdb = await openDuckDb({ workDir: dir, functionMemoryMb: 512 });
    const parquet = join(dir, 'dates.parquet');
    expect(await csvToParquet(duckdb.conn, { csvPath, parquetPath: parquet, columns: dates.columns, constants: [] })).toBe(good.length);
    const back = (
      await duckdb.conn.runAndReadAll(`SELECT strftime(d, '%Y-%m-%d'), strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ') FROM read_parquet($path) ORDER BY d`, {
        path: parquet,
      })
    ).getRows();
    const micros = (ts: string) => ts.replace(/(\.\d+)?Z$/, (_, f: string | undefined) => `.${(f ?? '.').slice(1).padEnd(6, '0')}Z`);
    expect(back).toEqual(good.map(([d, ts]) => [d, micros(ts!)]));
    duckdb.close();
  });

  /** A JSON-lines dataset of every kind, nested ones included. */
  const everyKind: DatasetConfig = {
    name: 'kinds',
    keyPattern: 'kinds/{date:YYYYMMDD}.jsonl',
    format: { kind: 'jsonl' },
    columns: [
      { name: 'b', kind: 'boolean', nullable: true },
      { name: 'x', kind: 'double' },
      { name: 'wide', kind: 'decimal', precision: 38, scale: 4 },
      { name: 't', kind: 'time' },
      {
        name: 'user',
        kind: 'struct',
        nullable: true,
        fields: [
          { name: 'id', kind: 'integer' },
          { name: 'geo', kind: 'struct', nullable: true, fields: [{ name: 'country', kind: 'string', nullable: true }] },
        ],
      },
      {
        name: 'items',
        kind: 'list',
        items: {
          kind: 'struct',
          fields: [
            { name: 'sku', kind: 'string' },
            { name: 'price', kind: 'decimal', scale: 2 },
            { name: 'on', kind: 'date', nullable: true },
          ],
        },
      },
    ],
    partitionBy: [],
    dateField: 'date',
    maxBadRowRatio: 0.5,
  };
  const everyKindTypes = [
    ['b', 'BOOLEAN', 'boolean'],
    ['x', 'DOUBLE', 'double'],
    ['wide', 'DECIMAL(38,4)', 'decimal(38,4)'],
    ['t', 'VARCHAR', 'string'],
    ['user', 'STRUCT(id BIGINT, geo STRUCT(country VARCHAR))', 'struct<id:bigint,geo:struct<country:string>>'],
    ['items', 'STRUCT(sku VARCHAR, price DECIMAL(18,2), "on" DATE)[]', 'array<struct<sku:string,price:decimal(18,2),on:date>>'],
  ];

  it('writes every kind as its Parquet type, nested JSON as real structs and lists, values unchanged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'landfall-duck-'));
    const lines = [
      // extra keys are ignored, a missing nullable field is null, a decimal as a string keeps all its digits
      '{"b":true,"x":1.5e-7,"wide":"1234567890123456789012345678.1234","t":"23:59:59.123456","user":{"id":7,"geo":{"country":"CA"},"extra":[1]},"items":[{"sku":"a","price":"9.99"},{"sku":"b","price":0.5,"on":"2024-02-29"}]}',
      // JSON numbers keep every digit (no double on the way)
      '{"b":false,"x":-12,"wide":"-0.5","t":"00:00:00","user":{"id":9007199254740993},"items":[{"sku":"d","price":1234567890123456.78}]}',
      '{"x":".5","wide":"0","t":"12:00:00","items":[{"sku":"c","price":1}],"user":null}',
    ];
    const { csvPath, outcome } = await validated(dir, everyKind, `${lines.join('\n')}\n`);
    expect(outcome).toMatchObject({ state: 'VALIDATED', rows: { out: 3, rejected: 0 } });
    const duckdb = await openDuckDb({ workDir: dir, functionMemoryMb: 512 });
    const parquet = join(dir, 'kinds.parquet');
    expect(await csvToParquet(duckdb.conn, { csvPath, parquetPath: parquet, columns: everyKind.columns, constants: [] })).toBe(3);
    const rows = (
      await duckdb.conn.runAndReadAll(
        `SELECT b, x, wide::VARCHAR AS wide, t, to_json(user)::VARCHAR AS user, to_json(items)::VARCHAR AS items FROM read_parquet($path) ORDER BY wide`,
        { path: parquet },
      )
    ).getRowObjectsJson();
    expect(rows).toEqual([
      {
        b: false,
        x: -12,
        wide: '-0.5000',
        t: '00:00:00',
        user: '{"id":9007199254740993,"geo":null}',
        items: '[{"sku":"d","price":1234567890123456.78,"on":null}]',
      },
      { b: null, x: 0.5, wide: '0.0000', t: '12:00:00', user: null, items: '[{"sku":"c","price":1.00,"on":null}]' },
      {
        b: true,
        x: 1.5e-7,
        wide: '1234567890123456789012345678.1234',
        t: '23:59:59.123456',
        user: '{"id":7,"geo":{"country":"CA"}}',
        items: '[{"sku":"a","price":9.99,"on":null},{"sku":"b","price":0.50,"on":"2024-02-29"}]',
      },
    ]);
    const types = (await duckdb.conn.runAndReadAll('SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet($1))', [parquet])).getRows();
    expect(types).toEqual(everyKindTypes.map(([name, type]) => [name, type]));
    // the Glue types of what was written: those the catalog derives (see column-kinds.test.ts)
    expect(types.map(([name, type]) => [name, glueType(type as string, 'test')])).toEqual(everyKindTypes.map(([name, , glue]) => [name, glue]));
    duckdb.close();
  });

  it("types a good row's values the same way when DuckDB validated the file", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'landfall-duck-'));
    const duckdb = await openDuckDb({ workDir: dir, functionMemoryMb: 512 });
    const v = `['true', '1e3', '-12.5', '08:30:00', '{"id":1,"extra":2}', '[{"sku":"a","price":"1.25"},null]']`;
    const typed = typedColumnsSql(everyKind).join(', ');
    const rows = (
      await duckdb.conn.runAndReadAll(
        `SELECT b, x, wide::VARCHAR AS wide, t, to_json(user)::VARCHAR AS user, to_json(items)::VARCHAR AS items FROM (SELECT ${typed} FROM (SELECT ${v} AS v))`,
      )
    ).getRowObjectsJson();
    expect(rows).toEqual([
      { b: true, x: 1000, wide: '-12.5000', t: '08:30:00', user: '{"id":1,"geo":null}', items: '[{"sku":"a","price":1.25,"on":null},null]' },
    ]);
    const types = (await duckdb.conn.runAndReadAll(`SELECT column_name, column_type FROM (DESCRIBE SELECT ${typed} FROM (SELECT ${v} AS v))`)).getRows();
    expect(types).toEqual(everyKindTypes.map(([name, type]) => [name, type]));
    duckdb.close();
  });

  it("reads the newer kinds' canonical values alike by either of DuckDB's readers, as the JavaScript reads them", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'landfall-duck-'));
    const newer: DatasetConfig = {
      ...dataset('newer', [
        { name: 'x', kind: 'double', nullable: true },
        { name: 'b', kind: 'boolean', nullable: true },
        { name: 't', kind: 'time', nullable: true },
        { name: 'wide', kind: 'decimal', precision: 38, scale: 10, nullable: true },
      ]),
      format: { kind: 'delimited', delimiter: ',', header: false },
    };
    const rows = [
      ['0.1', 'true', '00:00:00', '1234567890123456789012345678.0123456789'],
      ['.5', 'false', '23:59:59.999999', '-0.0000000001'],
      ['5.', '', '12:00:00.5', ''],
      ['-2.5e-3', 'true', '', '1'],
      ['00012', 'false', '01:02:03', '-1234567890123456789012345678'],
      ['1e-400', 'true', '01:02:03', '0'],
      ['9.99e307', 'true', '01:02:03', '0'],
      ['', '', '', ''],
    ];
    const path = join(dir, 'newer.csv');
    await writeFile(path, `${rows.map((r) => r.join(',')).join('\n')}\n`);
    const duckdb = await openDuckDb({ workDir: dir, functionMemoryMb: 512 });
    const read = async (sql: string) =>
      (await duckdb.conn.runAndReadAll(`SELECT x, b, t, wide::VARCHAR AS wide FROM (${sql})`, { path })).getRows().map((r) => [...r]);
    const expected = rows.map(([x, b, t, wide]) => [
      x === '' ? null : Number(x),
      b === '' ? null : b === 'true',
      t === '' ? null : t,
      wide === '' ? null : wide,
    ]);
    const typed = allGoodRowsSql(newer, 0)!;
    const general = `SELECT ${typedColumnsSql(newer).join(', ')} FROM (${goodRowsSql(newer, { date: '2026-11-23' }, 0)})`;
    const normal = (all: unknown[][]) =>
      all.map(([x, b, t, wide]) => [
        x,
        b,
        t,
        wide === null
          ? null
          : String(wide)
              .replace(/(\.\d*?)0+$/, '$1')
              .replace(/\.$/, ''),
      ]);
    const want = normal(expected);
    expect(normal(await read(typed))).toEqual(want);
    expect(normal(await read(general))).toEqual(want);
    duckdb.close();
  });

  it('uses as many threads as Lambda gives vCPUs for the memory', () => {
    expect([128, 512, 1769, 2048, 3538, 10240].map(threadsForMemory)).toEqual([1, 1, 1, 2, 2, 6]);
  });
});
