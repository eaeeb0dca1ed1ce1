import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutputCheck } from '../../shared/core/config/types';
import { InvalidTransformRequestError } from '../../shared/stages/transform/run-sql';
import { SAMPLE_ROWS, failedChecks, runOutputChecks, type OutputCheckRequest } from '../../shared/stages/transform/output-checks';

let dir: string;
let conn: DuckDBConnection;
let req: OutputCheckRequest;

/** Writes the rows of a SELECT as a Parquet file and returns its path. */
async function parquet(name: string, select: string): Promise<string> {
  const path = join(dir, `${name}.parquet`);
  await conn.run(`COPY (${select}) TO '${path}' (FORMAT parquet)`);
  return path;
}

/*
 * The output: 30 sales of 3 stores × 10 items, where (S1, I01) appears 1 + 12 times (12 copies with negative amounts:
 * more than a sample holds), one item has no name, one category is unknown. The input `sales` holds the
 * amounts the output sums; `items` the known item ids (I10 is not among them).
 */
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'landfall-checks-'));
  conn = await (await DuckDBInstance.create(':memory:')).connect();
  const output = await parquet(
    'output',
    `SELECT 'S' || s AS store_id, 'I' || lpad(i::VARCHAR, 2, '0') AS item_id,
            CASE WHEN s = 2 AND i = 3 THEN NULL ELSE 'Item ' || i END AS item_name,
            CASE WHEN s = 3 AND i = 4 THEN 'Toys' WHEN i % 2 = 0 THEN 'Burgers' ELSE 'Drinks' END AS category,
            CAST(s * 10 + i AS DECIMAL(38,2)) AS sale_amount
     FROM range(1, 4) AS a(s), range(1, 11) AS b(i)
     UNION ALL
     SELECT 'S1', 'I01', 'Item 1', 'Drinks', CAST(-1 - range AS DECIMAL(38,2)) FROM range(12)`,
  );
  const sales = await parquet(
    'sales',
    `SELECT 'S' || s AS store_id, 'I' || lpad(i::VARCHAR, 2, '0') AS item_id, CAST(s * 10 + i AS DECIMAL(18,2)) AS amount, 4 AS transaction_code
     FROM range(1, 4) AS a(s), range(1, 11) AS b(i)
     UNION ALL SELECT 'S1', 'I01', 99.5, 5`,
  );
  const items = await parquet('items', `SELECT 'I' || lpad(i::VARCHAR, 2, '0') AS item_id FROM range(1, 10) AS b(i)`);
  req = { outputPath: output, inputs: { sales: [sales], items: [items] } };
});

afterAll(async () => {
  conn.closeSync();
  await rm(dir, { recursive: true, force: true });
});

const check = (rule: Partial<OutputCheck>, name = 'c', severity: OutputCheck['severity'] = 'error'): OutputCheck =>
  ({ name, severity, ...rule }) as OutputCheck;
const one = async (c: OutputCheck, request: OutputCheckRequest = req) => (await runOutputChecks(conn, [c], request))[0]!;

describe('output checks: unique', () => {
  it('passes on a unique key and fails on a repeated one, one failing entry per repeated value with its rows', async () => {
    expect(await one(check({ unique: ['store_id', 'item_id', 'sale_amount'] }))).toMatchObject({ rule: 'unique', passed: true, failing: 0, sample: [] });
    const failed = await one(check({ unique: ['store_id', 'item_id'] }, 'key'));
    expect(failed).toMatchObject({ rule: 'unique', name: 'key', severity: 'error', passed: false, failing: 1 });
    expect(failed.sample).toEqual([{ store_id: 'S1', item_id: 'I01', copies: 13 }]);
  });
});

describe('output checks: notNull', () => {
  it('names the rows with a null, and passes on a column without', async () => {
    expect(await one(check({ notNull: ['store_id', 'category'] }))).toMatchObject({ passed: true, failing: 0 });
    const failed = await one(check({ notNull: ['store_id', 'item_name'] }));
    expect(failed).toMatchObject({ rule: 'notNull', passed: false, failing: 1 });
    expect(failed.sample).toEqual([expect.objectContaining({ store_id: 'S2', item_id: 'I03', item_name: null })]);
  });
});

describe('output checks: acceptedValues', () => {
  it('fails each row with another value, passes when every value is listed', async () => {
    const failed = await one(check({ acceptedValues: { column: 'category', values: ['Burgers', 'Drinks'] } }));
    expect(failed).toMatchObject({ passed: false, failing: 1, sample: [expect.objectContaining({ store_id: 'S3', item_id: 'I04', category: 'Toys' })] });
    expect(await one(check({ acceptedValues: { column: 'category', values: ['Burgers', 'Drinks', 'Toys'] } }))).toMatchObject({ passed: true });
  });
});

describe('output checks: referential', () => {
  it('fails each output row whose value the input lacks; passes against a column holding them all', async () => {
    const failed = await one(check({ referential: { column: 'item_id', relation: 'items', relationColumn: 'item_id' } }));
    // I10 of the three stores
    expect(failed).toMatchObject({ rule: 'referential', passed: false, failing: 3 });
    expect(failed.sample.map((r) => r.item_id)).toEqual(['I10', 'I10', 'I10']);
    expect(await one(check({ referential: { column: 'item_id', relation: 'sales', relationColumn: 'item_id' } }))).toMatchObject({ passed: true });
  });
});

describe('output checks: rowCount', () => {
  it('checks absolute bounds', async () => {
    expect(await one(check({ rowCount: { min: 1, max: 42 } }))).toMatchObject({ passed: true, failing: 0, detail: '42 rows' });
    expect(await one(check({ rowCount: { min: 43 } }))).toMatchObject({ passed: false, failing: 1, detail: 'rows 42 < 43', sample: [{ rows: 42 }] });
  });

  it('compares with the previous partition, and passes on a first run', async () => {
    const c = check({ rowCount: { minRatioOfPrevious: 0.5 } });
    expect(await one(c, { ...req, previousRows: 84 })).toMatchObject({ passed: true });
    const dropped = await one(c, { ...req, previousRows: 85 });
    expect(dropped).toMatchObject({ passed: false, failing: 1, sample: [{ rows: 42, previousRows: 85 }] });
    expect(dropped.detail).toMatch(/ratio to the previous partition's 85 rows 0\.49\d* < 0\.5/);
    expect(await one(c, { ...req })).toMatchObject({ passed: true });
  });

  it("compares with an input's rows", async () => {
    expect(await one(check({ rowCount: { input: 'sales', maxRatioOfInput: 1 } }))).toMatchObject({ passed: false, sample: [{ rows: 42, inputRows: 31 }] });
    expect(await one(check({ rowCount: { input: 'sales', minRatioOfInput: 1 } }))).toMatchObject({ passed: true });
  });
});

describe('output checks: reconcile', () => {
  it('passes when the totals agree within the tolerance, fails with both totals otherwise', async () => {
    const passing = check({
      reconcile: {
        output: 'sum(sale_amount) FILTER (WHERE sale_amount > 0)',
        input: { relation: 'sales', expression: 'sum(amount) FILTER (WHERE transaction_code = 4)' },
        tolerance: 0,
      },
    });
    expect(await one(passing)).toMatchObject({ rule: 'reconcile', passed: true, failing: 0 });
    const failed = await one(check({ reconcile: { output: 'sum(sale_amount)', input: { relation: 'sales', expression: 'sum(amount)' }, tolerance: 177 } }));
    expect(failed).toMatchObject({ passed: false, failing: 1, sample: [{ output_total: 687, input_total: 864.5, difference: 177.5 }] });
    expect(
      await one(check({ reconcile: { output: 'sum(sale_amount)', input: { relation: 'sales', expression: 'sum(amount)' }, tolerance: 177.5 } })),
    ).toMatchObject({
      passed: true,
    });
  });
});

describe('output checks: sql', () => {
  it('counts the rows the assertion returns, keeps at most 10 of them, and may read the inputs', async () => {
    const many = await one(check({ sql: 'SELECT * FROM output WHERE sale_amount < 0;' }));
    expect(many).toMatchObject({ rule: 'sql', passed: false, failing: 12 });
    expect(many.sample).toHaveLength(SAMPLE_ROWS);
    const joined = await one(check({ sql: 'SELECT o.item_id FROM output o ANTI JOIN items i USING (item_id) WHERE o.store_id = $$S2$$' }));
    expect(joined).toMatchObject({ failing: 1, sample: [{ item_id: 'I10' }] });
    expect(await one(check({ sql: 'SELECT * FROM output WHERE sale_amount > 1000' }))).toMatchObject({ passed: true, failing: 0, sample: [] });
  });
});

describe('output checks: results and mistakes', () => {
  it('returns every result in order, and splits failed errors from failed warnings', async () => {
    const results = await runOutputChecks(
      conn,
      [check({ unique: ['store_id', 'item_id'] }, 'a'), check({ notNull: ['item_name'] }, 'b', 'warn'), check({ rowCount: { min: 1 } }, 'c')],
      req,
    );
    expect(results.map((r) => [r.name, r.passed])).toEqual([
      ['a', false],
      ['b', false],
      ['c', true],
    ]);
    const { errors, warnings } = failedChecks(results);
    expect(errors.map((r) => r.name)).toEqual(['a']);
    expect(warnings.map((r) => r.name)).toEqual(['b']);
  });

  it("names a column the output lacks, and an expression DuckDB cannot bind, as the check's mistake", async () => {
    await expect(one(check({ notNull: ['nope'] }, 'n'))).rejects.toThrow(/check "n": the output has no column "nope" \(it has store_id, item_id/);
    await expect(one(check({ referential: { column: 'item_id', relation: 'items', relationColumn: 'id' } }, 'r'))).rejects.toThrow(
      /check "r": the input items has no column "id"/,
    );
    const err = await one(check({ sql: 'SELECT * FROM output WHERE no_such_column > 1' }, 's')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidTransformRequestError);
    expect((err as Error).message).toMatch(/^check "s" cannot run: .*no_such_column/);
  });

  it('gives the same results when run again on the same output (a re-run stage)', async () => {
    const checks = [check({ unique: ['store_id', 'item_id'] }, 'a'), check({ sql: 'SELECT * FROM output WHERE sale_amount < 0' }, 'b')];
    expect(await runOutputChecks(conn, checks, req)).toEqual(await runOutputChecks(conn, checks, req));
  });

  it('leaves no view behind', async () => {
    await runOutputChecks(conn, [check({ rowCount: { min: 0 } })], req);
    const views = (await conn.runAndReadAll(`SELECT view_name FROM duckdb_views() WHERE NOT internal`)).getRows();
    expect(views).toEqual([]);
  });
});
