import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Pipeline } from '../config/load-config';
import type { JobConfig, JobStage } from '../config/types';
import { openDuckDb } from '../convert/duckdb';
import { downloadToFile, uploadFile } from '../s3/object-io';
import type { JobRunStore } from '../resolve/job-run-store';
import type { RunInput } from '../resolve/resolver';
import { runSqlTransform } from './run-sql';
import { loadSql } from './sql-files';

export const CURATED_PREFIX = 'curated/';

/** A stage of a job whose engine is not DuckDB reached the DuckDB transform (not retryable). */
export class UnsupportedEngineError extends Error {
  override readonly name = 'UnsupportedEngineError';
}

export interface StageDeps {
  s3: S3Client;
  runs: JobRunStore;
  pipeline: Pipeline;
  lakeBucket: string;
  functionMemoryMb: number;
  tmpDir?: string;
}

export interface StageOutput {
  stage: string;
  rows: number;
  outputKey: string;
  outputVersionId?: string;
  /** true when an earlier attempt had checkpointed this stage and it was not run again */
  resumed?: boolean;
}

/** `curated/<table>/<field>=<value>/…/data.parquet`: one object per batch partition. */
export function curatedKey(job: JobConfig, values: Record<string, string>): string {
  const partitions = job.output.partitionBy.map((p) => `${p}=${encodeURIComponent(values[p] ?? '')}`);
  return `${CURATED_PREFIX}${[job.output.table, ...partitions].join('/')}/data.parquet`;
}

/** Batch key values as the SQL's named parameters (`date` is `$batch_date`: DATE is a type name). */
export function sqlParams(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k === 'date' ? 'batch_date' : k, v]));
}

/**
 * One stage of a DuckDB job: the exact Parquet versions the run claimed are read from the lake, the
 * stage's SQL runs over them, and the result replaces the batch's partition as ONE object. The new
 * partition is built under /tmp and swapped in by a single PUT, which S3 applies atomically: a
 * failure at any point before it leaves the previous partition as it was, and a re-run overwrites
 * rather than adds. A stage already checkpointed by this run is not run again.
 */
export async function runStage(run: RunInput, stage: JobStage, deps: StageDeps): Promise<StageOutput> {
  const done = (await deps.runs.getRun(run.batchId, run.executionName))?.stages?.[stage.name];
  if (done) return { ...(done.output as unknown as StageOutput), resumed: true };
  const job = deps.pipeline.config.jobs.find((j) => j.name === run.job);
  if (!job) throw new Error(`no job "${run.job}" in the pipeline configuration`);
  if (job.engine !== 'duckdb' || !stage.sql) throw new UnsupportedEngineError(`job ${job.name} runs on ${job.engine}: the DuckDB transform cannot run stage ${stage.name}`);
  const sqlFile = stage.sql;
  const dir = await mkdtemp(join(deps.tmpDir ?? tmpdir(), 'transform-'));
  try {
    const inputs: Record<string, string[]> = {};
    for (const [relation, files] of Object.entries(run.inputs)) {
      inputs[relation] = [];
      for (const [i, file] of files.entries()) {
        const path = join(dir, `${relation}-${i}.parquet`);
        await downloadToFile(deps.s3, deps.lakeBucket, file.processedKey, file.processedVersionId, path);
        inputs[relation].push(path);
      }
    }
    const outputPath = join(dir, 'out.parquet');
    const duckdb = await openDuckDb({ workDir: dir, functionMemoryMb: deps.functionMemoryMb });
    let rows: number;
    try {
      ({ rows } = await runSqlTransform(duckdb.conn, { sql: await loadSql(sqlFile), inputs, params: sqlParams(run.values), outputPath }));
    } finally {
      duckdb.close();
    }
    const outputKey = curatedKey(job, run.values);
    const metadata = { 'landfall-job': job.name, 'landfall-execution': run.executionName, 'landfall-stage': stage.name, 'landfall-rows': String(rows) };
    const { versionId } = await uploadFile(deps.s3, deps.lakeBucket, outputKey, outputPath, metadata, 'application/vnd.apache.parquet');
    return { stage: stage.name, rows, outputKey, ...(versionId ? { outputVersionId: versionId } : {}) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
