import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { retailConfig } from '../examples/retail/config';
import { backfillCommand } from '../ops/backfill';
import { landDirectory } from '../ops/land';
import type { Target } from '../ops/targets';
import { codeHashOf } from '../shared/core/config/code-hash';
import { loadPipeline } from '../shared/core/config/load-config';
import type { RunInput } from '../shared/core/runs/run-input';
import { downloadToFile } from '../shared/core/s3/object-io';
import { deployConfig, writeSql } from './support/config-deploy';
import { curatedKeyOf, curatedRows } from './support/jobs';
import { useLocalStack } from './support/local-stack';
import { itemMaster, masterKey, storeFile, storeKey, writeFiles } from './support/pos-files';
import { stackTarget } from './support/stack-target';

/*
 * Issue 27: a backfill over batches of the POS sample on the local stack. Four batches (two
 * provinces, two days) and one more on a third day run with the v2 SQL; a deploy moves the job to
 * v3. `landfall backfill --from day1 --to day2` lists exactly the four as stale (and, with
 * --downstream, the day totals reading them), starts exactly four POS executions, one per batch,
 * whose partitions are then v3's (the same rows, v3's DECIMAL(38,2) sums); the cascade re-runs the
 * day totals; a second backfill starts nothing, and the third day's batch stays stale, untouched.
 */
const DAYS = ['2026-11-23', '2026-11-24'];
const LATER = '2026-11-25';
const PROVINCES = { ON: 2, QC: 2 };
const JOB = 'pos_daily_sales';
const DOWNSTREAM = 'province_sales';
const SQL_DIR = join(import.meta.dirname, '..', 'examples', 'retail', 'sql');

const dir = await mkdtemp(join(tmpdir(), 'landfall-backfill-pos-'));
const config = retailConfig(PROVINCES);
config.lookups = { ...config.lookups, provinces: Object.keys(PROVINCES) };
const pos = config.jobs.find((j) => j.name === JOB)!;
// on DuckDB only (the sample's `auto` would pick it too at this size)
pos.engine = 'duckdb';
delete pos.stages[0]!.spark;

// a small DuckDB job on the POS partitions, once every province's partition of the day is in
const totalsSql = await writeSql(
  dir,
  'province_sales.v1',
  `-- The day's sales per province, from pos_daily_sales' partitions.
SELECT province,
       count(*) AS items,
       CAST(sum(sale_amount) AS DECIMAL(38, 2)) AS sale_amount,
       CAST($batch_date AS VARCHAR) AS dt
FROM sales
WHERE dt = CAST($batch_date AS VARCHAR)
GROUP BY province
`,
);
const downstreamJob = {
  name: DOWNSTREAM,
  batchKey: ['date'],
  inputs: [{ relation: 'sales', job: JOB, match: ['date'] }],
  preconditions: [{ kind: 'minDistinct', input: 'sales', field: 'province', count: { lookup: 'provinces' } }, { kind: 'newerThanLastRun' }],
  engine: 'duckdb',
  stages: [{ name: 'totals', sql: totalsSql }],
  output: { table: DOWNSTREAM, partitionBy: ['date'], key: ['province'] },
};

// The SQL file the job names. A warm transform keeps the configuration it first loaded (as a Lambda
// keeps its bundle until a deploy, which the local stack does not model): a deploy of another
// version is this file rewritten with that version's text, and the configuration under a new name
// so the resolver (and the backfill) see the new code.
const DEPLOYED = 'pos_daily_sales_deployed.v1';
pos.stages[0]!.sql = join(dir, `${DEPLOYED}.sql`);

/** A deploy of the POS job with one version of the sample's SQL. */
async function deploy(version: 'v2' | 'v3'): Promise<void> {
  await writeSql(dir, DEPLOYED, await readFile(join(SQL_DIR, `pos_daily_sales.${version}.sql`), 'utf8'));
  await deployConfig(dir, `pipeline-${version}`, { ...config, jobs: [...config.jobs, downstreamJob] });
}

await deploy('v2');
const stack = useLocalStack();

const storesOf = (province: string) => Array.from({ length: PROVINCES[province as keyof typeof PROVINCES] }, (_, i) => `${province}0${i + 1}`);
const BATCHES = DAYS.flatMap((date) => Object.keys(PROVINCES).map((province) => ({ province, date })));
const posBatch = ({ province, date }: { province: string; date: string }) => `${JOB}#province=${province}#date=${date}`;
const dayBatch = (date: string) => `${DOWNSTREAM}#date=${date}`;

/** The executions started so far, by job: each one's batch (from its input). */
function executionBatches(job: string): string[] {
  return stack()
    .stepFunctions.executions()
    .map((e) => JSON.parse(e.input) as RunInput)
    .filter((input) => input.job === job)
    .map((input) => input.batchId);
}

/** The DuckDB type of a curated partition's sale_amount. */
async function saleAmountType(province: string, date: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'landfall-backfill-pos-out-')), 'data.parquet');
  await downloadToFile(stack().s3, stack().deployment.names.lakeBucket, curatedKeyOf(province, date), undefined, path);
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  const types = (await conn.runAndReadAll('SELECT DISTINCT typeof(sale_amount) AS t FROM read_parquet($1)', [path])).getRowObjects();
  conn.closeSync();
  return types.map((r) => String(r.t)).join(', ');
}

/** `landfall backfill --job pos_daily_sales --from day1 --to day2` with these options: its output and exit code. */
async function backfill(values: Record<string, string | boolean>): Promise<{ code: number; text: string }> {
  let text = '';
  const code = await backfillCommand({ job: JOB, from: DAYS[0]!, to: DAYS.at(-1)!, ...values }, target, {
    out: { write: (t: string) => (text += t) },
    pollMs: 200,
  });
  return { code, text };
}

let target: Target;
/** What v2 published: each batch's rows. */
const v2Rows = new Map<string, Record<string, unknown>[]>();

beforeAll(async () => {
  target = await stackTarget(stack());
  const files = await mkdtemp(join(tmpdir(), 'landfall-backfill-pos-day-'));
  const landed: Record<string, string> = {};
  for (const date of [...DAYS, LATER]) {
    landed[masterKey(date)] = itemMaster();
    // the third day: one province only (its day total never completes)
    for (const province of date === LATER ? ['ON'] : Object.keys(PROVINCES)) {
      for (const store of storesOf(province)) landed[storeKey(store, date)] = storeFile(store, date, 25);
    }
  }
  await writeFiles(files, landed);
  await landDirectory(stack().s3, stack().deployment.names.rawBucket, files);
  await stack().settled(600);
  for (const b of BATCHES) v2Rows.set(posBatch(b), await curatedRows(stack(), b.province, b.date));
}, 400_000);

describe('a backfill of the POS sample after its SQL moved from v2 to v3', () => {
  it('runs every batch with v2, and the day total of each day whose provinces are all in', async () => {
    const v2 = codeHashOf(loadPipeline().jobsByName.get(JOB)!);
    for (const b of [...BATCHES, { province: 'ON', date: LATER }]) {
      expect(await stack().jobRuns.getBatch(posBatch(b))).toMatchObject({ status: 'SUCCEEDED', lastSucceededCodeHash: v2 });
    }
    expect(await saleAmountType('ON', DAYS[0]!)).toBe('DECIMAL(18,2)');
    for (const date of DAYS) expect(await stack().jobRuns.getBatch(dayBatch(date))).toMatchObject({ status: 'SUCCEEDED' });
    expect((await stack().jobRuns.getBatch(dayBatch(LATER)))?.status).not.toBe('SUCCEEDED');
  });

  it('lists exactly the range’s batches as stale in a dry run (and the day totals with --downstream), starting nothing', { timeout: 120_000 }, async () => {
    const v2 = codeHashOf(loadPipeline().jobsByName.get(JOB)!);
    await deploy('v3');
    const v3 = codeHashOf(loadPipeline().jobsByName.get(JOB)!);
    expect(v3).not.toBe(v2);
    const executions = stack().stepFunctions.executions().length;

    const plain = await backfill({ 'dry-run': true });
    expect(plain.code).toBe(0);
    const lines = plain.text.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^backfill of ${JOB} on the local stack \\(code ${v3.slice(0, 8)}\\), dry run: 4 to run, 0 skipped, 0 up to date$`));
    const listed = lines.filter((l) => l.startsWith(`${JOB}#`));
    expect(listed.map((l) => l.split(/\s+/)[0]).sort()).toEqual(BATCHES.map(posBatch).sort());
    for (const line of listed)
      expect(line).toMatch(new RegExp(` run +stale +stale: last succeeded with code ${v2.slice(0, 8)}, the job's code is now ${v3.slice(0, 8)}`));
    expect(plain.text).not.toContain(DOWNSTREAM);

    const downstream = await backfill({ 'dry-run': true, downstream: true });
    expect(downstream.code).toBe(0);
    expect(downstream.text.split('\n')[0]).toMatch(/dry run: 4 to run, 0 skipped, 0 up to date, 2 downstream$/);
    const dependents = downstream.text.split('\n').filter((l) => l.startsWith(`${DOWNSTREAM}#`));
    expect(dependents.map((l) => l.split(/\s+/)[0])).toEqual(DAYS.map(dayBatch));
    for (const [i, date] of DAYS.entries()) expect(dependents[i]).toMatch(new RegExp(`${JOB}#province=(ON|QC)#date=${date}$`));
    expect(downstream.text).not.toContain(LATER);

    await stack().settled(400);
    expect(stack().stepFunctions.executions()).toHaveLength(executions);
  });

  it('starts exactly one execution per stale batch, publishing v3’s partitions, then the cascade; a second backfill starts nothing', {
    timeout: 400_000,
  }, async () => {
    const before = { pos: executionBatches(JOB), totals: executionBatches(DOWNSTREAM) };
    const first = await backfill({ downstream: true });
    expect(first.code, first.text).toBe(0);
    await stack().settled(600);

    // exactly the four batches, each once
    const started = executionBatches(JOB).slice(before.pos.length);
    expect(started.sort()).toEqual(BATCHES.map(posBatch).sort());
    expect(first.text.trim().split('\n').at(-1)).toBe('6 SUCCEEDED');

    // v3's partitions: v2's rows (v3 computes the same answers), in v3's DECIMAL(38,2)
    const v3 = codeHashOf(loadPipeline().jobsByName.get(JOB)!);
    for (const b of BATCHES) {
      expect(await stack().jobRuns.getBatch(posBatch(b))).toMatchObject({ status: 'SUCCEEDED', lastSucceededCodeHash: v3, lastRun: { codeHash: v3 } });
      expect(await saleAmountType(b.province, b.date)).toBe('DECIMAL(38,2)');
      expect(await curatedRows(stack(), b.province, b.date)).toEqual(v2Rows.get(posBatch(b)));
    }

    // the cascade re-ran each day total, whose last run read both provinces' v3 partitions
    const totals = executionBatches(DOWNSTREAM).slice(before.totals.length);
    expect([...new Set(totals)].sort()).toEqual(DAYS.map(dayBatch));
    const { runs } = await stack().jobRuns.listAll();
    for (const date of DAYS) {
      const last = runs
        .filter((r) => r.batchId === dayBatch(date))
        .sort((a, b) => a.claimedAt.localeCompare(b.claimedAt))
        .at(-1)!;
      expect(last.status).toBe('SUCCEEDED');
      const partitions = await stack().fileStates.filesOf(JOB, date);
      for (const province of Object.keys(PROVINCES)) {
        const newest = partitions.filter((p) => p.fields?.province === province).sort((a, b) => b.sequencer.localeCompare(a.sequencer))[0]!;
        expect(last.inputs.sales!.find((f) => f.key === newest.key)!.versionId).toBe(newest.versionId);
      }
    }

    // the third day was not in the range: still stale, not run again
    expect((await stack().jobRuns.getBatch(posBatch({ province: 'ON', date: LATER })))!.lastSucceededCodeHash).not.toBe(v3);

    // nothing changed since: a second backfill starts nothing
    const executions = stack().stepFunctions.executions().length;
    const again = await backfill({ downstream: true });
    expect(again.code).toBe(0);
    expect(again.text.split('\n')[0]).toMatch(/: 0 to run, 0 skipped, 4 up to date$/);
    expect(again.text).toContain('nothing to run');
    await stack().settled(400);
    expect(stack().stepFunctions.executions()).toHaveLength(executions);
  });
});
