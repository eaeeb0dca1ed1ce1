import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDb, type DuckDb } from '../../shared/core/duckdb/duckdb';
import { findTooLongValue } from '../../shared/stages/transform/output-limits';
import { PGlite } from '@electric-sql/pglite';
import { BatchExecuteStatementCommand, DescribeStatementCommand, RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { mockClient } from 'aws-sdk-client-mock';
import type { CatalogTable } from '../../shared/core/catalog/tables';
import { compilePipeline } from '../../shared/core/config/load-config';
import { retailConfig } from '../../examples/retail/config';
import { loadStatements, redshiftType, warehouseColumns, type LoadBatch } from '../../shared/stages/load/load-sql';
import { pollLoad, submitLoad, tableLoads, WarehouseLoadError, type LoadDeps, type LoadState } from '../../shared/stages/load/load-run';
import type { RunInput } from '../../shared/core/runs/run-input';

/** A Spark-style table: the date only in the path, the key in the file. */
const daily: CatalogTable = {
  zone: 'curated',
  name: 'daily',
  prefix: 'curated/job/daily/',
  source: 'job',
  fileColumns: [
    { name: 'store_id', type: 'string' },
    { name: 'sales', type: 'decimal(18,2)' },
  ],
  partitionKeys: [{ name: 'date', type: 'date', isDate: true }],
};

const batch = (mode: 'replace' | 'merge', date: string, execution: string): LoadBatch => ({
  executionName: execution,
  batchId: `job#date=${date}`,
  values: { date },
  copyRoleArn: 'arn:aws:iam::123456789012:role/copy',
  at: new Date('2026-11-23T20:00:00Z'),
  tables: [{ load: { table: 'daily', into: 'daily', key: ['date', 'store_id'], mode }, table: daily, from: `s3://lake/curated/job/daily/date=${date}/` }],
});

/** Runs a load's statements in one transaction on PostgreSQL, the COPY replaced by these staged rows. */
async function runLoad(db: PGlite, load: LoadBatch, staged: Array<[string, string]>): Promise<void> {
  await db.exec('BEGIN');
  for (const sql of loadStatements(load)) {
    if (sql.startsWith('COPY ')) {
      for (const [store, sales] of staged) await db.query('INSERT INTO "landfall_staging_daily" VALUES ($1, $2)', [store, sales]);
    } else {
      await db.exec(sql);
    }
  }
  await db.exec('COMMIT');
  await db.exec('DISCARD TEMP');
}

const rows = async (db: PGlite) =>
  (
    await db.query<{ date: string; store_id: string; sales: string }>(
      'SELECT date::text AS date, store_id, sales::text AS sales FROM daily ORDER BY date, store_id',
    )
  ).rows;

describe('the statements of a warehouse load', () => {
  it("copies exactly the batch's objects, adds the partition the path alone holds, and audits the load", () => {
    const sqls = loadStatements(batch('replace', '2026-11-23', 'job-2026-11-23-abc'));
    expect(sqls[0]).toMatch(/^CREATE TABLE IF NOT EXISTS "landfall_load_audit"/);
    expect(sqls).toContain('CREATE TABLE IF NOT EXISTS "daily" ("store_id" VARCHAR(65535), "sales" DECIMAL(18,2), "date" DATE)');
    expect(sqls).toContain(
      `COPY "landfall_staging_daily" FROM 's3://lake/curated/job/daily/date=2026-11-23/' IAM_ROLE 'arn:aws:iam::123456789012:role/copy' FORMAT AS PARQUET`,
    );
    expect(sqls).toContain(`DELETE FROM "daily" WHERE "date" = CAST('2026-11-23' AS DATE)`);
    expect(warehouseColumns(daily).map((c) => c.name)).toEqual(['store_id', 'sales', 'date']);
  });

  it('gives each column type its Redshift type, nested ones SUPER, read by COPY as JSON', () => {
    expect(
      [
        'double',
        'boolean',
        'decimal(38,6)',
        'decimal(5,2)',
        'string',
        'struct<id:bigint,geo:struct<country:string>>',
        'array<double>',
        'array<struct<sku:string>>',
      ].map(redshiftType),
    ).toEqual(['DOUBLE PRECISION', 'BOOLEAN', 'DECIMAL(38,6)', 'DECIMAL(5,2)', 'VARCHAR(65535)', 'SUPER', 'SUPER', 'SUPER']);
    const events: CatalogTable = {
      ...daily,
      name: 'events',
      fileColumns: [...daily.fileColumns, { name: 'items', type: 'array<struct<sku:string,qty:bigint>>' }],
    };
    const load = batch('replace', '2026-11-23', 'e');
    const sqls = loadStatements({ ...load, tables: [{ ...load.tables[0]!, table: events }] });
    expect(sqls).toContain('CREATE TABLE IF NOT EXISTS "daily" ("store_id" VARCHAR(65535), "sales" DECIMAL(18,2), "items" SUPER, "date" DATE)');
    expect(sqls.find((s) => s.startsWith('COPY '))).toMatch(/ FORMAT AS PARQUET SERIALIZETOJSON$/);
    // without nested columns, COPY stays as it was
    expect(loadStatements(load).find((s) => s.startsWith('COPY '))).toMatch(/ FORMAT AS PARQUET$/);
  });

  it("replace: the batch's partition is exactly the staged rows; merge: rows matched on the key are updated, others added, none removed", async () => {
    const db = new PGlite();
    await runLoad(db, batch('replace', '2026-11-23', 'e1'), [
      ['S1', '1.00'],
      ['S2', '2.00'],
    ]);
    await runLoad(db, batch('replace', '2026-11-24', 'e2'), [['S1', '5.00']]);
    // the same day again, with S2 gone and S1 changed: only that day changes
    await runLoad(db, batch('replace', '2026-11-23', 'e3'), [['S1', '1.50']]);
    expect(await rows(db)).toEqual([
      { date: '2026-11-23', store_id: 'S1', sales: '1.50' },
      { date: '2026-11-24', store_id: 'S1', sales: '5.00' },
    ]);
    await runLoad(db, batch('merge', '2026-11-24', 'e4'), [
      ['S1', '6.00'],
      ['S3', '3.00'],
    ]);
    await runLoad(db, batch('merge', '2026-11-24', 'e5'), [
      ['S1', '6.00'],
      ['S3', '3.00'],
    ]);
    expect(await rows(db)).toEqual([
      { date: '2026-11-23', store_id: 'S1', sales: '1.50' },
      { date: '2026-11-24', store_id: 'S1', sales: '6.00' },
      { date: '2026-11-24', store_id: 'S3', sales: '3.00' },
    ]);
    const audit = (
      await db.query<{ execution_name: string; mode: string; row_count: number }>(
        'SELECT execution_name, mode, row_count::int AS row_count FROM landfall_load_audit ORDER BY execution_name',
      )
    ).rows;
    expect(audit.map((a) => [a.execution_name, a.mode, a.row_count])).toEqual([
      ['e1', 'replace', 2],
      ['e2', 'replace', 1],
      ['e3', 'replace', 1],
      ['e4', 'merge', 2],
      ['e5', 'merge', 2],
    ]);
    await db.close();
  });

  it('refuses a value that could break out of its literal, and a key that is not a column', () => {
    expect(() => loadStatements({ ...batch('replace', "2026-11-23'; DROP TABLE daily; --", 'e'), values: { date: "x\\'" } })).toThrow(/not allowed/);
    const badKey = batch('merge', '2026-11-23', 'e');
    badKey.tables[0]!.load.key = ['region'];
    expect(() => loadStatements(badKey)).toThrow(/key column region is not a column of daily/);
  });
});

describe('submitting and polling a load', () => {
  const pipeline = compilePipeline(retailConfig());
  const tables: CatalogTable[] = [
    {
      zone: 'curated',
      name: 'pos_daily_sales',
      prefix: 'curated/pos_daily_sales/',
      source: 'pos_daily_sales',
      fileColumns: ['store_id', 'item_id', 'transaction_date'].map((name) => ({ name, type: 'string' })),
      partitionKeys: [
        { name: 'province', type: 'string' },
        { name: 'date', type: 'date', isDate: true },
      ],
    },
  ];
  const run = {
    job: 'pos_daily_sales',
    batchId: 'b',
    values: { province: 'ON', date: '2026-11-23' },
    executionName: 'pos_daily_sales-ON-2026-11-23-abc',
    fingerprint: 'f',
    inputs: {},
    engine: 'duckdb',
    stages: [{ name: 'aggregate' }],
  } as RunInput;
  const deps = (redshift: RedshiftDataClient): LoadDeps => ({
    redshift,
    pipeline,
    tables,
    lakeBucket: 'lake',
    target: { database: 'dev', workgroupName: 'wg', copyRoleArn: 'arn:aws:iam::1:role/c' },
    maxAttempts: 3,
    random: () => 0.5,
  });
  const fresh: LoadState = { status: 'NEW', attempt: -1, statementId: '', backoffSeconds: 0 };

  it("copies the batch's one object, with a ClientToken of the execution and the attempt", async () => {
    expect(tableLoads(run, { pipeline, tables, lakeBucket: 'lake' }).map((t) => t.from)).toEqual([
      's3://lake/curated/pos_daily_sales/province=ON/date=2026-11-23/data.parquet',
    ]);
    const mock = mockClient(RedshiftDataClient);
    mock.on(BatchExecuteStatementCommand).resolves({ Id: 'st-1' });
    const client = new RedshiftDataClient({ region: 'us-east-1' });
    const first = await submitLoad(run, fresh, deps(client));
    await submitLoad(run, fresh, deps(client));
    const next = await submitLoad(run, first, deps(client));
    const tokens = mock.commandCalls(BatchExecuteStatementCommand).map((c) => c.args[0].input.ClientToken);
    expect(first).toEqual({ status: 'RUNNING', attempt: 0, statementId: 'st-1', backoffSeconds: 0 });
    expect(tokens[0]).toBe(tokens[1]);
    expect(tokens[2]).not.toBe(tokens[0]);
    expect(next.attempt).toBe(1);
    expect(mock.commandCalls(BatchExecuteStatementCommand)[0]!.args[0].input).toMatchObject({ WorkgroupName: 'wg', Database: 'dev' });
    mock.restore();
  });

  it('retries throttling and conflicts with backoff, fails at once on any other error, and gives up after its attempts', async () => {
    const mock = mockClient(RedshiftDataClient);
    const client = new RedshiftDataClient({ region: 'us-east-1' });
    mock.on(BatchExecuteStatementCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    expect(await submitLoad(run, fresh, deps(client))).toMatchObject({ status: 'RETRY', attempt: 0, backoffSeconds: 4 });
    const running: LoadState = { status: 'RUNNING', attempt: 0, statementId: 'st-1', backoffSeconds: 0 };
    mock.on(DescribeStatementCommand).resolves({ Status: 'STARTED' });
    expect((await pollLoad(run, running, deps(client))).status).toBe('RUNNING');
    mock.on(DescribeStatementCommand).resolves({ Status: 'FAILED', Error: 'ERROR: 1023 DETAIL: Serializable isolation violation on table - 100' });
    expect(await pollLoad(run, running, deps(client))).toMatchObject({ status: 'RETRY', backoffSeconds: 4 });
    expect(await pollLoad(run, { ...running, attempt: 1 }, deps(client))).toMatchObject({ status: 'RETRY', backoffSeconds: 8 });
    await expect(pollLoad(run, { ...running, attempt: 2 }, deps(client))).rejects.toThrow(/gave up after 3 attempts: .*Serializable/);
    mock.on(DescribeStatementCommand).resolves({ Status: 'FAILED', Error: 'ERROR: permission denied for table pos_daily_sales' });
    await expect(pollLoad(run, running, deps(client))).rejects.toBeInstanceOf(WarehouseLoadError);
    mock.on(DescribeStatementCommand).resolves({ Status: 'FINISHED' });
    expect((await pollLoad(run, running, deps(client))).status).toBe('FINISHED');
    mock.restore();
  });

  it('fails the load at once, saying a retry cannot help, when Redshift refuses a long value', async () => {
    const mock = mockClient(RedshiftDataClient);
    const client = new RedshiftDataClient({ region: 'us-east-1' });
    const running: LoadState = { status: 'RUNNING', attempt: 0, statementId: 'st-1', backoffSeconds: 0 };
    mock.on(DescribeStatementCommand).resolves({ Status: 'FAILED', Error: 'ERROR: value too long for type character varying(65535)' });
    const failure = pollLoad(run, running, deps(client));
    await expect(failure).rejects.toBeInstanceOf(WarehouseLoadError);
    await expect(failure).rejects.toThrow(/over the 65535 bytes a VARCHAR holds: a retry fails the same way/);
    mock.restore();
  });
});

describe('a string too long for the warehouse', () => {
  it('loads a value of exactly 65,535 bytes into VARCHAR(65535)', async () => {
    const db = new PGlite();
    const wide: CatalogTable = { ...daily, fileColumns: [{ name: 'store_id', type: 'string' }, daily.fileColumns[1]!] };
    await runLoad(db, { ...batch('replace', '2026-11-23', 'e1'), tables: [{ ...batch('replace', '2026-11-23', 'e1').tables[0]!, table: wide }] }, [
      ['x'.repeat(65_535), '1.00'],
    ]);
    expect((await db.query<{ n: number }>('SELECT length(store_id) AS n FROM daily')).rows).toEqual([{ n: 65_535 }]);
    await db.close();
  });

  describe("the DuckDB transform's output check (before anything is published)", () => {
    let duckdb: DuckDb;
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'output-limits-'));
      duckdb = await openDuckDb({ workDir: dir, functionMemoryMb: 512 });
    });
    afterAll(async () => {
      duckdb.close();
      await rm(dir, { recursive: true, force: true });
    });
    const write = async (name: string, select: string) => {
      const path = join(dir, `${name}.parquet`);
      await duckdb.conn.run(`COPY (${select}) TO '${path}' (FORMAT parquet)`);
      return path;
    };

    it('finds a string_agg over 65,535 bytes, with its column and the row key', async () => {
      // 13,108 items of 5 bytes ('I0001,'), a string_agg of 78,647 bytes for store S2
      const path = await write(
        'agg',
        "SELECT store, string_agg(item, ',') AS items, count(*)::BIGINT AS n FROM (SELECT 'S1' AS store, 'I1' AS item UNION ALL SELECT 'S2', printf('I%04d', i % 10000) FROM range(13108) t(i)) GROUP BY store ORDER BY store",
      );
      expect(await findTooLongValue(duckdb.conn, path, ['store', 'date'])).toEqual({ column: 'items', bytes: 13_108 * 6 - 1, key: { store: 'S2' } });
    });

    it('counts bytes: 32,768 two-byte characters are over, 65,535 one-byte ones are not', async () => {
      expect(await findTooLongValue(duckdb.conn, await write('wide', "SELECT 1 AS k, repeat('é', 32768) AS s"), ['k'])).toMatchObject({
        column: 's',
        bytes: 65_536,
      });
      expect(await findTooLongValue(duckdb.conn, await write('fits', "SELECT 1 AS k, repeat('x', 65535) AS s, 2 AS other"), ['k'])).toBeNull();
      expect(await findTooLongValue(duckdb.conn, await write('none', 'SELECT 1 AS k'), ['k'])).toBeNull();
    });
  });
});
