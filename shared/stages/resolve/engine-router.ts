import type { JobConfig } from '../../core/config/types';

const GiB = 1024 ** 3;

/**
 * The largest batch input (landed bytes) a DuckDB job runs with in Lambda by default. It follows
 * from the engine benchmark (`npm run bench`, suite "engine"; bench/results.json, engine.threshold,
 * checked by test/unit/bench.test.ts): the smallest of Spark's crossover (none measured), the size
 * whose projected time fills half the 15-minute timeout, the size whose Parquet fills /tmp, and
 * twice the largest size measured.
 */
export const DEFAULT_DUCKDB_MAX_INPUT_BYTES = 10 * GiB;

export interface Line {
  /** seconds */
  intercept: number;
  /** seconds per byte */
  slope: number;
}

export interface ThresholdInputs {
  duckdb: Line;
  spark: Line;
  /** the transform function's memory and timeout (serverless.yml) */
  functionMemoryMb?: number;
  timeoutSeconds?: number;
  /** DuckDB threads the measurement ran with (Lambda gives memory/1769 vCPUs) */
  measuredThreads?: number;
  /** share of the timeout a run may be projected to use */
  budgetShare?: number;
  /** the transform's /tmp (serverless.yml ephemeralStorageSize) and the Parquet bytes per landed byte */
  ephemeralStorageBytes?: number;
  parquetBytesPerInputByte?: number;
  /** the largest size measured: the threshold extrapolates at most twice beyond it */
  largestMeasuredBytes?: number;
}

export interface Threshold {
  bytes: number;
  /** where the fitted lines cross (Spark faster beyond it), or null if they do not for x > 0 */
  crossoverBytes: number | null;
  /** the size whose projected Lambda time reaches the budget */
  lambdaBudgetBytes: number;
  /** the size whose Parquet inputs fill 80 % of /tmp (the transform downloads them there) */
  storageBytes: number;
  reason: string;
}

/**
 * The router's threshold from measured lines (time = intercept + slope·bytes): the smallest of the
 * crossover, the size whose projected time in Lambda reaches `budgetShare` of the timeout (the
 * measurement scaled to Lambda's vCPU share of the function's memory), the size whose Parquet
 * fills /tmp, and twice the largest size measured. Rounded down to a whole GiB.
 */
export function deriveEngineThreshold(inputs: ThresholdInputs): Threshold {
  const { duckdb, spark } = inputs;
  const memory = inputs.functionMemoryMb ?? 2048;
  const threads = inputs.measuredThreads ?? Math.min(6, Math.max(1, Math.ceil(memory / 1769)));
  const cpuScale = threads / Math.min(threads, memory / 1769);
  const budget = (inputs.timeoutSeconds ?? 900) * (inputs.budgetShare ?? 0.5);
  const lambdaBudgetBytes = Math.max(0, (budget / cpuScale - duckdb.intercept) / duckdb.slope);
  const slopeGap = duckdb.slope - spark.slope;
  const cross = slopeGap > 0 ? (spark.intercept - duckdb.intercept) / slopeGap : null;
  const crossoverBytes = cross !== null && cross > 0 ? cross : null;
  const storageBytes = (0.8 * (inputs.ephemeralStorageBytes ?? 10 * GiB)) / (inputs.parquetBytesPerInputByte ?? 1);
  const extrapolationCap = inputs.largestMeasuredBytes !== undefined ? 2 * inputs.largestMeasuredBytes : Infinity;
  const limits: Array<[number, string]> = [
    [
      lambdaBudgetBytes,
      `DuckDB's projected time in a ${memory} MB Lambda (×${cpuScale.toFixed(2)} for its vCPU share) reaches ${budget.toFixed(0)} s at ${(lambdaBudgetBytes / GiB).toFixed(1)} GiB`,
    ],
    [storageBytes, `the batch's Parquet fills 80 % of /tmp at ${(storageBytes / GiB).toFixed(1)} GiB`],
    [extrapolationCap, `twice the largest size measured is ${(extrapolationCap / GiB).toFixed(1)} GiB (the fitted line is not trusted further)`],
  ];
  if (crossoverBytes !== null) limits.push([crossoverBytes, `Spark overtakes DuckDB at ${(crossoverBytes / GiB).toFixed(1)} GiB`]);
  const [limit, why] = limits.reduce((a, b) => (b[0] < a[0] ? b : a));
  const bytes = Math.max(GiB, Math.floor(limit / GiB) * GiB);
  return { bytes, crossoverBytes, lambdaBudgetBytes, storageBytes, reason: `${why}; rounded down to ${(bytes / GiB).toFixed(0)} GiB` };
}

/** Whether a batch of this size is above the job's DuckDB threshold (the run records it). */
export function overDuckdbThreshold(job: Pick<JobConfig, 'engine' | 'autoThresholdBytes'>, inputBytes: number): boolean {
  return job.engine !== 'emr' && inputBytes > (job.autoThresholdBytes ?? DEFAULT_DUCKDB_MAX_INPUT_BYTES);
}

/**
 * The engine a run goes to: the job's own, or for `auto` Spark above the threshold and DuckDB up to
 * it. Both write the same curated layout, so a batch may switch between runs.
 */
export function routeEngine(job: Pick<JobConfig, 'engine' | 'autoThresholdBytes'>, inputBytes: number): 'duckdb' | 'emr' {
  if (job.engine !== 'auto') return job.engine;
  return overDuckdbThreshold(job, inputBytes) ? 'emr' : 'duckdb';
}
