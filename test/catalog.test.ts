import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { RETAIL_PIPELINE_FILE } from '../examples/retail/config';
import { DEFAULT_CLICKSTREAM, writeClickstreamSample } from '../examples/retail/data/clickstream-sample';
import { writePosSample } from '../examples/retail/data/pos-sample';
import { glueType } from '../shared/stages/catalog/glue-types';
import { isCalendarDate } from '../shared/core/datasets/key-pattern';
import { catalogTemplateResources } from '../deploy/catalog-template';

/*
 * The Glue tables the package adds to the template (deploy/catalog-template.ts, the same code the
 * serverless plugin runs) against the Parquet a local run of both samples actually wrote: every
 * table's columns and types (as Athena maps Parquet types) and its partition keys (as the paths
 * hold them) must match exactly.
 */
const DATE = '2026-11-23';
interface GlueTable {
  TableInput: {
    Name: string;
    Parameters: Record<string, unknown>;
    PartitionKeys: Array<{ Name: string; Type: string }>;
    StorageDescriptor: { Columns: Array<{ Name: string; Type: string }>; Location: { 'Fn::Join': [string, [string, unknown, string]] } };
  };
  DatabaseName: string;
}

let out: string;
let tables: GlueTable[];
let conn: DuckDBConnection;

beforeAll(async () => {
  const input = await mkdtemp(join(tmpdir(), 'landfall-catalog-in-'));
  out = await mkdtemp(join(tmpdir(), 'landfall-catalog-out-'));
  await writePosSample(input, {
    seed: 5,
    startDate: DATE,
    days: 1,
    provinces: { ON: 5, QC: 4, BC: 3 },
    rowsPerFile: 15,
    filesPerStore: 1,
    items: 6,
    badFiles: false,
  });
  await writeClickstreamSample(input, { ...DEFAULT_CLICKSTREAM, seed: 7, startDate: DATE, sessionsPerDay: 40 });
  const result = spawnSync(process.execPath, ['bin/landfall.mjs', 'run', '--input', input, '--out', out], {
    cwd: join(import.meta.dirname, '..'),
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
    timeout: 800_000,
  });
  if (result.status !== 0) throw new Error(`landfall run failed:\n${result.stderr.slice(-4000)}`);
  const resources = await catalogTemplateResources(RETAIL_PIPELINE_FILE, 'test');
  tables = Object.values(resources)
    .filter((r) => (r as { Type: string }).Type === 'AWS::Glue::Table')
    .map((r) => (r as { Properties: GlueTable }).Properties);
  conn = await (await DuckDBInstance.create(':memory:')).connect();
}, 900_000);

async function parquetFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await readdir(dir, { recursive: true }))
    .map(String)
    .filter((f) => f.endsWith('.parquet'))
    .sort();
}

describe('the Glue catalog of both samples', () => {
  it("has a table for every processed dataset and every curated table, in its zone's database", () => {
    const names = (db: string) =>
      tables
        .filter((t) => t.DatabaseName === db)
        .map((t) => t.TableInput.Name)
        .sort();
    expect(names('landfall_test_processed')).toEqual(['click_events', 'customers', 'item_master', 'orders', 'pos', 'products', 'stores']);
    expect(names('landfall_test_curated')).toEqual(['channel_region', 'funnel', 'gmv_daily', 'gmv_hourly', 'pos_daily_sales', 'sessions_per_user']);
  });

  it('matches every Parquet file the run wrote: columns, types and partition keys exactly', async () => {
    for (const { TableInput: t } of tables) {
      const prefix = t.StorageDescriptor.Location['Fn::Join'][1][2].replace(/^\//, '');
      const files = await parquetFiles(join(out, prefix));
      expect(files.length, `${t.Name}: no Parquet under ${prefix}`).toBeGreaterThan(0);
      const partitionNames = t.PartitionKeys.map((k) => k.Name);
      for (const file of files) {
        const what = `${t.Name} ${file}`;
        // the path: one k=v segment per partition key, in order, then the file
        const segments = file.split('/');
        expect(
          segments.slice(0, -1).map((s) => s.split('=')[0]),
          what,
        ).toEqual(partitionNames);
        const values = Object.fromEntries(segments.slice(0, -1).map((s) => s.split('=') as [string, string]));
        for (const key of t.PartitionKeys) {
          const value = decodeURIComponent(values[key.Name]!);
          if (key.Type === 'date') expect(isCalendarDate(value), `${what}: ${key.Name}=${value}`).toBe(true);
          const projected = t.Parameters[`projection.${key.Name}.values`];
          if (typeof projected === 'string') expect(projected.split(','), `${what}: ${key.Name}=${value}`).toContain(value);
        }
        // the columns: the file's, without those the path holds, with the types Athena reads
        const path = join(out, prefix, file);
        const described = (
          await conn.runAndReadAll('DESCRIBE SELECT * FROM read_parquet($1, hive_partitioning = false)', [path])
        ).getRowObjectsJson() as Array<{ column_name: string; column_type: string }>;
        const fileColumns = described.map((c) => ({ Name: c.column_name, Type: glueType(c.column_type, what) }));
        expect(
          fileColumns.filter((c) => !partitionNames.includes(c.Name)),
          what,
        ).toEqual(t.StorageDescriptor.Columns);
        // a partition key the file holds too has the path's value in every row
        for (const c of fileColumns.filter((c) => partitionNames.includes(c.Name))) {
          const distinct = (
            await conn.runAndReadAll(`SELECT DISTINCT CAST("${c.Name}" AS VARCHAR) AS v FROM read_parquet($1, hive_partitioning = false)`, [path])
          ).getRowObjectsJson();
          expect(
            distinct.map((r) => r.v),
            `${what}: ${c.Name}`,
          ).toEqual([decodeURIComponent(values[c.Name]!)]);
        }
        // no timestamp Athena would misread (nanoseconds)
        const schema = (
          await conn.runAndReadAll(
            "SELECT name, CAST(logical_type AS VARCHAR) AS logical FROM parquet_schema($1) WHERE CAST(logical_type AS VARCHAR) LIKE '%Timestamp%'",
            [path],
          )
        ).getRowObjectsJson() as Array<{ name: string; logical: string }>;
        for (const s of schema) expect(s.logical, `${what}: ${s.name}`).toMatch(/(MILLIS=MilliSeconds|MICROS=MicroSeconds)\(\)/);
      }
    }
  });

  it('projects the layout the lake writes (a location template per table, no crawler)', () => {
    for (const { TableInput: t } of tables) {
      expect(t.Parameters['projection.enabled']).toBe('true');
      const template = (t.Parameters['storage.location.template'] as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].at(-1) as string;
      expect(template).toBe(`${t.StorageDescriptor.Location['Fn::Join'][1][2]}${t.PartitionKeys.map((k) => `${k.Name}=\${${k.Name}}`).join('/')}/`);
    }
  });

  it("answers `landfall query --lake OUT` with the catalog's names and columns", async () => {
    const query = (sql: string) =>
      spawnSync(process.execPath, ['bin/landfall.mjs', 'query', '--lake', out, '--format', 'csv', sql], {
        cwd: join(import.meta.dirname, '..'),
        encoding: 'utf8',
        env: { ...process.env, CI: 'true' },
        timeout: 120_000,
      });
    const totals = query('SELECT province, date, count(*) AS n, sum(sale_amount) AS sale FROM curated.pos_daily_sales GROUP BY 1, 2 ORDER BY 1');
    expect(totals.status, totals.stderr).toBe(0);
    const curated = (await readFile(join(out, 'curated', 'pos_daily_sales.csv'), 'utf8'))
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    const expected = ['BC', 'ON', 'QC'].map((p) => {
      const rows = curated.filter((r) => r[0] === p);
      const cents = rows.reduce((sum, r) => sum + Math.round(Number(r.at(-4)) * 100), 0);
      return `${p},${DATE},${rows.length},${(cents / 100).toFixed(2)}`;
    });
    expect(totals.stdout.trim().split('\n')).toEqual(['province,date,n,sale', ...expected]);
    // the bare name is the curated table; a processed dataset has its lineage and partition columns
    const columns = query('SELECT column_name FROM (DESCRIBE processed.pos)');
    expect(columns.stdout.trim().split('\n').slice(-4)).toEqual(['source_key', 'source_version_id', 'dt', 'province']);
    expect(query('SELECT count(*) AS n FROM gmv_daily').stdout.trim().split('\n')).toEqual(['n', '1']);
    const bad = query('SELECT * FROM curated.nope');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^landfall: the query failed: .*nope/);
  });

  it('has the loaded tables in the warehouse, equal to the curated tables', async () => {
    for (const table of ['gmv_daily', 'gmv_hourly', 'funnel', 'channel_region', 'sessions_per_user']) {
      const curated = (await readFile(join(out, 'curated', `${table}.csv`), 'utf8')).trim().split('\n');
      expect((await readFile(join(out, 'warehouse', `${table}.csv`), 'utf8')).trim().split('\n'), table).toEqual(curated);
    }
    // the POS table: its file's columns, then the partition date the path alone holds
    const curated = (await readFile(join(out, 'curated', 'pos_daily_sales.csv'), 'utf8')).trim().split('\n');
    const warehouse = (await readFile(join(out, 'warehouse', 'pos_daily_sales.csv'), 'utf8')).trim().split('\n');
    expect(warehouse[0]).toBe(`${curated[0]},date`);
    expect(warehouse.slice(1).map((l) => l.slice(0, l.lastIndexOf(',')))).toEqual(curated.slice(1));
  });
});
