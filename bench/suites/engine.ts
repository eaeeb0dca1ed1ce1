/**
 * 3. Engine choice: the POS job's aggregation over one province-day of converted data, on the
 * DuckDB transform's code (with the transform function's threads and memory) against the same
 * aggregation as a Spark job (examples/retail/spark/pos_daily_sales.py on the spark/landfall_jobs engine) on local Spark with the
 * same 2 cores, spark-submit start-up included as a user pays it. Both are timed as whole
 * processes, alternating, on the same Parquet files. The fitted lines give the crossover, and the
 * router's default threshold follows from them (see shared/stages/resolve/engine-router.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sparkSubmit } from '../../local/installed';
import { deriveEngineThreshold, DEFAULT_DUCKDB_MAX_INPUT_BYTES } from '../../shared/stages/resolve/engine-router';
import { MB } from '../lib/data';
import { ENGINE_DATE, ENGINE_PROVINCE, posParquetOfSize } from '../lib/pos-parquet';
import type { Target } from '../lib/results';
import { fitLine, formatSummary, pairedRatios, summarize } from '../lib/stats';
import { log, suiteMain } from '../lib/suite';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const GB = 1024 * MB;
const SPEEDUP_TARGET = 10;

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

async function countRows(dir: string): Promise<number> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  const reader = await conn.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM read_parquet($1)`, [`${dir}/**/*.parquet`]);
  const n = Number(reader.getRowObjects()[0]!.n);
  conn.closeSync();
  return n;
}

await suiteMain(async ({ quick }) => {
  const sizes = process.env.BENCH_SIZES ? process.env.BENCH_SIZES.split(',').map(Number) : quick ? [10, 100] : [10, 100, 1024, 5120];
  const runs = quick ? 2 : 3;
  const memoryMb = 2048; // the transform function's memory in serverless.yml
  const spark = sparkSubmit();
  const rows: Array<Array<string | number>> = [];
  const targets: Target[] = [];
  const points: { duckdb: Array<[number, number]>; spark: Array<[number, number]> } = { duckdb: [], spark: [] };
  const data: Record<string, unknown> = {};
  for (const mb of sizes) {
    const input = await posParquetOfSize(mb);
    const duck: number[] = [];
    const sp: number[] = [];
    const outputRows: { duckdb: number; spark: number } = { duckdb: 0, spark: 0 };
    for (let i = 0; i < runs; i += 1) {
      const dir = await mkdtemp(join(tmpdir(), 'landfall-engine-'));
      try {
        const d = await timed(() =>
          run(
            process.execPath,
            ['--import', 'tsx', join(import.meta.dirname, '..', 'engine-duckdb.ts'), input.root, join(dir, 'duckdb.parquet'), String(memoryMb)],
            { cwd: ROOT },
          ),
        );
        duck.push(d.ms);
        outputRows.duckdb = (JSON.parse(d.value.stdout.trim().split('\n').pop()!) as { rows: number }).rows;
        const args = [
          '--master',
          'local[2]',
          '--driver-memory',
          '6g',
          '--conf',
          'spark.ui.enabled=false',
          join(ROOT, 'spark', 'landfall_jobs', 'main.py'),
          '--stage',
          'aggregate',
          '--module',
          'landfall_pipeline.pos_daily_sales',
          '--pipeline-root',
          join(ROOT, 'examples', 'retail', 'spark'),
          '--input-root',
          input.root,
          '--checkpoint-root',
          join(dir, 'checkpoints'),
          '--output-root',
          join(dir, 'out'),
          '--batch',
          `province=${ENGINE_PROVINCE}`,
          '--batch',
          `date=${ENGINE_DATE}`,
          '--date-field',
          'date',
          '--partition-by',
          'province,date',
        ];
        const s = await timed(() =>
          run(spark.binary, args, { cwd: ROOT, env: { ...process.env, ...spark.env, TZ: 'UTC', SPARK_LOCAL_IP: '127.0.0.1' }, maxBuffer: 64 * MB }),
        );
        sp.push(s.ms);
        outputRows.spark = await countRows(join(dir, 'out'));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      log(`${mb} MB run ${i + 1}/${runs}: duckdb ${duck.at(-1)!.toFixed(0)} ms, spark ${sp.at(-1)!.toFixed(0)} ms`);
    }
    if (outputRows.duckdb !== outputRows.spark)
      throw new Error(`${mb} MB: DuckDB wrote ${outputRows.duckdb} rows, Spark ${outputRows.spark}: not the same aggregation`);
    const dS = summarize(duck);
    const sS = summarize(sp);
    const speedup = pairedRatios(sp, duck);
    points.duckdb.push([mb * MB, dS.median / 1000]);
    points.spark.push([mb * MB, sS.median / 1000]);
    const label = mb >= 1024 ? `${mb / 1024} GB` : `${mb} MB`;
    rows.push([
      label,
      input.rows.toLocaleString('en-US'),
      (input.parquetBytes / MB).toFixed(1),
      formatSummary({ ...dS, median: dS.median / 1000, min: dS.min / 1000, max: dS.max / 1000 }, 2),
      formatSummary({ ...sS, median: sS.median / 1000, min: sS.min / 1000, max: sS.max / 1000 }, 1),
      `${formatSummary(speedup, 1)}×`,
    ]);
    data[label] = {
      inputBytes: mb * MB,
      rows: input.rows,
      parquetBytes: input.parquetBytes,
      outputRows: outputRows.duckdb,
      duckdbMs: dS,
      sparkMs: sS,
      speedup,
    };
    if (mb <= 1024)
      targets.push({
        metric: `DuckDB vs Spark speed-up, ${label}`,
        target: `≥ ${SPEEDUP_TARGET}×`,
        actual: `${speedup.median.toFixed(1)}×`,
        met: speedup.median >= SPEEDUP_TARGET,
      });
  }
  const duckLine = fitLine(points.duckdb);
  const sparkLine = fitLine(points.spark);
  const largest = sizes.at(-1)! * MB;
  const parquetRatio = (data[Object.keys(data).at(-1)!] as { parquetBytes: number }).parquetBytes / largest;
  const threshold = deriveEngineThreshold({
    duckdb: duckLine,
    spark: sparkLine,
    functionMemoryMb: memoryMb,
    timeoutSeconds: 900,
    measuredThreads: 2,
    ephemeralStorageBytes: 10 * GB,
    parquetBytesPerInputByte: parquetRatio,
    largestMeasuredBytes: largest,
  });
  data.fit = { duckdb: duckLine, spark: sparkLine };
  data.threshold = threshold;
  const gb = (b: number) => `${(b / GB).toFixed(1)} GB`;
  // A threshold needs the sizes that matter for it: the quick sizes only smoke-test the suite.
  if (!quick)
    targets.push({
      metric: 'router default threshold follows the measurement',
      target: `${gb(threshold.bytes)} (derived)`,
      actual: `${gb(DEFAULT_DUCKDB_MAX_INPUT_BYTES)} (shared/stages/resolve/engine-router.ts)`,
      met: Math.abs(DEFAULT_DUCKDB_MAX_INPUT_BYTES - threshold.bytes) <= 0.25 * threshold.bytes,
    });
  return {
    id: 'engine',
    title: '3. Engine choice: the POS aggregation on DuckDB (transform) and on Spark (local, 2 cores)',
    tables: [{ header: ['input (.tdf bytes)', 'rows', 'Parquet MB', 'DuckDB s', 'Spark s (with start-up)', 'Spark / DuckDB'], rows }],
    targets,
    notes: [
      `Fitted: DuckDB ${duckLine.intercept.toFixed(2)} s + ${(duckLine.slope * GB).toFixed(2)} s/GB; Spark ${sparkLine.intercept.toFixed(1)} s + ${(sparkLine.slope * GB).toFixed(2)} s/GB. ${threshold.crossoverBytes === null ? 'The lines do not cross: DuckDB is faster at every size on the same cores.' : `They cross at ${gb(threshold.crossoverBytes)}.`}`,
      `Router threshold: ${threshold.reason}.`,
      'Input sizes are the landed .tdf bytes the Parquet stands for (rows × bytes per generated row); 5 store files and the item master, as one batch of the job.',
    ],
    data,
  };
});
