import type { JobSparkResources } from '../config/types';

export type { JobSparkResources } from '../config/types';

/**
 * The spark-submit options of a job's `spark` block, for each of its EMR steps: the resources in a
 * fixed order, then one `--conf key=value` per property in key order (code-unit order, not the
 * locale's), so the same block always gives the same args (a retried submission compares them).
 * Values are stringified as Spark reads them (`true` → "true", `200` → "200").
 *
 * They go after the deployment's SPARK_SUBMIT_ARGS: spark-submit keeps the last value of a
 * repeated option (each occurrence overwrites the one before), so the job's values win. Pure: the
 * block is the validated one (shared/core/config/parse-spark.ts); nothing here checks it again.
 */
export function sparkResourceArgs(spark: JobSparkResources | undefined): string[] {
  if (!spark) return [];
  const args: string[] = [];
  if (spark.driverMemory !== undefined) args.push('--driver-memory', spark.driverMemory);
  if (spark.driverCores !== undefined) args.push('--driver-cores', String(spark.driverCores));
  if (spark.executorMemory !== undefined) args.push('--executor-memory', spark.executorMemory);
  if (spark.executorCores !== undefined) args.push('--executor-cores', String(spark.executorCores));
  if (spark.executorInstances !== undefined) args.push('--num-executors', String(spark.executorInstances));
  const keys = Object.keys(spark.conf ?? {}).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const key of keys) args.push('--conf', `${key}=${String(spark.conf![key])}`);
  return args;
}
