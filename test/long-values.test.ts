import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { retailConfig } from '../examples/retail/config';
import { ITEM_HEADER, itemId } from '../examples/retail/data/pos-sample';
import { objectExists, readObjectText } from '../shared/core/s3/object-io';
import { landDirectory } from '../ops/land';
import { latestPerKey } from '../ops/reports/file-state-report';
import { expectedPosDailySales, type ExpectedPosRow } from './support/expected-pos';
import { useLocalStack } from './support/local-stack';
import { masterKey, storeFile, storeKey, writeFiles } from './support/pos-files';

/*
 * Issue 26, finding 2: a row whose item id is 65,536 characters passed validate, convert and the
 * curated write, then failed the warehouse load for ever. Now it is a bad row at validation (the
 * rest of the day reaches the warehouse, the load succeeds), and a column that declares
 * `onTooLong: truncate` (the item master's item_name here) is cut to 65,535 bytes and counted.
 */
const config = retailConfig();
const master = config.datasets.find((d) => d.name === 'item_master')!;
master.columns.find((c) => c.name === 'item_name')!.onTooLong = 'truncate';
const configDir = await mkdtemp(join(tmpdir(), 'landfall-config-'));
// the job's SQL, except that on LONG_DAY it builds an item name longer than a VARCHAR holds (as a string_agg could)
const LONG_DAY = '2026-11-24';
const job = config.jobs.find((j) => j.name === 'pos_daily_sales')!;
const original = (await readFile(job.stages[0]!.sql!, 'utf8')).trim().replace(/;+$/, '');
job.stages[0]!.sql = join(configDir, 'pos_daily_sales_long.v1.sql');
await writeFile(
  job.stages[0]!.sql,
  `SELECT * REPLACE (CASE WHEN dt = '${LONG_DAY}' AND item_id = '${itemId(1)}' THEN repeat('y', 70000) ELSE item_name END AS item_name)\nFROM (\n${original}\n)\n`,
);
process.env.LANDFALL_CONFIG_FILE = join(configDir, 'pipeline.json');
await writeFile(process.env.LANDFALL_CONFIG_FILE, JSON.stringify(config));

const stack = useLocalStack();
const DATE = '2026-11-23';
const STORES = ['ON01', 'ON02', 'ON03', 'ON04', 'ON05'];
const LONG_ITEM = `I${'x'.repeat(65_535)}`;
/** 40,000 two-byte characters: 80,000 bytes, cut to 32,767 of them (65,534 bytes: the 32,768th would end past the limit) */
const LONG_NAME = 'é'.repeat(40_000);

const itemMaster = (firstName: string) =>
  `${[ITEM_HEADER, ...Array.from({ length: 5 }, (_, i) => `${itemId(i)},${i === 0 ? firstName : `Item ${i + 1}`},Burgers,${(i + 1).toFixed(2)}`)].join('\n')}\n`;

describe('values longer than a warehouse VARCHAR', () => {
  it('rejects the 65,536-character item id at validation, truncates the declared column, and the load succeeds', { timeout: 300_000 }, async () => {
    const stores = Object.fromEntries(STORES.map((s) => [storeKey(s, DATE), storeFile(s, DATE, 12)]));
    // the expectation, computed independently from the files without the long values
    const plain = await mkdtemp(join(tmpdir(), 'landfall-long-expected-'));
    await writeFiles(plain, { ...stores, [masterKey(DATE)]: itemMaster('Item 1') });
    const expected: ExpectedPosRow[] = (await expectedPosDailySales(plain)).map((r) => (r.item_id === itemId(0) ? { ...r, item_name: 'é'.repeat(32_767) } : r));
    expect(expected.some((r) => r.item_id === itemId(0))).toBe(true);

    const dir = await mkdtemp(join(tmpdir(), 'landfall-long-'));
    await writeFiles(dir, {
      ...stores,
      [storeKey('ON01', DATE)]: storeFile('ON01', DATE, 12, [`ON01\t${LONG_ITEM}\t${DATE}\t4\t9.99`]),
      [masterKey(DATE)]: itemMaster(LONG_NAME),
    });
    await landDirectory(stack().s3, stack().deployment.names.rawBucket, dir);
    await stack().settled(600);

    const files = latestPerKey(await stack().fileStates.listAll());
    const store = files.find((f) => f.key.endsWith(storeKey('ON01', DATE)))!;
    expect(store).toMatchObject({ state: 'CONVERTED', rows: { in: 13, out: 12, rejected: 1, junk: 0 } });
    const report = await readObjectText(stack().s3, stack().deployment.names.rawBucket, (store as { rejectsKey?: string }).rejectsKey!);
    expect(report.split('\n')[1]).toMatch(/^14,"?item_id: 65536 bytes, more than the 65535 a warehouse VARCHAR holds"?,ON01\tIxxx/);
    const items = files.find((f) => f.key.endsWith(masterKey(DATE)))!;
    expect(items).toMatchObject({ state: 'CONVERTED', rows: { in: 5, out: 5, rejected: 0, junk: 0, truncated: 1 } });

    const batch = await stack().jobRuns.getBatch(`pos_daily_sales#province=ON#date=${DATE}`);
    expect(batch).toMatchObject({ status: 'SUCCEEDED' });
    const loaded = await stack().warehouse.query<ExpectedPosRow>(
      `SELECT province, transaction_date::text AS transaction_date, store_id, item_id, item_name, category, sale_amount::text AS sale_amount, tax_amount::text AS tax_amount, discount_amount::text AS discount_amount
       FROM pos_daily_sales ORDER BY province, transaction_date, store_id, item_id`,
    );
    expect(loaded).toEqual(expected);
    const [longest] = await stack().warehouse.query<{ bytes: number }>('SELECT max(octet_length(item_name))::int AS bytes FROM pos_daily_sales');
    expect(longest!.bytes).toBe(65_534);
    const audit = await stack().warehouse.query<{ row_count: number }>(
      `SELECT row_count::int AS row_count FROM landfall_load_audit WHERE batch_id = 'pos_daily_sales#province=ON#date=${DATE}'`,
    );
    expect(audit).toEqual([{ row_count: expected.length }]);
  });

  it("fails the run before publishing when the job's SQL builds a value longer than the warehouse holds, naming table, column and row", {
    timeout: 300_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'landfall-long-sql-'));
    await writeFiles(dir, {
      ...Object.fromEntries(STORES.map((s) => [storeKey(s, LONG_DAY), storeFile(s, LONG_DAY, 12)])),
      [masterKey(LONG_DAY)]: itemMaster('Item 1'),
    });
    await landDirectory(stack().s3, stack().deployment.names.rawBucket, dir);
    await stack().settled(600);
    const batch = await stack().jobRuns.getBatch(`pos_daily_sales#province=ON#date=${LONG_DAY}`);
    expect(batch).toMatchObject({ status: 'FAILED', lastRun: { status: 'FAILED', error: expect.stringContaining('OutputValueTooLongError') } });
    expect(batch!.lastRun!.error).toMatch(
      /table pos_daily_sales: column item_name of the row store_id = "ON0\d", item_id = "I0002", transaction_date = "2026-11-24" is 70000 bytes/,
    );
    // nothing published: no curated partition, no warehouse rows for the day
    const curated = `curated/pos_daily_sales/province=ON/date=${LONG_DAY}/data.parquet`;
    expect(await objectExists(stack().s3, stack().deployment.names.lakeBucket, curated)).toBe(false);
    const [day] = await stack().warehouse.query<{ n: number }>(`SELECT count(*)::int AS n FROM pos_daily_sales WHERE transaction_date = '${LONG_DAY}'`);
    expect(day!.n).toBe(0);
  });
});
