import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { retailConfig } from '../examples/retail/config';
import { ITEM_HEADER, itemId } from '../examples/retail/data/pos-sample';
import type { OutputCheck } from '../shared/core/config/types';
import { landDirectory } from '../ops/land';
import { runCheckLines } from '../ops/reports/job-run-report';
import { resolverDepsFromEnv, retryBatch } from '../shared/stages/resolve';
import { curatedRows, curatedVersions, executionsOf } from './support/jobs';
import { useLocalStack } from './support/local-stack';
import { masterKey, storeFile, storeKey, writeFiles } from './support/pos-files';

/*
 * Issue 27, item 1: checks on a job's output before it is published. The POS job here runs a SQL
 * change that joins the item master without taking one row per item (as a hurried fix might): on
 * the day's first item master it is right, and its `warn` check (known categories) fails and
 * publishes; a second version of the item master that lists an item twice makes the SQL duplicate
 * keys, the `unique` error check fails, and the run ends CHECK_FAILED with the first run's
 * partition and warehouse rows exactly as they were, and an alert naming the rule with the rows.
 */
const config = retailConfig();
const configDir = await mkdtemp(join(tmpdir(), 'landfall-checks-config-'));
const job = config.jobs.find((j) => j.name === 'pos_daily_sales')!;
const original = (await readFile(job.stages[0]!.sql!, 'utf8')).trim().replace(/;+$/, '');
job.stages[0]!.sql = join(configDir, 'pos_daily_sales_naive.v1.sql');
await writeFile(
  job.stages[0]!.sql,
  `SELECT o.* REPLACE (m.item_name AS item_name, m.category AS category)\nFROM (\n${original}\n) AS o\nLEFT JOIN item_master AS m ON m.item_id = o.item_id\n`,
);
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

describe('checks on a job output before it is published', () => {
  it('publishes and records a warn failure, then ends CHECK_FAILED on a duplicate key with nothing changed', { timeout: 300_000 }, async () => {
    // 1. the day as it first lands: every check but the warning passes, the partition is published
    const dir = await mkdtemp(join(tmpdir(), 'landfall-checks-'));
    await writeFiles(dir, { ...Object.fromEntries(STORES.map((s) => [storeKey(s, DATE), storeFile(s, DATE, 12)])), [masterKey(DATE)]: itemMaster(false) });
    await landDirectory(stack().s3, stack().deployment.names.rawBucket, dir);
    await stack().settled(600);

    expect(await stack().jobRuns.getBatch(BATCH)).toMatchObject({ status: 'SUCCEEDED' });
    const [first] = executionsOf(stack(), 'ON', DATE);
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

    // 2. a second version of the item master lists item 1 twice: the SQL duplicates its keys
    const again = await mkdtemp(join(tmpdir(), 'landfall-checks-again-'));
    await writeFiles(again, { [masterKey(DATE)]: itemMaster(true) });
    await landDirectory(stack().s3, stack().deployment.names.rawBucket, again);
    await stack().settled(600);

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
    expect(failedRun.stages ?? {}).toEqual({});
    const unique = failedRun.checks!.results[0]!;
    expect(unique).toMatchObject({ rule: 'unique', severity: 'error', passed: false });
    // one repeated key per store that sold item 1, each listed twice
    expect(unique.failing).toBeGreaterThan(0);
    expect(unique.sample.length).toBe(Math.min(10, unique.failing));
    expect(unique.sample.every((row) => row.item_id === itemId(0) && row.copies === 2)).toBe(true);

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
    // the warning of the failed run is recorded, not alerted again (nothing was published)
    expect(alerts().filter((a) => a.kind === 'checks-warned')).toHaveLength(1);

    // explain shows each check of the run, and the failing rows
    const lines = runCheckLines(failedRun).join('\n');
    expect(lines).toMatch(/checks on aggregate at .*: 1\/3 passed; failed: unique store_id, item_id, transaction_date \(error\), known categories \(warn\)/);
    expect(lines).toContain(`FAILED unique store_id, item_id, transaction_date (unique, error): ${unique.failing} failing`);
    expect(lines).toContain(`"item_id":"${itemId(0)}"`);

    // `landfall retry` starts a run of a CHECK_FAILED batch, as of a FAILED one (same inputs, a new attempt)
    const retried = await retryBatch(resolverDepsFromEnv(), { job: 'pos_daily_sales', values: { province: 'ON', date: DATE } });
    expect(retried).toMatchObject({ kind: 'started', executionName: `${second.name}-r1` });
    await stack().settled(600);
    expect(await curatedVersions(stack(), 'ON', DATE)).toEqual(versions);
  });
});
