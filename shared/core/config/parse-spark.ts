import { ConfigError } from '../errors';
import { describe, fieldsOf, noUnknownKeys, number, object, string } from './parse-values';
import type { JobConfig, JobSparkResources } from './types';

const FIELDS = fieldsOf<JobSparkResources>()(['driverMemory', 'driverCores', 'executorMemory', 'executorCores', 'executorInstances', 'conf']);

/**
 * A memory size as both readers of it take it: spark-submit hands --driver-memory to the driver's
 * JVM as `-Xmx<value>` in client mode (EMR's default for steps), and the JVM takes only a whole
 * number with one unit letter (`2gb` is refused; a bare `2048` is 2048 bytes and the JVM does not
 * start). Spark's own size parser reads every value of this form the same way.
 */
const MEMORY = /^([1-9][0-9]{0,9})([kmgt])$/i;
const MIB_PER_UNIT: Record<string, number> = { k: 1 / 1024, m: 1, g: 1024, t: 1024 * 1024 };
/** Spark refuses a driver or executor heap under 450 MiB (1.5 × its 300 MiB reserve); the JVM's usable heap is a little under -Xmx */
const MIN_MEMORY_MIB = 512;
const MAX_MEMORY_MIB = 1024 * 1024;
const MAX_CORES = 64;
const MAX_INSTANCES = 1000;

/** A Spark property name: `spark.` and dot-separated words; no `=` (spark-submit splits --conf at the first one) nor spaces. */
const PROPERTY = /^spark(\.[A-Za-z0-9_-]+)+$/;

/**
 * Properties with a field of their own, which one way only sets. A --conf of one would lose to the
 * deployment's option: SparkSubmit takes --executor-memory, --executor-cores, --num-executors and
 * --driver-cores over a --conf of the same property whatever their order (spark-submit 3.5.6
 * --verbose: `--executor-memory 1g --conf spark.executor.memory=4g` runs with 1g). Only the driver's
 * memory is merged by the launcher into one value, the last of either form.
 */
const FIELD_PROPERTIES: Record<string, keyof JobSparkResources> = {
  'spark.driver.memory': 'driverMemory',
  'spark.driver.cores': 'driverCores',
  'spark.executor.memory': 'executorMemory',
  'spark.executor.cores': 'executorCores',
  'spark.executor.instances': 'executorInstances',
};

const FORCED =
  "the engine forces it in every session (spark/landfall_jobs/session.py, FORCED_CONF): the jobs' correctness depends on it, and a value here would be overridden";

/** Properties the engine owns: it sets them itself, or a value would break the run. */
const ENGINE_PROPERTIES: Record<string, string> = {
  'spark.master': 'the engine picks the master (YARN on EMR, local[2] on the local stack)',
  'spark.app.name': 'the engine names the application (the session sets its name, so a value here would rename only the YARN application)',
  'spark.sql.session.timeZone': FORCED,
  'spark.sql.sources.partitionOverwriteMode': FORCED,
  'spark.sql.parquet.datetimeRebaseModeInRead': FORCED,
  'spark.sql.parquet.int96RebaseModeInRead': FORCED,
};

/**
 * Whole families the engine owns.
 * - `spark.submit.*`: how the step is submitted: the deploy mode, and the --py-files that carry the
 *   engine and the pipeline's modules (the option would silently win over a conf anyway).
 * - `spark.yarn.*`: how YARN runs and supervises the application, which the orchestration relies on:
 *   `spark.yarn.submit.waitAppCompletion=false` ends the step while the stage still runs (the run
 *   would read a stage that is not done), `spark.yarn.maxAppAttempts` re-runs a failed driver under
 *   the engine's own retries and failover, `spark.yarn.archive`/`jars`/`dist.*` replace the
 *   cluster's Spark and Python files. None has an effect locally, so no local test would catch a bad
 *   one. The resource settings a job wants have names outside the family
 *   (`spark.executor.memoryOverhead`, `spark.dynamicAllocation.*`); the YARN queue is the
 *   deployment's (SPARK_SUBMIT_ARGS --queue).
 */
const ENGINE_PREFIXES: Array<[string, string]> = [
  ['spark.submit.', 'the engine submits the step (deploy mode, the --py-files carrying the engine and the pipeline)'],
  [
    'spark.yarn.',
    "the engine decides how YARN runs and supervises the step (waiting for the application, attempts, the cluster's Spark and Python files); none has an effect locally",
  ],
];

/** Why a property cannot be set in a job's `conf`, or undefined if it can. */
export function refusedSparkProperty(key: string): string | undefined {
  if (!key.startsWith('spark.')) return 'not a Spark property: keys start with "spark." (spark-submit ignores any other)';
  if (!PROPERTY.test(key)) return 'not a property name (dot-separated letters, digits, _ and -)';
  const field = FIELD_PROPERTIES[key];
  if (field) return `set it with spark.${field}, not conf`;
  const owned = ENGINE_PROPERTIES[key] ?? ENGINE_PREFIXES.find(([prefix]) => key.startsWith(prefix))?.[1];
  return owned ? `the engine owns it: ${owned}` : undefined;
}

function memory(value: unknown, f: string): string {
  if (typeof value === 'number') throw new ConfigError(f, `expected a size with its unit, e.g. "${value}m" or "4g", got ${value}`);
  const text = string(value, f);
  if (/^[0-9]+$/.test(text))
    throw new ConfigError(f, `"${text}" has no unit: write ${text}m or ${text}g (spark-submit would hand the JVM -Xmx${text}, that many bytes)`);
  const m = MEMORY.exec(text);
  if (!m) throw new ConfigError(f, `"${text}" is not a memory size: a whole number and one unit k, m, g or t, e.g. 512m or 4g (the form the JVM's -Xmx takes)`);
  const mib = Number(m[1]) * MIB_PER_UNIT[m[2]!.toLowerCase()]!;
  if (mib < MIN_MEMORY_MIB || mib > MAX_MEMORY_MIB) throw new ConfigError(f, `"${text}" is outside 512m–1t (Spark refuses a heap under 450 MiB)`);
  return text;
}

function confValue(value: unknown, f: string): string | number | boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || /e/i.test(String(value))) throw new ConfigError(f, `${describe(value)} has no plain decimal form: write it as a string`);
    return value;
  }
  if (typeof value === 'string') {
    if (value === '') throw new ConfigError(f, 'expected a value, got an empty string (leave the property out to keep its default)');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
    if (/[\u0000-\u001f\u007f]/.test(value)) throw new ConfigError(f, 'a value cannot hold control characters (line breaks, tabs)');
    return value;
  }
  throw new ConfigError(f, `expected a string, a number or true/false, got ${describe(value)}`);
}

function parse(raw: unknown, f: string): JobSparkResources {
  const obj = object(raw, f);
  noUnknownKeys(obj, FIELDS, f);
  const spark: JobSparkResources = {};
  if (obj.driverMemory !== undefined) spark.driverMemory = memory(obj.driverMemory, `${f}.driverMemory`);
  if (obj.driverCores !== undefined) spark.driverCores = number(obj.driverCores, `${f}.driverCores`, 1, MAX_CORES, true);
  if (obj.executorMemory !== undefined) spark.executorMemory = memory(obj.executorMemory, `${f}.executorMemory`);
  if (obj.executorCores !== undefined) spark.executorCores = number(obj.executorCores, `${f}.executorCores`, 1, MAX_CORES, true);
  if (obj.executorInstances !== undefined) spark.executorInstances = number(obj.executorInstances, `${f}.executorInstances`, 1, MAX_INSTANCES, true);
  if (obj.conf !== undefined) {
    const conf: Record<string, string | number | boolean> = {};
    for (const [key, value] of Object.entries(object(obj.conf, `${f}.conf`))) {
      const at = `${f}.conf["${key}"]`;
      const refused = refusedSparkProperty(key);
      if (refused) throw new ConfigError(at, `"${key}" cannot be set: ${refused}`);
      conf[key] = confValue(value, at);
    }
    spark.conf = conf;
  }
  return spark;
}

/**
 * A job's `spark` block (`field` is the job's path, `job` its name): the resources of its EMR steps.
 * Every failure names the field and the job; a duckdb job has no Spark steps to give them to.
 */
export function parseSparkResources(raw: unknown, field: string, job: string, engine: JobConfig['engine']): JobSparkResources {
  const f = `${field}.spark`;
  if (engine === 'duckdb') throw new ConfigError(f, `job ${job} runs on duckdb: a spark block applies only to engine emr or auto`);
  try {
    return parse(raw, f);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.field, `job ${job}: ${err.problem}`);
    throw err;
  }
}
