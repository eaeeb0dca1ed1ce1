import { ConfigError } from '../errors';
import { compileKeyPattern } from '../datasets/key-pattern';
import type { ColumnKind, ColumnSpec, DatasetConfig, DelimitedFormat, Freshness, JobConfig, JobInput, JsonLinesFormat, PipelineConfig, Precondition } from './types';

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
const COLUMN_KINDS: readonly ColumnKind[] = ['string', 'integer', 'decimal', 'date', 'timestamp'];

type Obj = Record<string, unknown>;

function object(value: unknown, field: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(field, `expected an object, got ${describe(value)}`);
  }
  return value as Obj;
}

function array(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new ConfigError(field, `expected a list, got ${describe(value)}`);
  return value;
}

function string(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(field, `expected a non-empty string, got ${describe(value)}`);
  return value;
}

function identifier(value: unknown, field: string): string {
  const text = string(value, field);
  if (!IDENTIFIER.test(text)) throw new ConfigError(field, `"${text}" is not a lower-case identifier ([a-z_][a-z0-9_]*)`);
  return text;
}

function number(value: unknown, field: string, min: number, max: number, integer = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new ConfigError(field, `expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  return JSON.stringify(value) ?? String(value);
}

function noUnknownKeys(obj: Obj, allowed: string[], field: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new ConfigError(`${field}.${key}`, `unknown field (allowed: ${allowed.join(', ')})`);
  }
}

function parseColumn(raw: unknown, field: string): ColumnSpec {
  const obj = object(raw, field);
  noUnknownKeys(obj, ['name', 'kind', 'scale', 'allowed', 'equalsKeyField', 'nullable'], field);
  const kind = string(obj.kind, `${field}.kind`) as ColumnKind;
  if (!COLUMN_KINDS.includes(kind)) throw new ConfigError(`${field}.kind`, `expected one of ${COLUMN_KINDS.join(', ')}, got "${kind}"`);
  const column: ColumnSpec = { name: identifier(obj.name, `${field}.name`), kind };
  if (obj.scale !== undefined) {
    if (kind !== 'decimal') throw new ConfigError(`${field}.scale`, 'only a decimal column has a scale');
    column.scale = number(obj.scale, `${field}.scale`, 0, 9, true);
  } else if (kind === 'decimal') {
    throw new ConfigError(`${field}.scale`, 'a decimal column needs a scale (digits after the point)');
  }
  if (obj.allowed !== undefined) {
    column.allowed = array(obj.allowed, `${field}.allowed`).map((v, i) => {
      if (typeof v !== 'string' && typeof v !== 'number') throw new ConfigError(`${field}.allowed[${i}]`, `expected a string or number, got ${describe(v)}`);
      return v;
    });
  }
  if (obj.equalsKeyField !== undefined) column.equalsKeyField = identifier(obj.equalsKeyField, `${field}.equalsKeyField`);
  if (obj.nullable !== undefined) {
    if (typeof obj.nullable !== 'boolean') throw new ConfigError(`${field}.nullable`, `expected true or false, got ${describe(obj.nullable)}`);
    column.nullable = obj.nullable;
  }
  return column;
}

function parseFormat(raw: unknown, field: string): DelimitedFormat | JsonLinesFormat {
  const obj = object(raw, field);
  if (obj.kind === 'jsonl') {
    noUnknownKeys(obj, ['kind'], field);
    return { kind: 'jsonl' };
  }
  noUnknownKeys(obj, ['kind', 'delimiter', 'junkLinePrefix'], field);
  if (obj.kind !== 'delimited') throw new ConfigError(`${field}.kind`, `expected "delimited" or "jsonl", got ${describe(obj.kind)}`);
  if (obj.delimiter !== '\t' && obj.delimiter !== ',') throw new ConfigError(`${field}.delimiter`, `expected "\\t" or ",", got ${describe(obj.delimiter)}`);
  const format: DelimitedFormat = { kind: 'delimited', delimiter: obj.delimiter };
  if (obj.junkLinePrefix !== undefined) format.junkLinePrefix = string(obj.junkLinePrefix, `${field}.junkLinePrefix`);
  return format;
}

function parseDataset(raw: unknown, field: string): DatasetConfig {
  const obj = object(raw, field);
  noUnknownKeys(obj, ['name', 'keyPattern', 'format', 'columns', 'keyFieldValues', 'members', 'partitionBy', 'dateField', 'maxBadRowRatio'], field);
  const keyPattern = string(obj.keyPattern, `${field}.keyPattern`);
  let keyFields: string[];
  let dateKeyFields: string[];
  try {
    const compiled = compileKeyPattern(keyPattern).fields;
    keyFields = compiled.map((f) => f.name);
    dateKeyFields = compiled.filter((f) => f.format === 'YYYYMMDD').map((f) => f.name);
  } catch (err) {
    throw new ConfigError(`${field}.keyPattern`, (err as Error).message);
  }
  const columns = array(obj.columns, `${field}.columns`).map((c, i) => parseColumn(c, `${field}.columns[${i}]`));
  if (columns.length === 0) throw new ConfigError(`${field}.columns`, 'a dataset needs at least one column');
  const seen = new Set<string>();
  columns.forEach((c, i) => {
    if (seen.has(c.name)) throw new ConfigError(`${field}.columns[${i}].name`, `duplicate column "${c.name}"`);
    seen.add(c.name);
    if (c.equalsKeyField && !keyFields.includes(c.equalsKeyField)) {
      throw new ConfigError(`${field}.columns[${i}].equalsKeyField`, `"${c.equalsKeyField}" is not a field of keyPattern (${keyFields.join(', ')})`);
    }
    // a timestamp is compared by its UTC date, so the key field must hold a date
    if (c.kind === 'timestamp' && c.equalsKeyField && !dateKeyFields.includes(c.equalsKeyField)) {
      throw new ConfigError(`${field}.columns[${i}].equalsKeyField`, `a timestamp column must name a date key field ({field:YYYYMMDD}); "${c.equalsKeyField}" is not one`);
    }
  });
  const keyField = (v: unknown, f: string): string => {
    const name = identifier(v, f);
    if (!keyFields.includes(name)) throw new ConfigError(f, `"${name}" is not a field of keyPattern (${keyFields.join(', ')})`);
    return name;
  };
  const dataset: DatasetConfig = {
    name: identifier(obj.name, `${field}.name`),
    keyPattern,
    format: parseFormat(obj.format, `${field}.format`),
    columns,
    partitionBy: array(obj.partitionBy ?? [], `${field}.partitionBy`).map((p, i) => keyField(p, `${field}.partitionBy[${i}]`)),
    dateField: keyField(obj.dateField, `${field}.dateField`),
    maxBadRowRatio: number(obj.maxBadRowRatio, `${field}.maxBadRowRatio`, 0, 1),
  };
  if (obj.keyFieldValues !== undefined) {
    const values = object(obj.keyFieldValues, `${field}.keyFieldValues`);
    dataset.keyFieldValues = {};
    for (const [name, list] of Object.entries(values)) {
      const f = `${field}.keyFieldValues.${name}`;
      keyField(name, f);
      dataset.keyFieldValues[name] = array(list, f).map((v, i) => string(v, `${f}[${i}]`));
    }
  }
  if (obj.members !== undefined) {
    const f = `${field}.members`;
    const members = object(obj.members, f);
    noUnknownKeys(members, ['field', 'per', 'values'], f);
    const memberField = keyField(members.field, `${f}.field`);
    const per = keyField(members.per, `${f}.per`);
    if (per === memberField) throw new ConfigError(`${f}.per`, 'members are listed per another key field');
    const values: Record<string, string[]> = {};
    for (const [group, list] of Object.entries(object(members.values, `${f}.values`))) {
      values[group] = array(list, `${f}.values.${group}`).map((v, i) => string(v, `${f}.values.${group}[${i}]`));
    }
    dataset.members = { field: memberField, per, values };
  }
  return dataset;
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new ConfigError(field, `expected one of ${allowed.join(', ')}, got ${describe(value)}`);
  return value as T;
}

function parseJob(raw: unknown, field: string, datasets: DatasetConfig[], provinces: Record<string, number>): JobConfig {
  const obj = object(raw, field);
  noUnknownKeys(obj, ['name', 'freshness', 'batchKey', 'inputs', 'preconditions', 'engine', 'stages', 'output'], field);
  const keyFieldsOf = (d: DatasetConfig) => compileKeyPattern(d.keyPattern).fields.map((f) => f.name);
  const batchKey = array(obj.batchKey, `${field}.batchKey`).map((k, i) => identifier(k, `${field}.batchKey[${i}]`));
  if (batchKey.length === 0) throw new ConfigError(`${field}.batchKey`, 'a batch key needs at least one field');
  const inputs = array(obj.inputs, `${field}.inputs`).map((rawInput, i): JobInput => {
    const f = `${field}.inputs[${i}]`;
    const input = object(rawInput, f);
    noUnknownKeys(input, ['relation', 'dataset', 'match', 'newestPer', 'newestBy'], f);
    const dataset = datasets.find((d) => d.name === input.dataset);
    if (!dataset) throw new ConfigError(`${f}.dataset`, `no dataset named ${describe(input.dataset)}`);
    const keyFields = keyFieldsOf(dataset);
    const keyField = (v: unknown, ff: string) => {
      const name = identifier(v, ff);
      if (!keyFields.includes(name)) throw new ConfigError(ff, `"${name}" is not a key field of dataset ${dataset.name} (${keyFields.join(', ')})`);
      return name;
    };
    const parsed: JobInput = {
      relation: identifier(input.relation, `${f}.relation`),
      dataset: dataset.name,
      match: array(input.match, `${f}.match`).map((m, j) => {
        const name = keyField(m, `${f}.match[${j}]`);
        if (!batchKey.includes(name)) throw new ConfigError(`${f}.match[${j}]`, `"${name}" is not in batchKey`);
        return name;
      }),
    };
    if ((input.newestPer === undefined) !== (input.newestBy === undefined)) throw new ConfigError(`${f}.newestBy`, 'newestPer and newestBy go together');
    if (input.newestPer !== undefined) {
      parsed.newestPer = keyField(input.newestPer, `${f}.newestPer`);
      parsed.newestBy = keyField(input.newestBy, `${f}.newestBy`);
    }
    return parsed;
  });
  if (inputs.length === 0) throw new ConfigError(`${field}.inputs`, 'a job needs at least one input');
  const relations = inputs.map((i) => i.relation);
  relations.forEach((r, i) => {
    if (relations.indexOf(r) !== i) throw new ConfigError(`${field}.inputs[${i}].relation`, `duplicate relation "${r}"`);
  });
  // A batch key field an input does not match must be enumerable, so that one file of that input
  // (the day's Item.csv) can name every batch it completes.
  inputs.forEach((input, i) => {
    for (const key of batchKey.filter((k) => !input.match.includes(k))) {
      const enumerable = inputs.some((other) => other.match.includes(key) && datasets.find((d) => d.name === other.dataset)?.keyFieldValues?.[key]);
      if (!enumerable) throw new ConfigError(`${field}.inputs[${i}].match`, `batch key "${key}" is neither matched nor listed in any input dataset's keyFieldValues`);
    }
  });
  const inputOf = (v: unknown, ff: string) => {
    const name = identifier(v, ff);
    const input = inputs.find((i) => i.relation === name);
    if (!input) throw new ConfigError(ff, `no input with relation "${name}"`);
    return input;
  };
  const preconditions = array(obj.preconditions ?? [], `${field}.preconditions`).map((rawP, i): Precondition => {
    const f = `${field}.preconditions[${i}]`;
    const p = object(rawP, f);
    const kind = oneOf(p.kind, `${f}.kind`, ['minDistinct', 'present', 'newerThanLastRun', 'minTotalBytes'] as const);
    if (kind === 'newerThanLastRun') {
      noUnknownKeys(p, ['kind'], f);
      return { kind };
    }
    const input = inputOf(p.input, `${f}.input`);
    if (kind === 'present') {
      noUnknownKeys(p, ['kind', 'input'], f);
      return { kind, input: input.relation };
    }
    if (kind === 'minTotalBytes') {
      noUnknownKeys(p, ['kind', 'input', 'bytes'], f);
      return { kind, input: input.relation, bytes: number(p.bytes, `${f}.bytes`, 0, Number.MAX_SAFE_INTEGER, true) };
    }
    noUnknownKeys(p, ['kind', 'input', 'field', 'count'], f);
    const dataset = datasets.find((d) => d.name === input.dataset)!;
    const fieldName = identifier(p.field, `${f}.field`);
    if (!keyFieldsOf(dataset).includes(fieldName)) throw new ConfigError(`${f}.field`, `"${fieldName}" is not a key field of dataset ${dataset.name}`);
    if (p.count === 'provinceStores') {
      if (!batchKey.includes('province')) throw new ConfigError(`${f}.count`, '"provinceStores" needs province in batchKey');
      if (Object.keys(provinces).length === 0) throw new ConfigError(`${f}.count`, '"provinceStores" needs provinces');
      return { kind, input: input.relation, field: fieldName, count: 'provinceStores' };
    }
    return { kind, input: input.relation, field: fieldName, count: number(p.count, `${f}.count`, 1, 1_000_000, true) };
  });
  const engine = oneOf(obj.engine, `${field}.engine`, ['duckdb', 'emr'] as const);
  const stages = array(obj.stages, `${field}.stages`).map((rawS, i) => {
    const f = `${field}.stages[${i}]`;
    const stage = object(rawS, f);
    noUnknownKeys(stage, ['name', 'sql'], f);
    const name = identifier(stage.name, `${f}.name`);
    if (engine === 'emr') {
      if (stage.sql !== undefined) throw new ConfigError(`${f}.sql`, 'an emr stage is a Spark stage of spark/, it has no SQL file');
      return { name };
    }
    const sql = string(stage.sql, `${f}.sql`);
    if (!/^[a-z0-9_]+\.v\d+\.sql$/.test(sql)) throw new ConfigError(`${f}.sql`, `"${sql}" is not a versioned SQL file name (<name>.v<N>.sql)`);
    return { name, sql };
  });
  if (stages.length === 0) throw new ConfigError(`${field}.stages`, 'a job needs at least one stage');
  const output = object(obj.output, `${field}.output`);
  noUnknownKeys(output, ['table', 'partitionBy', 'key', 'tables'], `${field}.output`);
  const partitionBy = array(output.partitionBy, `${field}.output.partitionBy`).map((p, i) => {
    const name = identifier(p, `${field}.output.partitionBy[${i}]`);
    if (!batchKey.includes(name)) throw new ConfigError(`${field}.output.partitionBy[${i}]`, `"${name}" is not in batchKey`);
    return name;
  });
  const key = array(output.key, `${field}.output.key`).map((k, i) => identifier(k, `${field}.output.key[${i}]`));
  if (key.length === 0) throw new ConfigError(`${field}.output.key`, 'the output needs key columns');
  let tables: Record<string, string[]> | undefined;
  if (output.tables !== undefined) {
    tables = {};
    for (const [name, cols] of Object.entries(object(output.tables, `${field}.output.tables`))) {
      const f = `${field}.output.tables.${name}`;
      identifier(name, f);
      tables[name] = array(cols, f).map((c, i) => identifier(c, `${f}[${i}]`));
    }
  }
  return {
    name: identifier(obj.name, `${field}.name`),
    ...(obj.freshness !== undefined ? { freshness: parseFreshness(obj.freshness, `${field}.freshness`) } : {}),
    batchKey,
    inputs,
    preconditions,
    engine,
    stages,
    output: { table: identifier(output.table, `${field}.output.table`), partitionBy, key, ...(tables ? { tables } : {}) },
  };
}

function parseFreshness(raw: unknown, field: string): Freshness {
  const obj = object(raw, field);
  noUnknownKeys(obj, ['deadline', 'timeZone', 'dayOffset'], field);
  const deadline = string(obj.deadline, `${field}.deadline`);
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(deadline)) throw new ConfigError(`${field}.deadline`, `"${deadline}" is not a local time HH:MM`);
  const timeZone = string(obj.timeZone, `${field}.timeZone`);
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone });
  } catch {
    throw new ConfigError(`${field}.timeZone`, `"${timeZone}" is not an IANA time zone`);
  }
  return { deadline, timeZone, ...(obj.dayOffset !== undefined ? { dayOffset: number(obj.dayOffset, `${field}.dayOffset`, 0, 31, true) } : {}) };
}

/** Validates an untrusted configuration object; every failure names the field it is about. */
export function parsePipelineConfig(raw: unknown): PipelineConfig {
  const obj = object(raw, 'config');
  noUnknownKeys(obj, ['provinces', 'datasets', 'jobs'], 'config');
  const provincesObj = object(obj.provinces, 'provinces');
  const provinces: Record<string, number> = {};
  for (const [name, count] of Object.entries(provincesObj)) {
    if (!/^[A-Z]{2}$/.test(name)) throw new ConfigError(`provinces.${name}`, 'a province code is two capital letters');
    provinces[name] = number(count, `provinces.${name}`, 1, 10_000, true);
  }
  if (Object.keys(provinces).length === 0) throw new ConfigError('provinces', 'at least one province is needed');
  const datasets = array(obj.datasets, 'datasets').map((d, i) => parseDataset(d, `datasets[${i}]`));
  const names = new Set<string>();
  datasets.forEach((d, i) => {
    if (names.has(d.name)) throw new ConfigError(`datasets[${i}].name`, `duplicate dataset "${d.name}"`);
    names.add(d.name);
  });
  const jobs = array(obj.jobs ?? [], 'jobs').map((j, i) => parseJob(j, `jobs[${i}]`, datasets, provinces));
  jobs.forEach((j, i) => {
    if (jobs.findIndex((o) => o.name === j.name) !== i) throw new ConfigError(`jobs[${i}].name`, `duplicate job "${j.name}"`);
  });
  return { provinces, datasets, jobs };
}
