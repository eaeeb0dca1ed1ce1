import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { loadPipeline } from '../shared/core/config/load-config';
import { landDirectory } from '../ops/land';
import { exportCuratedTables } from '../ops/reports/curated-export';
import { DATE, firstGeneration, firstGenerationInputBytes, POS_CSV_HEADER, posCsvLines, retailWithThreshold } from './support/engine-auto';
import { expectedPosDailySales } from './support/expected-pos';
import { storeFile, storeKey, writeFiles } from './support/pos-files';
import { useLocalStack } from './support/local-stack';

/*
 * `engine: auto` (the POS job of examples/retail): a batch that grows past the router's threshold
 * between runs moves from DuckDB to Spark, which replaces its one partition object (the layout both
 * engines write), so no row is duplicated.
 */
// the threshold is the first generation's input: DuckDB for it, Spark once a store's file grows
process.env.LANDFALL_CONFIG_FILE = await retailWithThreshold(firstGenerationInputBytes());
const stack = useLocalStack();

describe('engine auto: a batch that outgrows the threshold', () => {
  it('moves from DuckDB to Spark between runs and replaces its one partition object', { timeout: 900_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'landfall-auto-switch-'));
    const { s3, deployment } = stack();
    const lake = deployment.names.lakeBucket;
    const key = `curated/pos_daily_sales/province=ON/date=${DATE}/data.parquet`;
    const versions = async () => (await s3.send(new ListObjectVersionsCommand({ Bucket: lake, Prefix: 'curated/pos_daily_sales/' }))).Versions ?? [];
    const table = async () => {
      const out = await mkdtemp(join(tmpdir(), 'landfall-auto-switch-out-'));
      await exportCuratedTables(
        s3,
        lake,
        loadPipeline().config.jobs.filter((j) => j.name === 'pos_daily_sales'),
        out,
      );
      return (await readFile(join(out, 'curated', 'pos_daily_sales.csv'), 'utf8')).trim().split('\n');
    };
    const engines = async () =>
      (await stack().jobRuns.listAll()).runs
        .filter((r) => r.job === 'pos_daily_sales' && r.status === 'SUCCEEDED')
        .sort((a, b) => a.claimedAt.localeCompare(b.claimedAt))
        .map((r) => r.engine);

    await writeFiles(dir, firstGeneration());
    await landDirectory(s3, deployment.names.rawBucket, dir);
    await stack().settled(1000, 600_000);
    const before = await engines();
    expect(before.length).toBeGreaterThan(0);
    expect(new Set(before)).toEqual(new Set(['duckdb']));
    expect(new Set((await versions()).map((v) => v.Key))).toEqual(new Set([key]));
    expect(await table()).toEqual([POS_CSV_HEADER, ...posCsvLines(await expectedPosDailySales(dir, { provinces: ['ON'] }))]);

    // ON03 sends its day again with more rows: the input grows past the threshold
    const grown = { [storeKey('ON03', DATE, '210000')]: storeFile('ON03', DATE, 45) };
    const second = await mkdtemp(join(tmpdir(), 'landfall-auto-switch-2-'));
    await writeFiles(second, grown);
    await writeFiles(dir, grown);
    await landDirectory(s3, deployment.names.rawBucket, second);
    await stack().settled(1000, 600_000);
    expect(await engines()).toEqual([...before, 'emr']);
    // one more version of the same object, and nothing else under the table (no Spark part files)
    expect((await versions()).map((v) => v.Key)).toEqual(Array(before.length + 1).fill(key));
    const rows = await table();
    expect(rows).toEqual([POS_CSV_HEADER, ...posCsvLines(await expectedPosDailySales(dir, { provinces: ['ON'] }))]);
    const keys = rows.slice(1).map((r) => r.split(',').slice(2, 4).join(','));
    expect(new Set(keys).size).toBe(keys.length);
  });
});
