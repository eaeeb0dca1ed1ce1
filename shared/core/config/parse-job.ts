import { ConfigError } from '../errors';
import { lookupNamed } from './lookups';
import { keyFieldsOf } from './parse-dataset';
import { parseChecks } from './parse-checks';
import { parseSparkResources } from './parse-spark';
import type * as In from './pipeline-input.generated';
import { array, every, fieldsOf, identifier, localTime, noUnknownKeys, number, object, oneOf, string, type Obj } from './parse-values';
import type {
  CountSpec,
  Cutoff,
  DatasetConfig,
  Freshness,
  JobConfig,
  JobInput,
  JobStage,
  Lookup,
  OutputColumn,
  OutputTable,
  Precondition,
  WarehouseLoad,
} from './types';

// each object's fields and each choice's values, as the schema has them (a compile error otherwise)
const JOB_FIELDS = fieldsOf<In.Job>()([
  'name',
  'freshness',
  'cutoff',
  'settleSeconds',
  'batchKey',
  'dateField',
  'inputs',
  'preconditions',
  'engine',
  'onCodeChange',
  'autoThresholdBytes',
  'spark',
  'stages',
  'output',
  'load',
  'checks',
]);
/** How long a run waits for a burst of landings to end before it takes the batch's inputs (see RunInput.settle). */
export const DEFAULT_SETTLE_SECONDS = 10;
const ENGINES = every<JobConfig['engine']>()(['duckdb', 'emr', 'auto']);
const CODE_CHANGES = every<JobConfig['onCodeChange']>()(['manual', 'rerun']);
const INPUT_FIELDS = fieldsOf<In.Input>()(['relation', 'dataset', 'job', 'source', 'match', 'mode', 'newestPer', 'newestBy']);
const INPUT_MODES = every<JobInput['mode']>()(['append', 'cumulative']);
const PRECONDITION_KINDS = every<Precondition['kind']>()(['minDistinct', 'present', 'newerThanLastRun', 'minTotalBytes', 'manifest']);
const NEWER_THAN_LAST_RUN_FIELDS = fieldsOf<In.NewerThanLastRun>()(['kind']);
const PRESENT_FIELDS = fieldsOf<In.Present>()(['kind', 'input']);
const MIN_TOTAL_BYTES_FIELDS = fieldsOf<In.MinTotalBytes>()(['kind', 'input', 'bytes']);
const MANIFEST_PRECONDITION_FIELDS = fieldsOf<In.ManifestPrecondition>()(['kind', 'input', 'manifest', 'field']);
const MIN_DISTINCT_FIELDS = fieldsOf<In.MinDistinct>()(['kind', 'input', 'field', 'count']);
const LOOKUP_COUNT_FIELDS = fieldsOf<In.LookupCount>()(['lookup', 'by']);
const STAGE_FIELDS = fieldsOf<In.Stage>()(['name', 'sql', 'spark']);
const FRESHNESS_FIELDS = fieldsOf<In.Freshness>()(['deadline', 'timeZone', 'dayOffset']);
const CUTOFF_FIELDS = fieldsOf<In.Cutoff>()(['at', 'timeZone', 'dayOffset']);
const OUTPUT_FIELDS = fieldsOf<In.Output>()(['table', 'partitionBy', 'key', 'tables', 'columns']);
const OUTPUT_TABLE_FIELDS = fieldsOf<OutputTable>()(['key', 'columns']);
const OUTPUT_COLUMN_FIELDS = fieldsOf<OutputColumn>()(['name', 'type']);
const LOAD_FIELDS = fieldsOf<In.Load>()(['table', 'into', 'key', 'mode']);
const LOAD_MODES = every<WarehouseLoad['mode']>()(['replace', 'merge']);

/** What the loader knows of an input's source while parsing a job: its key fields, date field and listed values. */
export interface SourceShape {
  keyFields: string[];
  dateField: string;
  /** listed values of key fields (a dataset's keyFieldValues; an upstream job's enumerable batch keys) */
  listed: Record<string, string[]>;
  /** a landed dataset's manifest declaration */
  manifest?: DatasetConfig['manifest'];
  /** why another job cannot read this source (a job writing several tables) */
  notReadable?: string;
}

export interface JobContext {
  lookups: Record<string, Lookup>;
  datasets: Map<string, DatasetConfig>;
  /** each dataset's shape, computed once (it compiles the key pattern) */
  datasetShapes: Map<string, SourceShape>;
  /** jobs parsed before this one (every upstream job comes first: the loader parses in dependency order) */
  shapeOfJob: (name: string) => SourceShape | undefined;
  /** resolves a stage file (SQL or Spark module) against the configuration's folder; throws if missing */
  file: (path: string, field: string) => string;
}

/** The upstream jobs a raw job names in its inputs (for the dependency order, before parsing it). */
export function upstreamJobsOf(raw: unknown, field: string): string[] {
  const obj = object(raw, field);
  return array(obj.inputs ?? [], `${field}.inputs`)
    .map((input, i) => object(input, `${field}.inputs[${i}]`).job)
    .filter((job): job is string => typeof job === 'string');
}

export function datasetShape(dataset: DatasetConfig): SourceShape {
  return {
    keyFields: keyFieldsOf(dataset.keyPattern).names,
    dateField: dataset.dateField,
    listed: dataset.keyFieldValues ?? {},
    ...(dataset.manifest ? { manifest: dataset.manifest } : {}),
  };
}

function parseInput(raw: unknown, f: string, batchKey: string[], ctx: JobContext): { input: JobInput; shape: SourceShape } {
  const obj = object(raw, f);
  // `source` is what the loader derives (the effective configuration prints it): accepted back if it agrees
  noUnknownKeys(obj, INPUT_FIELDS, f);
  if ((obj.dataset === undefined) === (obj.job === undefined)) throw new ConfigError(f, 'an input names either a dataset or a job');
  let shape: SourceShape;
  let source: string;
  if (obj.dataset !== undefined) {
    const dataset = ctx.datasets.get(string(obj.dataset, `${f}.dataset`));
    if (!dataset) throw new ConfigError(`${f}.dataset`, `no dataset named "${obj.dataset as string}" (datasets: ${[...ctx.datasets.keys()].join(', ')})`);
    shape = ctx.datasetShapes.get(dataset.name)!;
    source = dataset.name;
  } else {
    const name = string(obj.job, `${f}.job`);
    const upstream = ctx.shapeOfJob(name);
    if (!upstream) throw new ConfigError(`${f}.job`, `no job named "${name}"`);
    if (upstream.notReadable) throw new ConfigError(`${f}.job`, upstream.notReadable);
    shape = upstream;
    source = name;
  }
  if (obj.source !== undefined && obj.source !== source)
    throw new ConfigError(`${f}.source`, `must be "${source}" (the ${obj.dataset !== undefined ? 'dataset' : 'job'} it names), or left out`);
  const what = obj.dataset !== undefined ? `dataset ${source}` : `job ${source}'s batch key`;
  const keyField = (v: unknown, ff: string) => {
    const name = identifier(v, ff);
    if (!shape.keyFields.includes(name)) throw new ConfigError(ff, `"${name}" is not a key field of ${what} (${shape.keyFields.join(', ')})`);
    return name;
  };
  const match = array(obj.match, `${f}.match`).map((m, j) => {
    const name = keyField(m, `${f}.match[${j}]`);
    if (!batchKey.includes(name)) throw new ConfigError(`${f}.match[${j}]`, `"${name}" is not in batchKey`);
    return name;
  });
  // the batch's date selects the input's files (one index query per input and day)
  if (!match.includes(shape.dateField)) throw new ConfigError(`${f}.match`, `must include the date field "${shape.dateField}" of ${what}`);
  const cumulative = obj.newestPer !== undefined || obj.newestBy !== undefined;
  const mode = oneOf(obj.mode ?? (cumulative ? 'cumulative' : 'append'), `${f}.mode`, INPUT_MODES);
  const input: JobInput = {
    relation: identifier(obj.relation, `${f}.relation`),
    ...(obj.dataset !== undefined ? { dataset: source } : { job: source }),
    source,
    match,
    mode,
  };
  if (mode === 'cumulative') {
    if (obj.newestPer === undefined || obj.newestBy === undefined)
      throw new ConfigError(`${f}.mode`, 'cumulative files need newestPer (the member) and newestBy (the key field that orders its files)');
    input.newestPer = keyField(obj.newestPer, `${f}.newestPer`);
    input.newestBy = keyField(obj.newestBy, `${f}.newestBy`);
  } else if (cumulative) {
    throw new ConfigError(`${f}.newestPer`, 'only a cumulative input keeps the newest file per member');
  }
  return { input, shape };
}

function parseCount(raw: unknown, f: string, batchKey: string[], ctx: JobContext, listedBy: (key: string) => string[] | undefined): CountSpec {
  if (typeof raw === 'number') return number(raw, f, 1, 1_000_000, true);
  const obj = object(raw, f);
  noUnknownKeys(obj, LOOKUP_COUNT_FIELDS, f);
  const { name, lookup } = lookupNamed(ctx.lookups, obj.lookup, `${f}.lookup`);
  if (obj.by === undefined) return { lookup: name };
  const by = identifier(obj.by, `${f}.by`);
  if (!batchKey.includes(by)) throw new ConfigError(`${f}.by`, `"${by}" is not in batchKey`);
  if (Array.isArray(lookup)) throw new ConfigError(`${f}.lookup`, `lookup "${name}" is a list; counting by ${by} needs a map from each ${by} to its count`);
  // every batch the job can have must find its count
  for (const value of listedBy(by) ?? []) {
    if (!(value in lookup)) throw new ConfigError(`${f}.lookup`, `lookup "${name}" has no entry for ${by} "${value}"`);
  }
  return { lookup: name, by };
}

function parsePrecondition(
  raw: unknown,
  f: string,
  inputs: Array<{ input: JobInput; shape: SourceShape }>,
  batchKey: string[],
  ctx: JobContext,
  listedBy: (key: string) => string[] | undefined,
): Precondition {
  const p = object(raw, f);
  const kind = oneOf(p.kind, `${f}.kind`, PRECONDITION_KINDS);
  if (kind === 'newerThanLastRun') {
    noUnknownKeys(p, NEWER_THAN_LAST_RUN_FIELDS, f);
    return { kind };
  }
  const inputNamed = (v: unknown, ff: string) => {
    const name = identifier(v, ff);
    const found = inputs.find((i) => i.input.relation === name);
    if (!found) throw new ConfigError(ff, `no input with relation "${name}"`);
    return found;
  };
  const { input, shape } = inputNamed(p.input, `${f}.input`);
  const keyField = (v: unknown, ff: string) => {
    const name = identifier(v, ff);
    if (!shape.keyFields.includes(name)) throw new ConfigError(ff, `"${name}" is not a key field of ${input.source}`);
    return name;
  };
  switch (kind) {
    case 'present':
      noUnknownKeys(p, PRESENT_FIELDS, f);
      return { kind, input: input.relation };
    case 'minTotalBytes':
      noUnknownKeys(p, MIN_TOTAL_BYTES_FIELDS, f);
      return { kind, input: input.relation, bytes: number(p.bytes, `${f}.bytes`, 0, Number.MAX_SAFE_INTEGER, true) };
    case 'manifest': {
      noUnknownKeys(p, MANIFEST_PRECONDITION_FIELDS, f);
      const manifest = inputNamed(p.manifest, `${f}.manifest`);
      if (!manifest.shape.manifest)
        throw new ConfigError(
          `${f}.manifest`,
          `input "${manifest.input.relation}" reads ${manifest.input.source}, which is not a manifest dataset (declare manifest: { column, kind })`,
        );
      return { kind, input: input.relation, manifest: manifest.input.relation, field: keyField(p.field, `${f}.field`) };
    }
    case 'minDistinct':
      noUnknownKeys(p, MIN_DISTINCT_FIELDS, f);
      return { kind, input: input.relation, field: keyField(p.field, `${f}.field`), count: parseCount(p.count, `${f}.count`, batchKey, ctx, listedBy) };
  }
}

function parseStage(raw: unknown, f: string, engine: JobConfig['engine'], ctx: JobContext): JobStage {
  const stage = object(raw, f);
  noUnknownKeys(stage, STAGE_FIELDS, f);
  const parsed: JobStage = { name: identifier(stage.name, `${f}.name`) };
  const needsSql = engine !== 'emr';
  const needsSpark = engine !== 'duckdb';
  if (needsSql) {
    const sql = string(stage.sql, `${f}.sql`);
    if (!/^[a-z0-9_]+\.v\d+\.sql$/.test(sql.split('/').pop()!))
      throw new ConfigError(`${f}.sql`, `"${sql}" is not a versioned SQL file (<name>.v<N>.sql: a new version re-runs the batches it changes)`);
    parsed.sql = ctx.file(sql, `${f}.sql`);
  } else if (stage.sql !== undefined) {
    throw new ConfigError(`${f}.sql`, 'an emr job runs Spark stages only (engine auto runs either)');
  }
  if (needsSpark) {
    const spark = string(stage.spark, `${f}.spark`);
    if (!spark.endsWith('.py')) throw new ConfigError(`${f}.spark`, `"${spark}" is not a Python module (.py)`);
    parsed.spark = ctx.file(spark, `${f}.spark`);
  } else if (stage.spark !== undefined) {
    throw new ConfigError(`${f}.spark`, 'a duckdb job runs SQL stages only (engine auto runs either)');
  }
  return parsed;
}

function parseFreshness(raw: unknown, field: string): Freshness {
  const obj = object(raw, field);
  noUnknownKeys(obj, FRESHNESS_FIELDS, field);
  const { time, ...rest } = localTime(obj, 'deadline', field);
  return { deadline: time, ...rest };
}

function parseCutoff(raw: unknown, field: string): Cutoff {
  const obj = object(raw, field);
  noUnknownKeys(obj, CUTOFF_FIELDS, field);
  const { time, ...rest } = localTime(obj, 'at', field);
  return { at: time, ...rest };
}

/** Parses one job; every job it reads has been parsed already (`ctx.shapeOfJob`). */
export function parseJob(raw: unknown, field: string, ctx: JobContext): JobConfig {
  const obj: Obj = object(raw, field);
  noUnknownKeys(obj, JOB_FIELDS, field);
  const name = identifier(obj.name, `${field}.name`);
  const batchKey = array(obj.batchKey, `${field}.batchKey`).map((k, i) => identifier(k, `${field}.batchKey[${i}]`));
  if (batchKey.length === 0) throw new ConfigError(`${field}.batchKey`, 'a batch key needs at least one field');
  const inputs = array(obj.inputs, `${field}.inputs`).map((rawInput, i) => parseInput(rawInput, `${field}.inputs[${i}]`, batchKey, ctx));
  if (inputs.length === 0) throw new ConfigError(`${field}.inputs`, 'a job needs at least one input');
  inputs.forEach(({ input }, i) => {
    if (inputs.findIndex((o) => o.input.relation === input.relation) !== i)
      throw new ConfigError(`${field}.inputs[${i}].relation`, `duplicate relation "${input.relation}"`);
  });
  const dateFields = [...new Set(inputs.map((i) => i.shape.dateField))];
  if (dateFields.length > 1) throw new ConfigError(`${field}.inputs`, `the inputs' date fields differ (${dateFields.join(', ')}): a batch has one date`);
  const dateField = dateFields[0]!;
  if (obj.dateField !== undefined && obj.dateField !== dateField)
    throw new ConfigError(`${field}.dateField`, `must be "${dateField}" (the inputs' date field), or left out`);
  // A batch key field an input does not match must be listed, so that one file of that input (the
  // day's Item.csv) can name every batch it completes.
  const listedBy = (key: string) => inputs.find((i) => i.input.match.includes(key) && i.shape.listed[key])?.shape.listed[key];
  inputs.forEach(({ input }, i) => {
    for (const key of batchKey.filter((k) => !input.match.includes(k))) {
      if (!listedBy(key))
        throw new ConfigError(`${field}.inputs[${i}].match`, `batch key "${key}" is neither matched nor listed (keyFieldValues) by any input`);
    }
  });
  for (const key of batchKey) {
    if (!inputs.some((i) => i.input.match.includes(key))) throw new ConfigError(`${field}.batchKey`, `"${key}" is matched by no input`);
  }
  const preconditions = array(obj.preconditions ?? [], `${field}.preconditions`).map((p, i) =>
    parsePrecondition(p, `${field}.preconditions[${i}]`, inputs, batchKey, ctx, listedBy),
  );
  const engine = oneOf(obj.engine ?? 'duckdb', `${field}.engine`, ENGINES);
  const spark = obj.spark !== undefined ? parseSparkResources(obj.spark, field, name, engine) : undefined;
  const stages = array(obj.stages, `${field}.stages`).map((s, i) => parseStage(s, `${field}.stages[${i}]`, engine, ctx));
  if (stages.length === 0) throw new ConfigError(`${field}.stages`, 'a job needs at least one stage');
  stages.forEach((s, i) => {
    if (stages.findIndex((o) => o.name === s.name) !== i) throw new ConfigError(`${field}.stages[${i}].name`, `duplicate stage "${s.name}"`);
  });
  const output = object(obj.output, `${field}.output`);
  noUnknownKeys(output, OUTPUT_FIELDS, `${field}.output`);
  const partitionBy = array(output.partitionBy, `${field}.output.partitionBy`).map((p, i) => {
    const key = identifier(p, `${field}.output.partitionBy[${i}]`);
    if (!batchKey.includes(key)) throw new ConfigError(`${field}.output.partitionBy[${i}]`, `"${key}" is not in batchKey`);
    return key;
  });
  // one batch, one partition: a partition shared by batches would be overwritten by each
  for (const key of batchKey) {
    if (!partitionBy.includes(key)) throw new ConfigError(`${field}.output.partitionBy`, `must include every batch key field; "${key}" is missing`);
  }
  const key = array(output.key, `${field}.output.key`).map((k, i) => identifier(k, `${field}.output.key[${i}]`));
  if (key.length === 0) throw new ConfigError(`${field}.output.key`, 'the output needs key columns');
  let tables: Record<string, OutputTable> | undefined;
  if (output.tables !== undefined) {
    if (engine !== 'emr') throw new ConfigError(`${field}.output.tables`, 'only an emr job writes several tables');
    tables = {};
    for (const [table, spec] of Object.entries(object(output.tables, `${field}.output.tables`))) {
      const f = `${field}.output.tables.${table}`;
      identifier(table, f);
      tables[table] = parseOutputTable(spec, f);
    }
  }
  if (output.columns !== undefined && engine !== 'emr')
    throw new ConfigError(`${field}.output.columns`, "a SQL job's columns are its SQL's: only an emr job declares them");
  if (output.columns !== undefined && tables)
    throw new ConfigError(`${field}.output.columns`, "a job writing several tables declares each table's columns in output.tables");
  const columns = output.columns !== undefined ? parseOutputColumns(output.columns, `${field}.output.columns`) : undefined;
  const table = identifier(output.table, `${field}.output.table`);
  const keysOf = new Map(tables ? Object.entries(tables).map(([t, spec]) => [t, spec.key]) : [[table, key]]);
  const load = obj.load !== undefined ? array(obj.load, `${field}.load`).map((l, i) => parseLoad(l, `${field}.load[${i}]`, keysOf)) : undefined;
  const checks =
    obj.checks !== undefined
      ? parseChecks(obj.checks, `${field}.checks`, {
          job: { name, engine, key, relations: inputs.map((i) => i.input.relation), ...(tables ? { tables } : {}) },
          lookups: ctx.lookups,
          file: ctx.file,
        })
      : undefined;
  return {
    name,
    ...(obj.freshness !== undefined ? { freshness: parseFreshness(obj.freshness, `${field}.freshness`) } : {}),
    ...(obj.cutoff !== undefined ? { cutoff: parseCutoff(obj.cutoff, `${field}.cutoff`) } : {}),
    settleSeconds: number(obj.settleSeconds ?? DEFAULT_SETTLE_SECONDS, `${field}.settleSeconds`, 0, 900, true),
    batchKey,
    dateField,
    inputs: inputs.map((i) => i.input),
    preconditions,
    engine,
    onCodeChange: oneOf(obj.onCodeChange ?? 'manual', `${field}.onCodeChange`, CODE_CHANGES),
    ...(obj.autoThresholdBytes !== undefined
      ? { autoThresholdBytes: number(obj.autoThresholdBytes, `${field}.autoThresholdBytes`, 0, Number.MAX_SAFE_INTEGER, true) }
      : {}),
    ...(spark ? { spark } : {}),
    stages,
    output: { table, partitionBy, key, ...(tables ? { tables } : {}), ...(columns ? { columns } : {}) },
    ...(load ? { load } : {}),
    ...(checks ? { checks } : {}),
  };
}

/** Hive types Athena reads and the warehouse load maps (see shared/stages/catalog/glue-types.ts). */
const HIVE_TYPE = /^(string|bigint|int|smallint|tinyint|double|float|boolean|date|timestamp|binary|decimal\((\d{1,2}),(\d{1,2})\))$/;

/** `{ name: type, … }` (in file order) or `[{ name, type }, …]` (the effective form). */
function parseOutputColumns(raw: unknown, f: string): OutputColumn[] {
  const entries = Array.isArray(raw)
    ? raw.map((c, i) => {
        const col = object(c, `${f}[${i}]`);
        noUnknownKeys(col, OUTPUT_COLUMN_FIELDS, `${f}[${i}]`);
        return [identifier(col.name, `${f}[${i}].name`), string(col.type, `${f}[${i}].type`), `${f}[${i}].type`] as const;
      })
    : Object.entries(object(raw, f)).map(([name, type]) => [identifier(name, `${f}.${name}`), string(type, `${f}.${name}`), `${f}.${name}`] as const);
  if (entries.length === 0) throw new ConfigError(f, 'declare at least one column');
  return entries.map(([name, type, at], i) => {
    const m = HIVE_TYPE.exec(type);
    if (!m || (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 38 || Number(m[3]) > Number(m[2])))) {
      throw new ConfigError(
        at,
        `"${type}" is not a column type Athena and Redshift read exactly (string, bigint, int, smallint, tinyint, double, float, boolean, date, timestamp, binary, decimal(p,s) with p ≤ 38)`,
      );
    }
    if (entries.findIndex((e) => e[0] === name) !== i) throw new ConfigError(at, `duplicate column "${name}"`);
    return { name, type };
  });
}

function parseOutputTable(raw: unknown, f: string): OutputTable {
  if (Array.isArray(raw)) return { key: raw.map((c, i) => identifier(c, `${f}[${i}]`)) };
  const spec = object(raw, f);
  noUnknownKeys(spec, OUTPUT_TABLE_FIELDS, f);
  const key = array(spec.key, `${f}.key`).map((c, i) => identifier(c, `${f}.key[${i}]`));
  if (key.length === 0) throw new ConfigError(`${f}.key`, 'the table needs key columns');
  return { key, ...(spec.columns !== undefined ? { columns: parseOutputColumns(spec.columns, `${f}.columns`) } : {}) };
}

function parseLoad(raw: unknown, f: string, keysOf: Map<string, string[]>): WarehouseLoad {
  const load = object(raw, f);
  noUnknownKeys(load, LOAD_FIELDS, f);
  const table = identifier(load.table, `${f}.table`);
  const tableKey = keysOf.get(table);
  if (!tableKey) throw new ConfigError(`${f}.table`, `the job writes no table "${table}" (it writes ${[...keysOf.keys()].join(', ')})`);
  const key = load.key !== undefined ? array(load.key, `${f}.key`).map((c, i) => identifier(c, `${f}.key[${i}]`)) : tableKey;
  if (key.length === 0) throw new ConfigError(`${f}.key`, 'a load needs key columns');
  return {
    table,
    into: load.into !== undefined ? identifier(load.into, `${f}.into`) : table,
    key,
    mode: oneOf(load.mode ?? 'replace', `${f}.mode`, LOAD_MODES),
  };
}

/** The shape a downstream job sees of this job's output: its batch key, date field and listed values. */
export function jobShape(job: JobConfig, listedOf: (job: JobConfig, key: string) => string[] | undefined): SourceShape {
  const listed: Record<string, string[]> = {};
  for (const key of job.batchKey) {
    const values = listedOf(job, key);
    if (values) listed[key] = values;
  }
  const notReadable = job.output.tables
    ? `job ${job.name} writes several tables (${Object.keys(job.output.tables).join(', ')}); a job reads a single-table job's partitions`
    : undefined;
  return { keyFields: job.batchKey, dateField: job.dateField, listed, ...(notReadable ? { notReadable } : {}) };
}
