import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { compileKeyPattern } from '../../core/datasets/key-pattern';
import type { DatasetConfig, OutputColumn } from '../../core/config/types';
import { csvToParquet, lineageColumns } from '../convert';
import { sqlStringLiteral } from '../transform';

/** A column of a Parquet file as DuckDB types it (VARCHAR, DECIMAL(18,2), STRUCT(…)). */
export interface FileColumn {
  name: string;
  type: string;
}

/** The columns of a Parquet file, in file order. */
export async function describeParquet(conn: DuckDBConnection, path: string): Promise<FileColumn[]> {
  const rows = (await conn.runAndReadAll('DESCRIBE SELECT * FROM read_parquet($1, hive_partitioning = false)', [path])).getRowObjectsJson() as Array<{
    column_name: string;
    column_type: string;
  }>;
  return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
}

/** A processed file of the dataset with no rows, written exactly as convert writes one (its lineage columns included). */
export async function emptyProcessedFile(conn: DuckDBConnection, dataset: DatasetConfig, dir: string, path: string): Promise<void> {
  const csv = join(dir, `${dataset.name}.csv`);
  await writeFile(csv, `${dataset.columns.map((c) => c.name).join(',')}\n`);
  const fields = Object.fromEntries(compileKeyPattern(dataset.keyPattern).fields.map((f) => [f.name, 'x']));
  await csvToParquet(conn, { csvPath: csv, parquetPath: path, columns: dataset.columns, constants: lineageColumns(fields, { key: 'x', versionTag: 'x' }) });
}

/**
 * A Parquet file with no rows and the columns a Spark job declares (`output.columns`, Hive types);
 * false when DuckDB does not read one of the types as written (a nested Hive type: struct<…>).
 */
export async function emptyDeclaredFile(conn: DuckDBConnection, columns: OutputColumn[], path: string): Promise<boolean> {
  const list = columns.map((c) => `CAST(NULL AS ${c.type}) AS "${c.name}"`).join(', ');
  try {
    await conn.run(`COPY (SELECT ${list} LIMIT 0) TO ${sqlStringLiteral(path)} (FORMAT parquet)`);
    return true;
  } catch {
    return false;
  }
}
