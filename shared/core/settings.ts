import { InvalidSettingError, MissingSettingError } from './errors';

/**
 * The deployment's settings: every environment variable a function reads, in one table, read only
 * through `setting()`. serverless.yml sets them (test/unit/settings.test.ts checks that it sets
 * exactly these, on exactly these functions) and docs/environment.md is generated from the table
 * (`npx tsx ops/environment-doc.ts`).
 */

/** The Lambda functions (serverless.yml's functions, functions/<name>/handler.ts). */
export const FUNCTIONS = ['validate', 'convert', 'track', 'resolve', 'jobstep', 'transform', 'emrstep', 'load', 'reconcile', 'events'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

/**
 * Who sets a variable:
 * - `provider`: serverless.yml's provider.environment, so every function has it (`functions` are the ones that read it)
 * - `function`: serverless.yml's environment of each function in `functions`
 * - `local`: only the local stack (and tests); a deployment leaves it unset
 * - `aws`: the Lambda runtime
 * - `operator`: nobody by default; add it to a function's environment to change the default
 */
export type SetBy = 'provider' | 'function' | 'local' | 'aws' | 'operator';

export type SettingType = 'string' | 'number' | 'boolean' | 'json';

export interface SettingSpec {
  type: SettingType;
  /** the functions that read it */
  functions: readonly FunctionName[];
  setBy: SetBy;
  /** unset (or empty) is an error: MissingSettingError */
  required?: true;
  /** the value used when it is unset, written as the variable would be */
  default?: string;
  /** what happens when it is unset, for an optional setting without a default */
  unset?: string;
  /** a library or the runtime reads it, not landfall's code: documented only, no getter */
  readBy?: string;
  meaning: string;
}

const ALL = FUNCTIONS;
/** the functions that call s3Client() */
const S3_USERS = ['validate', 'convert', 'track', 'resolve', 'jobstep', 'transform', 'emrstep', 'reconcile'] as const satisfies readonly FunctionName[];
/** the functions that call loadPipeline() */
const PIPELINE_USERS = [
  'validate',
  'convert',
  'resolve',
  'jobstep',
  'transform',
  'emrstep',
  'load',
  'reconcile',
  'events',
] as const satisfies readonly FunctionName[];
/** the functions that build the resolver's dependencies (resolverDepsFromEnv) */
const RESOLVER_USERS = ['resolve', 'jobstep', 'reconcile'] as const satisfies readonly FunctionName[];
/** the functions that log with Powertools */
const LOGGERS = ['validate', 'convert', 'track', 'resolve', 'reconcile', 'events'] as const satisfies readonly FunctionName[];

export const SETTINGS = {
  // ---- the stack's buckets, tables, state machines and topic ----
  RAW_BUCKET: {
    type: 'string',
    required: true,
    functions: ['validate', 'track', 'resolve', 'jobstep', 'reconcile'],
    setBy: 'provider',
    meaning: 'the raw bucket: landing/, validated/, rejected/ and reports/ (resolve and jobstep list landing/ for objects validate has not recorded yet)',
  },
  LAKE_BUCKET: {
    type: 'string',
    required: true,
    functions: ['convert', 'track', 'jobstep', 'transform', 'emrstep', 'load', 'reconcile'],
    setBy: 'provider',
    meaning: "the lake bucket: processed/ Parquet, the jobs' curated/ output, run inputs, checkpoints, Spark artifacts and EMR logs",
  },
  GLUE_PROCESSED_DATABASE: {
    type: 'string',
    functions: ['convert'],
    setBy: 'function',
    meaning: "the Glue database of the processed datasets' tables: convert appends there the columns an additive dataset's files add",
    unset: 'no Glue table is updated (the kept columns are still written to the Parquet)',
  },
  FILE_STATE_TABLE: {
    type: 'string',
    required: true,
    functions: ['validate', 'track', ...RESOLVER_USERS],
    setBy: 'provider',
    meaning: 'the DynamoDB table of file states (its stream feeds the resolver)',
  },
  JOB_RUNS_TABLE: {
    type: 'string',
    required: true,
    functions: ['resolve', 'jobstep', 'transform', 'emrstep', 'reconcile'],
    setBy: 'function',
    meaning: "the DynamoDB table of batches, job runs and the EMR cells' cluster claims",
  },
  STATE_MACHINE_ARN: {
    type: 'string',
    required: true,
    functions: RESOLVER_USERS,
    setBy: 'function',
    meaning: 'the job-run state machine: the resolver starts the DuckDB runs on it',
  },
  EMR_STATE_MACHINE_ARN: {
    type: 'string',
    required: true,
    functions: RESOLVER_USERS,
    setBy: 'function',
    meaning: 'the EMR job-run state machine: the resolver starts the Spark runs on it',
  },
  FAILURE_TOPIC_ARN: {
    type: 'string',
    required: true,
    functions: ['jobstep', 'reconcile', 'validate'],
    setBy: 'function',
    meaning: 'the alerts topic: failed job runs (jobstep), repairs and late batches (reconcile), a dataset whose files change columns (validate)',
  },
  // ---- the reconciler ----
  FAILED_EVENTS_QUEUE_URL: {
    type: 'string',
    functions: ['reconcile'],
    setBy: 'function',
    unset: 'the queue is not drained',
    meaning: 'the failed-events queue (on-failure destination of validate, convert, track and the stream): each pass drains it, keeping what failed and why',
  },
  FUNCTION_NAME_PREFIX: {
    type: 'string',
    required: true,
    functions: ['reconcile'],
    setBy: 'function',
    meaning: '`<service>-<stage>-`: a re-drive invokes `<prefix>validate`, `<prefix>convert` or `<prefix>track`',
  },
  LANDFALL_STAGE: {
    type: 'string',
    default: 'unknown',
    functions: ['reconcile', 'transform', 'events'],
    setBy: 'function',
    meaning:
      "the Stage dimension of the reconciler's metrics (Repairs, BatchesPastDeadline), of the output checks' (OutputChecksPassRate, OutputChecksFailed, OutputChecksRun) and of FileStateChanges, and the `stage` of every state-change event",
  },
  // ---- state-change events (docs/events.md) ----
  EVENT_BUS_NAME: {
    type: 'string',
    required: true,
    functions: ['events'],
    setBy: 'function',
    meaning: "the EventBridge bus the state-change events are put on (a name or an ARN): the stack's `landfall-<stage>`",
  },
  // ---- the heavy path: EMR cells, ARC and Spark (emrstep) ----
  EMR_MODE: {
    type: 'string',
    default: 'transient',
    functions: ['emrstep'],
    setBy: 'function',
    meaning: "`transient` (a cluster per cell, made when needed, ended by its idle timeout) or `standing` (each cell's always-on cluster)",
  },
  EMR_CELLS: {
    type: 'json',
    required: true,
    functions: ['emrstep'],
    setBy: 'function',
    meaning: 'the two cells: `[{name, routingControlArn, availabilityZone, subnetId (transient), clusterId (standing)}, …]`',
  },
  EMR_CLUSTER_SPEC: {
    type: 'json',
    functions: ['emrstep'],
    setBy: 'function',
    unset: 'an error in transient mode; not read in standing mode',
    meaning: 'how a transient cluster is made: `{stack, releaseLabel, logUri, idleTimeoutSeconds, provisionTimeoutMinutes, primary, core, task, tags}`',
  },
  EMR_SERVICE_ROLE: {
    type: 'string',
    functions: ['emrstep'],
    setBy: 'function',
    unset: "EMR_CLUSTER_SPEC's serviceRole",
    meaning: "the EMR service role the stack creates (overrides EMR_CLUSTER_SPEC's serviceRole)",
  },
  EMR_INSTANCE_PROFILE: {
    type: 'string',
    functions: ['emrstep'],
    setBy: 'function',
    unset: "EMR_CLUSTER_SPEC's jobFlowRole",
    meaning: "the EC2 instance profile the stack creates (overrides EMR_CLUSTER_SPEC's jobFlowRole)",
  },
  ARC_ENDPOINTS: {
    type: 'json',
    required: true,
    functions: ['emrstep'],
    setBy: 'function',
    meaning: "the ARC cluster's endpoints, a JSON list of URLs (tried in turn)",
  },
  ARC_REGION: { type: 'string', required: true, functions: ['emrstep'], setBy: 'function', meaning: "the Region of the ARC cluster's endpoints" },
  SPARK_ENTRY_POINT: {
    type: 'string',
    required: true,
    functions: ['emrstep'],
    setBy: 'function',
    meaning: "the Spark job's main.py in the lake bucket's artifacts/",
  },
  SPARK_SUBMIT_ARGS: {
    type: 'json',
    default: '[]',
    functions: ['emrstep'],
    setBy: 'function',
    meaning: 'further spark-submit arguments, a JSON list (the job and pipeline packages as --py-files)',
  },
  EMR_MAX_STEP_FAILURES: {
    type: 'number',
    default: '3',
    functions: ['emrstep'],
    setBy: 'operator',
    meaning: 'step failures on one cluster before the run fails over to the other cell',
  },
  EMR_BACKOFF_BASE_SECONDS: {
    type: 'number',
    default: '30',
    functions: ['emrstep'],
    setBy: 'local',
    meaning: 'the first wait before a failed step is submitted again (doubled after each failure, with jitter)',
  },
  EMR_CLUSTER_WAIT_SECONDS: {
    type: 'number',
    default: '30',
    functions: ['emrstep'],
    setBy: 'local',
    meaning: "seconds between looks while another run creates the cell's cluster",
  },
  // ---- the warehouse (load) ----
  WAREHOUSE_DATABASE: { type: 'string', required: true, functions: ['load'], setBy: 'function', meaning: 'the Redshift database the loads write' },
  WAREHOUSE_WORKGROUP: {
    type: 'string',
    functions: ['load'],
    setBy: 'function',
    unset: 'WAREHOUSE_CLUSTER_ID is needed instead',
    meaning: 'the Redshift Serverless workgroup (or WAREHOUSE_CLUSTER_ID, not both)',
  },
  WAREHOUSE_CLUSTER_ID: {
    type: 'string',
    functions: ['load'],
    setBy: 'function',
    unset: 'WAREHOUSE_WORKGROUP is needed instead',
    meaning: 'a provisioned Redshift cluster (with WAREHOUSE_SECRET_ARN)',
  },
  WAREHOUSE_SECRET_ARN: {
    type: 'string',
    functions: ['load'],
    setBy: 'function',
    unset: 'an error with WAREHOUSE_CLUSTER_ID',
    meaning: 'the secret a provisioned cluster is reached with',
  },
  WAREHOUSE_COPY_ROLE_ARN: {
    type: 'string',
    required: true,
    functions: ['load'],
    setBy: 'function',
    meaning: 'the role COPY runs as (associated with the namespace or cluster)',
  },
  WAREHOUSE_BACKOFF_BASE_SECONDS: {
    type: 'number',
    default: '5',
    functions: ['load'],
    setBy: 'local',
    meaning: 'the first wait before a retryable load is submitted again (doubled after each attempt, with jitter)',
  },
  WAREHOUSE_MAX_ATTEMPTS: {
    type: 'number',
    default: '6',
    functions: ['load'],
    setBy: 'local',
    meaning: 'submissions of a load before it fails the run (WarehouseLoadError)',
  },
  // ---- the local stack and the runtime ----
  LANDFALL_CONFIG_FILE: {
    type: 'string',
    functions: PIPELINE_USERS,
    setBy: 'local',
    unset: 'the pipeline the deploy bundled beside the handler (pipeline/pipeline.json)',
    meaning: 'the pipeline configuration file to run (JSON or YAML)',
  },
  LANDFALL_CATALOG_FILE: {
    type: 'string',
    functions: ['load'],
    setBy: 'local',
    unset: 'the catalog the build wrote beside the handler (pipeline/catalog.json)',
    meaning: "the tables' catalog (their columns) the loads read",
  },
  LANDFALL_S3_PATH_STYLE: {
    type: 'boolean',
    default: 'false',
    functions: S3_USERS,
    setBy: 'local',
    meaning: 'path-style S3 addressing, for S3-compatible servers (MinIO)',
  },
  AWS_REGION: { type: 'string', default: 'us-east-1', functions: ['reconcile'], setBy: 'aws', meaning: 'the Region named in the S3 events a re-drive sends' },
  // ---- read by libraries and the runtime, set for every function ----
  POWERTOOLS_SERVICE_NAME: { type: 'string', functions: LOGGERS, setBy: 'provider', readBy: 'Powertools Logger', meaning: 'the service name in log lines' },
  POWERTOOLS_LOG_LEVEL: { type: 'string', functions: LOGGERS, setBy: 'provider', readBy: 'Powertools Logger', meaning: 'the lowest level logged' },
  NODE_OPTIONS: { type: 'string', functions: ALL, setBy: 'provider', readBy: 'Node.js', meaning: 'source maps in stack traces (`--enable-source-maps`)' },
} as const satisfies Record<string, SettingSpec>;

type Table = typeof SETTINGS;
/** The settings landfall's code reads (the others are documented only). */
export type SettingName = { [N in keyof Table]: Table[N] extends { readBy: string } ? never : N }[keyof Table];

type TypeOf<T extends SettingType> = T extends 'number' ? number : T extends 'boolean' ? boolean : T extends 'json' ? unknown : string;
/** A setting's value: its type, or undefined when it may be unset (neither required nor defaulted). */
export type SettingValue<N extends SettingName> = Table[N] extends { required: true } | { default: string }
  ? TypeOf<Table[N]['type']>
  : TypeOf<Table[N]['type']> | undefined;

export type Env = Readonly<Record<string, string | undefined>>;

function parse(name: string, spec: SettingSpec, text: string): unknown {
  switch (spec.type) {
    case 'string':
      return text;
    case 'number': {
      const value = Number(text);
      if (text.trim() === '' || !Number.isFinite(value)) throw new InvalidSettingError(name, `is not a number: '${text}'`, spec.functions);
      return value;
    }
    case 'boolean':
      if (text !== 'true' && text !== 'false') throw new InvalidSettingError(name, `is not true or false: '${text}'`, spec.functions);
      return text === 'true';
    case 'json':
      try {
        return JSON.parse(text) as unknown;
      } catch (err) {
        throw new InvalidSettingError(name, `is not valid JSON: ${(err as Error).message}`, spec.functions);
      }
  }
}

/**
 * A setting's value, read from `env` (the process's environment unless a test passes its own) and
 * parsed as its type. Unset and empty are the same: the default, undefined, or (required)
 * MissingSettingError. A value that is not its type is an InvalidSettingError. Both name the
 * variable and the functions that read it.
 */
export function setting<N extends SettingName>(name: N, env: Env = process.env): SettingValue<N> {
  const spec: SettingSpec = SETTINGS[name];
  const text = env[name] || spec.default;
  if (text === undefined) {
    if (spec.required) throw new MissingSettingError(name, spec.functions);
    return undefined as SettingValue<N>;
  }
  return parse(name, spec, text) as SettingValue<N>;
}

/** An optional setting that the caller's case needs (EMR_CLUSTER_SPEC in transient mode): unset is a MissingSettingError. */
export function requiredSetting<N extends SettingName>(name: N, env: Env = process.env): NonNullable<SettingValue<N>> {
  const value = setting(name, env);
  if (value === undefined) throw new MissingSettingError(name, SETTINGS[name].functions);
  return value as NonNullable<SettingValue<N>>;
}

/** The functions that read a setting (for an error about a combination of settings). */
export const readersOf = (name: keyof Table): readonly FunctionName[] => SETTINGS[name].functions;
