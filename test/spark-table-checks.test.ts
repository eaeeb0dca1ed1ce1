import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CLICKSTREAM, customerId, productId, writeClickstreamSample } from '../examples/retail/data/clickstream-sample';
import { retailConfig } from '../examples/retail/config';
import { landDirectory } from '../ops/land';
import { metricRows } from './support/clickstream';
import { expectedClickstream } from './support/expected-clickstream';
import { useLocalStack } from './support/local-stack';
import { writeFiles } from './support/pos-files';

/*
 * Issue 27 on a Spark job writing several tables: the clickstream sample's declared checks (each
 * naming its table) run in the metrics step on every table's staged partition. The configuration
 * here adds one `error` check on gmv_daily, a cap on the day's units at what the sample sells: the
 * day as it lands passes every check and is published and loaded; a late orders file selling 3
 * more units breaks the cap, and the run ends CHECK_FAILED with none of the five tables' curated
 * partitions nor their warehouse rows changed.
 */
const DATE = '2026-11-09';
const BATCH = `clickstream_daily#date=${DATE}`;
const TABLES = ['gmv_daily', 'gmv_hourly', 'funnel', 'channel_region', 'sessions_per_user'];
const CAP = 'units at most the sample’s';

const day = await mkdtemp(join(tmpdir(), 'landfall-table-checks-'));
await writeClickstreamSample(day, { ...DEFAULT_CLICKSTREAM, seed: 20261109, startDate: DATE, sessionsPerDay: 50 });
const { units } = (await expectedClickstream(day, DATE)).gmvDaily;

const config = retailConfig();
const job = config.jobs.find((j) => j.name === 'clickstream_daily')!;
const declared = job.checks!.map((c) => c.name);
if (declared.length === 0) throw new Error('the sample declares no check on the clickstream job');
job.checks = [...job.checks!, { name: CAP, table: 'gmv_daily', severity: 'error', sql: `SELECT \`date\`, units FROM output WHERE units > ${units}` }];
const configDir = await mkdtemp(join(tmpdir(), 'landfall-table-checks-config-'));
process.env.LANDFALL_CONFIG_FILE = join(configDir, 'pipeline.json');
await writeFile(process.env.LANDFALL_CONFIG_FILE, JSON.stringify(config));

const stack = useLocalStack();

const executions = () =>
  stack()
    .stepFunctions.executions()
    .filter((e) => e.name.startsWith(`clickstream_daily-${DATE}-`));

/** Every version of every object under the day's partitions of the five tables. */
async function curatedVersions(): Promise<string[]> {
  const versions: string[] = [];
  for (const table of TABLES) {
    const out = await stack().s3.send(
      new ListObjectVersionsCommand({ Bucket: stack().deployment.names.lakeBucket, Prefix: `curated/clickstream/${table}/date=${DATE}/` }),
    );
    versions.push(...(out.Versions ?? []).map((v) => `${v.Key}@${v.VersionId}`), ...(out.DeleteMarkers ?? []).map((v) => `${v.Key}@${v.VersionId} (deleted)`));
  }
  return versions.sort();
}

const curated = async () => Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await metricRows(stack(), t, DATE, 'ALL')] as const)));
const warehouse = async () =>
  Object.fromEntries(
    await Promise.all(
      TABLES.map(async (t) => [t, await stack().warehouse.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM ${t} t ORDER BY 1`)] as const),
    ),
  );

describe('checks on the tables of a Spark job writing several', () => {
  it('records the declared checks passed and publishes every table, then ends CHECK_FAILED on a broken cap with no table changed', {
    timeout: 1_500_000,
  }, async () => {
    // 1. the day as it lands: every check passes, the five tables are published and loaded
    await landDirectory(stack().s3, stack().deployment.names.rawBucket, day);
    await stack().settled(1000, 900_000);
    const [first] = executions();
    expect(first?.status, first?.cause).toBe('SUCCEEDED');
    expect(await stack().jobRuns.getBatch(BATCH)).toMatchObject({ status: 'SUCCEEDED' });
    const run = (await stack().jobRuns.getRun(BATCH, first!.name))!;
    expect(run.checks!.results.map((r) => [r.name, r.passed, r.failing])).toEqual([...declared, CAP].map((name) => [name, true, 0]));
    expect(run.checks!.results.find((r) => r.name === 'gmv_hourly: rowCount')!.detail).toBe('24 rows');
    const published = await curated();
    for (const table of TABLES) expect(published[table]!.length, table).toBeGreaterThan(0);
    expect(published.funnel).toHaveLength(5);
    expect(published.gmv_daily!.map((r) => Number(r.units))).toEqual([units]);
    const loaded = await warehouse();
    for (const table of TABLES) expect(loaded[table], table).toHaveLength(published[table]!.length);
    const versions = await curatedVersions();

    // 2. a late orders file sells 3 more units: the cap fails, nothing is published nor loaded
    const late = await mkdtemp(join(tmpdir(), 'landfall-table-checks-late-'));
    await writeFiles(late, {
      [`clickstream/orders/${DATE.replaceAll('-', '')}/part-late.csv`]: `order_id,order_line,customer_id,order_ts,channel,store_id,product_id,quantity,unit_price\nO99999999,1,${customerId(1)},${DATE}T12:00:00.000Z,web,,${productId(0)},3,10.00\n`,
    });
    await landDirectory(stack().s3, stack().deployment.names.rawBucket, late);
    await stack().settled(1000, 900_000);
    const second = executions().find((e) => e.name !== first!.name);
    expect(second).toMatchObject({ status: 'FAILED', error: 'OutputCheckFailedError' });
    const batch = await stack().jobRuns.getBatch(BATCH);
    expect(batch).toMatchObject({ status: 'CHECK_FAILED', lastRun: { executionName: second!.name, status: 'CHECK_FAILED' } });
    expect(batch!.lastRun!.error).toContain(`stage metrics: the error check "${CAP}" (sql: 1 failing) failed; nothing was published`);
    const failed = (await stack().jobRuns.getRun(BATCH, second!.name))!;
    expect(failed.checks!.results.map((r) => [r.name, r.passed])).toEqual([...declared.map((name) => [name, true]), [CAP, false]]);
    expect(failed.checks!.results.at(-1)).toMatchObject({ rule: 'sql', severity: 'error', failing: 1, sample: [{ date: DATE, units: units + 3 }] });

    // none of the tables changed: the same objects (no new version), the same rows, the same warehouse rows
    expect(await curatedVersions()).toEqual(versions);
    expect(await curated()).toEqual(published);
    expect(await warehouse()).toEqual(loaded);
  });
});
