import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDuckDb } from '../../shared/core/duckdb/duckdb';
import { glueType } from '../../shared/stages/catalog/glue-types';
import { compilePipeline } from '../../shared/core/config/load-config';
import { parseDataset } from '../../shared/core/config/parse-dataset';
import type { ColumnSpec } from '../../shared/core/config/types';
import { duckdbType, fromJsonSql } from '../../shared/core/duckdb/columns';
import { ConfigError } from '../../shared/core/errors';
import { catalogTables } from '../../shared/stages/catalog';
import { redshiftType } from '../../shared/stages/load/load-sql';
import { thrown } from '../support/thrown';
import { EVERY_KIND, ITEMS, everyKindParquet } from '../support/every-kind';

/** A JSON-lines dataset with these columns (the format may be replaced). */
const dataset = (columns: unknown[], format: unknown = { kind: 'jsonl' }) => ({
  name: 'events',
  keyPattern: 'events/{date:YYYYMMDD}/{part}.jsonl',
  format,
  columns,
  dateField: 'date',
});
const parse = (columns: unknown[], format?: unknown) => parseDataset(dataset(columns, format), 'datasets[0]', {});
const errorOf = (columns: unknown[], format?: unknown) => thrown(ConfigError, () => parse(columns, format));

const items = ITEMS;

describe('the column kinds a dataset declares', () => {
  it('reads every kind with its details', () => {
    const parsed = parse([
      { name: 'x', kind: 'double' },
      { name: 'ok', kind: 'boolean', nullable: true },
      { name: 'amount', kind: 'decimal', scale: 4, precision: 30 },
      { name: 'at', kind: 'time', format: 'HH:mm' },
      { name: 'day', kind: 'date', format: 'DD.MM.YYYY' },
      { name: 'ts', kind: 'timestamp', format: 'epochMillis' },
      { name: 'local', kind: 'timestamp', format: 'DD/MM/YYYY HH:mm:ss.SSS' },
      { name: 'country', kind: 'string', path: 'user.geo.country' },
      items,
    ]);
    expect(parsed.columns).toEqual([
      { name: 'x', kind: 'double' },
      { name: 'ok', kind: 'boolean', nullable: true },
      { name: 'amount', kind: 'decimal', scale: 4, precision: 30 },
      { name: 'at', kind: 'time', format: 'HH:mm' },
      { name: 'day', kind: 'date', format: 'DD.MM.YYYY' },
      { name: 'ts', kind: 'timestamp', format: 'epochMillis' },
      { name: 'local', kind: 'timestamp', format: 'DD/MM/YYYY HH:mm:ss.SSS' },
      { name: 'country', kind: 'string', path: 'user.geo.country' },
      items,
    ]);
  });

  it('accepts nested columns in JSON and Parquet datasets', () => {
    for (const format of [{ kind: 'jsonl' }, { kind: 'json', records: 'concatenated' }, { kind: 'parquet' }]) {
      expect(parse([items], format).columns[0]!.kind).toBe('list');
    }
  });

  it.each([
    ['a scale above its precision', [{ name: 'a', kind: 'decimal', scale: 6, precision: 5 }], 'datasets[0].columns[0].scale'],
    ['a precision on another kind', [{ name: 'a', kind: 'double', precision: 5 }], 'datasets[0].columns[0].precision'],
    ['a precision above 38', [{ name: 'a', kind: 'decimal', scale: 2, precision: 39 }], 'datasets[0].columns[0].precision'],
    ['a format on a string', [{ name: 'a', kind: 'string', format: 'YYYY' }], 'datasets[0].columns[0].format'],
    ['an unknown token', [{ name: 'a', kind: 'date', format: 'DD.MMM.YYYY' }], 'datasets[0].columns[0].format'],
    ['a date format without its day', [{ name: 'a', kind: 'date', format: 'MM/YYYY' }], 'datasets[0].columns[0].format'],
    ['a date format with an hour', [{ name: 'a', kind: 'date', format: 'YYYY-MM-DD HH' }], 'datasets[0].columns[0].format'],
    ['a time format with a year', [{ name: 'a', kind: 'time', format: 'YYYY HH:mm' }], 'datasets[0].columns[0].format'],
    ['a token twice', [{ name: 'a', kind: 'timestamp', format: 'YYYY-MM-DD HH:mm HH' }], 'datasets[0].columns[0].format'],
    ['a fraction without seconds', [{ name: 'a', kind: 'time', format: 'HH:mm.SSS' }], 'datasets[0].columns[0].format'],
    ['an epoch format on a date', [{ name: 'a', kind: 'date', format: 'epochSeconds' }], 'datasets[0].columns[0].format'],
    ['a struct without fields', [{ name: 'a', kind: 'struct' }], 'datasets[0].columns[0].fields'],
    ['a list without items', [{ name: 'a', kind: 'list' }], 'datasets[0].columns[0].items'],
    ['fields on a list', [{ name: 'a', kind: 'list', items: { kind: 'string' }, fields: [] }], 'datasets[0].columns[0].fields'],
    ['a struct field of an unknown kind', [{ name: 'a', kind: 'struct', fields: [{ name: 'b', kind: 'map' }] }], 'datasets[0].columns[0].fields[0].kind'],
    [
      'a duplicate struct field',
      [
        {
          name: 'a',
          kind: 'struct',
          fields: [
            { name: 'b', kind: 'string' },
            { name: 'b', kind: 'integer' },
          ],
        },
      ],
      'datasets[0].columns[0].fields[1].name',
    ],
    [
      'a bad format deep in a list of structs',
      [{ name: 'a', kind: 'list', items: { kind: 'struct', fields: [{ name: 'on', kind: 'date', format: 'QQ' }] } }],
      'datasets[0].columns[0].items.fields[0].format',
    ],
    ['a name on a list item', [{ name: 'a', kind: 'list', items: { name: 'b', kind: 'string' } }], 'datasets[0].columns[0].items.name'],
    [
      'a path on a struct field',
      [{ name: 'a', kind: 'struct', fields: [{ name: 'b', kind: 'string', path: 'x.y' }] }],
      'datasets[0].columns[0].fields[0].path',
    ],
    ['allowed values on a struct', [{ name: 'a', kind: 'struct', fields: [{ name: 'b', kind: 'string' }], allowed: ['x'] }], 'datasets[0].columns[0].allowed'],
    ['a malformed path', [{ name: 'a', kind: 'string', path: 'user..id' }], 'datasets[0].columns[0].path'],
  ])('rejects %s, naming the field', (_what, columns, field) => {
    expect(errorOf(columns).field).toBe(field);
  });

  it('takes a path only in a JSON or Parquet dataset', () => {
    const error = errorOf([{ name: 'country', kind: 'string', path: 'user.country' }], { kind: 'delimited', delimiter: ',' });
    expect(error.field).toBe('datasets[0].columns[0].path');
    expect(error.message).toMatch(/"json", "jsonl" or "parquet"/);
    expect(errorOf([{ name: 'country', kind: 'string', path: 'COUNTRY' }], { kind: 'fixedWidth', widths: [4] }).field).toBe('datasets[0].columns[0].path');
  });

  it('takes a nested column only in a JSON or Parquet dataset', () => {
    const error = errorOf([items], { kind: 'delimited', delimiter: ',' });
    expect(error.field).toBe('datasets[0].columns[0].kind');
    expect(error.message).toMatch(/nested values/);
    expect(errorOf([items], { kind: 'fixedWidth', widths: [10] }).field).toBe('datasets[0].columns[0].kind');
  });
});

describe('the types each kind is written as', () => {
  it('gives DuckDB (Parquet) types, nested ones included', () => {
    expect(EVERY_KIND.map((c) => duckdbType(c))).toEqual([
      'VARCHAR',
      'BIGINT',
      'DECIMAL(18,2)',
      'DECIMAL(38,6)',
      'DOUBLE',
      'BOOLEAN',
      'DATE',
      'TIMESTAMP',
      'VARCHAR',
      'STRUCT("id" BIGINT, "geo" STRUCT("country" VARCHAR))',
      'STRUCT("sku" VARCHAR, "qty" BIGINT)[]',
      'DOUBLE[]',
    ]);
  });

  it('reads nested JSON with the structure of its type', () => {
    expect(fromJsonSql('v', items as ColumnSpec)).toBe(
      `CAST(json_transform(v, '[{"sku":"VARCHAR","qty":"BIGINT"}]') AS STRUCT("sku" VARCHAR, "qty" BIGINT)[])`,
    );
  });

  it('catalogs each kind with the Glue type of the Parquet convert writes, and loads it into the matching Redshift type', async () => {
    const pipeline = compilePipeline({ datasets: [dataset(EVERY_KIND)] });
    const { tables } = await catalogTables(pipeline);
    const columns = tables[0]!.fileColumns.filter((c) => !c.name.startsWith('key_') && !c.name.startsWith('source_'));
    expect(columns).toEqual([
      { name: 's', type: 'string' },
      { name: 'i', type: 'bigint' },
      { name: 'd', type: 'decimal(18,2)' },
      { name: 'wide', type: 'decimal(38,6)' },
      { name: 'x', type: 'double' },
      { name: 'b', type: 'boolean' },
      { name: 'day', type: 'date' },
      { name: 'ts', type: 'timestamp' },
      { name: 't', type: 'string' },
      { name: 'user', type: 'struct<id:bigint,geo:struct<country:string>>' },
      { name: 'items', type: 'array<struct<sku:string,qty:bigint>>' },
      { name: 'scores', type: 'array<double>' },
    ]);
    // the Parquet of a file with rows of every kind has exactly these types
    const dir = await mkdtemp(join(tmpdir(), 'landfall-kinds-'));
    const parquet = await everyKindParquet(dir, pipeline.config.datasets[0]!);
    const duckdb = await openDuckDb({ workDir: dir, functionMemoryMb: 512 });
    const written = (await duckdb.conn.runAndReadAll('SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet($1))', [parquet])).getRows();
    duckdb.close();
    expect(written.map(([name, type]) => ({ name, type: glueType(type as string, 'test') }))).toEqual(columns);
    expect(columns.map((c) => redshiftType(c.type))).toEqual([
      'VARCHAR(65535)',
      'BIGINT',
      'DECIMAL(18,2)',
      'DECIMAL(38,6)',
      'DOUBLE PRECISION',
      'BOOLEAN',
      'DATE',
      'TIMESTAMP',
      'VARCHAR(65535)',
      'SUPER',
      'SUPER',
      'SUPER',
    ]);
  });
});
