import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { retailConfig } from '../examples/retail/config';
import { itemId } from '../examples/retail/data/pos-sample';
import { landDirectory } from '../ops/land';
import type { OutputCheck } from '../shared/core/config/types';
import type { OutputCheckResult } from '../shared/core/runs/job-run-store';
import { resolveBatch, resolverDepsFromEnv } from '../shared/stages/resolve';
import { deployConfig, sqlBody, writeSql } from './support/config-deploy';
import { curatedRows, curatedVersions } from './support/jobs';
import { useLocalStack } from './support/local-stack';
import { itemMaster, masterKey, storeFile, storeKey, writeFiles } from './support/pos-files';

/*
 * Issue 27: the POS job's checks on the local stack, on DuckDB. A day of three provinces lands as
 * cumulative store files (two per store); every batch publishes and the sample's reconcile check
 * (examples/retail/pipeline.yaml) passes with both totals recorded, computed here from the landed
 * text. Then three SQL changes each re-run one batch's same inputs (as `landfall backfill` would):
 * one that forgets store_id in its GROUP BY (a third of the rows, the same totals: the row-count rule
 * against the previous partition), one dropping the tax code and one dropping an item (the
 * reconcile). Each ends CHECK_FAILED and leaves the curated partition and the warehouse rows
 * exactly as the first run wrote them.
 */
const DATE = '2026-11-23';
const PROVINCES = { ON: 3, QC: 3, BC: 3 };
const ROWS = { early: 10, last: 30 };

const config = retailConfig(PROVINCES);
const JOB = 'pos_daily_sales';
const sample = config.jobs.find((j) => j.name === JOB)!;
// on DuckDB only (the sample's `auto` would pick it too at this size)
sample.engine = 'duckdb';
delete sample.stages[0]!.spark;
const SAMPLE_CHECKS = sample.checks!;
const RECONCILE = 'amounts reconcile with the store files';
const ROW_COUNT: OutputCheck = { name: 'rowCount', severity: 'error', rowCount: { minRatioOfPrevious: 0.5 } };
const CHECKS = [...SAMPLE_CHECKS, ROW_COUNT];
sample.checks = CHECKS;
const V3_SQL = sample.stages[0]!.sql!;

const dir = await mkdtemp(join(tmpdir(), 'landfall-row-checks-'));
// The SQL file the job names. A warm transform keeps the configuration it first loaded (as a Lambda
// keeps its bundle until a deploy, which the local stack does not model): a deploy of new SQL is
// this file edited in place, and the configuration under a new name so the resolver sees new code.
const DEPLOYED = 'pos_daily_sales_deployed.v1';
sample.stages[0]!.sql = join(dir, `${DEPLOYED}.sql`);

/** A deploy of the job's SQL as `text` (the checks stay the sample's, and the row count). */
async function deploy(name: string, text: string): Promise<void> {
  await writeSql(dir, DEPLOYED, text);
  await deployConfig(dir, name, config);
}

await deploy('pipeline-v3', await readFile(V3_SQL, 'utf8'));
const stack = useLocalStack();

const storesOf = (province: string) => Array.from({ length: PROVINCES[province as keyof typeof PROVINCES] }, (_, i) => `${province}0${i + 1}`);
const batchId = (province: string) => `${JOB}#province=${province}#date=${DATE}`;

/** Each store's day as it lands: an early cumulative file, then the last one (which repeats it and adds rows). */
const landed = Object.fromEntries(
  Object.keys(PROVINCES).flatMap((province) =>
    storesOf(province).flatMap((store) => [
      [storeKey(store, DATE, '120000'), storeFile(store, DATE, ROWS.early)],
      [storeKey(store, DATE, '200000'), storeFile(store, DATE, ROWS.last)],
    ]),
  ),
);

/** The cents of codes 4, 5 and 6 in store files, optionally of one item only (computed from the text, not by the pipeline). */
function amountCents(files: string[], item?: string): { all: number; tax: number } {
  let all = 0;
  let tax = 0;
  for (const text of files) {
    for (const line of text.trim().split('\n').slice(1)) {
      const [, itemOf, , code, amount] = line.split('\t');
      if (!['4', '5', '6'].includes(code!) || (item !== undefined && itemOf !== item)) continue;
      const cents = Number(amount!.replace('.', ''));
      all += cents;
      if (code === '5') tax += cents;
    }
  }
  return { all, tax };
}
const lastFiles = (province: string) => storesOf(province).map((s) => landed[storeKey(s, DATE, '200000')]!);
const everyFile = (province: string) => storesOf(province).flatMap((s) => [landed[storeKey(s, DATE, '120000')]!, landed[storeKey(s, DATE, '200000')]!]);

const warehouseRows = (province: string) =>
  stack().warehouse.query<Record<string, string>>(
    `SELECT store_id, item_id, item_name, category, sale_amount::text AS sale_amount, tax_amount::text AS tax_amount, discount_amount::text AS discount_amount FROM pos_daily_sales WHERE transaction_date = '${DATE}' AND store_id LIKE '${province}%' ORDER BY store_id, item_id`,
  );

/** What the first run published of each province: the partition's versions and rows, the warehouse rows. */
const published: Record<string, { versions: string[]; rows: Record<string, unknown>[]; warehouse: Record<string, string>[] }> = {};

async function expectUnchanged(province: string): Promise<void> {
  expect(await curatedVersions(stack(), province, DATE)).toEqual(published[province]!.versions);
  expect(await curatedRows(stack(), province, DATE)).toEqual(published[province]!.rows);
  expect(await warehouseRows(province)).toEqual(published[province]!.warehouse);
}

/** Re-runs a batch's same inputs with the code deployed now (force: as `landfall backfill` asks), to its end. */
async function rerun(province: string) {
  const started = await resolveBatch(resolverDepsFromEnv(), { job: JOB, values: { province, date: DATE } }, [], { force: 'backfill' });
  expect(started.kind).toBe('started');
  await stack().settled(600);
  const name = (started as { executionName: string }).executionName;
  const execution = stack()
    .stepFunctions.executions()
    .find((e) => e.name === name)!;
  const run = (await stack().jobRuns.getRun(batchId(province), name))!;
  return { execution, run, batch: (await stack().jobRuns.getBatch(batchId(province)))! };
}

const resultOf = (results: OutputCheckResult[], name: string) => results.find((r) => r.name === name)!;

beforeAll(async () => {
  const files = await mkdtemp(join(tmpdir(), 'landfall-row-checks-day-'));
  await writeFiles(files, { ...landed, [masterKey(DATE)]: itemMaster() });
  await landDirectory(stack().s3, stack().deployment.names.rawBucket, files);
  await stack().settled(600);
  for (const province of Object.keys(PROVINCES)) {
    published[province] = {
      versions: await curatedVersions(stack(), province, DATE),
      rows: await curatedRows(stack(), province, DATE),
      warehouse: await warehouseRows(province),
    };
  }
}, 400_000);

describe('row counts and totals checked on the POS job output (DuckDB)', () => {
  it('publishes each batch of cumulative files with the sample reconcile passed, both totals recorded', async () => {
    expect(SAMPLE_CHECKS.map((c) => c.name)).toContain(RECONCILE);
    for (const province of Object.keys(PROVINCES)) {
      const batch = (await stack().jobRuns.getBatch(batchId(province)))!;
      expect(batch.status).toBe('SUCCEEDED');
      const run = (await stack().jobRuns.getRun(batchId(province), batch.lastRun!.executionName))!;
      expect(run.checks!.results.map((r) => [r.name, r.passed])).toEqual(CHECKS.map((c) => [c.name, true]));

      // the newest file of each store counts, once: the earlier cumulative file is not read
      const total = amountCents(lastFiles(province)).all / 100;
      expect(amountCents(everyFile(province)).all / 100).toBeGreaterThan(total);
      const reconcile = resultOf(run.checks!.results, RECONCILE);
      expect(reconcile).toMatchObject({ rule: 'reconcile', severity: 'error', failing: 0, sample: [] });
      expect(reconcile.detail).toBe(
        `output sum(sale_amount + tax_amount + discount_amount) = ${total}, pos sum(amount) FILTER (WHERE transaction_code IN (4, 5, 6)) = ${total}, difference 0 (tolerance 0)`,
      );
      // what was published adds up to the same
      const rows = published[province]!.rows;
      const cents = rows.reduce((sum, r) => sum + ['sale_amount', 'tax_amount', 'discount_amount'].reduce((s, c) => s + Math.round(Number(r[c]) * 100), 0), 0);
      expect(cents / 100).toBe(total);
      expect(published[province]!.warehouse).toHaveLength(rows.length);
      // the row-count bound holds (a first partition has nothing to compare with); its detail is the count
      expect(resultOf(run.checks!.results, 'rowCount').detail).toBe(`${rows.length} rows`);
    }
  });

  it('ends CHECK_FAILED on a row drop over 50 % that the totals do not see, the first run left published', { timeout: 300_000 }, async () => {
    // a SQL that forgets store_id in its GROUP BY: one row per item, the amounts still add up, so
    // only the row count against the previous partition can tell
    await deploy(
      'pipeline-per-item',
      `SELECT province, transaction_date, min(store_id) AS store_id, item_id, any_value(item_name) AS item_name, any_value(category) AS category,
       sum(sale_amount) AS sale_amount, sum(tax_amount) AS tax_amount, sum(discount_amount) AS discount_amount, dt
FROM (\n${await sqlBody(V3_SQL)}\n) AS o
GROUP BY province, transaction_date, item_id, dt
ORDER BY item_id
`,
    );
    const { execution, run, batch } = await rerun('ON');

    const previous = published.ON!.rows.length;
    const kept = new Set(published.ON!.rows.map((r) => r.item_id)).size;
    expect(kept / previous).toBeLessThan(0.5);
    expect(execution).toMatchObject({ status: 'FAILED', error: 'OutputCheckFailedError' });
    expect(batch).toMatchObject({ status: 'CHECK_FAILED', lastRun: { executionName: execution.name, status: 'CHECK_FAILED' } });
    const ratio = Number((kept / previous).toFixed(4));
    expect(batch.lastRun!.error).toMatch(
      new RegExp(
        `stage aggregate: the error check "rowCount" \\(rowCount: ratio to the previous partition's ${previous} rows ${String(ratio).replace('.', '\\.')} < 0\\.5\\) failed; nothing was published$`,
      ),
    );
    expect(run.status).toBe('CHECK_FAILED');
    expect(run.checks!.results.map((r) => [r.name, r.passed])).toEqual([
      ['unique store_id, item_id, transaction_date', true],
      ['notNull store_id, item_id, transaction_date, sale_amount, tax_amount, discount_amount', true],
      [RECONCILE, true],
      ['rowCount', false],
    ]);
    // the counts it compared are recorded on the run
    expect(resultOf(run.checks!.results, 'rowCount')).toMatchObject({
      rule: 'rowCount',
      failing: 1,
      sample: [{ rows: kept, previousRows: previous }],
      detail: `ratio to the previous partition's ${previous} rows ${ratio} < 0.5`,
    });
    await expectUnchanged('ON');
  });

  it('fails the sample reconcile when the SQL drops a transaction code: CHECK_FAILED, nothing published', { timeout: 300_000 }, async () => {
    const v3 = await sqlBody(V3_SQL);
    const noTax = v3.replace('WHERE transaction_code IN (4, 5, 6)', 'WHERE transaction_code IN (4, 6)');
    expect(noTax).not.toBe(v3);
    await deploy('pipeline-no-tax', `${noTax}\n`);
    const { execution, run, batch } = await rerun('QC');

    expect(execution).toMatchObject({ status: 'FAILED', error: 'OutputCheckFailedError' });
    expect(batch.status).toBe('CHECK_FAILED');
    expect(run.checks!.results.map((r) => [r.name, r.passed])).toEqual(CHECKS.map((c) => [c.name, c.name !== RECONCILE]));
    const { all, tax } = amountCents(lastFiles('QC'));
    const reconcile = resultOf(run.checks!.results, RECONCILE);
    expect(reconcile).toMatchObject({ failing: 1, sample: [{ output_total: (all - tax) / 100, input_total: all / 100 }] });
    expect(reconcile.sample[0]!.difference).toBeCloseTo(tax / 100, 6);
    await expectUnchanged('QC');
  });

  it('fails the sample reconcile when the SQL drops an item: CHECK_FAILED, nothing published', { timeout: 300_000 }, async () => {
    const item = itemId(0);
    await deploy('pipeline-no-item', `SELECT * FROM (\n${await sqlBody(V3_SQL)}\n) AS o\nWHERE o.item_id <> '${item}'\n`);
    const { execution, run, batch } = await rerun('BC');

    expect(execution).toMatchObject({ status: 'FAILED', error: 'OutputCheckFailedError' });
    expect(batch.status).toBe('CHECK_FAILED');
    expect(batch.lastRun!.error).toContain(`the error check "${RECONCILE}" (reconcile: output sum(sale_amount + tax_amount + discount_amount) = `);
    const all = amountCents(lastFiles('BC')).all;
    const dropped = amountCents(lastFiles('BC'), item).all;
    expect(dropped).toBeGreaterThan(0);
    const reconcile = resultOf(run.checks!.results, RECONCILE);
    expect(reconcile).toMatchObject({ passed: false, failing: 1, sample: [{ output_total: (all - dropped) / 100, input_total: all / 100 }] });
    expect(reconcile.sample[0]!.difference).toBeCloseTo(dropped / 100, 6);
    await expectUnchanged('BC');
  });
});
