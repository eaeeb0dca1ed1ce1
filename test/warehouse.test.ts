import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { itemId, writePosSample } from '../examples/retail/data/pos-sample';
import { replayPrefix } from '../shared/core/s3/replay';
import { retryBatch } from '../shared/stages/resolve/resolver';
import { resolverDepsFromEnv } from '../shared/stages/resolve/deps';
import { landDirectory } from '../ops/land';
import { expectedPosDailySales, type ExpectedPosRow } from './support/expected-pos';
import { landEach } from './support/jobs';
import { useLocalStack } from './support/local-stack';

/*
 * The POS job's warehouse load (examples/retail: `load: [{ table: pos_daily_sales, mode: replace }]`)
 * on the local stack: the Redshift Data API stand-in on PGlite, its COPY reading the local S3.
 */
const stack = useLocalStack();
const DATE = '2026-11-23';
const PROVINCES = { ON: 5, QC: 4, BC: 3 };

type Row = Omit<ExpectedPosRow, never>;
/** The warehouse table as text, in the expected rows' shape and order. */
async function warehouseRows(): Promise<Row[]> {
  return stack().warehouse.query<Row>(
    `SELECT province, transaction_date::text AS transaction_date, store_id, item_id, item_name, category, sale_amount::text AS sale_amount, tax_amount::text AS tax_amount, discount_amount::text AS discount_amount
     FROM pos_daily_sales ORDER BY province, transaction_date, store_id, item_id`,
  );
}
const audit = () =>
  stack().warehouse.query<{ batch_id: string; execution_name: string; row_count: number }>(
    'SELECT batch_id, execution_name, row_count::int AS row_count FROM landfall_load_audit ORDER BY loaded_at, batch_id',
  );
const ofProvince = (rows: Row[], p: string) => rows.filter((r) => r.province === p);

/** A newer cumulative file of a store: its newest file's rows and one more sale of `amount` of the first item. */
async function grownFile(dir: string, province: string, store: string, time: string, amount: string): Promise<string> {
  const names = (await readdir(join(dir, 'pos', province))).filter((n) => n.startsWith(`${store}_`)).sort();
  const text = await readFile(join(dir, 'pos', province, names.at(-1)!), 'utf8');
  const key = `pos/${province}/${store}_${DATE.replaceAll('-', '')}_${time}.tdf`;
  await writeFile(join(dir, key), `${text.endsWith('\n') ? text : `${text}\n`}${store}\t${itemId(0)}\t${DATE}\t4\t${amount}\n`);
  return key;
}

describe('warehouse loads (Redshift Data API on PGlite)', () => {
  let dir: string;
  let loaded: Row[];

  it('loads the POS sample: the warehouse holds exactly the curated rows, one audit row per batch', { timeout: 300_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'landfall-warehouse-'));
    await writePosSample(dir, { seed: 11, startDate: DATE, days: 1, provinces: PROVINCES, rowsPerFile: 25, filesPerStore: 1, items: 8, badFiles: false });
    await landDirectory(stack().s3, stack().deployment.names.rawBucket, dir);
    await stack().settled(600);
    loaded = await warehouseRows();
    expect(loaded).toEqual(await expectedPosDailySales(dir));
    const rows = await audit();
    expect(rows.map((r) => r.batch_id).sort()).toEqual(
      Object.keys(PROVINCES)
        .map((p) => `pos_daily_sales#province=${p}#date=${DATE}`)
        .sort(),
    );
    for (const p of Object.keys(PROVINCES)) expect(rows.find((r) => r.batch_id.includes(`=${p}#`))!.row_count).toBe(ofProvince(loaded, p).length);
  });

  it('a forced replay of every store file loads again and leaves the warehouse as it was (no duplicate key)', { timeout: 300_000 }, async () => {
    const before = (await audit()).length;
    expect(await replayPrefix(stack().s3, stack().deployment.names.rawBucket, 'pos/', { force: true })).toBe(12);
    await stack().settled(600);
    expect((await audit()).length).toBe(before + 3);
    expect(await warehouseRows()).toEqual(loaded);
    const [counts] = await stack().warehouse.query<{ n: number; keys: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT (store_id, item_id, transaction_date))::int AS keys FROM pos_daily_sales',
    );
    expect(counts!.keys).toBe(counts!.n);
  });

  it("a changed store file changes exactly its batch's rows", { timeout: 300_000 }, async () => {
    const key = await grownFile(dir, 'ON', 'ON02', '210000', '17.25');
    await landEach(stack(), dir, [key]);
    const after = await warehouseRows();
    expect(ofProvince(after, 'ON')).toEqual(ofProvince(await expectedPosDailySales(dir), 'ON'));
    expect(ofProvince(after, 'ON')).not.toEqual(ofProvince(loaded, 'ON'));
    for (const p of ['QC', 'BC']) expect(ofProvince(after, p)).toEqual(ofProvince(loaded, p));
    loaded = after;
  });

  it('two batches loading the table at once both land: the serialization conflict is retried', { timeout: 300_000 }, async () => {
    const conflicts = stack()
      .warehouse.statements()
      .filter((s) => /Serializable isolation violation/.test(s.error ?? '')).length;
    stack().warehouse.fault.serializationConflict(/^DELETE FROM "pos_daily_sales"/, { times: 1 });
    const second = await mkdtemp(join(tmpdir(), 'landfall-warehouse-2-'));
    const keys = [await grownFile(dir, 'QC', 'QC01', '210000', '3.50'), await grownFile(dir, 'BC', 'BC03', '210000', '4.75')];
    for (const key of keys) {
      await (await import('node:fs/promises')).mkdir(join(second, key, '..'), { recursive: true });
      await writeFile(join(second, key), await readFile(join(dir, key)));
    }
    await landDirectory(stack().s3, stack().deployment.names.rawBucket, second);
    await stack().settled(600);
    expect(
      stack()
        .warehouse.statements()
        .filter((s) => /Serializable isolation violation/.test(s.error ?? '')).length,
    ).toBe(conflicts + 1);
    const after = await warehouseRows();
    expect(after).toEqual(await expectedPosDailySales(dir));
    for (const p of ['QC', 'BC']) expect(ofProvince(after, p)).not.toEqual(ofProvince(loaded, p));
    for (const p of ['QC', 'BC']) expect((await stack().jobRuns.getBatch(`pos_daily_sales#province=${p}#date=${DATE}`))?.status).toBe('SUCCEEDED');
    loaded = after;
  });

  it('a load that keeps failing is retried, then fails the run with an alert, and the table is as it was (rolled back)', { timeout: 300_000 }, async () => {
    const batchId = `pos_daily_sales#province=ON#date=${DATE}`;
    const auditBefore = (await audit()).length;
    const notified = stack().sns.messages().length;
    // every attempt conflicts (after its DELETE ran: the transaction rolls back)
    stack().warehouse.fault.serializationConflict(/^INSERT INTO "pos_daily_sales"/, { times: 100 });
    const key = await grownFile(dir, 'ON', 'ON04', '220000', '99.99');
    await landEach(stack(), dir, [key]);
    const attempts = stack()
      .warehouse.statements()
      .filter((s) => /^INSERT INTO "pos_daily_sales"/.test(s.sql) && /Serializable/.test(s.error ?? '')).length;
    expect(attempts).toBe(Number(stack().env.WAREHOUSE_MAX_ATTEMPTS));
    expect(await stack().jobRuns.getBatch(batchId)).toMatchObject({
      status: 'FAILED',
      lastRun: { status: 'FAILED', error: expect.stringContaining('WarehouseLoadError') },
    });
    expect(await warehouseRows()).toEqual(loaded);
    expect((await audit()).length).toBe(auditBefore);
    const messages = stack().sns.messages().slice(notified);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.subject).toBe(`landfall: pos_daily_sales ON ${DATE} FAILED in warehouse load (attempt 1)`);
    expect(JSON.parse(messages[0]!.message)).toMatchObject({
      kind: 'job-failed',
      stage: 'warehouse load',
      error: 'WarehouseLoadError',
      message: expect.stringContaining('Serializable isolation violation'),
    });

    // a statement that fails on its own is not retried; the retry after the fix loads
    stack().warehouse.fault.clear();
    stack().warehouse.fault.failStatement(/^COPY "landfall_staging_pos_daily_sales"/, 'ERROR: S3ServiceException: Access Denied', { times: 1 });
    expect((await retryBatch(resolverDepsFromEnv(), { job: 'pos_daily_sales', values: { province: 'ON', date: DATE } })).kind).toBe('started');
    await stack().settled(600);
    expect(await stack().jobRuns.getBatch(batchId)).toMatchObject({ status: 'FAILED', lastRun: { error: expect.stringContaining('Access Denied') } });
    expect(await warehouseRows()).toEqual(loaded);
    expect((await retryBatch(resolverDepsFromEnv(), { job: 'pos_daily_sales', values: { province: 'ON', date: DATE } })).kind).toBe('started');
    await stack().settled(600);
    expect(await stack().jobRuns.getBatch(batchId)).toMatchObject({ status: 'SUCCEEDED' });
    expect(await warehouseRows()).toEqual(await expectedPosDailySales(dir));
  });
});
