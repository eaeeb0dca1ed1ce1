import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipelineConfig } from '../../shared/config/pipeline';
import { csvToParquet } from '../../shared/convert/csv-to-parquet';
import { openDuckDb, threadsForMemory } from '../../shared/convert/duckdb';

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
    expect(await csvToParquet(conn, { csvPath: csv, parquetPath: parquet, columns: master.columns, constants: [['key_date', '2026-11-23'], ['source_key', hostile]] })).toBe(2);
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
    await expect(csvToParquet(conn, { csvPath: 'x', parquetPath: 'y', columns: [{ name: 'a"b', kind: 'string' }], constants: [] })).rejects.toThrow(/not a safe identifier/);
    await expect(csvToParquet(conn, { csvPath: 'x', parquetPath: 'y', columns: master.columns, constants: [['Bad Name', 'v']] })).rejects.toThrow(/not a safe identifier/);
    duckdb.close();
  });

  it('uses as many threads as Lambda gives vCPUs for the memory', () => {
    expect([128, 512, 1769, 2048, 3538, 10240].map(threadsForMemory)).toEqual([1, 1, 1, 2, 2, 6]);
  });
});
