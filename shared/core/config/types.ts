/*
 * The loaded configuration (what the parsers return and the engine reads), built on the types generated from
 * pipeline.schema.json (pipeline-input.generated.ts: the configuration as its author writes it). Each field is
 * declared and described once, in the schema; here is only what loading changes: defaults filled in, lookups
 * resolved, short forms expanded, derived fields set. A field the schema gains is in these types as written (and the
 * parser's list of the object's fields no longer compiles until it handles it); a field the schema lacks cannot be
 * added here.
 */
import type * as In from './pipeline-input.generated';

/** An object type written out (hovers and errors show its fields, not the helpers that made it). */
type Flat<T> = { [K in keyof T]: T[K] };

/** Fields that may only be fields of `I`. */
type OnlyFieldsOf<I, C> = { [K in keyof C]: K extends keyof I ? C[K] : never };

/**
 * The loaded form of the input object `I`: its fields, `Changed` replacing those the loader resolves or expands
 * (only fields of `I`), and `Dropped` left out (resolved into another field).
 */
type Loaded<I, Changed extends OnlyFieldsOf<I, Changed>, Dropped extends keyof I = never> = Flat<Omit<I, keyof Changed | Dropped> & Changed>;

/** `I` with the optional fields `K` always present: the loader fills in their defaults or derives them. */
type Filled<I, K extends keyof I> = Omit<I, K> & Required<Pick<I, K>>;

/** Column kinds a dataset may declare; each maps to one DuckDB type (see `duckdbType`). */
export type ColumnKind = In.Column['kind'];

export type ColumnSpec = In.Column;

export type DelimitedFormat = In.DelimitedFormat;

export type JsonLinesFormat = In.JsonlFormat;

/** How a dataset's files are laid out, as configured (shared/core/feeds decodes them into the canonical text the engine reads). */
export type DatasetFormat = In.Format;

export type FixedWidthFormat = In.FixedWidthFormat;

export type JsonFormat = In.JsonFormat;

export type DatasetConfig = Loaded<
  Filled<In.Dataset, 'partitionBy' | 'maxBadRowRatio'>,
  {
    /** Allowed values for key fields: a `{ lookup: NAME }` is resolved to the lookup's items (a list) or keys (a map). */
    keyFieldValues?: Record<string, string[]>;
    /** Known members (see the schema's Members): a `lookup` is resolved to its `values`. */
    members?: Loaded<In.Members, { values: Record<string, string[]> }, 'lookup'>;
    /** The dataset's files are manifests of another dataset's parts (`kind` defaults to `lists`). */
    manifest?: Required<In.Manifest>;
  }
>;

/**
 * A named table of values the configuration refers to: a list (`[EAST, WEST]`), or a map from a
 * key field's value to a number, a string or a list (`{ ON: 5, QC: 4 }`, `{ ON: [ON01, ON02] }`).
 */
export type Lookup = In.Lookup;

export type PipelineConfig = Loaded<Filled<In.Pipeline, 'lookups' | 'jobs'>, { archives?: ArchiveConfig[]; datasets: DatasetConfig[]; jobs: JobConfig[] }>;

/** A kind of zip archive whose members are landed files of their own, its limits filled in. */
export type ArchiveConfig = Required<In.Archive>;

/** How many distinct values a `minDistinct` needs: a number, or a lookup (by a batch key field). */
export type CountSpec = In.Count;

/** A condition a batch must meet before its job runs; the unmet ones are recorded as "waiting for". */
export type Precondition = In.Precondition;

/** One input of a job: `source` (the dataset or job named) is set by the loader, `mode` defaults by `newestPer`/`newestBy`. */
export type JobInput = Flat<Filled<In.Input, 'source' | 'mode'>>;

/** A stage: `sql` and `spark` are absolute paths once loaded. */
export type JobStage = In.Stage;

/** Run at a local time with what has arrived, if the batch is not complete by then. */
export type Cutoff = In.Cutoff;

/**
 * When a batch is due: on its business date (+ `dayOffset` days) at `deadline` local time in
 * `timeZone`. A batch not SUCCEEDED by then is alerted once, with what it waits for.
 */
export type Freshness = In.Freshness;

export type JobConfig = Loaded<
  Filled<In.Job, 'dateField' | 'preconditions' | 'engine' | 'onCodeChange' | 'settleSeconds'>,
  {
    inputs: JobInput[];
    /** The curated table the job writes: `tables` given as key lists become `{ key }`, `columns` maps become lists. */
    output: Loaded<In.Output, { tables?: Record<string, OutputTable>; columns?: OutputColumn[] }>;
    /** Warehouse loads, their defaults filled in. */
    load?: WarehouseLoad[];
    /** Checks on the output (DuckDB runs), loaded. */
    checks?: OutputCheck[];
  }
>;

/**
 * A job's Spark resources: spark-submit options of each of its EMR steps, after the deployment's
 * (SPARK_SUBMIT_ARGS), so the job's values win. See `sparkResourceArgs` (shared/core/emr/spark-resources.ts).
 */
export type JobSparkResources = In.SparkResources;

/** A column of an output table as Athena and Redshift read it: a Hive type (string, bigint, decimal(18,2), date, …). */
export type OutputColumn = Extract<In.OutputColumns, unknown[]>[number];

/** One table of a job writing several: its key columns and (once declared) its columns, as a list. */
export type OutputTable = Loaded<Extract<NonNullable<In.Output['tables']>[string], { key: unknown }>, { columns?: OutputColumn[] }>;

/**
 * One table's load into the warehouse: COPY of the batch's objects, then replace its partition or merge on the key.
 * `into` defaults to the table, `key` to the output table's key, `mode` to `replace`.
 */
export type WarehouseLoad = Flat<Filled<In.Load, 'into' | 'key' | 'mode'>>;

/**
 * A check on a job's output (docs/checks.md), as loaded: exactly one rule; `name` and `severity` filled in,
 * `unique: true` expanded to the output key, `acceptedValues` of a lookup resolved to its values, a
 * referential check's `relationColumn` filled in, a `reconcile` tolerance filled in, and a `sql` file read
 * into the inline SQL (the loaded configuration is self-contained).
 */
export type OutputCheck = Loaded<
  Filled<In.Check, 'name' | 'severity'>,
  {
    unique?: string[];
    acceptedValues?: Loaded<In.AcceptedValuesCheck, { values: string[] }>;
    referential?: Filled<In.ReferentialCheck, 'relationColumn'>;
    reconcile?: Filled<In.ReconcileCheck, 'tolerance'>;
    sql?: string;
  }
>;

/** The rule of a check: the one rule field it has. */
export type OutputCheckRule = keyof Pick<OutputCheck, 'unique' | 'notNull' | 'acceptedValues' | 'referential' | 'rowCount' | 'reconcile' | 'sql'>;
