import { ConfigError } from '../errors';
import { valueFormatProblem } from '../feeds/values';
import { compileKeyPattern, isDateFormat } from '../datasets/key-pattern';
import { WAREHOUSE_VARCHAR_BYTES } from '../feeds/value-limits';
import { listsLookup, valuesOrLookup } from './lookups';
import type * as In from './pipeline-input.generated';
import { array, boolean, describe, every, fieldsOf, identifier, noUnknownKeys, number, object, oneOf, string } from './parse-values';
import type { ColumnKind, ColumnSpec, DatasetConfig, DelimitedFormat, Lookup } from './types';

// each object's fields and each choice's values, as the schema has them (a compile error otherwise)
const COLUMN_KINDS = every<ColumnKind>()(['string', 'integer', 'decimal', 'double', 'boolean', 'date', 'timestamp', 'time', 'struct', 'list']);
const COLUMN_FIELDS = fieldsOf<In.Column>()([
  'name',
  'kind',
  'scale',
  'precision',
  'format',
  'fields',
  'items',
  'path',
  'allowed',
  'equalsKeyField',
  'nullable',
  'maxBytes',
  'onTooLong',
]);
const ON_TOO_LONG = every<NonNullable<In.Column['onTooLong']>>()(['reject', 'truncate']);
const STRUCT_FIELD_FIELDS = fieldsOf<In.StructField>()(['name', 'kind', 'scale', 'precision', 'format', 'fields', 'items', 'nullable']);
const LIST_ITEM_FIELDS = fieldsOf<In.ListItem>()(['kind', 'scale', 'precision', 'format', 'fields', 'items', 'nullable']);
const JSONL_FIELDS = fieldsOf<In.JsonlFormat>()(['kind', 'encoding', 'compression']);
const JSON_FIELDS = fieldsOf<In.JsonFormat>()(['kind', 'records', 'encoding', 'compression']);
const PARQUET_FIELDS = fieldsOf<In.ParquetFormat>()(['kind']);
const DELIMITED_FIELDS = fieldsOf<In.DelimitedFormat>()([
  'kind',
  'delimiter',
  'quote',
  'escape',
  'header',
  'junkLinePrefix',
  'skipLines',
  'commentPrefix',
  'nullMarkers',
  'decimalComma',
  'encoding',
  'compression',
]);
const FIXED_WIDTH_FIELDS = fieldsOf<In.FixedWidthFormat>()([
  'kind',
  'widths',
  'header',
  'skipLines',
  'commentPrefix',
  'nullMarkers',
  'decimalComma',
  'encoding',
  'compression',
]);
const FORMAT_KINDS = every<In.Format['kind']>()(['delimited', 'fixedWidth', 'jsonl', 'json', 'parquet']);
const ENCODINGS = every<In.Encoding>()(['utf-8', 'iso-8859-1', 'windows-1252']);
const COMPRESSIONS = every<In.Compression>()(['auto', 'none', 'gzip', 'zstd']);
const JSON_RECORDS = every<NonNullable<In.JsonFormat['records']>>()(['lines', 'concatenated', 'array']);
const SCHEMA_POLICIES = every<NonNullable<In.Dataset['schemaPolicy']>>()(['strict', 'additive']);
const DATASET_FIELDS = fieldsOf<In.Dataset>()([
  'name',
  'keyPattern',
  'format',
  'columns',
  'schemaPolicy',
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

/** Nested values may nest this deep (a column's type, its struct fields and list items). */
const MAX_NESTING = 16;
/**
 * A `format` for a date, timestamp or time: the tokens, each at most once, between literal
 * characters (any but a letter; `T` too, ISO's separator), or a timestamp's iso, epochSeconds,
 * epochMillis; what the kind needs must be there (valueFormatProblem).
 */
function parseValueFormat(value: unknown, kind: ColumnKind, field: string): string {
  const format = string(value, field);
  if (kind !== 'date' && kind !== 'timestamp' && kind !== 'time') throw new ConfigError(field, 'only a date, timestamp or time has a format');
  // the decoder's own rule (shared/core/feeds/values.ts): what loads is what converts
  const problem = valueFormatProblem(kind, format);
  if (problem) throw new ConfigError(field, problem);
  return format;
}

/** What a column, a struct field and a list item share: the kind and its details, and `nullable`. */
function parseValueType(obj: Record<string, unknown>, field: string, depth: number): In.ListItem {
  const kind = oneOf(obj.kind, `${field}.kind`, COLUMN_KINDS);
  const type: In.ListItem = { kind };
  if (obj.scale !== undefined) {
    if (kind !== 'decimal') throw new ConfigError(`${field}.scale`, 'only a decimal column has a scale');
    type.scale = number(obj.scale, `${field}.scale`, 0, 18, true);
  } else if (kind === 'decimal') {
    throw new ConfigError(`${field}.scale`, 'a decimal column needs a scale (digits after the point)');
  }
  if (obj.precision !== undefined) {
    if (kind !== 'decimal') throw new ConfigError(`${field}.precision`, 'only a decimal column has a precision');
    type.precision = number(obj.precision, `${field}.precision`, 1, 38, true);
  }
  if (kind === 'decimal' && type.scale! > (type.precision ?? 18)) {
    throw new ConfigError(`${field}.scale`, `a scale of ${type.scale} does not fit a precision of ${type.precision ?? 18} (the digits in all)`);
  }
  if (obj.format !== undefined) type.format = parseValueFormat(obj.format, kind, `${field}.format`);
  if (obj.fields !== undefined) {
    if (kind !== 'struct') throw new ConfigError(`${field}.fields`, 'only a struct column has fields');
    if (depth >= MAX_NESTING) throw new ConfigError(`${field}.fields`, `values nest at most ${MAX_NESTING} deep`);
    const fields = array(obj.fields, `${field}.fields`).map((f, i) => parseStructField(f, `${field}.fields[${i}]`, depth + 1));
    if (fields.length === 0) throw new ConfigError(`${field}.fields`, 'a struct needs at least one field');
    const names = new Set<string>();
    fields.forEach((f, i) => {
      if (names.has(f.name)) throw new ConfigError(`${field}.fields[${i}].name`, `duplicate field "${f.name}"`);
      names.add(f.name);
    });
    type.fields = fields;
  } else if (kind === 'struct') {
    throw new ConfigError(`${field}.fields`, 'a struct column needs its fields');
  }
  if (obj.items !== undefined) {
    if (kind !== 'list') throw new ConfigError(`${field}.items`, 'only a list column has items');
    if (depth >= MAX_NESTING) throw new ConfigError(`${field}.items`, `values nest at most ${MAX_NESTING} deep`);
    const items = object(obj.items, `${field}.items`);
    noUnknownKeys(items, LIST_ITEM_FIELDS, `${field}.items`);
    type.items = parseValueType(items, `${field}.items`, depth + 1);
  } else if (kind === 'list') {
    throw new ConfigError(`${field}.items`, 'a list column needs the type of its items');
  }
  if (obj.nullable !== undefined) type.nullable = boolean(obj.nullable, `${field}.nullable`);
  return type;
}

function parseStructField(raw: unknown, field: string, depth: number): In.StructField {
  const obj = object(raw, field);
  noUnknownKeys(obj, STRUCT_FIELD_FIELDS, field);
  return { name: identifier(obj.name, `${field}.name`), ...parseValueType(obj, field, depth) };
}

function parseColumn(raw: unknown, field: string): ColumnSpec {
  const obj = object(raw, field);
  noUnknownKeys(obj, COLUMN_FIELDS, field);
  const name = identifier(obj.name, `${field}.name`);
  const column: ColumnSpec = { name, ...parseValueType(obj, field, 0) };
  const nested = column.kind === 'struct' || column.kind === 'list';
  if (obj.path !== undefined) {
    const path = string(obj.path, `${field}.path`);
    if (!/^[^.]+(\.[^.]+)*$/.test(path)) throw new ConfigError(`${field}.path`, `expected a dotted path (user.geo.country), got ${describe(path)}`);
    column.path = path;
  }
  if (obj.allowed !== undefined) {
    if (nested) throw new ConfigError(`${field}.allowed`, `a ${column.kind} column has no allowed values`);
    column.allowed = array(obj.allowed, `${field}.allowed`).map((v, i) => {
      if (typeof v !== 'string' && typeof v !== 'number') throw new ConfigError(`${field}.allowed[${i}]`, `expected a string or number, got ${describe(v)}`);
      return v;
    });
  }
  if (obj.equalsKeyField !== undefined) {
    if (nested) throw new ConfigError(`${field}.equalsKeyField`, `a ${column.kind} column cannot equal a key field`);
    column.equalsKeyField = identifier(obj.equalsKeyField, `${field}.equalsKeyField`);
  }
  // a string's byte limit (a warehouse VARCHAR's by default: shared/core/datasets/value-limits.ts)
  if (obj.maxBytes !== undefined) {
    if (column.kind !== 'string') throw new ConfigError(`${field}.maxBytes`, 'only a string column has a byte limit');
    column.maxBytes = number(obj.maxBytes, `${field}.maxBytes`, 1, WAREHOUSE_VARCHAR_BYTES, true);
  }
  if (obj.onTooLong !== undefined) {
    if (column.kind !== 'string') throw new ConfigError(`${field}.onTooLong`, 'only a string column has a byte limit to fit');
    column.onTooLong = oneOf(obj.onTooLong, `${field}.onTooLong`, ON_TOO_LONG);
  }
  return column;
}

/** One character (a delimiter, a quote, an escape): never a line end, which splits rows before any of them is read. */
function oneCharacter(value: unknown, field: string, allowEmpty = false): string {
  if (typeof value !== 'string' || [...value].length > 1 || (!allowEmpty && value === '')) {
    throw new ConfigError(field, `expected ${allowEmpty ? 'one character or ""' : 'one character'}, got ${describe(value)}`);
  }
  if (value === '\n' || value === '\r') throw new ConfigError(field, 'a line end cannot be one: rows are lines');
  return value;
}

/** The options delimited and fixed-width text share (how lines are read before they are split). */
function textOptions(obj: Record<string, unknown>, field: string): Omit<In.FixedWidthFormat, 'kind' | 'widths' | 'header'> {
  const options: Omit<In.FixedWidthFormat, 'kind' | 'widths' | 'header'> = {};
  if (obj.skipLines !== undefined) options.skipLines = number(obj.skipLines, `${field}.skipLines`, 0, 1_000_000, true);
  if (obj.commentPrefix !== undefined) options.commentPrefix = string(obj.commentPrefix, `${field}.commentPrefix`);
  if (obj.nullMarkers !== undefined)
    options.nullMarkers = array(obj.nullMarkers, `${field}.nullMarkers`).map((v, i) => string(v, `${field}.nullMarkers[${i}]`));
  if (obj.decimalComma !== undefined) options.decimalComma = boolean(obj.decimalComma, `${field}.decimalComma`);
  Object.assign(options, byteOptions(obj, field));
  return options;
}

/** How the bytes are stored: compressed, and in which text encoding. */
function byteOptions(obj: Record<string, unknown>, field: string): { encoding?: In.Encoding; compression?: In.Compression } {
  const options: { encoding?: In.Encoding; compression?: In.Compression } = {};
  if (obj.encoding !== undefined) options.encoding = oneOf(obj.encoding, `${field}.encoding`, ENCODINGS);
  if (obj.compression !== undefined) options.compression = oneOf(obj.compression, `${field}.compression`, COMPRESSIONS);
  return options;
}

function parseFormat(raw: unknown, field: string): In.Format {
  const obj = object(raw, field);
  const kind = oneOf(obj.kind, `${field}.kind`, FORMAT_KINDS);
  switch (kind) {
    case 'jsonl':
      noUnknownKeys(obj, JSONL_FIELDS, field);
      return { kind, ...byteOptions(obj, field) };
    case 'json':
      noUnknownKeys(obj, JSON_FIELDS, field);
      return { kind, ...(obj.records !== undefined ? { records: oneOf(obj.records, `${field}.records`, JSON_RECORDS) } : {}), ...byteOptions(obj, field) };
    case 'parquet':
      noUnknownKeys(obj, PARQUET_FIELDS, field);
      return { kind };
    case 'fixedWidth': {
      noUnknownKeys(obj, FIXED_WIDTH_FIELDS, field);
      const widths = array(obj.widths, `${field}.widths`).map((w, i) => number(w, `${field}.widths[${i}]`, 1, 1_000_000, true));
      if (widths.length === 0) throw new ConfigError(`${field}.widths`, 'give one width per column');
      return { kind, widths, ...(obj.header !== undefined ? { header: boolean(obj.header, `${field}.header`) } : {}), ...textOptions(obj, field) };
    }
    case 'delimited': {
      noUnknownKeys(obj, DELIMITED_FIELDS, field);
      const delimiter = oneCharacter(obj.delimiter, `${field}.delimiter`);
      const format: DelimitedFormat = { kind, delimiter };
      if (obj.quote !== undefined) format.quote = oneCharacter(obj.quote, `${field}.quote`, true);
      if (obj.escape !== undefined) format.escape = oneCharacter(obj.escape, `${field}.escape`);
      if (format.quote !== undefined && format.quote === delimiter) throw new ConfigError(`${field}.quote`, 'the quote cannot be the delimiter');
      if (obj.header !== undefined) format.header = boolean(obj.header, `${field}.header`);
      if (obj.junkLinePrefix !== undefined) format.junkLinePrefix = string(obj.junkLinePrefix, `${field}.junkLinePrefix`);
      return { ...format, ...textOptions(obj, field) };
    }
  }
}

/** The key fields a dataset's pattern captures (and which of them are dates). */
export function keyFieldsOf(keyPattern: string): { names: string[]; dates: string[] } {
  const fields = compileKeyPattern(keyPattern).fields;
  return { names: fields.map((f) => f.name), dates: fields.filter((f) => isDateFormat(f.format)).map((f) => f.name) };
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
  // (the format itself is checked below: here only its kind, when it has one)
  const formatKind = typeof obj.format === 'object' && obj.format !== null ? (obj.format as Record<string, unknown>).kind : undefined;
  columns.forEach((c, i) => {
    if (seen.has(c.name)) throw new ConfigError(`${field}.columns[${i}].name`, `duplicate column "${c.name}"`);
    seen.add(c.name);
    if (c.path !== undefined && formatKind !== 'json' && formatKind !== 'jsonl' && formatKind !== 'parquet') {
      throw new ConfigError(
        `${field}.columns[${i}].path`,
        `a path reads JSON records (or names a Parquet file's column): the dataset's format is ${describe(formatKind)}, not "json", "jsonl" or "parquet"`,
      );
    }
    if ((c.kind === 'struct' || c.kind === 'list') && formatKind !== 'json' && formatKind !== 'jsonl' && formatKind !== 'parquet') {
      throw new ConfigError(
        `${field}.columns[${i}].kind`,
        `a ${c.kind} column holds nested values: only a "json", "jsonl" or "parquet" dataset has them, not ${describe(formatKind)}`,
      );
    }
    if (c.equalsKeyField && !keyFields.names.includes(c.equalsKeyField)) {
      throw new ConfigError(`${field}.columns[${i}].equalsKeyField`, `"${c.equalsKeyField}" is not a field of keyPattern (${keyFields.names.join(', ')})`);
    }
    // a timestamp is compared by its UTC date, so the key field must hold a date
    if (c.kind === 'timestamp' && c.equalsKeyField && !keyFields.dates.includes(c.equalsKeyField)) {
      throw new ConfigError(
        `${field}.columns[${i}].equalsKeyField`,
        `a timestamp column must name a date key field ({field:YYYYMMDD}, {field:YYYY-MM-DD} or {field:YYYY/MM/DD}); "${c.equalsKeyField}" is not one`,
      );
    }
  });
  const keyField = (v: unknown, f: string): string => {
    const name = identifier(v, f);
    if (!keyFields.names.includes(name)) throw new ConfigError(f, `"${name}" is not a field of keyPattern (${keyFields.names.join(', ')})`);
    return name;
  };
  const dateField = keyField(obj.dateField, `${field}.dateField`);
  if (!keyFields.dates.includes(dateField))
    throw new ConfigError(
      `${field}.dateField`,
      `"${dateField}" is not a date key field ({${dateField}:YYYYMMDD}, {${dateField}:YYYY-MM-DD} or {${dateField}:YYYY/MM/DD})`,
    );
  const dataset: DatasetConfig = {
    name: identifier(obj.name, `${field}.name`),
    keyPattern,
    format: parseFormat(obj.format, `${field}.format`),
    columns,
    ...(obj.schemaPolicy !== undefined ? { schemaPolicy: oneOf(obj.schemaPolicy, `${field}.schemaPolicy`, SCHEMA_POLICIES) } : {}),
    partitionBy: array(obj.partitionBy ?? [], `${field}.partitionBy`).map((p, i) => keyField(p, `${field}.partitionBy[${i}]`)),
    dateField,
    maxBadRowRatio: number(obj.maxBadRowRatio ?? 0.5, `${field}.maxBadRowRatio`, 0, 1),
  };
  if (dataset.format.kind === 'fixedWidth' && dataset.format.widths.length !== columns.length) {
    throw new ConfigError(`${field}.format.widths`, `gives ${dataset.format.widths.length} widths for ${columns.length} columns (one per column, in order)`);
  }
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
