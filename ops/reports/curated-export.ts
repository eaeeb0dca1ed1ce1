import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import type { JobConfig } from '../../shared/core/config/types';
import { VARCHAR } from '@duckdb/node-api';
import { openDuckDb } from '../../shared/core/duckdb/duckdb';
import { downloadToFile } from '../../shared/core/s3/object-io';
import { CURATED_PREFIX } from '../../shared/stages/transform';
import type { CatalogTable } from '../../shared/core/catalog/tables';
import { quoteName, warehouseColumns } from '../../shared/stages/load';
import type { LocalRedshiftData } from '../../local/redshift-data';

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

interface ExportedTable {
  name: string;
  prefix: string;
  key: string[];
  /** Spark's tables keep partition columns in the path only (date=…); DuckDB's have them in the file */
  hive: boolean;
}

async function exportTable(s3: S3Client, bucket: string, table: ExportedTable, work: string, outDir: string): Promise<string | null> {
  const dir = join(work, table.name);
  let files = 0;
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: table.prefix })) {
    for (const object of page.Contents ?? []) {
      if (!object.Key!.endsWith('.parquet')) continue;
      // keep the key's partition directories (date=…): they hold the partition columns
      const path = join(dir, object.Key!.slice(table.prefix.length));
      await mkdir(dirname(path), { recursive: true });
      await downloadToFile(s3, bucket, object.Key!, undefined, path);
      files += 1;
    }
  }
  if (files === 0) return null;
  for (const column of table.key) if (!IDENTIFIER.test(column)) throw new Error(`unsafe key column ${column}`);
  const duckdb = await openDuckDb({ workDir: work, functionMemoryMb: 2048 });
  try {
    const path = join(outDir, 'curated', `${table.name}.csv`);
    // the key identifies a row, so it orders the rows completely
    const order = table.key.map((c) => `"${c}"`).join(', ');
    await duckdb.conn.run(
      `COPY (SELECT * FROM read_parquet($files, hive_partitioning = ${table.hive}, union_by_name = true) ORDER BY ${order}) TO $out (FORMAT csv, HEADER true)`,
      { files: `${dir}/**/*.parquet`, out: path },
      { files: VARCHAR, out: VARCHAR },
    );
    return path;
  } finally {
    duckdb.close();
  }
}

/**
 * `OUT/curated/<table>.csv` for each job's output table: every partition's Parquet in the lake,
 * one CSV with a header, rows sorted by the table's key.
 */
export async function exportCuratedTables(s3: S3Client, bucket: string, jobs: JobConfig[], outDir: string): Promise<string[]> {
  const written: string[] = [];
  const work = await mkdtemp(join(tmpdir(), 'landfall-export-'));
  try {
    await mkdir(join(outDir, 'curated'), { recursive: true });
    for (const job of jobs) {
      // a DuckDB job writes one table; a Spark job may write several under curated/<table>/<name>/
      const tables = job.output.tables
        ? Object.entries(job.output.tables).map(
            ([name, { key }]): ExportedTable => ({ name, prefix: `${CURATED_PREFIX}${job.output.table}/${name}/`, key, hive: true }),
          )
        : [{ name: job.output.table, prefix: `${CURATED_PREFIX}${job.output.table}/`, key: job.output.key, hive: false }];
      for (const table of tables) {
        const path = await exportTable(s3, bucket, table, work, outDir);
        if (path) written.push(path);
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return written;
}

/** A CSV field, quoted when it holds a quote, a comma or a newline (RFC 4180). */
export const csvCell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/**
 * `OUT/warehouse/<table>.csv` for each table the jobs load: a SELECT from the local warehouse, with
 * a header, sorted by the load's key (the warehouse's text form of each value: PostgreSQL's).
 */
export async function exportWarehouseTables(
  warehouse: Pick<LocalRedshiftData, 'query'>,
  jobs: JobConfig[],
  catalog: CatalogTable[],
  outDir: string,
): Promise<string[]> {
  const written: string[] = [];
  const loads = jobs.flatMap((j) => (j.load ?? []).map((load) => ({ job: j, load })));
  if (loads.length === 0) return written;
  await mkdir(join(outDir, 'warehouse'), { recursive: true });
  for (const { job, load } of loads) {
    const table = catalog.find((t) => t.zone === 'curated' && t.source === job.name && t.name === load.table);
    if (!table) continue;
    const columns = warehouseColumns(table).map((c) => c.name);
    const exists = await warehouse.query<{ n: number }>('SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = $1', [load.into]);
    if (!exists[0]?.n) continue; // nothing loaded yet
    const rows = await warehouse.query<Record<string, unknown>>(
      `SELECT ${columns.map((c) => `${quoteName(c)}::text AS ${quoteName(c)}`).join(', ')} FROM ${quoteName(load.into)} AS t ORDER BY ${load.key.map((k) => `t.${quoteName(k)}`).join(', ')}`,
    );
    const path = join(outDir, 'warehouse', `${load.into}.csv`);
    await writeFile(
      path,
      `${[columns.join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c] === null || r[c] === undefined ? '' : String(r[c]))).join(','))].join('\n')}\n`,
    );
    written.push(path);
  }
  return written;
}
