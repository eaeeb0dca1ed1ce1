import type { ListItem } from '../config/pipeline-input.generated';

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** A column's type, a struct field's or a list item's: what its DuckDB (and Parquet) type depends on. */
export type ValueType = Pick<ListItem, 'kind' | 'scale' | 'precision' | 'fields' | 'items'>;

/** A decimal's digits in all when the column does not say. */
export const DEFAULT_DECIMAL_PRECISION = 18;

/**
 * The DuckDB type a column is written as. A time of day is VARCHAR (`HH:MM:SS[.ffffff]`): Athena has
 * no time type, and a Parquet TIME would make the Glue table unreadable. Nested types follow their
 * fields and items (`STRUCT("sku" VARCHAR, "qty" BIGINT)[]`).
 */
export function duckdbType(column: ValueType): string {
  switch (column.kind) {
    case 'string':
    case 'time':
      return 'VARCHAR';
    case 'integer':
      return 'BIGINT';
    case 'decimal':
      return `DECIMAL(${column.precision ?? DEFAULT_DECIMAL_PRECISION},${column.scale ?? 0})`;
    case 'double':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    case 'date':
      return 'DATE';
    case 'timestamp':
      return 'TIMESTAMP';
    case 'struct':
      return `STRUCT(${(column.fields ?? []).map((f) => `${quoteIdentifier(f.name)} ${duckdbType(f)}`).join(', ')})`;
    case 'list':
      if (!column.items) throw new Error('a list column has no items');
      return `${duckdbType(column.items)}[]`;
  }
}

/** Whether values of this type are nested (a struct or a list): JSON in canonical text. */
export function isNested(column: ValueType): boolean {
  return column.kind === 'struct' || column.kind === 'list';
}

/** The structure `json_transform` reads a nested value with (`{"sku":"VARCHAR","qty":"BIGINT"}`, `["DOUBLE"]`). */
export function jsonStructure(column: ValueType): unknown {
  if (column.kind === 'struct') return Object.fromEntries((column.fields ?? []).map((f) => [f.name, jsonStructure(f)]));
  if (column.kind === 'list') return [jsonStructure(column.items!)];
  return duckdbType(column);
}

/**
 * SQL reading the JSON text `expr` (NULL stays NULL) as the column's nested type, exactly as
 * validation checked it: a missing struct field is NULL, keys not declared are ignored.
 * (A cast of JSON to a STRUCT would refuse both.)
 */
export function fromJsonSql(expr: string, column: ValueType): string {
  // names are identifiers and types come from duckdbType: no quote to escape
  return `CAST(json_transform(${expr}, '${JSON.stringify(jsonStructure(column))}') AS ${duckdbType(column)})`;
}

/** Identifiers come only from validated configuration; this re-check keeps SQL injection impossible. */
export function quoteIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not a safe identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}
