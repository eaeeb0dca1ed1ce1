import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { S3Client } from '@aws-sdk/client-s3';
import { jobNamed, type Pipeline } from '../../core/config/load-config';
import type { JobStage } from '../../core/config/types';
import { openDuckDb } from '../../core/duckdb/duckdb';
import { downloadToFile, headObject, ObjectGoneError, uploadFile } from '../../core/s3/object-io';
import { checkMetricsLine } from '../../core/alerts';
import type { OutputCheck } from '../../core/config/types';
import { checkFailureMessage, type OutputCheckResult } from '../../core/runs/job-run-store';
import { failedChecks, runOutputChecks } from './output-checks';
import { PREFIX, curatedKey } from '../../core/s3/layout';
import type { JobRunStore } from '../../core/runs/job-run-store';
import type { RunInput } from '../../core/runs/run-input';
import { findTooLongValue, type TooLongValue } from './output-limits';
import { runSqlTransform } from './run-sql';
import { loadSql } from './sql-files';
import { LandfallError } from '../../core/errors';
import { WAREHOUSE_VARCHAR_BYTES } from '../../core/feeds/value-limits';
import { OutputCheckFailedError } from '../../core/checks/check-failed';

export const CURATED_PREFIX = PREFIX.curated;

/** Runs a job's checks on the staged output, and logs their metric line. */
async function checkOutput(
  job: string,
  checks: OutputCheck[],
  outputPath: string,
  inputs: Record<string, string[]>,
  outputKey: string,
  conn: Parameters<typeof runOutputChecks>[0],
  deps: StageDeps,
): Promise<OutputCheckResult[]> {
  const wantsPrevious = checks.some((c) => c.rowCount?.minRatioOfPrevious !== undefined || c.rowCount?.maxRatioOfPrevious !== undefined);
  const previousRows = wantsPrevious ? await previousRowsOf(deps.s3, deps.lakeBucket, outputKey) : undefined;
  const results = await runOutputChecks(conn, checks, { outputPath, inputs, ...(previousRows !== undefined ? { previousRows } : {}) });
  (deps.emitMetrics ?? console.log)(checkMetricsLine(deps.deploymentStage ?? 'unknown', job, results));
  return results;
}
export { curatedKey };

/** A stage of a job whose engine is not DuckDB reached the DuckDB transform (not retryable). */
export class UnsupportedEngineError extends LandfallError {
  override readonly name = 'UnsupportedEngineError';
  readonly code = 'ENGINE_UNSUPPORTED';
}

/**
 * A job's SQL computed a string longer than a warehouse VARCHAR holds (a `string_agg`, a
 * concatenation) in a table the job loads. Redshift's COPY from Parquet cannot truncate
 * (TRUNCATECOLUMNS is not among its Parquet options), so the load would fail on it at every retry:
 * the run fails here instead, before anything is published, naming the table, the column and the row.
 */
export class OutputValueTooLongError extends LandfallError {
  override readonly name = 'OutputValueTooLongError';
  readonly code = 'OUTPUT_VALUE_TOO_LONG';
}

/** The error for a too-long value of `table`'s output. */
function tooLongError(job: string, table: string, found: TooLongValue, maxBytes = WAREHOUSE_VARCHAR_BYTES): OutputValueTooLongError {
  const show = (v: string | null) => (v === null ? 'NULL' : JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v));
  const row =
    Object.keys(found.key).length > 0
      ? `the row ${Object.entries(found.key)
          .map(([k, v]) => `${k} = ${show(v)}`)
          .join(', ')}`
      : 'a row';
  return new OutputValueTooLongError(
    `job ${job}, table ${table}: column ${found.column} of ${row} is ${found.bytes} bytes, more than the ${maxBytes} a warehouse VARCHAR holds; nothing was published (cut it in the job's SQL, e.g. left(value, 16383): a character is at most 4 bytes)`,
  );
}

export interface StageDeps {
  s3: S3Client;
  runs: JobRunStore;
  pipeline: Pipeline;
  lakeBucket: string;
  functionMemoryMb: number;
  tmpDir?: string;
  /** the deployment's stage, the Stage dimension of the checks' metrics */
  deploymentStage?: string;
  /** where the checks' metric line goes (an EMF document: CloudWatch Logs turns it into metrics) */
  emitMetrics?: (line: string) => void;
}

export interface StageOutput {
  stage: string;
  rows: number;
  outputKey: string;
  outputVersionId?: string;
  /** true when an earlier attempt had checkpointed this stage and it was not run again */
  resumed?: boolean;
  /** the output checks' results (the job's last stage, a job with `checks`); the checkpoint records them on the run */
  checks?: OutputCheckResult[];
}

/**
 * The row count of the batch's partition as it is now (its `landfall-rows` metadata), undefined
 * when there is none yet or it does not say. A HEAD, not a LIST: the function may read curated/
 * but not list it, so S3 answers a missing key with 403 (and 404 where listing is allowed).
 */
async function previousRowsOf(s3: S3Client, bucket: string, key: string): Promise<number | undefined> {
  try {
    const rows = Number((await headObject(s3, bucket, key)).metadata['landfall-rows']);
    return Number.isFinite(rows) ? rows : undefined;
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (err instanceof ObjectGoneError || status === 403 || status === 404) return undefined;
    throw err;
  }
}

const batchText = (values: Record<string, string>) =>
  Object.entries(values)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

/** The error of a run whose `error` checks failed: the job, the batch, each failed rule, then the results. */
function checkFailure(job: string, run: RunInput, stage: string, results: OutputCheckResult[], errors: OutputCheckResult[]): OutputCheckFailedError {
  const failed = errors.map((r) => `"${r.name}" (${r.rule}: ${r.detail ?? `${r.failing} failing`})`).join(', ');
  return new OutputCheckFailedError(
    checkFailureMessage(
      `job ${job}, batch ${batchText(run.values)}, stage ${stage}: ${errors.length === 1 ? 'the error check' : `${errors.length} error checks`} ${failed} failed; nothing was published`,
      results,
    ),
  );
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
export async function runStage(run: RunInput, named: Pick<JobStage, 'name'>, deps: StageDeps): Promise<StageOutput> {
  const done = (await deps.runs.getRun(run.batchId, run.executionName))?.stages?.[named.name];
  if (done) return { ...(done.output as unknown as StageOutput), resumed: true };
  const job = jobNamed(deps.pipeline, run.job);
  // the stage as this function's configuration has it (the run input names stages only)
  const stage = job.stages.find((s) => s.name === named.name);
  if (!stage?.sql)
    throw new UnsupportedEngineError(`job ${job.name} (engine ${job.engine}) has no SQL for stage ${named.name}: the DuckDB transform cannot run it`);
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
    let checks: OutputCheckResult[] | undefined;
    try {
      ({ rows } = await runSqlTransform(duckdb.conn, { sql: await loadSql(sqlFile), inputs, params: sqlParams(run.values), outputPath }));
      // the job's checks, on its last stage's output, before the PUT that would publish it
      if (job.checks && job.checks.length > 0 && stage.name === job.stages.at(-1)?.name) {
        checks = await checkOutput(job.name, job.checks, outputPath, inputs, curatedKey(job, run.values), duckdb.conn, deps);
        const { errors } = failedChecks(checks);
        if (errors.length > 0) throw checkFailure(job.name, run, stage.name, checks, errors);
      }
      // a table the job loads into the warehouse: a string COPY cannot hold fails the run now, not every load
      const loads = (job.load ?? []).filter((l) => l.table === job.output.table);
      if (loads.length > 0) {
        const found = await findTooLongValue(duckdb.conn, outputPath, [...new Set(loads.flatMap((l) => l.key))]);
        if (found) throw tooLongError(job.name, job.output.table, found);
      }
    } finally {
      duckdb.close();
    }
    const outputKey = curatedKey(job, run.values);
    const metadata = { 'landfall-job': job.name, 'landfall-execution': run.executionName, 'landfall-stage': stage.name, 'landfall-rows': String(rows) };
    const { versionId } = await uploadFile(deps.s3, deps.lakeBucket, outputKey, outputPath, metadata, 'application/vnd.apache.parquet');
    return { stage: stage.name, rows, outputKey, ...(versionId ? { outputVersionId: versionId } : {}), ...(checks ? { checks } : {}) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
