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
  /** Allowed values for key fields (e.g. the configured provinces). */
  keyFieldValues?: Record<string, string[]>;
  /**
   * Known members: the values key field `field` may take, per value of key field `per` (e.g. the
   * stores of each province). A file of an unknown member is REJECTED with a reason, so a stray
   * store id never counts toward "5 stores of ON".
   */
  members?: { field: string; per: string; values: Record<string, string[]> };
  /** Key fields that become Hive partitions under `processed/<name>/dt=<date>/` (in this order). */
  partitionBy: string[];
  /** Key field holding the file's business date, written as `dt=`. */
  dateField: string;
  /** A file whose share of bad rows exceeds this (0–1) is REJECTED as mostly bad. */
  maxBadRowRatio: number;
}

export interface PipelineConfig {
  /** Fixed number of stores per province: a province's batch is complete with that many stores. */
  provinces: Record<string, number>;
  datasets: DatasetConfig[];
  jobs: JobConfig[];
}

/** A condition a batch must meet before its job runs; the unmet ones are recorded as "waiting for". */
export type Precondition =
  /** at least `count` distinct values of `field` among the input's files (`provinceStores`: the batch province's store count) */
  | { kind: 'minDistinct'; input: string; field: string; count: number | 'provinceStores' }
  /** at least one file of the input (e.g. the day's Item.csv) */
  | { kind: 'present'; input: string }
  /** the inputs differ from the ones the last successful run read */
  | { kind: 'newerThanLastRun' }
  /** the input's files add up to at least `bytes` */
  | { kind: 'minTotalBytes'; input: string; bytes: number };

export interface JobInput {
  /** the relation name the job's SQL reads */
  relation: string;
  dataset: string;
  /** key fields whose values must equal the batch's (e.g. province and date) */
  match: string[];
  /** cumulative files: keep only the newest file per value of this key field… */
  newestPer?: string;
  /** …by this key field (e.g. the file's time) */
  newestBy?: string;
}

export interface JobStage {
  name: string;
  /** duckdb engine: a versioned SQL file under shared/transform/sql/; emr stages are Spark stages of spark/ */
  sql?: string;
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
  /** key fields that identify a batch; each is matched by every input or enumerable from keyFieldValues */
  batchKey: string[];
  inputs: JobInput[];
  preconditions: Precondition[];
  engine: 'duckdb' | 'emr';
  stages: JobStage[];
  output: {
    table: string;
    /** batch key fields that name the output partition, in path order */
    partitionBy: string[];
    /** columns that identify a row (the curated CSV export sorts by them) */
    key: string[];
    /** a job that writes several tables under curated/<table>/: each table's key columns */
    tables?: Record<string, string[]>;
  };
}
