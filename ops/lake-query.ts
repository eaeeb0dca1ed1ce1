import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dataColumns, type CatalogTable } from '../shared/core/catalog/tables';
import { openDuckDb, type DuckDb } from '../shared/core/duckdb/duckdb';
import { sqlStringLiteral } from '../shared/stages/transform';

/** Hive type (the catalog's) → DuckDB type, for the partition columns DuckDB reads from paths. */
const DUCKDB_TYPES: Record<string, string> = { string: 'VARCHAR', date: 'DATE', bigint: 'BIGINT', int: 'INTEGER' };

const quote = (name: string) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a safe identifier: ${name}`);
  return `"${name}"`;
};

/**
 * DuckDB over a local copy of the lake (`root/processed/…`, `root/curated/…`), with a view per
 * catalog table under the same names Athena has: `processed.<dataset>`, `curated.<table>` (the
 * schema is the Glue database without its `landfall_<stage>_` prefix), and the same columns: the
 * data columns, then the partition keys read from the path. A table with no files yet is an empty
 * view of its columns, so a query names it either way.
 */
export async function openLake(root: string, tables: CatalogTable[], workDir: string): Promise<DuckDb> {
  const duckdb = await openDuckDb({ workDir, functionMemoryMb: 4096 });
  try {
    for (const zone of ['processed', 'curated']) await duckdb.conn.run(`CREATE SCHEMA IF NOT EXISTS ${zone}`);
    for (const table of tables) {
      const columns = [...dataColumns(table), ...table.partitionKeys];
      const view = `${table.zone}.${quote(table.name)}`;
      const dir = join(root, table.prefix);
      const files = existsSync(dir) ? `${dir.replace(/\/$/, '')}/**/*.parquet` : undefined;
      if (files) {
        const hiveTypes = table.partitionKeys.map((k) => `${sqlStringLiteral(k.name)}: ${DUCKDB_TYPES[k.type] ?? 'VARCHAR'}`).join(', ');
        await duckdb.conn.run(
          `CREATE VIEW ${view} AS SELECT ${columns.map((c) => quote(c.name)).join(', ')} FROM read_parquet(${sqlStringLiteral(files)}, hive_partitioning = true, union_by_name = true${hiveTypes ? `, hive_types = {${hiveTypes}}` : ''})`,
        );
      } else {
        await duckdb.conn.run(`CREATE VIEW ${view} AS SELECT ${columns.map((c) => `CAST(NULL AS ${c.type}) AS ${quote(c.name)}`).join(', ')} WHERE false`);
      }
    }
    await duckdb.conn.run(`SET search_path = 'curated,processed'`);
  } catch (err) {
    duckdb.close();
    throw err;
  }
  return duckdb;
}

/** A query's result as a header and rows of text (NULL as the empty string). */
export async function queryLake(duckdb: DuckDb, sql: string): Promise<{ columns: string[]; rows: string[][] }> {
  const reader = await duckdb.conn.runAndReadAll(sql);
  const columns = reader.columnNames();
  const rows = reader.getRowsJson().map((row) => row.map((v) => (v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v))));
  return { columns, rows };
}
