import type { ColumnKind, ColumnSpec } from '../config/types';

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

export function duckdbType(column: ColumnSpec): string {
  const types: Record<ColumnKind, string> = {
    string: 'VARCHAR',
    integer: 'BIGINT',
    decimal: `DECIMAL(18,${column.scale ?? 0})`,
    date: 'DATE',
    timestamp: 'TIMESTAMP',
  };
  return types[column.kind];
}

/** Identifiers come only from validated configuration; this re-check keeps SQL injection impossible. */
export function quoteIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not a safe identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}
