import { ConfigError } from '../errors';
import { compileKeyPattern } from '../datasets/key-pattern';
import type { ColumnKind, ColumnSpec, DatasetConfig, DelimitedFormat, PipelineConfig } from './types';

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
const COLUMN_KINDS: readonly ColumnKind[] = ['string', 'integer', 'decimal', 'date'];

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
  noUnknownKeys(obj, ['name', 'kind', 'scale', 'allowed', 'equalsKeyField'], field);
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
  return column;
}

function parseFormat(raw: unknown, field: string): DelimitedFormat {
  const obj = object(raw, field);
  noUnknownKeys(obj, ['kind', 'delimiter', 'junkLinePrefix'], field);
  if (obj.kind !== 'delimited') throw new ConfigError(`${field}.kind`, `expected "delimited", got ${describe(obj.kind)}`);
  if (obj.delimiter !== '\t' && obj.delimiter !== ',') throw new ConfigError(`${field}.delimiter`, `expected "\\t" or ",", got ${describe(obj.delimiter)}`);
  const format: DelimitedFormat = { kind: 'delimited', delimiter: obj.delimiter };
  if (obj.junkLinePrefix !== undefined) format.junkLinePrefix = string(obj.junkLinePrefix, `${field}.junkLinePrefix`);
  return format;
}

function parseDataset(raw: unknown, field: string): DatasetConfig {
  const obj = object(raw, field);
  noUnknownKeys(obj, ['name', 'keyPattern', 'format', 'columns', 'keyFieldValues', 'partitionBy', 'dateField', 'maxBadRowRatio'], field);
  const keyPattern = string(obj.keyPattern, `${field}.keyPattern`);
  let keyFields: string[];
  try {
    keyFields = compileKeyPattern(keyPattern).fields.map((f) => f.name);
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
  return dataset;
}

/** Validates an untrusted configuration object; every failure names the field it is about. */
export function parsePipelineConfig(raw: unknown): PipelineConfig {
  const obj = object(raw, 'config');
  noUnknownKeys(obj, ['provinces', 'datasets'], 'config');
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
  return { provinces, datasets };
}
