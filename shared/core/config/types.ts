/** Column kinds a dataset may declare; each maps to one DuckDB type (see `duckdbType`). */
export type ColumnKind = 'string' | 'integer' | 'decimal' | 'date' | 'timestamp';

export interface ColumnSpec {
  /** Output column name: `[a-z_][a-z0-9_]*`, also the header text expected in the file. */
  name: string;
  kind: ColumnKind;
  /** For `decimal`: the most digits allowed after the point (0–9). */
  scale?: number;
  /** Values outside this list make the row bad (e.g. known transaction codes). */
  allowed?: Array<string | number>;
  /**
   * The row's value must equal this field taken from the object key (e.g. the file's store, or the
   * file's date for a `date` column). A `timestamp` column names a date key field (`{f:YYYYMMDD}`):
   * the timestamp's UTC date must equal it.
   */
  equalsKeyField?: string;
  /** An empty (or, in JSON lines, missing or null) value is allowed and becomes NULL. */
  nullable?: boolean;
}

export interface DelimitedFormat {
  kind: 'delimited';
  /** `\t` for the POS `.tdf` files, `,` for CSV (RFC 4180 quotes on one line are honoured). */
  delimiter: '\t' | ',';
  /** Lines starting with this prefix are dropped and counted, not errors (some store systems add them). */
  junkLinePrefix?: string;
}

/** One JSON object per line; columns are its fields (others are ignored). No header line. */
export interface JsonLinesFormat {
  kind: 'jsonl';
}

export interface DatasetConfig {
  /** Dataset name, used in `processed/<name>/...` and in the file-state table. */
  name: string;
  /**
   * Key pattern relative to `landing/`, with `{field}` placeholders: `{f}` matches one path segment
   * without `_` or `/`, `{f:YYYYMMDD}` a calendar date (recorded as YYYY-MM-DD), `{f:HHMMSS}` a time.
   */
  keyPattern: string;
  format: DelimitedFormat | JsonLinesFormat;
  columns: ColumnSpec[];
  /**
   * Allowed values for key fields. Written as a list or `{ lookup: NAME }` (the lookup's keys, or
   * its items if it is a list); the loaded configuration holds the resolved list.
   */
  keyFieldValues?: Record<string, string[]>;
  /**
   * Known members: the values key field `field` may take, per value of key field `per` (e.g. the
   * stores of each province). A file of an unknown member is REJECTED with a reason, so a stray
   * store id never counts toward "5 stores of ON". Written as `values` or `lookup: NAME` (a map
   * lookup of lists); the loaded configuration holds the values.
   */
  members?: { field: string; per: string; values: Record<string, string[]> };
  /**
   * The dataset's files are manifests of another dataset's parts: each good row's `column` names
   * one part (`lists`), or the single row's `column` holds how many parts there are (`counts`).
   * Validate records the list or count with the file's state; a `manifest` precondition uses it.
   */
  manifest?: { column: string; kind: 'lists' | 'counts' };
  /** Key fields that become Hive partitions under `processed/<name>/dt=<date>/` (in this order). */
  partitionBy: string[];
  /** Key field holding the file's business date, written as `dt=`. */
  dateField: string;
  /** A file whose share of bad rows exceeds this (0–1) is REJECTED as mostly bad. */
  maxBadRowRatio: number;
}

/**
 * A named table of values the configuration refers to: a list (`[EAST, WEST]`), or a map from a
 * key field's value to a number, a string or a list (`{ ON: 5, QC: 4 }`, `{ ON: [ON01, ON02] }`).
 */
export type Lookup = string[] | Record<string, number | string | string[]>;

export interface PipelineConfig {
  /** the JSON Schema the file names for editor completion (kept, not used) */
  $schema?: string;
  lookups: Record<string, Lookup>;
  datasets: DatasetConfig[];
  jobs: JobConfig[];
}

/** How many distinct values a `minDistinct` needs: a number, or a lookup (by a batch key field). */
export type CountSpec = number | { lookup: string; by?: string };

/** A condition a batch must meet before its job runs; the unmet ones are recorded as "waiting for". */
export type Precondition =
  /**
   * at least `count` distinct values of `field` among the input's files; `{ lookup, by }` looks the
   * count up by the batch's value of `by` (a list value counts its items)
   */
  | { kind: 'minDistinct'; input: string; field: string; count: CountSpec }
  /** the parts a manifest file lists (or counts) are all among the input's files (`field` names a part) */
  | { kind: 'manifest'; input: string; manifest: string; field: string }
  /** at least one file of the input (e.g. the day's Item.csv) */
  | { kind: 'present'; input: string }
  /** the inputs differ from the ones the last successful run read */
  | { kind: 'newerThanLastRun' }
  /** the input's files add up to at least `bytes` */
  | { kind: 'minTotalBytes'; input: string; bytes: number };

export interface JobInput {
  /** the relation name the job's SQL reads */
  relation: string;
  /** a landed dataset… */
  dataset?: string;
  /** …or another job's output: the partitions of its successful runs */
  job?: string;
  /**
   * The name the files are tracked under: the dataset, or the upstream job's output table. Set by
   * the loader (one of `dataset` and `job` is given).
   */
  source: string;
  /** key fields whose values must equal the batch's (e.g. province and date) */
  match: string[];
  /**
   * `append` (default): every file counts. `cumulative`: each file holds everything so far, so only
   * the newest per `newestPer` (by `newestBy`) is read.
   */
  mode: 'append' | 'cumulative';
  /** cumulative files: keep only the newest file per value of this key field… */
  newestPer?: string;
  /** …by this key field (e.g. the file's time) */
  newestBy?: string;
}

export interface JobStage {
  name: string;
  /** the stage's versioned SQL file (`<name>.v<N>.sql`), an absolute path once loaded */
  sql?: string;
  /** the stage's Spark module (a `.py` file in the pipeline folder), an absolute path once loaded */
  spark?: string;
}

/** Run at a local time with what has arrived, if the batch is not complete by then. */
export interface Cutoff {
  /** HH:MM, 24-hour local time */
  at: string;
  /** IANA time zone */
  timeZone: string;
  dayOffset?: number;
}

/**
 * When a batch is due: on its business date (+ `dayOffset` days) at `deadline` local time in
 * `timeZone`. A batch not SUCCEEDED by then is alerted once, with what it waits for.
 */
export interface Freshness {
  /** HH:MM, 24-hour local time */
  deadline: string;
  /** IANA time zone, e.g. America/Toronto */
  timeZone: string;
  dayOffset?: number;
}

export interface JobConfig {
  name: string;
  /** the freshness deadline of each batch (optional) */
  freshness?: Freshness;
  /**
   * A batch still incomplete at its cut-off runs with the files that arrived (none in flight, at
   * least one selected); the run records the preconditions it ran without.
   */
  cutoff?: Cutoff;
  /** key fields that identify a batch; each is matched by every input or enumerable from keyFieldValues */
  batchKey: string[];
  /** the batch key field holding the business date (the inputs' date field; set by the loader) */
  dateField: string;
  inputs: JobInput[];
  preconditions: Precondition[];
  /** `auto`: DuckDB up to `autoThresholdBytes` of input, Spark on EMR above (every stage has both) */
  engine: 'duckdb' | 'emr' | 'auto';
  /** the engine router's threshold for `auto` (default: the measured DuckDB limit) */
  autoThresholdBytes?: number;
  /** the job's Spark resources (engine `emr` or `auto`): spark-submit options of its steps */
  spark?: JobSparkResources;
  stages: JobStage[];
  output: {
    table: string;
    /** batch key fields that name the output partition, in path order */
    partitionBy: string[];
    /** columns that identify a row (the curated CSV export sorts by them) */
    key: string[];
    /**
     * A job that writes several tables under curated/<table>/: each table's key columns and (for
     * the Glue catalog and the warehouse) the columns its Parquet files hold, in file order.
     * Written as a list of key columns or `{ key, columns }`; the loaded configuration holds objects.
     */
    tables?: Record<string, OutputTable>;
    /** a Spark job's single table: the columns its Parquet files hold, in file order (a SQL job's come from its SQL) */
    columns?: OutputColumn[];
  };
  /** warehouse loads after the curated write, one per table (Redshift through the Data API) */
  load?: WarehouseLoad[];
}

/**
 * A job's Spark resources: spark-submit options of each of its EMR steps, after the deployment's
 * (SPARK_SUBMIT_ARGS), so the job's values win. See `sparkResourceArgs` (shared/core/emr/spark-resources.ts).
 */
export interface JobSparkResources {
  /** driver heap, a whole number with a unit k, m, g or t (`2g`, `1536m`): --driver-memory */
  driverMemory?: string;
  /** 1–64 (YARN cluster deploy mode only): --driver-cores */
  driverCores?: number;
  /** heap of each executor, like driverMemory: --executor-memory */
  executorMemory?: string;
  /** 1–64: --executor-cores */
  executorCores?: number;
  /** 1–1000 (the initial count when dynamic allocation is on): --num-executors */
  executorInstances?: number;
  /** other Spark properties (`spark.*`, none the engine owns): one --conf key=value each, in key order */
  conf?: Record<string, string | number | boolean>;
}

/** A column of an output table as Athena and Redshift read it: a Hive type (string, bigint, decimal(18,2), date, …). */
export interface OutputColumn {
  name: string;
  type: string;
}

export interface OutputTable {
  key: string[];
  columns?: OutputColumn[];
}

/** One table's load into the warehouse: COPY of the batch's objects, then replace its partition or merge on the key. */
export interface WarehouseLoad {
  /** the job's output table (its `output.table`, or one of `output.tables`) */
  table: string;
  /** the warehouse table (default: the same name) */
  into: string;
  /** columns identifying a row (default: the output table's key) */
  key: string[];
  /** `replace`: the batch's partition rows are deleted, then inserted; `merge`: MERGE on the key */
  mode: 'replace' | 'merge';
}
