import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { retailConfig } from '../examples/retail/config';
import { ITEM_HEADER, itemId } from '../examples/retail/data/pos-sample';
import type { OutputCheck } from '../shared/core/config/types';
import { landDirectory } from '../ops/land';
import { curatedRows, curatedVersions, executionsOf } from './support/jobs';
import { useLocalStack } from './support/local-stack';
import { masterKey, storeFile, storeKey, writeFiles } from './support/pos-files';

/*
 * Issue 27, item 1, on Spark: the POS job routed to EMR (engine auto, threshold 0) runs a Spark
 * stage with a hurried fix that joins the item master again without taking one row per item. Its
 * checks run as Spark SQL on the staged output before it is published: on the day's first item
 * master the `warn` check (known categories) fails and publishes; a second item master listing an
 * item twice makes the stage duplicate keys, the `unique` check fails, and the run ends
 * CHECK_FAILED with the first partition and the warehouse rows exactly as they were.
 */
const config = retailConfig();
const configDir = await mkdtemp(join(tmpdir(), 'landfall-spark-checks-'));
const sparkDir = join(configDir, 'spark');
await cp(join(import.meta.dirname, '..', 'examples', 'retail', 'spark'), sparkDir, {
  recursive: true,
  filter: (src) => !/[/\\](tests|__pycache__)$/.test(src),
});
await writeFile(
  join(sparkDir, 'pos_naive.py'),
  `"""The POS stage with a hurried fix: the item master joined again without one row per item."""
from landfall_jobs import tables

from . import pos_daily_sales as real
from . import schemas


def run(spark, ctx):
    pos = tables.read_input(spark, ctx.roots.input_root, "pos", schemas.INPUTS["pos"])
    master = tables.read_input(spark, ctx.roots.input_root, "item_master", schemas.INPUTS["item_master"])
    df = real.pos_daily_sales(pos, master, ctx.batch["province"], ctx.day).drop("item_name", "category")
    df = df.join(master.select("item_id", "item_name", "category"), "item_id", "left")
    rows = tables.write_object_partition(df, ctx.roots.output_root, ctx.partition, schemas.POS_DAILY_SALES)
    return {"rows": {"pos_daily_sales": rows}, "outputs": {"pos_daily_sales": tables.object_path(ctx.roots.output_root, ctx.partition)}}
`,
);
for (const j of config.jobs) for (const s of j.stages) if (s.spark) s.spark = join(sparkDir, s.spark.split(/[/\\]/).at(-1)!);
const job = config.jobs.find((j) => j.name === 'pos_daily_sales')!;
job.engine = 'auto';
job.autoThresholdBytes = 0;
job.stages[0]!.spark = join(sparkDir, 'pos_naive.py');
const CHECKS: OutputCheck[] = [
  { name: 'unique store_id, item_id, transaction_date', severity: 'error', unique: ['store_id', 'item_id', 'transaction_date'] },
  { name: 'known categories', severity: 'warn', acceptedValues: { column: 'category', values: ['Burgers'] } },
  { name: 'rowCount', severity: 'error', rowCount: { min: 1, minRatioOfPrevious: 0.5 } },
];
job.checks = CHECKS;
process.env.LANDFALL_CONFIG_FILE = join(configDir, 'pipeline.json');
await writeFile(process.env.LANDFALL_CONFIG_FILE, JSON.stringify(config));

const stack = useLocalStack();
const DATE = '2026-11-23';
const BATCH = `pos_daily_sales#province=ON#date=${DATE}`;
const STORES = ['ON01', 'ON02', 'ON03', 'ON04', 'ON05'];

/** The day's item master: items 1 to 5, item 2 a Drink (not a known category); `twice` lists item 1 again. */
const itemMaster = (twice: boolean) =>
  `${[
    ITEM_HEADER,
    ...Array.from({ length: 5 }, (_, i) => `${itemId(i)},Item ${i + 1},${i === 1 ? 'Drinks' : 'Burgers'},${(i + 1).toFixed(2)}`),
    ...(twice ? [`${itemId(0)},Item 1 (again),Burgers,1.00`] : []),
  ].join('\n')}\n`;

const warehouseRows = () =>
  stack().warehouse.query<Record<string, string>>(
    `SELECT store_id, item_id, item_name, category, sale_amount::text AS sale_amount FROM pos_daily_sales WHERE transaction_date = '${DATE}' ORDER BY store_id, item_id`,
  );
const alerts = () =>
  stack()
    .sns.messages()
    .map((m): Record<string, unknown> & { subject: string } => ({ ...(JSON.parse(m.message) as Record<string, unknown>), subject: m.subject ?? '' }));

describe('checks on a Spark job output before it is published', () => {
  it('publishes and records a warn failure, then ends CHECK_FAILED on a duplicate key with nothing changed', { timeout: 900_000 }, async () => {
    // 1. the day as it first lands: every check but the warning passes, Spark publishes the partition
    const dir = await mkdtemp(join(tmpdir(), 'landfall-spark-checks-day-'));
    await writeFiles(dir, { ...Object.fromEntries(STORES.map((s) => [storeKey(s, DATE), storeFile(s, DATE, 12)])), [masterKey(DATE)]: itemMaster(false) });
    await landDirectory(stack().s3, stack().deployment.names.rawBucket, dir);
    await stack().settled(1000, 600_000);

    const [first] = executionsOf(stack(), 'ON', DATE);
    expect(first, 'the EMR run of the batch').toBeDefined();
    expect(
      stack()
        .emr.steps()
        .some((s) => s.name.startsWith(first!.name)),
      'a Spark step ran',
    ).toBe(true);
    expect(await stack().jobRuns.getBatch(BATCH)).toMatchObject({ status: 'SUCCEEDED' });
    const run = (await stack().jobRuns.getRun(BATCH, first!.name))!;
    expect(run.checks!.results.map((r) => [r.name, r.passed])).toEqual([
      ['unique store_id, item_id, transaction_date', true],
      ['known categories', false],
      ['rowCount', true],
    ]);
    const warned = run.checks!.results[1]!;
    expect(warned.failing).toBeGreaterThan(0);
    expect(warned.sample.length).toBe(Math.min(10, warned.failing));
    expect(warned.sample.every((row) => row.item_id === itemId(1) && row.category === 'Drinks')).toBe(true);
    expect(run.checks!.warnAlertedAt).toEqual(expect.any(String));
    const published = await curatedRows(stack(), 'ON', DATE);
    expect(published.some((r) => r.category === 'Drinks')).toBe(true);
    const loaded = await warehouseRows();
    expect(loaded).toHaveLength(published.length);
    const warnings = alerts().filter((a) => a.kind === 'checks-warned');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.subject).toContain('pos_daily_sales ON 2026-11-23 published with 1 warning: known categories');
    const versions = await curatedVersions(stack(), 'ON', DATE);
    expect(versions).toHaveLength(1);

    // 2. a second version of the item master lists item 1 twice: the stage duplicates its keys
    const again = await mkdtemp(join(tmpdir(), 'landfall-spark-checks-again-'));
    await writeFiles(again, { [masterKey(DATE)]: itemMaster(true) });
    await landDirectory(stack().s3, stack().deployment.names.rawBucket, again);
    await stack().settled(1000, 600_000);

    const executions = executionsOf(stack(), 'ON', DATE);
    expect(executions).toHaveLength(2);
    const second = executions.find((e) => e.name !== first!.name)!;
    expect(second).toMatchObject({ status: 'FAILED', error: 'OutputCheckFailedError' });
    const batch = await stack().jobRuns.getBatch(BATCH);
    expect(batch).toMatchObject({ status: 'CHECK_FAILED', lastRun: { executionName: second.name, status: 'CHECK_FAILED' } });
    expect(batch!.lastRun!.error).toMatch(
      /OutputCheckFailedError: job pos_daily_sales, batch province=ON, date=2026-11-23, stage aggregate: the error check "unique store_id, item_id, transaction_date" \(unique: \d+ failing\) failed; nothing was published$/,
    );
    const failedRun = (await stack().jobRuns.getRun(BATCH, second.name))!;
    expect(failedRun.status).toBe('CHECK_FAILED');
    const unique = failedRun.checks!.results[0]!;
    expect(unique).toMatchObject({ rule: 'unique', severity: 'error', passed: false });
    expect(unique.failing).toBeGreaterThan(0);
    expect(unique.sample.length).toBe(Math.min(10, unique.failing));
    expect(unique.sample.every((row) => row.item_id === itemId(0) && row.copies === 2)).toBe(true);
    // the row count compared with the published partition's rows (counted by Spark)
    expect(failedRun.checks!.results[2]).toMatchObject({ name: 'rowCount', passed: true });

    // nothing changed: the same partition object (no new version), the same warehouse rows
    expect(await curatedVersions(stack(), 'ON', DATE)).toEqual(versions);
    expect(await curatedRows(stack(), 'ON', DATE)).toEqual(published);
    expect(await warehouseRows()).toEqual(loaded);

    // the alert names the job, the batch and the rule, and shows the failing rows
    const failure = alerts().filter((a) => a.kind === 'job-failed');
    expect(failure).toHaveLength(1);
    expect(failure[0]!.subject).toBe('landfall: pos_daily_sales ON 2026-11-23 CHECK_FAILED: unique store_id, item_id, transaction_date');
    expect(failure[0]).toMatchObject({ job: 'pos_daily_sales', batch: { province: 'ON', date: DATE }, error: 'OutputCheckFailedError', stage: 'aggregate' });
    const alerted = (failure[0]!.checks as Array<{ name: string; passed: boolean; sample: unknown[] }>).find((c) => !c.passed && c.name.startsWith('unique'))!;
    expect(alerted.sample).toEqual(unique.sample);
    expect(alerts().filter((a) => a.kind === 'checks-warned')).toHaveLength(1);
  });
});
