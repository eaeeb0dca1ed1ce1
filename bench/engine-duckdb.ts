/**
 * The DuckDB side of the engine comparison: the POS job's SQL (the transform function's code) over
 * local Parquet files, with the transform function's threads and memory limit.
 * Prints {"durationMs", "rows", "peakRssMb"}.
 *   node --import tsx bench/engine-duckdb.ts <input-root> <out.parquet> <functionMemoryMb>
 */
import { peakRssMb } from '../local/peak-rss';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listFiles } from '../ops/land';
import { openDuckDb } from '../shared/core/duckdb/duckdb';
import { runSqlTransform } from '../shared/stages/transform/run-sql';
import { loadSql } from '../shared/stages/transform/sql-files';
import { retailConfig } from '../examples/retail/config';
const pipelineConfig = retailConfig();
import { ENGINE_DATE, ENGINE_PROVINCE } from './lib/pos-parquet';

const [root, output, memory] = process.argv.slice(2);
if (!root || !output || !memory) throw new Error('usage: engine-duckdb.ts <input-root> <out.parquet> <functionMemoryMb>');
const files = async (dir: string) => (await listFiles(dir)).filter((f) => f.endsWith('.parquet')).map((f) => join(dir, f));
const job = pipelineConfig.jobs.find((j) => j.name === 'pos_daily_sales')!;
const work = await mkdtemp(join(tmpdir(), 'engine-duckdb-'));
const started = performance.now();
const duckdb = await openDuckDb({ workDir: work, functionMemoryMb: Number(memory) });
const { rows } = await runSqlTransform(duckdb.conn, {
  sql: await loadSql(job.stages[0]!.sql!),
  inputs: { pos: await files(join(root, 'pos')), item_master: await files(join(root, 'item_master')) },
  params: { province: ENGINE_PROVINCE, batch_date: ENGINE_DATE },
  outputPath: output,
});
duckdb.close();
const durationMs = performance.now() - started;
await rm(work, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ durationMs, rows, peakRssMb: peakRssMb() })}\n`);
