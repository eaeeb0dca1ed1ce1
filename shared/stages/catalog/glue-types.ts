import { LandfallError } from '../../core/errors';

/**
 * DuckDB's reading of a Parquet column type → the Hive/Glue type Athena reads it as. A type Athena
 * would misread (unsigned integers, nanosecond timestamps, 128-bit integers, time of day, UUID
 * bytes, …) has no mapping: the catalog refuses the table rather than publish a wrong type.
 */
export class UnsupportedCatalogTypeError extends LandfallError {
  override readonly name = 'UnsupportedCatalogTypeError';
  readonly code = 'CATALOG_TYPE_UNSUPPORTED';
}

const SIMPLE: Record<string, string> = {
  VARCHAR: 'string',
  BIGINT: 'bigint',
  INTEGER: 'int',
  SMALLINT: 'smallint',
  TINYINT: 'tinyint',
  DOUBLE: 'double',
  FLOAT: 'float',
  BOOLEAN: 'boolean',
  DATE: 'date',
  // DuckDB's TIMESTAMP is microseconds without a zone (what convert and the SQL stages write); a
  // zoned one is stored as UTC instants, which Athena reads as timestamps too. Spark's INT96 reads
  // back as TIMESTAMP WITH TIME ZONE.
  TIMESTAMP: 'timestamp',
  'TIMESTAMP WITH TIME ZONE': 'timestamp',
  BLOB: 'binary',
};

/** The Glue type of a DuckDB column type as DESCRIBE prints it (nested lists and structs included). */
export function glueType(duckdbType: string, what: string): string {
  const type = duckdbType.trim();
  const simple = SIMPLE[type];
  if (simple) return simple;
  const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(type);
  if (decimal) return `decimal(${decimal[1]},${decimal[2]})`;
  if (type.endsWith('[]')) return `array<${glueType(type.slice(0, -2), what)}>`;
  const struct = /^STRUCT\((.*)\)$/.exec(type);
  if (struct)
    return `struct<${splitTopLevel(struct[1]!)
      .map((f) => {
        const [, name, inner] = /^"?([A-Za-z_][A-Za-z0-9_]*)"?\s+(.+)$/.exec(f.trim()) ?? [];
        if (!name || !inner) throw new UnsupportedCatalogTypeError(`${what}: cannot read the struct field "${f}"`);
        return `${name}:${glueType(inner, what)}`;
      })
      .join(',')}>`;
  throw new UnsupportedCatalogTypeError(
    `${what}: Parquet type ${type} has no Athena type that reads it exactly (write it as a supported type: string, bigint, int, double, boolean, date, timestamp, decimal(p,s))`,
  );
}

/** Splits "a INTEGER, b STRUCT(c INTEGER, d VARCHAR)" at the commas outside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    if (text[i] === '(') depth += 1;
    else if (text[i] === ')') depth -= 1;
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}
