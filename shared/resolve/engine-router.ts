import type { JobConfig } from '../config/types';

const GiB = 1024 ** 3;

/**
 * The largest batch input (landed bytes) a DuckDB job runs with in Lambda by default. It follows
 * from the engine benchmark (`npm run bench`, suite "engine"; bench/results.json engine.threshold):
 * DuckDB is faster than Spark at every measured size on the same cores, so the bound is Lambda's:
 * the projected transform time must stay within half the function's 15-minute timeout.
 */
export const DEFAULT_DUCKDB_MAX_INPUT_BYTES = 12 * GiB;

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
}

export interface Threshold {
  bytes: number;
  /** where the fitted lines cross (Spark faster beyond it), or null if they do not for x > 0 */
  crossoverBytes: number | null;
  /** the size whose projected Lambda time reaches the budget */
  lambdaBudgetBytes: number;
  reason: string;
}

/**
 * The router's threshold from measured lines (time = intercept + slope·bytes): the smaller of the
 * crossover and the size whose projected time in Lambda reaches `budgetShare` of the timeout.
 * The measurement's time is scaled to Lambda's vCPU share of the function's memory. Rounded down
 * to a whole GiB.
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
  const limit = Math.min(lambdaBudgetBytes, crossoverBytes ?? Infinity);
  const bytes = Math.max(GiB, Math.floor(limit / GiB) * GiB);
  const reason =
    crossoverBytes !== null && crossoverBytes < lambdaBudgetBytes
      ? `Spark overtakes DuckDB at ${(crossoverBytes / GiB).toFixed(1)} GiB`
      : `DuckDB's projected time in a ${memory} MB Lambda (×${cpuScale.toFixed(2)} for its vCPU share) reaches ${budget.toFixed(0)} s at ${(lambdaBudgetBytes / GiB).toFixed(1)} GiB`;
  return { bytes, crossoverBytes, lambdaBudgetBytes, reason: `${reason}; rounded down to ${(bytes / GiB).toFixed(0)} GiB` };
}

export interface EngineChoice {
  engine: JobConfig['engine'];
  inputBytes: number;
  /** a DuckDB batch larger than the threshold: it still runs on DuckDB (the job has no Spark stages), flagged */
  overThreshold: boolean;
}

/** The engine a batch runs on, from its job and the landed bytes of its inputs. */
export function chooseEngine(job: Pick<JobConfig, 'engine'>, inputBytes: number, threshold = DEFAULT_DUCKDB_MAX_INPUT_BYTES): EngineChoice {
  return { engine: job.engine, inputBytes, overThreshold: job.engine === 'duckdb' && inputBytes > threshold };
}
