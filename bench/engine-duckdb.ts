/**
 * The DuckDB side of the engine comparison: the POS job's SQL (the transform function's code) over
 * local Parquet files, with the transform function's threads and memory limit.
 * Prints {"durationMs", "rows", "peakRssMb"}.
 *   node --import tsx bench/engine-duckdb.ts <input-root> <out.parquet> <functionMemoryMb>
 */
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDuckDb } from '../shared/convert/duckdb';
import { runSqlTransform } from '../shared/transform/run-sql';
import { loadSql } from '../shared/transform/sql-files';
import { pipelineConfig } from '../shared/config/pipeline';
import { ENGINE_DATE, ENGINE_PROVINCE } from './lib/pos-parquet';

const [root, output, memory] = process.argv.slice(2);
if (!root || !output || !memory) throw new Error('usage: engine-duckdb.ts <input-root> <out.parquet> <functionMemoryMb>');
const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.parquet') ? [join(dir, e.name)] : []));
const job = pipelineConfig.jobs.find((j) => j.name === 'pos_daily_sales')!;
const work = await mkdtemp(join(tmpdir(), 'engine-duckdb-'));
const started = performance.now();
const duckdb = await openDuckDb({ workDir: work, functionMemoryMb: Number(memory) });
const { rows } = await runSqlTransform(duckdb.conn, {
  sql: await loadSql(job.stages[0]!.sql!),
  inputs: { pos: files(join(root, 'pos')), item_master: files(join(root, 'item_master')) },
  params: { province: ENGINE_PROVINCE, batch_date: ENGINE_DATE },
  outputPath: output,
});
duckdb.close();
const durationMs = performance.now() - started;
await rm(work, { recursive: true, force: true });
const peakRssMb = Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024);
process.stdout.write(`${JSON.stringify({ durationMs, rows, peakRssMb })}\n`);
