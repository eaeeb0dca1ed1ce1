import type { DuckDBConnection } from '@duckdb/node-api';
import { WAREHOUSE_VARCHAR_BYTES } from '../../core/feeds/value-limits';
import { sqlStringLiteral } from './run-sql';

/** The first too-long string of the output: its column, its bytes and its row's key values. */
export interface TooLongValue {
  column: string;
  bytes: number;
  key: Record<string, string | null>;
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * The first top-level VARCHAR value of the Parquet file at `path` longer than `maxBytes` UTF-8
 * bytes (strlen counts bytes), with the values of the `key` columns the file has; null when none.
 * (A string inside a struct or list, SUPER in the warehouse, was held to the same limit where it
 * entered, at validation; SQL that builds a long one is not caught here: see docs/warehouse.md.)
 */
export async function findTooLongValue(conn: DuckDBConnection, path: string, key: string[], maxBytes = WAREHOUSE_VARCHAR_BYTES): Promise<TooLongValue | null> {
  const source = `read_parquet(${sqlStringLiteral(path)})`;
  const described = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)).getRowObjects();
  const columns = described.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  const strings = columns.filter((c) => c.type === 'VARCHAR').map((c) => c.name);
  if (strings.length === 0) return null;
  const keys = key.filter((k) => columns.some((c) => c.name === k));
  const lengths = strings.map((c) => `strlen(${quote(c)})`);
  const sql = `SELECT ${[...lengths.map((l, i) => `${l} AS l${i}`), ...keys.map((k, i) => `${quote(k)}::VARCHAR AS k${i}`)].join(', ')}
    FROM ${source} WHERE ${lengths.map((l) => `${l} > ${maxBytes}`).join(' OR ')} LIMIT 1`;
  const row = (await conn.runAndReadAll(sql)).getRows()[0];
  if (!row) return null;
  const over = strings.findIndex((_, i) => Number(row[i]) > maxBytes);
  const keyValues = Object.fromEntries(keys.map((k, i) => [k, row[strings.length + i] === null ? null : String(row[strings.length + i])]));
  return { column: strings[over]!, bytes: Number(row[over]), key: keyValues };
}
