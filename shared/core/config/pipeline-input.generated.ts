/*
 * Generated from pipeline.schema.json by `npm run config:types` (ops/config-types.ts): edit the schema, not this file.
 * The configuration as its author writes it, one type per definition of the schema; types.ts derives the parsed model.
 */

/**
 * A landfall pipeline: the datasets that land under `landing/` and the jobs that turn them into curated tables. Paths to SQL files and Spark modules are relative to the configuration file's folder. `landfall config` prints the effective form (lookups resolved, file references absolute, derived fields added); it validates against this schema too.
 */
export interface Pipeline {
  /**
   * The JSON Schema the file names, for editor completion and checks (kept, not used by landfall).
   */
  $schema?: string;
  /**
   * Named tables of values the configuration refers to by name (`lookup: NAME`): the stores of each province, the expected count per region.
   */
  lookups?: {
    [k: string]: Lookup;
  };
  /**
   * Zip archives that land under `landing/`: each member becomes a landed file of its own, keyed `<archive key>!/<member path>`, which a dataset's `keyPattern` matches.
   */
  archives?: Archive[];
  /**
   * The kinds of file that land under `landing/`: how their keys are named, their format and their columns.
   */
  datasets: Dataset[];
  /**
   * The jobs that read datasets (or other jobs' outputs) batch by batch and write curated tables.
   */
  jobs?: Job[];
}

/**
 * A named table of values: a list (`[EAST, WEST]`), or a map from a key field's value to a whole number, a string or a list (`{ ON: 5, QC: 4 }`, `{ ON: [ON01, ON02] }`).
 */
export type Lookup =
  | NonEmptyString[]
  | {
      [k: string]: number | NonEmptyString | NonEmptyString[];
    };

/**
 * One kind of landed file. Each file is validated row by row against the columns, converted to Parquet under `processed/<name>/dt=<date>/` and tracked in the file-state table.
 */
export interface Dataset {
  /**
   * Dataset name, used in `processed/<name>/...` and in the file-state table.
   */
  name: Identifier;
  /**
   * Key pattern relative to `landing/`, with `{field}` placeholders: `{f}` matches one path segment without `_` or `/`; `{f:YYYYMMDD}`, `{f:YYYY-MM-DD}` and `{f:YYYY/MM/DD}` (three folders, as Kinesis Data Firehose writes them) a calendar date (recorded as YYYY-MM-DD); `{f:HHMMSS}` a time of day; `{f:HH}` an hour (00–23); `{f:TEXT}` one path segment of any characters (a Firehose object name). The placeholders are the dataset's key fields. An archive's member is matched as `<archive key>!/<member path>`.
   */
  keyPattern: string;
  /**
   * How the file is laid out.
   */
  format: Format;
  /**
   * The columns of each row, in file order (at least one).
   *
   * @minItems 1
   */
  columns: Column[];
  /**
   * How a file's columns are matched to the declared ones. `strict`: a header lists exactly the declared columns in order (a headerless or fixed-width file has them in the declared order); a Parquet file may not hold columns the dataset does not declare. `additive`: a header's columns are matched by name in any order; a column of a delimited file's header the dataset does not declare is kept as a nullable string (its header name lower-cased; a name that cannot be a Glue column, or clashes with a declared or lineage column, is ignored) and added to the dataset's Glue table, so older files read it as null; columns a JSON record or a Parquet file adds are ignored. Every undeclared column is listed on the file's report, and each change is alerted once per dataset. Under both, a missing nullable column is null (JSON and Parquet; a header only under `additive`), and a missing required column, or a Parquet type that does not convert without loss, rejects the file with the column diff.
   */
  schemaPolicy?: 'strict' | 'additive';
  /**
   * Allowed values for key fields: a file whose key holds another value is rejected. Each is a list or `{ lookup: NAME }` (the lookup's keys, or its items if it is a list); the effective configuration holds the resolved lists.
   */
  keyFieldValues?: {
    [k: string]: ValuesOrLookup;
  };
  /**
   * Known members: the values one key field may take per value of another (e.g. the stores of each province). A file of an unknown member is rejected with a reason.
   */
  members?: Members;
  /**
   * The dataset's files are manifests of another dataset's parts (used by a `manifest` precondition).
   */
  manifest?: Manifest;
  /**
   * Key fields that become Hive partitions under `processed/<name>/dt=<date>/` (in this order). Every key field in a folder of `keyPattern` (other than `dateField`) must be one, so that files of the same name in different folders do not share a Parquet key.
   */
  partitionBy?: Identifier[];
  /**
   * Key field holding the file's business date (a `{field:YYYYMMDD}`, `{field:YYYY-MM-DD}` or `{field:YYYY/MM/DD}` placeholder), written as `dt=`.
   */
  dateField: Identifier;
  /**
   * A file whose share of bad rows exceeds this (0–1) is rejected as mostly bad.
   */
  maxBadRowRatio?: number;
}

/**
 * One column of a dataset. A row whose value does not fit its column is a bad row.
 */
export interface Column {
  /**
   * Output column name, also the header text expected in the file (and, in JSON, the field read unless `path` says another).
   */
  name: Identifier;
  /**
   * The column's type. `string`; `integer` a 64-bit integer (BIGINT); `decimal` an exact DECIMAL(precision, scale) (needs `scale`); `double` a 64-bit float (DOUBLE; no NaN or infinity); `boolean` (BOOLEAN; read from true/false, t/f, yes/no, y/n, 1/0 in any case); `date` (DATE), `timestamp` (UTC; written in Parquet as TIMESTAMP, in Glue as timestamp) and `time` read ISO 8601 unless `format` says otherwise; a `time` of day is written as a string `HH:MM:SS[.ffffff]` (Athena has no time type; Glue string, Redshift VARCHAR); `struct` (with `fields`) and `list` (with `items`) hold nested JSON or Parquet values, written as Parquet structs and lists (Glue struct<…> and array<…>, Redshift SUPER); only JSON and Parquet datasets have them.
   */
  kind: 'string' | 'integer' | 'decimal' | 'double' | 'boolean' | 'date' | 'timestamp' | 'time' | 'struct' | 'list';
  /**
   * For `decimal` (and required by it): the most digits allowed after the point (0–18). Not allowed for other kinds.
   */
  scale?: number;
  /**
   * For `decimal`: the most digits in all (scale included, 1–38; default 18). A value has at most `precision - scale` digits before the point (and 16 at most, unless the precision is above 18).
   */
  precision?: number;
  /**
   * For `date`, `timestamp` and `time`: how values are written, with the tokens `YYYY`, `MM`, `DD`, `HH`, `mm`, `ss` and `SSS` (fraction) between literal characters (`DD.MM.YYYY`, `DD/MM/YYYY HH:mm`); for `timestamp` also `iso` (ISO 8601 with `Z` or an offset such as `+02:00`, converted to UTC), `epochSeconds` or `epochMillis`. A timestamp written without an offset is UTC. Default: ISO 8601 (`YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, `HH:MM:SS[.ffffff]`).
   */
  format?: NonEmptyString;
  /**
   * For `struct` (and required by it): the struct's fields.
   *
   * @minItems 1
   */
  fields?: StructField[];
  /**
   * For `list` (and required by it): the type of the list's items.
   */
  items?: ListItem;
  /**
   * JSON datasets: the dotted path of the value in each record (`user.geo.country`); a missing path is null. Parquet datasets: the file's column name when it is not the column's (`CUSTOMER_ID`, as AWS DMS writes it). Default: the column's name.
   */
  path?: string;
  /**
   * Values outside this list make the row bad (e.g. known transaction codes).
   */
  allowed?: (string | number)[];
  /**
   * The row's value must equal this key field of the file's key (e.g. the file's store). A `timestamp` column names a date key field: its UTC date must equal it.
   */
  equalsKeyField?: Identifier;
  /**
   * An empty value, a null marker, a missing JSON path or a JSON null is allowed and becomes NULL.
   */
  nullable?: boolean;
  /**
   * For `string`: the most UTF-8 bytes a value may have (1–65535; default 65535, what a warehouse VARCHAR holds: every string column may reach a warehouse table through a job's SQL). A longer value makes the row bad, unless `onTooLong` is `truncate`. Bytes, not characters: `é` is 2 bytes, `€` 3.
   */
  maxBytes?: number;
  /**
   * For `string`: what a value longer than `maxBytes` (default 65535) does. `reject` (default): the row is bad, with a reason naming the column and the limit. `truncate`: the value is cut to `maxBytes` at a UTF-8 character boundary and the row is kept; the file's row counts record how many rows were (`truncated`).
   */
  onTooLong?: 'reject' | 'truncate';
}

/**
 * How a dataset's files are laid out: delimited text, fixed-width text, JSON lines or records, or Parquet; text may be compressed (gzip, zstd) and in another encoding.
 */
export type Format = DelimitedFormat | FixedWidthFormat | JsonlFormat | JsonFormat | ParquetFormat;

/**
 * Delimited text: a header line (the column names) then one row per line, unless `header` is false.
 */
export interface DelimitedFormat {
  /**
   * Delimited text.
   */
  kind: 'delimited';
  /**
   * The one character between values: `,`, `\t`, `;`, `|` or any other (not a quote or a line end).
   */
  delimiter: string;
  /**
   * Lines starting with this prefix are dropped and counted, not errors (some store systems add them).
   */
  junkLinePrefix?: NonEmptyString;
  /**
   * The character around a value that holds the delimiter (on one line). Default `"`, none for tab-delimited files; `""` for none.
   */
  quote?: string;
  /**
   * The character before a quote inside a quoted value. Default: the quote itself (a doubled quote, RFC 4180); `\\` for backslash escapes.
   */
  escape?: string;
  /**
   * The first line (after `skipLines`) is the header. `false`: every line is a row, its columns in the declared order.
   */
  header?: boolean;
  /**
   * Lines skipped at the start of the file, before the header (counted as junk).
   */
  skipLines?: number;
  /**
   * Lines starting with this are comments: skipped and counted as junk.
   */
  commentPrefix?: NonEmptyString;
  /**
   * Values read as null, besides an empty value (`\\N`, `NULL`).
   */
  nullMarkers?: NonEmptyString[];
  /**
   * Decimals and doubles are written with a decimal comma (`1234,56`).
   */
  decimalComma?: boolean;
  /**
   * The text's character encoding (default `utf-8`).
   */
  encoding?: Encoding;
  /**
   * How the file is compressed (default `auto`: told from its first bytes).
   */
  compression?: Compression;
}

/**
 * One JSON object per line; the columns are its fields (others are ignored). No header line.
 */
export interface JsonlFormat {
  /**
   * JSON lines.
   */
  kind: 'jsonl';
  /**
   * The text's character encoding (default `utf-8`).
   */
  encoding?: Encoding;
  /**
   * How the file is compressed (default `auto`: told from its first bytes).
   */
  compression?: Compression;
}

/**
 * The allowed values of one key field: a list, or `{ lookup: NAME }` (a list lookup's items or a map lookup's keys).
 */
export type ValuesOrLookup = NonEmptyString[] | LookupReference;

/**
 * Values taken from a lookup: a list lookup's items, or a map lookup's keys.
 */
export interface LookupReference {
  /**
   * The name of a lookup.
   */
  lookup: Identifier;
}

/**
 * The values key field `field` may take per value of key field `per` (e.g. the stores of each province). A file of an unknown member is rejected with a reason, so a stray store id never counts toward "5 stores of ON". Give either `values` or `lookup`; the effective configuration holds `values`.
 */
export interface Members {
  /**
   * The key field whose values are the members (e.g. `store`).
   */
  field: Identifier;
  /**
   * The key field the members are listed per (e.g. `province`); not `field` itself.
   */
  per: Identifier;
  /**
   * The members of each value of `per`.
   */
  values?: {
    [k: string]: NonEmptyString[];
  };
  /**
   * A map lookup from each value of `per` to its list of members.
   */
  lookup?: Identifier;
}

/**
 * The dataset's files are manifests of another dataset's parts. Validation records the list or count with the file's state; a `manifest` precondition uses it.
 */
export interface Manifest {
  /**
   * The column naming a part (`lists`: one part per good row), or holding how many parts there are (`counts`: the single row's value; an `integer` column).
   */
  column: Identifier;
  /**
   * `lists`: each row names one part. `counts`: the file holds the number of parts.
   */
  kind?: 'lists' | 'counts';
}

/**
 * A job runs once per batch (one value of each batch key field, e.g. a province's day) when its preconditions are met, and again whenever a newer input lands. Its stages write the output partition of the batch.
 */
export interface Job {
  /**
   * Job name (not also a dataset's name: a job's output partitions are tracked under it).
   */
  name: Identifier;
  /**
   * The freshness deadline of each batch.
   */
  freshness?: Freshness;
  /**
   * A batch still incomplete at its cut-off runs with the files that arrived (none in flight, at least one selected); the run records the preconditions it ran without.
   */
  cutoff?: Cutoff;
  /**
   * A burst of landings starts one run: a run first waits this long, then takes the batch's newest inputs, and waits again while they keep changing (at most 5 times); not past the batch's cut-off or freshness deadline. 0 runs at once on the inputs that made the batch ready.
   */
  settleSeconds?: number;
  /**
   * Key fields that identify a batch; each is matched by an input, and a field an input does not match must be listed by another (`keyFieldValues`).
   *
   * @minItems 1
   */
  batchKey: Identifier[];
  /**
   * Derived (the effective configuration prints it): the batch key field holding the business date, the inputs' date field. If given, it must be that field.
   */
  dateField?: Identifier;
  /**
   * What the job reads: landed datasets or other jobs' outputs (at least one).
   *
   * @minItems 1
   */
  inputs: Input[];
  /**
   * Conditions a batch must meet before the job runs; the unmet ones are recorded as "waiting for".
   */
  preconditions?: Precondition[];
  /**
   * `duckdb`: SQL stages in DuckDB. `emr`: Spark stages on EMR. `auto`: DuckDB up to `autoThresholdBytes` of input, Spark on EMR above (every stage has both).
   */
  engine?: 'duckdb' | 'emr' | 'auto';
  /**
   * What a change of the job's code does to batches that already succeeded with older code (its code hash: the SQL and Spark stage files' contents and the configuration that changes results; see docs/backfill.md). `manual`: nothing runs; the batches show as stale in `landfall status` and `explain` until new inputs land or `landfall backfill` re-runs them. `rerun`: the next resolver pass over a stale batch (a landing, the reconciler's re-resolve, a backfill) runs it once with the new code.
   */
  onCodeChange?: 'manual' | 'rerun';
  /**
   * The engine router's threshold for `auto`, in bytes of input (default: the measured DuckDB limit).
   */
  autoThresholdBytes?: number;
  /**
   * The resources of the job's Spark steps (engine `emr`, or `auto` when it runs on EMR): memory, cores, executors and Spark properties. Not allowed on a `duckdb` job.
   */
  spark?: SparkResources;
  /**
   * The steps of a run, in order (at least one).
   *
   * @minItems 1
   */
  stages: Stage[];
  /**
   * The curated table the job writes.
   */
  output: Output;
  /**
   * Warehouse loads after the curated write (Redshift through the Data API), one per table.
   */
  load?: Load[];
  /**
   * Checks on the batch's output, run before it replaces the curated partition and before any warehouse load (see docs/checks.md). A failed `error` check ends the run CHECK_FAILED with nothing published; a failed `warn` check is published, recorded on the run and alerted once. DuckDB runs them in the transform, Spark in the EMR step (the same rules, as Spark SQL; a `sql` check or a `reconcile` expression is then Spark SQL). On a job writing several tables (`output.tables`), each check names the table it reads (`table`).
   */
  checks?: Check[];
}

/**
 * One relation a job's stages read: the files of a landed dataset, or the partitions of another job's successful runs. Names either `dataset` or `job`.
 */
export interface Input {
  /**
   * The relation (table) name the job's SQL reads; preconditions name the input by it.
   */
  relation: Identifier;
  /**
   * A landed dataset to read…
   */
  dataset?: Identifier;
  /**
   * …or another job whose output partitions to read (a job writing a single table).
   */
  job?: Identifier;
  /**
   * Derived (the effective configuration prints it): the name the files are tracked under, i.e. the dataset or job named. If given, it must be that name.
   */
  source?: Identifier;
  /**
   * Key fields whose values must equal the batch's (e.g. province and date); must include the source's date field and be in `batchKey`.
   *
   * @minItems 1
   */
  match: Identifier[];
  /**
   * `append`: every file counts. `cumulative`: each file holds everything so far, so only the newest per `newestPer` (by `newestBy`) is read. Default `append`, or `cumulative` when `newestPer`/`newestBy` are given.
   */
  mode?: 'append' | 'cumulative';
  /**
   * Cumulative files: keep only the newest file per value of this key field (e.g. the store)…
   */
  newestPer?: Identifier;
  /**
   * …by this key field (e.g. the file's time).
   */
  newestBy?: Identifier;
}

/**
 * A condition a batch must meet before its job runs, chosen by `kind`; the unmet ones are recorded as "waiting for". `input` and `manifest` name an input by its `relation`.
 */
export type Precondition = MinDistinct | Present | NewerThanLastRun | MinTotalBytes | ManifestPrecondition;

/**
 * At least `count` distinct values of key field `field` among the input's files (e.g. every store of the province has sent a file).
 */
export interface MinDistinct {
  /**
   * Distinct values.
   */
  kind: 'minDistinct';
  /**
   * The input (its `relation`) whose files are counted.
   */
  input: Identifier;
  /**
   * The input's key field whose distinct values are counted.
   */
  field: Identifier;
  /**
   * How many distinct values are needed.
   */
  count: Count;
}

/**
 * At least one file of the input (e.g. the day's Item.csv).
 */
export interface Present {
  /**
   * Presence.
   */
  kind: 'present';
  /**
   * The input (its `relation`) that must have a file.
   */
  input: Identifier;
}

/**
 * The inputs differ from the ones the last successful run read.
 */
export interface NewerThanLastRun {
  /**
   * New input since the last successful run.
   */
  kind: 'newerThanLastRun';
}

/**
 * The input's files add up to at least `bytes`.
 */
export interface MinTotalBytes {
  /**
   * Total size.
   */
  kind: 'minTotalBytes';
  /**
   * The input (its `relation`) whose files are summed.
   */
  input: Identifier;
  /**
   * The least total size, in bytes.
   */
  bytes: number;
}

/**
 * The parts a manifest file lists (or counts) are all among the input's files.
 */
export interface ManifestPrecondition {
  /**
   * Complete per manifest.
   */
  kind: 'manifest';
  /**
   * The input (its `relation`) holding the parts.
   */
  input: Identifier;
  /**
   * The input (its `relation`) reading a dataset declared with `manifest`.
   */
  manifest: Identifier;
  /**
   * The key field of `input` that names a part.
   */
  field: Identifier;
}

/**
 * How many distinct values a `minDistinct` needs: a whole number, or a lookup.
 */
export type Count = number | LookupCount;

/**
 * A count looked up by the batch's value of `by` (a number as is, a list by its length), or without `by` the lookup's size (its items or keys).
 */
export interface LookupCount {
  /**
   * The name of a lookup.
   */
  lookup: Identifier;
  /**
   * A batch key field: the batch's value selects the lookup's entry (a map lookup, with an entry for every listed value).
   */
  by?: Identifier;
}

/**
 * One step of a job's run. A `duckdb` job's stages give `sql`, an `emr` job's give `spark`, an `auto` job's give both.
 */
export interface Stage {
  /**
   * Stage name (unique within the job).
   */
  name: Identifier;
  /**
   * The stage's versioned SQL file, `<name>.v<N>.sql` (a new version re-runs the batches it changes); relative to the configuration's folder, absolute once loaded. Required unless the engine is `emr`, not allowed with `emr`.
   */
  sql?: string;
  /**
   * The stage's Spark module, a `.py` file defining `run(spark, ctx)` (see the README, Spark stages); relative to the configuration's folder, absolute once loaded. The pipeline's Spark modules ship to EMR as one Python package, `landfall_pipeline`, rooted at the folder holding them all, so a module may import its siblings; their file and folder names must be Python names. Required unless the engine is `duckdb`, not allowed with `duckdb`.
   */
  spark?: string;
}

/**
 * An `emr` or `auto` job's Spark resources: spark-submit options of each of its EMR steps, placed after the deployment's (`SPARK_SUBMIT_ARGS`), so the job's values win. Locally (`local[2]`) the executors are the driver's threads: only `driverMemory` and `conf` take effect there.
 */
export interface SparkResources {
  /**
   * The driver's heap (`--driver-memory`), 512m to 1t. Also the heap of a local run.
   */
  driverMemory?: SparkMemory;
  /**
   * The driver's cores (`--driver-cores`), in YARN's cluster deploy mode only (in client mode the driver is the spark-submit process).
   */
  driverCores?: number;
  /**
   * Each executor's heap (`--executor-memory`), 512m to 1t; with its overhead it must fit the cluster's largest YARN container.
   */
  executorMemory?: SparkMemory;
  /**
   * Each executor's cores (`--executor-cores`).
   */
  executorCores?: number;
  /**
   * How many executors (`--num-executors`); with dynamic allocation (EMR's default) the initial count.
   */
  executorInstances?: number;
  /**
   * Other Spark properties, one `--conf key=value` each (in key order; `true` is passed as `true`, `200` as `200`). Not the properties of the fields above, nor those the engine owns (see Spark property in the value types).
   */
  conf?: {
    [k: string]: string | number | boolean;
  };
}

/**
 * The curated table a job writes, one partition per batch, under `curated/<table>/`.
 */
export interface Output {
  /**
   * The curated table (written by this job only).
   */
  table: Identifier;
  /**
   * Batch key fields that name the output partition, in path order: every batch key field.
   *
   * @minItems 1
   */
  partitionBy: Identifier[];
  /**
   * Columns that identify a row (the curated CSV export sorts by them).
   *
   * @minItems 1
   */
  key: Identifier[];
  /**
   * An `emr` job writing several tables under `curated/<table>/<name>/`: each table's key columns, or `{ key, columns }` with the columns its Parquet files hold (the Glue table and the warehouse load need them). Another job cannot read such a job.
   */
  tables?: {
    [k: string]:
      | Identifier[]
      | {
          /**
           * Columns that identify a row of the table.
           *
           * @minItems 1
           */
          key: Identifier[];
          /**
           * The columns its Parquet files hold, in file order.
           */
          columns?: OutputColumns;
        };
  };
  /**
   * An `emr` job's single table: the columns its Parquet files hold, in file order (a SQL job's columns are its SQL's). Not with `tables`.
   */
  columns?: OutputColumns;
}

/**
 * The columns each Parquet file of a table holds, in file order (a warehouse COPY maps them by position): a map of name to type, or a list of `{ name, type }` (the effective form).
 */
export type OutputColumns =
  | {
      [k: string]: ColumnType;
    }
  | {
      /**
       * The column's name.
       */
      name: Identifier;
      /**
       * Its type.
       */
      type: ColumnType;
    }[];

/**
 * A Hive type Athena and Redshift read exactly: string, bigint, int, smallint, tinyint, double, float, boolean, date, timestamp, binary, decimal(p,s) (p ≤ 38).
 */
export type ColumnType = string;

/**
 * After the curated write, the batch's objects are loaded into Redshift in one transaction: COPY into a staging table, then the batch's partition replaced (`replace`) or a MERGE on the key (`merge`), and an audit row.
 */
export interface Load {
  /**
   * The job's output table (`output.table`, or one of `output.tables`).
   */
  table: Identifier;
  /**
   * The warehouse table (default: the same name).
   */
  into?: Identifier;
  /**
   * Columns identifying a row (default: the output table's key).
   *
   * @minItems 1
   */
  key?: Identifier[];
  /**
   * `replace` (default): delete the batch's partition rows, then insert the batch's; `merge`: MERGE on the key.
   */
  mode?: 'replace' | 'merge';
}

/**
 * When a batch is due: on its business date (+ `dayOffset` days) at `deadline` local time in `timeZone`. A batch not succeeded by then is alerted once, with what it waits for.
 */
export interface Freshness {
  /**
   * The local time the batch is due.
   */
  deadline: LocalTime;
  /**
   * The deadline's time zone.
   */
  timeZone: TimeZone;
  /**
   * Days after the business date.
   */
  dayOffset?: DayOffset;
}

/**
 * Run at a local time with what has arrived, if the batch is not complete by then: on its business date (+ `dayOffset` days) at `at` in `timeZone`.
 */
export interface Cutoff {
  /**
   * The local time of the cut-off.
   */
  at: LocalTime;
  /**
   * The cut-off's time zone.
   */
  timeZone: TimeZone;
  /**
   * Days after the business date.
   */
  dayOffset?: DayOffset;
}

/**
 * A lower-case name: letters, digits and `_`, not starting with a digit; at most 127 characters (a Redshift table's or column's name).
 */
export type Identifier = string;

/**
 * A non-empty string.
 */
export type NonEmptyString = string;

/**
 * A 24-hour local time, e.g. `"18:00"` (quote it in YAML).
 */
export type LocalTime = string;

/**
 * An IANA time zone, e.g. `America/Toronto`.
 */
export type TimeZone = string;

/**
 * A whole number of days, 0 to 31 (default 0).
 */
export type DayOffset = number;

/**
 * A JVM memory size: a whole number and one unit k, m, g or t, e.g. `512m`, `4g`, `2G` (spark-submit hands the driver's to the JVM as `-Xmx`, which takes no other form; a bare number would be bytes).
 */
export type SparkMemory = string;

/**
 * A Spark property name: `spark.` and dot-separated words. Refused: the properties with a field of their own (`spark.driver.memory`, `spark.driver.cores`, `spark.executor.memory`, `spark.executor.cores`, `spark.executor.instances`), and the engine's: `spark.master`, `spark.app.name`, `spark.submit.*` (how the step is submitted), `spark.yarn.*` (how YARN runs and supervises it) and the settings every session forces (`spark.sql.session.timeZone`, `spark.sql.sources.partitionOverwriteMode`, `spark.sql.parquet.datetimeRebaseModeInRead`, `spark.sql.parquet.int96RebaseModeInRead`).
 */
export type SparkProperty = string;

/**
 * One field of a `struct` column.
 */
export interface StructField {
  /**
   * The field's name (in JSON, its key).
   */
  name: Identifier;
  /**
   * The column's type. `string`; `integer` a 64-bit integer (BIGINT); `decimal` an exact DECIMAL(precision, scale) (needs `scale`); `double` a 64-bit float (DOUBLE; no NaN or infinity); `boolean` (BOOLEAN; read from true/false, t/f, yes/no, y/n, 1/0 in any case); `date` (DATE), `timestamp` (UTC; written in Parquet as TIMESTAMP, in Glue as timestamp) and `time` read ISO 8601 unless `format` says otherwise; a `time` of day is written as a string `HH:MM:SS[.ffffff]` (Athena has no time type; Glue string, Redshift VARCHAR); `struct` (with `fields`) and `list` (with `items`) hold nested JSON or Parquet values, written as Parquet structs and lists (Glue struct<…> and array<…>, Redshift SUPER); only JSON and Parquet datasets have them.
   */
  kind: 'string' | 'integer' | 'decimal' | 'double' | 'boolean' | 'date' | 'timestamp' | 'time' | 'struct' | 'list';
  /**
   * For `decimal` (and required by it): the most digits allowed after the point (0–18). Not allowed for other kinds.
   */
  scale?: number;
  /**
   * For `decimal`: the most digits in all (scale included, 1–38; default 18). A value has at most `precision - scale` digits before the point (and 16 at most, unless the precision is above 18).
   */
  precision?: number;
  /**
   * For `date`, `timestamp` and `time`: how values are written, with the tokens `YYYY`, `MM`, `DD`, `HH`, `mm`, `ss` and `SSS` (fraction) between literal characters (`DD.MM.YYYY`, `DD/MM/YYYY HH:mm`); for `timestamp` also `iso` (ISO 8601 with `Z` or an offset such as `+02:00`, converted to UTC), `epochSeconds` or `epochMillis`. A timestamp written without an offset is UTC. Default: ISO 8601 (`YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, `HH:MM:SS[.ffffff]`).
   */
  format?: NonEmptyString;
  /**
   * For `struct` (and required by it): the struct's fields.
   *
   * @minItems 1
   */
  fields?: StructField[];
  /**
   * For `list` (and required by it): the type of the list's items.
   */
  items?: ListItem;
  /**
   * A missing or null value is allowed.
   */
  nullable?: boolean;
}

/**
 * The type of a `list` column's items.
 */
export interface ListItem {
  /**
   * The column's type. `string`; `integer` a 64-bit integer (BIGINT); `decimal` an exact DECIMAL(precision, scale) (needs `scale`); `double` a 64-bit float (DOUBLE; no NaN or infinity); `boolean` (BOOLEAN; read from true/false, t/f, yes/no, y/n, 1/0 in any case); `date` (DATE), `timestamp` (UTC; written in Parquet as TIMESTAMP, in Glue as timestamp) and `time` read ISO 8601 unless `format` says otherwise; a `time` of day is written as a string `HH:MM:SS[.ffffff]` (Athena has no time type; Glue string, Redshift VARCHAR); `struct` (with `fields`) and `list` (with `items`) hold nested JSON or Parquet values, written as Parquet structs and lists (Glue struct<…> and array<…>, Redshift SUPER); only JSON and Parquet datasets have them.
   */
  kind: 'string' | 'integer' | 'decimal' | 'double' | 'boolean' | 'date' | 'timestamp' | 'time' | 'struct' | 'list';
  /**
   * For `decimal` (and required by it): the most digits allowed after the point (0–18). Not allowed for other kinds.
   */
  scale?: number;
  /**
   * For `decimal`: the most digits in all (scale included, 1–38; default 18). A value has at most `precision - scale` digits before the point (and 16 at most, unless the precision is above 18).
   */
  precision?: number;
  /**
   * For `date`, `timestamp` and `time`: how values are written, with the tokens `YYYY`, `MM`, `DD`, `HH`, `mm`, `ss` and `SSS` (fraction) between literal characters (`DD.MM.YYYY`, `DD/MM/YYYY HH:mm`); for `timestamp` also `iso` (ISO 8601 with `Z` or an offset such as `+02:00`, converted to UTC), `epochSeconds` or `epochMillis`. A timestamp written without an offset is UTC. Default: ISO 8601 (`YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, `HH:MM:SS[.ffffff]`).
   */
  format?: NonEmptyString;
  /**
   * For `struct` (and required by it): the struct's fields.
   *
   * @minItems 1
   */
  fields?: StructField[];
  /**
   * For `list` (and required by it): the type of the list's items.
   */
  items?: ListItem;
  /**
   * A missing or null value is allowed.
   */
  nullable?: boolean;
}

/**
 * The text's character encoding; other encodings are converted to UTF-8 as the file is read, and a line holding bytes the encoding does not define is a bad row.
 */
export type Encoding = 'utf-8' | 'iso-8859-1' | 'windows-1252';

/**
 * `auto` (the default) tells gzip and zstd from the file's first bytes, whatever its name; `none`, `gzip` or `zstd` insist. A corrupt or truncated compressed file is rejected whole.
 */
export type Compression = 'auto' | 'none' | 'gzip' | 'zstd';

/**
 * JSON records, each a row (objects; other fields are ignored, nested values kept for `struct` and `list` columns). A malformed record is a bad row.
 */
export interface JsonFormat {
  /**
   * JSON records.
   */
  kind: 'json';
  /**
   * How records are laid out: `lines` (one per line), `concatenated` (one after another, with or without whitespace between them, as Kinesis Data Firehose writes them) or `array` (the elements of one top-level array).
   */
  records?: 'lines' | 'concatenated' | 'array';
  /**
   * The text's character encoding (default `utf-8`).
   */
  encoding?: Encoding;
  /**
   * How the file is compressed (default `auto`: told from its first bytes).
   */
  compression?: Compression;
}

/**
 * Fixed-width text: each column takes a set number of characters of every line.
 */
export interface FixedWidthFormat {
  /**
   * Fixed-width columns.
   */
  kind: 'fixedWidth';
  /**
   * Each column's width in characters, in the declared column order (values are trimmed).
   *
   * @minItems 1
   */
  widths: number[];
  /**
   * The first line (after `skipLines`) is a header (skipped, counted as junk).
   */
  header?: boolean;
  /**
   * Lines skipped at the start of the file, before the header (counted as junk).
   */
  skipLines?: number;
  /**
   * Lines starting with this are comments: skipped and counted as junk.
   */
  commentPrefix?: NonEmptyString;
  /**
   * Values read as null, besides an empty value (`\\N`, `NULL`).
   */
  nullMarkers?: NonEmptyString[];
  /**
   * Decimals and doubles are written with a decimal comma (`1234,56`).
   */
  decimalComma?: boolean;
  /**
   * The text's character encoding (default `utf-8`).
   */
  encoding?: Encoding;
  /**
   * How the file is compressed (default `auto`: told from its first bytes).
   */
  compression?: Compression;
}

/**
 * Parquet files (an AWS DMS load, a Glue or Aurora export): each column is read by name and must convert to the declared type without loss; a file whose columns do not is rejected with the column diff.
 */
export interface ParquetFormat {
  /**
   * Parquet.
   */
  kind: 'parquet';
}

/**
 * A kind of zip archive: verified whole (names, sizes, checksums, limits) before any member is unpacked, so a corrupt archive, a member path with `..` or an absolute path, or a zip bomb is rejected whole and none of its rows count.
 */
export interface Archive {
  /**
   * Key pattern of the archives, relative to `landing/` (placeholders as a dataset's).
   */
  keyPattern: string;
  /**
   * Most members (files) an archive may hold.
   */
  maxMembers?: number;
  /**
   * Most bytes its members may hold in all, unpacked.
   */
  maxUnpackedBytes?: number;
  /**
   * Most a member may grow when unpacked (unpacked bytes / packed bytes): a zip bomb grows by thousands.
   */
  maxRatio?: number;
}

/**
 * One rule on a job's output (the rows the last stage wrote, the relation `output`; on a job writing several tables, the rows of the `table` it names), with exactly one of `unique`, `notNull`, `acceptedValues`, `referential`, `rowCount`, `reconcile` or `sql`. Its result (passed, the failing count, up to 10 failing rows) is recorded on the run.
 */
export interface Check {
  /**
   * How results and alerts name the check (unique within the job; default: the rule and its columns, e.g. `unique store_id, item_id`).
   */
  name?: string;
  /**
   * The table the check reads as `output`, on a job writing several tables (`output.tables`; required there, one of its tables): that table's batch partition as the step staged it. A failed `error` check on any table publishes none of them. Not allowed on a job writing one table (its checks read that table). The default name starts with it (`funnel: unique date, step_order`).
   */
  table?: Identifier;
  /**
   * `error` (default): a failure ends the run CHECK_FAILED and publishes nothing. `warn`: a failure is published, recorded and alerted once per run.
   */
  severity?: 'error' | 'warn';
  /**
   * No two output rows share these columns' values (`true`: the job's `output.key`, or on a check naming a `table` that table's `key`). Failing: each repeated value, with its number of rows.
   */
  unique?: true | Identifier[];
  /**
   * These columns are never null. Failing: each row with a null in one of them.
   *
   * @minItems 1
   */
  notNull?: Identifier[];
  /**
   * A column's values are among a list or a lookup's.
   */
  acceptedValues?: AcceptedValuesCheck;
  /**
   * A column's values are present in an input.
   */
  referential?: ReferentialCheck;
  /**
   * The row count within bounds.
   */
  rowCount?: RowCountCheck;
  /**
   * A total that must match the input's.
   */
  reconcile?: ReconcileCheck;
  /**
   * A custom assertion: a SELECT over `output` and the job's input relations whose rows are the failures (none returned: passed). Inline SQL, or `{ file: PATH }` (relative to the configuration's folder; read into the configuration when it is loaded).
   */
  sql?: string | SqlFile;
}

/**
 * A column's values are among a list (or a lookup's); nulls pass (`notNull` catches them). Values compare as text. Failing: each row with another value.
 */
export interface AcceptedValuesCheck {
  /**
   * The output column.
   */
  column: Identifier;
  /**
   * The accepted values: a list, or `{ lookup: NAME }`.
   */
  values: ValuesOrLookup;
}

/**
 * Every non-null value of an output column is present in a column of one of the job's input relations (a dataset or an upstream job's output, as the run read it). For values of a lookup, use `acceptedValues`. Failing: each output row whose value is missing.
 */
export interface ReferentialCheck {
  /**
   * The output column.
   */
  column: Identifier;
  /**
   * The input (its `relation`) holding the known values.
   */
  relation: Identifier;
  /**
   * The column of that input (default: `column`).
   */
  relationColumn?: Identifier;
}

/**
 * The output's row count within bounds: absolute (`min`, `max`), against the previous partition of the same batch (`minRatioOfPrevious`, `maxRatioOfPrevious`: skipped on a batch's first run), or against an input's rows (`input` with `minRatioOfInput`, `maxRatioOfInput`). At least one bound. Failing: 1, with the counts.
 */
export interface RowCountCheck {
  /**
   * The fewest rows.
   */
  min?: number;
  /**
   * The most rows.
   */
  max?: number;
  /**
   * The least ratio of this output's rows to the batch's previous partition's (0.5: no more than 50 % fewer).
   */
  minRatioOfPrevious?: number;
  /**
   * The greatest ratio of this output's rows to the previous partition's (2: at most twice as many).
   */
  maxRatioOfPrevious?: number;
  /**
   * The input (its `relation`) the input ratios compare with: all its rows the run read.
   */
  input?: Identifier;
  /**
   * The least ratio of output rows to the input's rows.
   */
  minRatioOfInput?: number;
  /**
   * The greatest ratio of output rows to the input's rows.
   */
  maxRatioOfInput?: number;
}

/**
 * A total of the output equals a total of an input, within `tolerance`: both are SQL aggregate expressions (over `output`, and over the input relation). Failing: 1, with both totals and their difference.
 */
export interface ReconcileCheck {
  /**
   * An aggregate expression over the output, e.g. `sum(sale_amount)`.
   */
  output: string;
  /**
   * The input's total.
   */
  input: {
    /**
     * The input (its `relation`).
     */
    relation: Identifier;
    /**
     * An aggregate expression over that input, e.g. `sum(amount) FILTER (WHERE transaction_code = 4)`.
     */
    expression: string;
  };
  /**
   * The largest absolute difference that passes (default 0).
   */
  tolerance?: number;
}

/**
 * A custom check's SQL in a file.
 */
export interface SqlFile {
  /**
   * The `.sql` file, relative to the configuration's folder.
   */
  file: string;
}
