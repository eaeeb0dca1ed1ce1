import { ConfigError } from '../errors';
import { compileKeyPattern } from '../datasets/key-pattern';
import { listsLookup, valuesOrLookup } from './lookups';
import type * as In from './pipeline-input.generated';
import { array, boolean, describe, every, fieldsOf, identifier, noUnknownKeys, number, object, oneOf, string } from './parse-values';
import type { ColumnKind, ColumnSpec, DatasetConfig, DelimitedFormat, JsonLinesFormat, Lookup } from './types';

// each object's fields and each choice's values, as the schema has them (a compile error otherwise)
const COLUMN_KINDS = every<ColumnKind>()(['string', 'integer', 'decimal', 'date', 'timestamp']);
const COLUMN_FIELDS = fieldsOf<In.Column>()(['name', 'kind', 'scale', 'allowed', 'equalsKeyField', 'nullable']);
const JSONL_FIELDS = fieldsOf<In.JsonlFormat>()(['kind']);
const DELIMITED_FIELDS = fieldsOf<In.DelimitedFormat>()(['kind', 'delimiter', 'junkLinePrefix']);
const DATASET_FIELDS = fieldsOf<In.Dataset>()([
  'name',
  'keyPattern',
  'format',
  'columns',
  'keyFieldValues',
  'members',
  'manifest',
  'partitionBy',
  'dateField',
  'maxBadRowRatio',
]);
const MANIFEST_FIELDS = fieldsOf<In.Manifest>()(['column', 'kind']);
const MANIFEST_KINDS = every<NonNullable<In.Manifest['kind']>>()(['lists', 'counts']);
const MEMBERS_FIELDS = fieldsOf<In.Members>()(['field', 'per', 'values', 'lookup']);

function parseColumn(raw: unknown, field: string): ColumnSpec {
  const obj = object(raw, field);
  noUnknownKeys(obj, COLUMN_FIELDS, field);
  const kind = oneOf(obj.kind, `${field}.kind`, COLUMN_KINDS);
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
  if (obj.nullable !== undefined) column.nullable = boolean(obj.nullable, `${field}.nullable`);
  return column;
}

function parseFormat(raw: unknown, field: string): DelimitedFormat | JsonLinesFormat {
  const obj = object(raw, field);
  if (obj.kind === 'jsonl') {
    noUnknownKeys(obj, JSONL_FIELDS, field);
    return { kind: 'jsonl' };
  }
  noUnknownKeys(obj, DELIMITED_FIELDS, field);
  if (obj.kind !== 'delimited') throw new ConfigError(`${field}.kind`, `expected "delimited" or "jsonl", got ${describe(obj.kind)}`);
  if (obj.delimiter !== '\t' && obj.delimiter !== ',') throw new ConfigError(`${field}.delimiter`, `expected "\\t" or ",", got ${describe(obj.delimiter)}`);
  const format: DelimitedFormat = { kind: 'delimited', delimiter: obj.delimiter };
  if (obj.junkLinePrefix !== undefined) format.junkLinePrefix = string(obj.junkLinePrefix, `${field}.junkLinePrefix`);
  return format;
}

/** The key fields a dataset's pattern captures (and which of them are dates). */
export function keyFieldsOf(keyPattern: string): { names: string[]; dates: string[] } {
  const fields = compileKeyPattern(keyPattern).fields;
  return { names: fields.map((f) => f.name), dates: fields.filter((f) => f.format === 'YYYYMMDD').map((f) => f.name) };
}

export function parseDataset(raw: unknown, field: string, lookups: Record<string, Lookup>): DatasetConfig {
  const obj = object(raw, field);
  noUnknownKeys(obj, DATASET_FIELDS, field);
  const keyPattern = string(obj.keyPattern, `${field}.keyPattern`);
  let keyFields: { names: string[]; dates: string[] };
  try {
    keyFields = keyFieldsOf(keyPattern);
  } catch (err) {
    throw new ConfigError(`${field}.keyPattern`, (err as Error).message);
  }
  const columns = array(obj.columns, `${field}.columns`).map((c, i) => parseColumn(c, `${field}.columns[${i}]`));
  if (columns.length === 0) throw new ConfigError(`${field}.columns`, 'a dataset needs at least one column');
  const seen = new Set<string>();
  columns.forEach((c, i) => {
    if (seen.has(c.name)) throw new ConfigError(`${field}.columns[${i}].name`, `duplicate column "${c.name}"`);
    seen.add(c.name);
    if (c.equalsKeyField && !keyFields.names.includes(c.equalsKeyField)) {
      throw new ConfigError(`${field}.columns[${i}].equalsKeyField`, `"${c.equalsKeyField}" is not a field of keyPattern (${keyFields.names.join(', ')})`);
    }
    // a timestamp is compared by its UTC date, so the key field must hold a date
    if (c.kind === 'timestamp' && c.equalsKeyField && !keyFields.dates.includes(c.equalsKeyField)) {
      throw new ConfigError(
        `${field}.columns[${i}].equalsKeyField`,
        `a timestamp column must name a date key field ({field:YYYYMMDD}); "${c.equalsKeyField}" is not one`,
      );
    }
  });
  const keyField = (v: unknown, f: string): string => {
    const name = identifier(v, f);
    if (!keyFields.names.includes(name)) throw new ConfigError(f, `"${name}" is not a field of keyPattern (${keyFields.names.join(', ')})`);
    return name;
  };
  const dateField = keyField(obj.dateField, `${field}.dateField`);
  if (!keyFields.dates.includes(dateField)) throw new ConfigError(`${field}.dateField`, `"${dateField}" is not a date key field ({${dateField}:YYYYMMDD})`);
  const dataset: DatasetConfig = {
    name: identifier(obj.name, `${field}.name`),
    keyPattern,
    format: parseFormat(obj.format, `${field}.format`),
    columns,
    partitionBy: array(obj.partitionBy ?? [], `${field}.partitionBy`).map((p, i) => keyField(p, `${field}.partitionBy[${i}]`)),
    dateField,
    maxBadRowRatio: number(obj.maxBadRowRatio ?? 0.5, `${field}.maxBadRowRatio`, 0, 1),
  };
  // The Parquet of a landed file is processed/<dataset>/dt=<date>/<partitions>/<file name>.parquet:
  // a key field in a folder of the pattern must be a partition, or two files with the same name in
  // different folders (north/part-1.csv, south/part-1.csv) would overwrite each other's Parquet.
  const folders = keyPattern.slice(0, keyPattern.lastIndexOf('/') + 1);
  for (const name of keyFields.names) {
    if (name !== dateField && folders.includes(`{${name}`) && !dataset.partitionBy.includes(name)) {
      throw new ConfigError(
        `${field}.partitionBy`,
        `must include "${name}": it is in a folder of keyPattern, and files of different ${name}s with the same name would share one Parquet key`,
      );
    }
  }
  if (obj.keyFieldValues !== undefined) {
    dataset.keyFieldValues = {};
    for (const [name, list] of Object.entries(object(obj.keyFieldValues, `${field}.keyFieldValues`))) {
      const f = `${field}.keyFieldValues.${name}`;
      keyField(name, f);
      dataset.keyFieldValues[name] = valuesOrLookup(list, lookups, f);
    }
  }
  if (obj.members !== undefined) dataset.members = parseMembers(obj.members, `${field}.members`, keyField, lookups);
  if (obj.manifest !== undefined) {
    const f = `${field}.manifest`;
    const manifest = object(obj.manifest, f);
    noUnknownKeys(manifest, MANIFEST_FIELDS, f);
    const column = identifier(manifest.column, `${f}.column`);
    if (!columns.some((c) => c.name === column)) throw new ConfigError(`${f}.column`, `"${column}" is not a column of dataset ${dataset.name}`);
    const kind = oneOf(manifest.kind ?? 'lists', `${f}.kind`, MANIFEST_KINDS);
    if (kind === 'counts' && columns.find((c) => c.name === column)!.kind !== 'integer')
      throw new ConfigError(`${f}.column`, `a counting manifest's column must be an integer column`);
    dataset.manifest = { column, kind };
  }
  return dataset;
}

function parseMembers(
  raw: unknown,
  f: string,
  keyField: (v: unknown, f: string) => string,
  lookups: Record<string, Lookup>,
): NonNullable<DatasetConfig['members']> {
  const members = object(raw, f);
  noUnknownKeys(members, MEMBERS_FIELDS, f);
  const memberField = keyField(members.field, `${f}.field`);
  const per = keyField(members.per, `${f}.per`);
  if (per === memberField) throw new ConfigError(`${f}.per`, 'members are listed per another key field');
  if ((members.values === undefined) === (members.lookup === undefined)) throw new ConfigError(f, 'give either values or lookup');
  if (members.lookup !== undefined) {
    // the loaded configuration holds the lists themselves (what `landfall config` prints)
    return { field: memberField, per, values: listsLookup(lookups, members.lookup, `${f}.lookup`) };
  }
  const values: Record<string, string[]> = {};
  for (const [group, list] of Object.entries(object(members.values, `${f}.values`))) {
    values[group] = array(list, `${f}.values.${group}`).map((v, i) => string(v, `${f}.values.${group}[${i}]`));
  }
  return { field: memberField, per, values };
}
