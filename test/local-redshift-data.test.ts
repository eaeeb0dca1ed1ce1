import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  ListStatementsCommand,
  paginateGetStatementResult,
  RedshiftDataClient,
  ResourceNotFoundException,
  ValidationException,
  type DescribeStatementResponse,
  type Field,
} from '@aws-sdk/client-redshift-data';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { CatalogTable } from '../shared/core/catalog/tables';
import { openDuckDb, type DuckDb } from '../shared/core/duckdb/duckdb';
import { loadStatements } from '../shared/stages/load/load-sql';
import { startLocalRedshiftData, type LocalRedshiftData } from '../local/redshift-data';
import { startMinio, type RunningServer } from '../local/servers';

/*
 * The local Redshift Data API (PGlite behind the service's JSON protocol) with the unmodified
 * RedshiftDataClient over HTTP; COPY reads Parquet that DuckDB writes into MinIO.
 */

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'rsdata', secretAccessKey: 'rsdata-local-secret' };
const BUCKET = 'warehouse-staging';
const WG = { WorkgroupName: 'landfall', Database: 'dev' } as const;
const ROLE = "IAM_ROLE 'arn:aws:iam::123456789012:role/landfall-redshift-copy'";

let minio: RunningServer;
let workDir: string;
let s3: S3Client;
let duck: DuckDb;
let rs: LocalRedshiftData;
const logLines: string[] = [];
let client: RedshiftDataClient;
// no SDK retries: each request is answered exactly once, so faults can be counted
let once: RedshiftDataClient;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'landfall-redshift-data-'));
  minio = await startMinio({ workDir, accessKey: CREDENTIALS.accessKeyId, secretKey: CREDENTIALS.secretAccessKey, region: REGION, webhooks: {} });
  s3 = new S3Client({ endpoint: minio.endpoint, forcePathStyle: true, region: REGION, credentials: CREDENTIALS });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  duck = await openDuckDb({ workDir: join(workDir, 'duckdb'), functionMemoryMb: 512, threads: 1 });
  rs = await startLocalRedshiftData({ s3, log: (line) => logLines.push(line) });
  client = new RedshiftDataClient({ endpoint: rs.endpoint, region: REGION, credentials: CREDENTIALS });
  once = new RedshiftDataClient({ endpoint: rs.endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
});

afterAll(async () => {
  client?.destroy();
  once?.destroy();
  await rs?.stop();
  duck?.close();
  await minio?.process.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

beforeEach(() => {
  rs.fault.clear();
  rs.setTiming({ delayMs: 0, runMs: 0 });
});

const TERMINAL = ['FINISHED', 'FAILED', 'ABORTED'];

/** Polls DescribeStatement (as a client's wait loop does) until the statement ends; the statuses seen, in order. */
async function waitFor(id: string): Promise<DescribeStatementResponse & { seen: string[] }> {
  const seen: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const d = await client.send(new DescribeStatementCommand({ Id: id }));
    if (seen[seen.length - 1] !== d.Status) seen.push(d.Status!);
    if (TERMINAL.includes(d.Status!)) return { ...d, seen };
    await sleep(10);
  }
  throw new Error(`statement ${id} did not end`);
}

async function run(sql: string, extra: Record<string, unknown> = {}) {
  const { Id } = await client.send(new ExecuteStatementCommand({ ...WG, Sql: sql, ...extra }));
  return waitFor(Id!);
}

async function ok(sql: string, extra: Record<string, unknown> = {}) {
  const d = await run(sql, extra);
  expect(d.Error).toBeUndefined();
  expect(d.Status).toBe('FINISHED');
  return d;
}

async function batch(sqls: string[], extra: Record<string, unknown> = {}) {
  const { Id } = await client.send(new BatchExecuteStatementCommand({ ...WG, Sqls: sqls, ...extra }));
  return waitFor(Id!);
}

async function records(id: string): Promise<Field[][]> {
  return (await client.send(new GetStatementResultCommand({ Id: id }))).Records!;
}

/** Writes a Parquet file with DuckDB from a SELECT and puts it at s3://BUCKET/key. */
async function putParquet(key: string, select: string) {
  const path = join(workDir, `${key.replace(/\//g, '_')}.parquet`);
  await duck.conn.run(`COPY (${select}) TO '${path}' (FORMAT parquet)`);
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: await readFile(path) }));
}

describe('statements, polling and results', () => {
  it('runs a statement asynchronously (SUBMITTED/PICKED before FINISHED) and answers typed records, NULLs and column metadata', async () => {
    await ok(
      `CREATE TABLE typed (id INTEGER NOT NULL, big BIGINT, amount NUMERIC(12,2), ratio DOUBLE PRECISION, name VARCHAR(40), flag BOOLEAN, day DATE, at TIMESTAMP)`,
    );
    await ok(`INSERT INTO typed VALUES
      (1, 9007199254740991, 12345678.90, 0.1, 'Ünïcode ✓', true, '2024-02-29', '2024-02-29 13:45:00.123456'),
      (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`);
    rs.setTiming({ delayMs: 150 });
    const ahead = await client.send(new ExecuteStatementCommand({ ...WG, Sql: 'SELECT count(*) FROM typed' }));
    const { Id, CreatedAt, WorkgroupName, Database } = await client.send(new ExecuteStatementCommand({ ...WG, Sql: 'SELECT * FROM typed ORDER BY id' }));
    expect({ WorkgroupName, Database }).toEqual(WG);
    expect(CreatedAt).toBeInstanceOf(Date);
    const d = await waitFor(Id!);
    // queued behind the first, then picked (and held by the delay), then run: the polling loop is exercised
    expect(d.seen.slice(0, 2)).toEqual(['SUBMITTED', 'PICKED']);
    expect(d.seen[d.seen.length - 1]).toBe('FINISHED');
    const first = await client.send(new DescribeStatementCommand({ Id: ahead.Id! }));
    expect(first.Status).toBe('FINISHED');
    expect(first.UpdatedAt!.getTime()).toBeLessThanOrEqual(d.UpdatedAt!.getTime());
    expect(d).toMatchObject({
      Id,
      HasResultSet: true,
      ResultRows: 2,
      QueryString: 'SELECT * FROM typed ORDER BY id',
      WorkgroupName: 'landfall',
      Database: 'dev',
    });
    expect(d.Duration).toBeGreaterThan(0);
    expect(d.RedshiftQueryId).toEqual(expect.any(Number));
    expect(d.ResultSize).toBeGreaterThan(0);

    const result = await client.send(new GetStatementResultCommand({ Id }));
    expect(result.TotalNumRows).toBe(2);
    expect(result.NextToken).toBeUndefined();
    expect(result.Records).toEqual([
      [
        { longValue: 1 },
        { longValue: 9007199254740991 },
        { stringValue: '12345678.90' },
        { doubleValue: 0.1 },
        { stringValue: 'Ünïcode ✓' },
        { booleanValue: true },
        { stringValue: '2024-02-29' },
        { stringValue: '2024-02-29 13:45:00.123456' },
      ],
      Array.from({ length: 8 }, (_, i) => (i === 0 ? { longValue: 2 } : { isNull: true })),
    ]);
    expect(result.ColumnMetadata!.map((c) => [c.name, c.typeName])).toEqual([
      ['id', 'int4'],
      ['big', 'int8'],
      ['amount', 'numeric'],
      ['ratio', 'float8'],
      ['name', 'varchar'],
      ['flag', 'bool'],
      ['day', 'date'],
      ['at', 'timestamp'],
    ]);
    expect(result.ColumnMetadata![2]).toMatchObject({ precision: 12, scale: 2, tableName: 'typed', schemaName: 'public', nullable: 1 });
    expect(result.ColumnMetadata![0]).toMatchObject({ nullable: 0, isSigned: true });
    expect(result.ColumnMetadata![4]).toMatchObject({ precision: 40, isCaseSensitive: true });
  });

  it('pages a large result 1,000 rows at a time (the SDK paginator follows NextToken)', async () => {
    const d = await ok('SELECT n, n * 2 AS twice FROM generate_series(1, 2500) AS n ORDER BY n');
    expect(d.ResultRows).toBe(2500);
    const pages: number[] = [];
    const values: number[] = [];
    for await (const page of paginateGetStatementResult({ client }, { Id: d.Id! })) {
      pages.push(page.Records!.length);
      expect(page.TotalNumRows).toBe(2500);
      for (const row of page.Records!) values.push(row[0]!.longValue!);
    }
    expect(pages).toEqual([1000, 1000, 500]);
    expect(values).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
    await expect(client.send(new GetStatementResultCommand({ Id: d.Id!, NextToken: 'not-a-token' }))).rejects.toBeInstanceOf(ValidationException);
  });

  it('answers ResourceNotFoundException for an unknown id, ValidationException for a malformed one or a statement without a result set', async () => {
    await expect(client.send(new DescribeStatementCommand({ Id: '00000000-0000-4000-8000-000000000000' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(client.send(new GetStatementResultCommand({ Id: '00000000-0000-4000-8000-000000000000' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(client.send(new DescribeStatementCommand({ Id: 'nope' }))).rejects.toBeInstanceOf(ValidationException);
    const ddl = await ok('CREATE TABLE no_result (a INT)');
    expect(ddl).toMatchObject({ HasResultSet: false, ResultRows: 0 });
    // what cannot run in a transaction block runs on its own
    await ok('VACUUM no_result');
    // WaitTimeSeconds: the answer waits for the statement
    const waited = await client.send(new ExecuteStatementCommand({ ...WG, Sql: 'SELECT 1', WaitTimeSeconds: 10 }));
    expect(waited).toMatchObject({ Status: 'FINISHED', HasResultSet: true });
    await expect(client.send(new GetStatementResultCommand({ Id: ddl.Id! }))).rejects.toThrow(/Query does not have result/);
    const failed = await run('SELECT * FROM missing_table');
    expect(failed).toMatchObject({ Status: 'FAILED', Error: 'ERROR: relation "missing_table" does not exist' });
    expect(logLines).toContain(`redshift-data: ${failed.Id} FAILED (ERROR: relation "missing_table" does not exist) SELECT * FROM missing_table`);
    await expect(client.send(new GetStatementResultCommand({ Id: failed.Id! }))).rejects.toBeInstanceOf(ValidationException);
  });

  it('binds named parameters as :name (not inside literals, comments or :: casts), and refuses unused ones', async () => {
    await ok('CREATE TABLE prices (sku VARCHAR(20), price NUMERIC(10,3), note VARCHAR(40))');
    const parameters = [
      { name: 'sku', value: 'A-1' },
      { name: 'price', value: '19.995' },
    ];
    await ok("INSERT INTO prices VALUES (:sku, :price, 'literal :sku stays') -- :price in a comment", { Parameters: parameters });
    const d = await ok('SELECT sku, price::text, note, :sku = sku AS same FROM prices WHERE sku = :sku AND price = :price::numeric', {
      Parameters: parameters,
    });
    expect(await records(d.Id!)).toEqual([[{ stringValue: 'A-1' }, { stringValue: '19.995' }, { stringValue: 'literal :sku stays' }, { booleanValue: true }]]);
    expect(d.QueryParameters).toEqual(parameters);
    await expect(client.send(new ExecuteStatementCommand({ ...WG, Sql: 'SELECT :sku', Parameters: [...parameters] }))).rejects.toThrow(
      /parameter 'price' is not used/,
    );
    await expect(
      client.send(
        new ExecuteStatementCommand({
          ...WG,
          Sql: 'SELECT :a',
          Parameters: [
            { name: 'a', value: '1' },
            { name: 'a', value: '2' },
          ],
        }),
      ),
    ).rejects.toBeInstanceOf(ValidationException);
  });
});

describe('BatchExecuteStatement', () => {
  it('commits all statements as one transaction, with sub-statement ids and results', async () => {
    await ok('CREATE TABLE ledger (id INT PRIMARY KEY, amount NUMERIC(10,2))');
    const d = await batch(['INSERT INTO ledger VALUES (1, 10.00), (2, 20.00)', 'SELECT sum(amount) FROM ledger', 'UPDATE ledger SET amount = amount + 0.01']);
    expect(d.Status).toBe('FINISHED');
    expect(d.SubStatements!.map((s) => [s.Id, s.Status, s.ResultRows, s.HasResultSet])).toEqual([
      [`${d.Id}:1`, 'FINISHED', 2, false],
      [`${d.Id}:2`, 'FINISHED', 1, true],
      [`${d.Id}:3`, 'FINISHED', 2, false],
    ]);
    expect(await records(`${d.Id}:2`)).toEqual([[{ stringValue: '30.00' }]]);
    await expect(client.send(new GetStatementResultCommand({ Id: d.Id! }))).rejects.toThrow(/sub-statements/);
    expect(await rs.query<{ amount: string }>('SELECT amount FROM ledger ORDER BY id')).toEqual([{ amount: '10.01' }, { amount: '20.01' }]);
  });

  it('rolls everything back when the third statement fails: FAILED with its error, sub-statement statuses', async () => {
    await ok('CREATE TABLE stock (sku VARCHAR(10) PRIMARY KEY, qty INT)');
    await ok("INSERT INTO stock VALUES ('a', 1)");
    const d = await batch(["INSERT INTO stock VALUES ('b', 2)", "UPDATE stock SET qty = 100 WHERE sku = 'a'", "INSERT INTO stock VALUES ('a', 3)"]);
    expect(d.Status).toBe('FAILED');
    expect(d.Error).toBe('ERROR: duplicate key value violates unique constraint "stock_pkey" DETAIL: Key (sku)=(a) already exists.');
    expect(d.SubStatements!.map((s) => s.Status)).toEqual(['FINISHED', 'FINISHED', 'FAILED']);
    expect(d.SubStatements![2]!.Error).toBe(d.Error);
    const third = await client.send(new DescribeStatementCommand({ Id: `${d.Id}:3` }));
    expect(third).toMatchObject({ Id: `${d.Id}:3`, Status: 'FAILED', Error: d.Error, QueryString: "INSERT INTO stock VALUES ('a', 3)" });
    // neither the insert of 'b' nor the update of 'a' survived
    expect(await rs.query('SELECT sku, qty FROM stock ORDER BY sku')).toEqual([{ sku: 'a', qty: 1 }]);
    const ran = rs.statements().filter((r) => r.batchId === d.Id);
    expect(ran.map((r) => [r.status, r.committed])).toEqual([
      ['FINISHED', false],
      ['FINISHED', false],
      ['FAILED', false],
    ]);
  });

  it('marks the statements after a failing one ABORTED (never run), and refuses more than 40 statements', async () => {
    const d = await batch(['SELECT 1', 'SELECT * FROM not_there', 'SELECT 3']);
    expect(d.SubStatements!.map((s) => s.Status)).toEqual(['FINISHED', 'FAILED', 'ABORTED']);
    expect(rs.statements().filter((r) => r.batchId === d.Id)).toHaveLength(2);
    await expect(client.send(new BatchExecuteStatementCommand({ ...WG, Sqls: Array.from({ length: 41 }, () => 'SELECT 1') }))).rejects.toBeInstanceOf(
      ValidationException,
    );
  });

  it('AUTO_COMMIT commits each statement on its own', async () => {
    await ok('CREATE TABLE auto (a INT PRIMARY KEY)');
    const d = await batch(['INSERT INTO auto VALUES (1)', 'INSERT INTO auto VALUES (1)', 'INSERT INTO auto VALUES (2)'], { ExecutionMode: 'AUTO_COMMIT' });
    expect(d.Status).toBe('FAILED');
    expect(d.SubStatements!.map((s) => s.Status)).toEqual(['FINISHED', 'FAILED', 'FINISHED']);
    expect(await rs.query('SELECT a FROM auto ORDER BY a')).toEqual([{ a: 1 }, { a: 2 }]);
  });
});

describe('ClientToken idempotency', () => {
  it('returns the same Id for the same token and request and runs nothing again; another request under it is refused', async () => {
    await ok('CREATE TABLE events (n INT)');
    const input = { ...WG, Sql: 'INSERT INTO events VALUES (1)', ClientToken: 'load-2024-02-29-1' };
    const first = await client.send(new ExecuteStatementCommand(input));
    await waitFor(first.Id!);
    const again = await client.send(new ExecuteStatementCommand(input));
    expect(again.Id).toBe(first.Id);
    expect(again.CreatedAt).toEqual(first.CreatedAt);
    await rs.idle();
    expect(await rs.query('SELECT count(*)::int AS n FROM events')).toEqual([{ n: 1 }]);
    expect(rs.statements().filter((r) => r.sql === input.Sql)).toHaveLength(1);

    await expect(client.send(new ExecuteStatementCommand({ ...input, Sql: 'INSERT INTO events VALUES (2)' }))).rejects.toSatisfy(
      (e: Error) => e instanceof ValidationException && /ClientToken 'load-2024-02-29-1' was already used with a different request/.test(e.message),
    );
    // the token is per request, whatever the operation
    await expect(client.send(new BatchExecuteStatementCommand({ ...WG, Sqls: [input.Sql], ClientToken: input.ClientToken }))).rejects.toBeInstanceOf(
      ValidationException,
    );
    const batchInput = { ...WG, Sqls: ['INSERT INTO events VALUES (10)', 'INSERT INTO events VALUES (11)'], ClientToken: 'batch-token-1' };
    const b1 = await client.send(new BatchExecuteStatementCommand(batchInput));
    const b2 = await client.send(new BatchExecuteStatementCommand(batchInput));
    expect(b2.Id).toBe(b1.Id);
    await rs.idle();
    expect(await rs.query('SELECT count(*)::int AS n FROM events')).toEqual([{ n: 3 }]);
  });

  it("survives a lost answer: the SDK's retry carries its own ClientToken, and the statement runs once", async () => {
    await ok('CREATE TABLE lost (n INT)');
    rs.fault.dropResponse('ExecuteStatement');
    // no ClientToken given: the SDK generates one (an idempotency token) and reuses it on retry
    const { Id, $metadata } = await client.send(new ExecuteStatementCommand({ ...WG, Sql: 'INSERT INTO lost VALUES (7)' }));
    expect($metadata.attempts).toBe(2);
    expect((await waitFor(Id!)).Status).toBe('FINISHED');
    await rs.idle();
    expect(await rs.query('SELECT n FROM lost')).toEqual([{ n: 7 }]);
    expect(
      rs
        .statements()
        .filter((r) => r.sql === 'INSERT INTO lost VALUES (7)')
        .map((r) => r.id),
    ).toEqual([Id]);
    expect(rs.fault.pending()).toEqual([]);
  });
});

describe('COPY FROM Parquet in S3', () => {
  const SALES_COLUMNS = `store_id INTEGER, item_id BIGINT, amount NUMERIC(12,2), sold_on DATE, sold_at TIMESTAMP, item_name VARCHAR(64), promo BOOLEAN, ratio DOUBLE PRECISION`;
  // Parquet column names differ from the table's: COPY maps by position, as Redshift does for Parquet
  const SALES_SELECT = (first: number, count: number) => `
    SELECT (i + ${first})::INTEGER AS c1, (i * 1000000000000)::BIGINT AS c2,
           CASE WHEN i = 1 THEN NULL ELSE (i * 1234567.89 + 0.01)::DECIMAL(12,2) END AS c3,
           DATE '2024-02-29' + i::INTEGER AS c4, TIMESTAMP '2024-02-29 23:59:59.999999' + INTERVAL (i) HOUR AS c5,
           CASE WHEN i = 2 THEN NULL ELSE 'item ' || i END AS c6, i % 2 = 0 AS c7, 1.0 / (i + 3) AS c8
      FROM range(${count}) t(i)`;

  it('loads one object by column position, decimals, dates, timestamps and NULLs exact', async () => {
    await putParquet('sales/dt=2024-02-29/part-0.parquet', SALES_SELECT(100, 4));
    await ok(`CREATE TABLE sales (${SALES_COLUMNS})`);
    const d = await ok(`COPY public.sales FROM 's3://${BUCKET}/sales/dt=2024-02-29/part-0.parquet' ${ROLE} FORMAT AS PARQUET;`);
    expect(d).toMatchObject({ ResultRows: 4, HasResultSet: false });
    const rows = await rs.query<Record<string, string | null>>(
      'SELECT store_id::text, item_id::text, amount::text, sold_on::text, sold_at::text, item_name, promo::text, ratio::float8 AS ratio FROM sales ORDER BY store_id',
    );
    expect(rows).toEqual([
      {
        store_id: '100',
        item_id: '0',
        amount: '0.01',
        sold_on: '2024-02-29',
        sold_at: '2024-02-29 23:59:59.999999',
        item_name: 'item 0',
        promo: 'true',
        ratio: 1 / 3,
      },
      {
        store_id: '101',
        item_id: '1000000000000',
        amount: null,
        sold_on: '2024-03-01',
        sold_at: '2024-03-01 00:59:59.999999',
        item_name: 'item 1',
        promo: 'false',
        ratio: 1 / 4,
      },
      {
        store_id: '102',
        item_id: '2000000000000',
        amount: '2469135.79',
        sold_on: '2024-03-02',
        sold_at: '2024-03-01 01:59:59.999999',
        item_name: null,
        promo: 'true',
        ratio: 1 / 5,
      },
      {
        store_id: '103',
        item_id: '3000000000000',
        amount: '3703703.68',
        sold_on: '2024-03-03',
        sold_at: '2024-03-01 02:59:59.999999',
        item_name: 'item 3',
        promo: 'false',
        ratio: 1 / 6,
      },
    ]);
    const run = rs.statements().find((r) => r.id === d.Id);
    expect(run).toMatchObject({ copied: [`s3://${BUCKET}/sales/dt=2024-02-29/part-0.parquet`], resultRows: 4, committed: true });
  });

  it('loads every object under a prefix (skipping zero-byte objects and folder keys), with a column list and IAM_ROLE default', async () => {
    await putParquet('multi/part-1.parquet', "SELECT 1 AS a, 'one' AS b UNION ALL SELECT 2, 'two'");
    await putParquet('multi/sub/part-2.parquet', "SELECT 3 AS a, 'three' AS b");
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'multi/empty.parquet', Body: new Uint8Array(0) }));
    // shares the text prefix "multi" but not "multi/"
    await putParquet('multi-other/part.parquet', "SELECT 9 AS a, 'nine' AS b");
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'multi/folder/', Body: 'x' }));
    await ok(`CREATE TABLE multi (id INT, loaded_at VARCHAR(10) DEFAULT 'default', label VARCHAR(10))`);
    const d = await ok(`copy multi (id, label) from 's3://${BUCKET}/multi/' iam_role default format parquet`);
    expect(d.ResultRows).toBe(3);
    expect(await rs.query('SELECT id, loaded_at, label FROM multi ORDER BY id')).toEqual([
      { id: 1, loaded_at: 'default', label: 'one' },
      { id: 2, loaded_at: 'default', label: 'two' },
      { id: 3, loaded_at: 'default', label: 'three' },
    ]);
    expect(rs.statements().find((r) => r.id === d.Id)!.copied).toEqual([`s3://${BUCKET}/multi/part-1.parquet`, `s3://${BUCKET}/multi/sub/part-2.parquet`]);
  });

  it('fails like Redshift for a prefix with no objects and for a column-count mismatch, loading nothing', async () => {
    await ok(`CREATE TABLE strict (${SALES_COLUMNS})`);
    const missing = await run(`COPY strict FROM 's3://${BUCKET}/nothing/here/' ${ROLE} FORMAT AS PARQUET`);
    expect(missing.Status).toBe('FAILED');
    expect(missing.Error).toMatch(/^ERROR: The specified S3 prefix 'nothing\/here\/' does not exist/);
    await putParquet('narrow/ok.parquet', SALES_SELECT(0, 2));
    await putParquet('narrow/three-columns.parquet', 'SELECT 1 AS a, 2 AS b, 3 AS c');
    const mismatch = await run(`COPY strict FROM 's3://${BUCKET}/narrow/' ${ROLE} FORMAT AS PARQUET`);
    expect(mismatch.Status).toBe('FAILED');
    expect(mismatch.Error).toContain(
      `Unmatched number of columns between table and file. Table columns: 8, Data columns: 3, File name: s3://${BUCKET}/narrow/three-columns.parquet`,
    );
    const other = await run(`COPY strict FROM 's3://${BUCKET}/narrow/ok.parquet' ${ROLE} FORMAT AS CSV`);
    expect(other.Error).toMatch(/not supported by the local Redshift/);
    expect(await rs.query('SELECT count(*)::int AS n FROM strict')).toEqual([{ n: 0 }]);
  });

  it('rolls a COPY back when a later statement of its batch fails', async () => {
    await putParquet('rollback/part.parquet', 'SELECT 1 AS a UNION ALL SELECT 2');
    await ok('CREATE TABLE copied (a INT)');
    const d = await batch([
      `COPY copied FROM 's3://${BUCKET}/rollback/part.parquet' ${ROLE} FORMAT AS PARQUET`,
      'SELECT count(*) FROM copied',
      'INSERT INTO copied VALUES (1 / 0)',
    ]);
    expect(d.Status).toBe('FAILED');
    expect(d.Error).toBe('ERROR: division by zero');
    expect(d.SubStatements!.map((s) => [s.Status, s.ResultRows])).toEqual([
      ['FINISHED', 2],
      ['FINISHED', 1],
      ['FAILED', -1],
    ]);
    // the COPY was visible inside the transaction, and is gone after it
    expect(await records(`${d.Id}:2`)).toEqual([[{ longValue: 2 }]]);
    expect(await rs.query('SELECT count(*)::int AS n FROM copied')).toEqual([{ n: 0 }]);
  });
});

describe('SUPER: nested Parquet columns (COPY … SERIALIZETOJSON)', () => {
  // a struct (a list inside), a list of structs, a map, a scalar; row 2: NULLs and empty containers
  const NESTED_SELECT = `
    SELECT 1 AS id, {'name': 'Zoë', 'tags': ['a', 'b"c'], 'score': 1.5::DOUBLE} AS profile, [{'sku': 'X1', 'qty': 2}] AS items,
           MAP {'k': 10} AS counts, 'plain' AS note
    UNION ALL
    SELECT 2, NULL, [], MAP {'k': NULL}, NULL`;

  it('loads struct, list and map columns into SUPER as compact JSON (fields in order) and answers them as JSON text, typed super', async () => {
    await putParquet('nested/part-0.parquet', NESTED_SELECT);
    await ok('CREATE TABLE nested (id INT, profile SUPER, items SUPER, counts SUPER, note SUPER)');
    const d = await ok(`COPY nested FROM 's3://${BUCKET}/nested/part-0.parquet' ${ROLE} FORMAT AS PARQUET SERIALIZETOJSON`);
    expect(d.ResultRows).toBe(2);
    const select = await ok('SELECT id, profile, items, counts, note, JSON_SERIALIZE(profile) AS serialized FROM nested ORDER BY id');
    const result = await client.send(new GetStatementResultCommand({ Id: select.Id }));
    expect(result.Records).toEqual([
      [
        { longValue: 1 },
        { stringValue: '{"name":"Zoë","tags":["a","b\\"c"],"score":1.5}' },
        { stringValue: '[{"sku":"X1","qty":2}]' },
        { stringValue: '{"k":10}' },
        { stringValue: '"plain"' },
        { stringValue: '{"name":"Zoë","tags":["a","b\\"c"],"score":1.5}' },
      ],
      [{ longValue: 2 }, { isNull: true }, { stringValue: '[]' }, { stringValue: '{"k":null}' }, { isNull: true }, { stringValue: 'null' }],
    ]);
    expect(result.ColumnMetadata!.map((c) => c.typeName)).toEqual(['int4', 'super', 'super', 'super', 'super', 'varchar']);
    // the CLI's warehouse export reads each column as ::text: a SUPER value is its JSON, parseable back
    const text = await rs.query<{ profile: string | null }>('SELECT profile::text AS profile FROM nested ORDER BY id');
    expect(text.map((r) => (r.profile === null ? null : JSON.parse(r.profile)))).toEqual([{ name: 'Zoë', tags: ['a', 'b"c'], score: 1.5 }, null]);
  });

  it("refuses a nested column into SUPER without SERIALIZETOJSON (Redshift's incompatible-schema error) and loads nothing", async () => {
    await putParquet('nested-strict/part-0.parquet', NESTED_SELECT);
    await ok('CREATE TABLE nested_strict (id INT, profile SUPER, items SUPER, counts SUPER, note SUPER)');
    const d = await run(`COPY nested_strict FROM 's3://${BUCKET}/nested-strict/part-0.parquet' ${ROLE} FORMAT AS PARQUET`);
    expect(d.Status).toBe('FAILED');
    expect(d.Error).toBe(
      `ERROR: Spectrum Scan Error DETAIL: error: Spectrum Scan Error code: 15007 context: File 's3://${BUCKET}/nested-strict/part-0.parquet' has an incompatible Parquet schema for column 's3://${BUCKET}/nested-strict/part-0.parquet.profile'. Column type: SUPER, Parquet schema: STRUCT("name" VARCHAR, tags VARCHAR[], score DOUBLE) (a nested Parquet column loads into a SUPER column only with SERIALIZETOJSON)`,
    );
    // into a scalar column, SERIALIZETOJSON does not help
    await ok('CREATE TABLE nested_scalar (id INT, profile INT, items SUPER, counts SUPER, note SUPER)');
    const scalar = await run(`COPY nested_scalar FROM 's3://${BUCKET}/nested-strict/part-0.parquet' ${ROLE} FORMAT AS PARQUET SERIALIZETOJSON`);
    expect(scalar.Error).toMatch(/has an incompatible Parquet schema for column '.*\.profile'\. Column type: INTEGER, Parquet schema: STRUCT/);
    expect(await rs.query('SELECT (SELECT count(*) FROM nested_strict)::int + (SELECT count(*) FROM nested_scalar)::int AS n')).toEqual([{ n: 0 }]);
  });

  it("runs the pipeline's own load batch for a table with nested columns (SUPER, SERIALIZETOJSON, MERGE), twice: one row per key", async () => {
    const table: CatalogTable = {
      zone: 'curated',
      name: 'sessions',
      prefix: 'curated/clicks/sessions/',
      source: 'clicks',
      fileColumns: [
        { name: 'session_id', type: 'string' },
        { name: 'pages', type: 'array<string>' },
        { name: 'device', type: 'struct<os:string,version:int>' },
      ],
      partitionKeys: [{ name: 'date', type: 'date', isDate: true }],
    };
    await putParquet(
      'curated/clicks/sessions/date=2024-03-01/part-0.parquet',
      "SELECT 's1' AS session_id, ['/', '/cart'] AS pages, {'os': 'iOS', 'version': 17} AS device UNION ALL SELECT 's2', [], NULL",
    );
    const statements = loadStatements({
      executionName: 'exec-1',
      batchId: 'clicks#date=2024-03-01',
      values: { date: '2024-03-01' },
      copyRoleArn: 'arn:aws:iam::123456789012:role/landfall-redshift-copy',
      at: new Date('2024-03-02T00:00:00Z'),
      tables: [
        {
          load: { table: 'sessions', into: 'sessions_wh', key: ['date', 'session_id'], mode: 'merge' },
          table,
          from: `s3://${BUCKET}/curated/clicks/sessions/date=2024-03-01/`,
        },
      ],
    });
    expect(statements.some((sql) => /SERIALIZETOJSON/.test(sql))).toBe(true);
    for (let i = 0; i < 2; i++) {
      const d = await batch(statements);
      expect(d.Error).toBeUndefined();
      expect(d.Status).toBe('FINISHED');
    }
    expect(await rs.query('SELECT session_id, pages::text AS pages, device::text AS device, date::text AS date FROM sessions_wh ORDER BY session_id')).toEqual([
      { session_id: 's1', pages: '["/","/cart"]', device: '{"os":"iOS","version":17}', date: '2024-03-01' },
      { session_id: 's2', pages: '[]', device: null, date: '2024-03-01' },
    ]);
  });

  it('keeps fault injection: a COPY … SERIALIZETOJSON fails as told, then loads', async () => {
    await putParquet('nested-fault/part-0.parquet', NESTED_SELECT);
    await ok('CREATE TABLE nested_fault (id INT, profile SUPER, items SUPER, counts SUPER, note SUPER)');
    rs.fault.failStatement(/SERIALIZETOJSON/, 'ERROR: Spectrum Scan Error DETAIL: injected');
    const sql = `COPY nested_fault FROM 's3://${BUCKET}/nested-fault/' ${ROLE} FORMAT AS PARQUET SERIALIZETOJSON`;
    expect((await run(sql)).Error).toBe('ERROR: Spectrum Scan Error DETAIL: injected');
    expect(await rs.query('SELECT count(*)::int AS n FROM nested_fault')).toEqual([{ n: 0 }]);
    expect((await ok(sql)).ResultRows).toBe(2);
  });
});

describe("VARCHAR limits in bytes (Redshift's), not characters (PostgreSQL's)", () => {
  it('fails a COPY whose value has more bytes than the column declares, though fewer characters, and loads nothing', async () => {
    // 'ééé': 3 characters, 6 bytes; PostgreSQL's varchar(5) would take it
    await putParquet('bytes/a-ok.parquet', "SELECT 1 AS id, 'abcde' AS name UNION ALL SELECT 2, 'éé' UNION ALL SELECT 3, NULL");
    await putParquet('bytes/b-long.parquet', "SELECT 4 AS id, 'ééé' AS name");
    await ok('CREATE TABLE short_names (id INT, name VARCHAR(5))');
    const d = await run(`COPY short_names FROM 's3://${BUCKET}/bytes/' ${ROLE} FORMAT AS PARQUET`);
    expect(d.Status).toBe('FAILED');
    expect(d.Error).toBe(
      `ERROR: value too long for type character varying(5) DETAIL: error: The length of the data column name is longer than the length defined in the table. Table: 5, Data: 6 (bytes), File name: s3://${BUCKET}/bytes/b-long.parquet`,
    );
    expect(await rs.query('SELECT count(*)::int AS n FROM short_names')).toEqual([{ n: 0 }]);
    // exactly at the limit in bytes ('éé' is 4, 'abcde' 5) loads, also through a column list (quoted names as stored)
    expect((await ok(`COPY short_names ("id", NAME) FROM 's3://${BUCKET}/bytes/a-ok.parquet' ${ROLE} FORMAT AS PARQUET`)).ResultRows).toBe(3);
    const unknown = await run(`COPY short_names (id, nickname) FROM 's3://${BUCKET}/bytes/a-ok.parquet' ${ROLE} FORMAT AS PARQUET`);
    expect(unknown.Error).toBe('ERROR: column "nickname" of relation "short_names" does not exist');
  });

  it('counts a bare VARCHAR as 256 bytes and a nested value serialized into VARCHAR by its JSON text', async () => {
    await putParquet('bytes-default/part.parquet', `SELECT repeat('€', 86) AS v, ['x'] AS l`); // 258 bytes, 86 characters
    await ok('CREATE TABLE bare (v VARCHAR, l VARCHAR(5))');
    const bare = await run(`COPY bare FROM 's3://${BUCKET}/bytes-default/' ${ROLE} FORMAT AS PARQUET SERIALIZETOJSON`);
    expect(bare.Error).toMatch(/^ERROR: value too long for type character varying\(256\) .*Table: 256, Data: 258 \(bytes\)/);
    await putParquet('bytes-json/part.parquet', `SELECT 'ok' AS v, ['abc'] AS l`); // ["abc"]: 7 bytes
    const json = await run(`COPY bare FROM 's3://${BUCKET}/bytes-json/' ${ROLE} FORMAT AS PARQUET SERIALIZETOJSON`);
    expect(json.Error).toMatch(/^ERROR: value too long for type character varying\(5\) .*column l .*Data: 7 \(bytes\)/);
  });
});

describe('PostgreSQL SQL that Redshift also accepts', () => {
  it('runs a temp-table staging batch with MERGE and DELETE … USING; the temp table ends with the batch', async () => {
    await ok('CREATE TABLE IF NOT EXISTS daily (store INT, day DATE, total NUMERIC(12,2))');
    await ok('CREATE TABLE IF NOT EXISTS daily (store INT, day DATE, total NUMERIC(12,2))');
    await ok("INSERT INTO daily VALUES (1, '2024-02-28', 5.00), (1, '2024-02-29', 1.00), (2, '2024-02-29', 2.00)");
    const d = await batch([
      'CREATE TEMP TABLE stage (store INT, day DATE, total NUMERIC(12,2))',
      "INSERT INTO stage SELECT store, day, total * 10 FROM daily WHERE day = '2024-02-29' UNION ALL SELECT 3, DATE '2024-02-29', 3.33",
      'MERGE INTO daily USING stage ON daily.store = stage.store AND daily.day = stage.day WHEN MATCHED THEN UPDATE SET total = stage.total WHEN NOT MATCHED THEN INSERT VALUES (stage.store, stage.day, stage.total)',
      "DELETE FROM daily USING stage WHERE daily.store = stage.store AND daily.day = '2024-02-28'",
    ]);
    expect(d.Status).toBe('FINISHED');
    expect(d.SubStatements!.map((s) => s.ResultRows)).toEqual([0, 3, 3, 1]);
    expect(await rs.query('SELECT store, day::text AS day, total FROM daily ORDER BY store, day')).toEqual([
      { store: 1, day: '2024-02-29', total: '10.00' },
      { store: 2, day: '2024-02-29', total: '20.00' },
      { store: 3, day: '2024-02-29', total: '3.33' },
    ]);
    // each statement or batch is a session of its own, as on the Data API: the temp table is gone
    expect((await run('SELECT * FROM stage')).Error).toBe('ERROR: relation "stage" does not exist');
  });
});

describe('faults', () => {
  it('fails the next matching statements with the given message (N times), then runs them again', async () => {
    await ok('CREATE TABLE audit (n INT)');
    rs.fault.failStatement(/insert into audit values/i, 'ERROR: Disk Full DETAIL: injected', { times: 2 });
    expect(rs.fault.pending()).toEqual([
      { kind: 'failStatement', match: '/insert into audit values/i', message: 'ERROR: Disk Full DETAIL: injected', remaining: 2 },
    ]);
    expect(await run('SELECT 1')).toMatchObject({ Status: 'FINISHED' });
    expect(await run('INSERT INTO audit VALUES (1)')).toMatchObject({ Status: 'FAILED', Error: 'ERROR: Disk Full DETAIL: injected' });
    const inBatch = await batch(['INSERT INTO audit SELECT 99', 'SELECT 1', 'INSERT INTO audit VALUES (2)']);
    expect(inBatch).toMatchObject({ Status: 'FAILED', Error: 'ERROR: Disk Full DETAIL: injected' });
    expect(inBatch.SubStatements!.map((s) => s.Status)).toEqual(['FINISHED', 'FINISHED', 'FAILED']);
    expect(await rs.query('SELECT count(*)::int AS n FROM audit')).toEqual([{ n: 0 }]);
    await ok('INSERT INTO audit VALUES (3)');
    expect(await rs.query('SELECT n FROM audit')).toEqual([{ n: 3 }]);
    expect(rs.fault.pending()).toEqual([]);
  });

  it("fails the next matching batch with Redshift's serialization error (1023) and rolls it back", async () => {
    await ok('CREATE TABLE accounts (id INT PRIMARY KEY, balance NUMERIC(10,2))');
    await ok('INSERT INTO accounts VALUES (1, 100.00)');
    rs.fault.serializationConflict(/UPDATE accounts/, { tableId: 4242 });
    const sqls = ['INSERT INTO accounts VALUES (2, 50.00)', 'UPDATE accounts SET balance = balance - 10 WHERE id = 1'];
    const conflicted = await batch(sqls);
    expect(conflicted.Status).toBe('FAILED');
    expect(conflicted.Error).toMatch(
      /^ERROR: 1023 DETAIL: Serializable isolation violation on table - 4242, transactions forming the cycle are: \d+, \d+ \(pid:\d+\)$/,
    );
    expect(conflicted.SubStatements!.map((s) => s.Status)).toEqual(['FINISHED', 'FAILED']);
    expect(await rs.query('SELECT id, balance FROM accounts ORDER BY id')).toEqual([{ id: 1, balance: '100.00' }]);
    // the retry a client does on 1023 goes through
    expect((await batch(sqls)).Status).toBe('FINISHED');
    expect(await rs.query('SELECT id, balance FROM accounts ORDER BY id')).toEqual([
      { id: 1, balance: '90.00' },
      { id: 2, balance: '50.00' },
    ]);
  });

  it("throttles API calls with HTTP 400 ThrottlingException: surfaced without retries, absorbed by the SDK's own", async () => {
    const before = rs.statements().length;
    rs.fault.throttle('ExecuteStatement');
    const err = await once
      .send(new ExecuteStatementCommand({ ...WG, Sql: 'SELECT 1' }))
      .catch((e: unknown) => e as Error & { $metadata: { httpStatusCode?: number } });
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('ThrottlingException');
    expect((err as { $metadata: { httpStatusCode?: number } }).$metadata.httpStatusCode).toBe(400);
    await rs.idle();
    expect(rs.statements().length).toBe(before); // a throttled call runs nothing

    const d = await ok('SELECT 1');
    rs.fault.throttle('DescribeStatement', 2);
    const described = await client.send(new DescribeStatementCommand({ Id: d.Id! }));
    expect(described.Status).toBe('FINISHED');
    expect(described.$metadata.attempts).toBe(3);

    rs.fault.throttle('GetStatementResult', 3);
    await expect(client.send(new GetStatementResultCommand({ Id: d.Id! }))).rejects.toSatisfy(
      (e: Error & { $metadata: { attempts?: number } }) => e.name === 'ThrottlingException' && e.$metadata.attempts === 3,
    );
  });

  it('clears faults that have not fired', async () => {
    rs.fault.failStatement('SELECT 42', 'ERROR: never');
    rs.fault.throttle('ExecuteStatement', 5);
    rs.fault.clear();
    expect(rs.fault.pending()).toEqual([]);
    await ok('SELECT 42');
  });
});

describe('validation, cancellation and listing', () => {
  it('requires exactly one of WorkgroupName and ClusterIdentifier, and SecretArn or DbUser for a cluster', async () => {
    await expect(client.send(new ExecuteStatementCommand({ Database: 'dev', Sql: 'SELECT 1' }))).rejects.toSatisfy(
      (e: Error) => e instanceof ValidationException && /ClusterIdentifier or WorkgroupName/.test(e.message),
    );
    await expect(
      client.send(new ExecuteStatementCommand({ ...WG, ClusterIdentifier: 'landfall-cluster', DbUser: 'loader', Sql: 'SELECT 1' })),
    ).rejects.toBeInstanceOf(ValidationException);
    await expect(client.send(new ExecuteStatementCommand({ ClusterIdentifier: 'landfall-cluster', Database: 'dev', Sql: 'SELECT 1' }))).rejects.toSatisfy(
      (e: Error) => e instanceof ValidationException && /SecretArn .* or DbUser/.test(e.message),
    );
    await expect(
      client.send(new BatchExecuteStatementCommand({ ClusterIdentifier: 'landfall-cluster', Database: 'dev', Sqls: ['SELECT 1'] })),
    ).rejects.toBeInstanceOf(ValidationException);
    await expect(client.send(new ExecuteStatementCommand({ WorkgroupName: 'landfall', Sql: 'SELECT 1' }))).rejects.toBeInstanceOf(ValidationException);
    await expect(client.send(new ExecuteStatementCommand({ ...WG, Sql: '' }))).rejects.toBeInstanceOf(ValidationException);

    const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:landfall-AbCdEf';
    const onCluster = await client.send(
      new ExecuteStatementCommand({ ClusterIdentifier: 'landfall-cluster', Database: 'dev', SecretArn: secretArn, Sql: 'SELECT 1' }),
    );
    expect(onCluster).toMatchObject({ ClusterIdentifier: 'landfall-cluster', SecretArn: secretArn, Database: 'dev' });
    expect(onCluster.WorkgroupName).toBeUndefined();
    expect((await waitFor(onCluster.Id!)).Status).toBe('FINISHED');
    const withUser = await client.send(
      new ExecuteStatementCommand({ ClusterIdentifier: 'landfall-cluster', Database: 'dev', DbUser: 'loader', Sql: 'SELECT 1' }),
    );
    expect((await waitFor(withUser.Id!)).DbUser).toBe('loader');
    // a serverless workgroup needs no secret
    expect((await client.send(new ExecuteStatementCommand({ ...WG, Sql: 'SELECT 1' }))).Id).toMatch(/^[a-z0-9-]{36}$/);
  });

  it('cancels a statement that has not started (it never runs) and refuses to cancel a finished one', async () => {
    await ok('CREATE TABLE cancelled (n INT)');
    rs.setTiming({ delayMs: 400 });
    const { Id } = await client.send(new ExecuteStatementCommand({ ...WG, Sql: 'INSERT INTO cancelled VALUES (1)' }));
    expect((await client.send(new CancelStatementCommand({ Id }))).Status).toBe(true);
    const d = await waitFor(Id!);
    expect(d.Status).toBe('ABORTED');
    await rs.idle();
    expect(rs.statements().some((r) => r.id === Id)).toBe(false);
    expect(await rs.query('SELECT count(*)::int AS n FROM cancelled')).toEqual([{ n: 0 }]);
    // a running batch is cancelled at its next statement boundary, and rolled back
    rs.setTiming({ delayMs: 0, runMs: 200 });
    const running = await client.send(
      new BatchExecuteStatementCommand({
        ...WG,
        Sqls: ['INSERT INTO cancelled VALUES (2)', 'INSERT INTO cancelled VALUES (3)', 'INSERT INTO cancelled VALUES (4)'],
      }),
    );
    while ((await client.send(new DescribeStatementCommand({ Id: running.Id! }))).Status !== 'STARTED') await sleep(5);
    expect((await client.send(new CancelStatementCommand({ Id: running.Id! }))).Status).toBe(true);
    const aborted = await waitFor(running.Id!);
    expect(aborted.Status).toBe('ABORTED');
    expect(aborted.SubStatements!.map((s) => s.Status)).toEqual(['FINISHED', 'ABORTED', 'ABORTED']);
    expect(await rs.query('SELECT count(*)::int AS n FROM cancelled')).toEqual([{ n: 0 }]);
    expect(
      rs
        .statements()
        .filter((r) => r.batchId === running.Id)
        .map((r) => r.committed),
    ).toEqual([false]);
    rs.setTiming({ runMs: 0 });

    const done = await ok('SELECT 1');
    await expect(client.send(new CancelStatementCommand({ Id: done.Id! }))).rejects.toThrow(/already in FINISHED state/);
  });

  it('lists statements newest first, by name prefix and status', async () => {
    const a = await ok('SELECT 1', { StatementName: 'nightly-load-a' });
    const b = await batch(['SELECT 1', 'SELECT 2'], { StatementName: 'nightly-load-b' });
    const failed = await run('SELECT * FROM nowhere', { StatementName: 'nightly-load-c' });
    const named = await client.send(new ListStatementsCommand({ StatementName: 'nightly-load' }));
    expect(named.Statements!.map((s) => [s.Id, s.StatementName, s.Status, s.IsBatchStatement])).toEqual([
      [failed.Id, 'nightly-load-c', 'FAILED', false],
      [b.Id, 'nightly-load-b', 'FINISHED', true],
      [a.Id, 'nightly-load-a', 'FINISHED', false],
    ]);
    expect(named.Statements![1]!.QueryStrings).toEqual(['SELECT 1', 'SELECT 2']);
    const onlyFailed = await client.send(new ListStatementsCommand({ StatementName: 'nightly-load', Status: 'FAILED' }));
    expect(onlyFailed.Statements!.map((s) => s.Id)).toEqual([failed.Id]);
    const page = await client.send(new ListStatementsCommand({ StatementName: 'nightly-load', MaxResults: 2 }));
    expect(page.Statements).toHaveLength(2);
    const rest = await client.send(new ListStatementsCommand({ StatementName: 'nightly-load', MaxResults: 2, NextToken: page.NextToken }));
    expect(rest.Statements!.map((s) => s.Id)).toEqual([a.Id]);
  });
});
