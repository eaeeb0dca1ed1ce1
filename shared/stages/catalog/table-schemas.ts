import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileKeyPattern } from '../../core/datasets/key-pattern';
import type { Pipeline } from '../../core/config/load-config';
import type { DatasetConfig, JobConfig } from '../../core/config/types';
import { csvToParquet, lineageColumns } from '../convert';
import { openDuckDb } from '../../core/duckdb/duckdb';
import { PREFIX } from '../../core/s3/layout';
import { runSqlTransform, sqlParams, loadSql } from '../transform';
import { glueType } from './glue-types';
import type { CatalogColumn, CatalogTable, PartitionKey } from '../../core/catalog/tables';

const DUMMY_DATE = '2000-01-01';

function partitionKeys(fields: string[], dateField: string, listed: Record<string, string[] | undefined>): PartitionKey[] {
  return fields.map((name) =>
    name === dateField ? { name, type: 'date', isDate: true } : { name, type: 'string', ...(listed[name] ? { values: listed[name] } : {}) },
  );
}

/**
 * Every table of the pipeline with the columns its Parquet files actually have: each processed
 * dataset's schema is read from an (empty) file written by convert's own writer, each DuckDB job's
 * from its last SQL stage run by the transform's own runner over empty inputs of its relations'
 * schemas (upstream jobs first); a Spark job's tables declare their columns (`output.tables`).
 */
export async function catalogTables(pipeline: Pipeline): Promise<{ tables: CatalogTable[]; skipped: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'landfall-catalog-'));
  const duckdb = await openDuckDb({ workDir: dir, functionMemoryMb: 1024, threads: 1 });
  const describe = async (path: string): Promise<CatalogColumn[]> => {
    const rows = (await duckdb.conn.runAndReadAll('DESCRIBE SELECT * FROM read_parquet($1, hive_partitioning = false)', [path])).getRowObjectsJson() as Array<{
      column_name: string;
      column_type: string;
    }>;
    return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
  };
  const tables: CatalogTable[] = [];
  const skipped: string[] = [];
  /** an empty Parquet file of each source (dataset or job output), as the next reader's input */
  const emptyFiles = new Map<string, string>();
  try {
    for (const dataset of pipeline.config.datasets) {
      const path = join(dir, `processed-${dataset.name}.parquet`);
      await emptyProcessedFile(duckdb.conn, dataset, dir, path);
      emptyFiles.set(dataset.name, path);
      tables.push({
        zone: 'processed',
        name: dataset.name,
        prefix: `${PREFIX.processed}${dataset.name}/`,
        fileColumns: typed(await describe(path), `processed dataset ${dataset.name}`),
        partitionKeys: [{ name: 'dt', type: 'date', isDate: true }, ...partitionKeys(dataset.partitionBy, dataset.dateField, dataset.keyFieldValues ?? {})],
        source: dataset.name,
      });
    }
    const done = new Set<string>();
    const visit = async (job: JobConfig): Promise<void> => {
      if (done.has(job.name)) return;
      done.add(job.name);
      for (const input of job.inputs) if (input.job) await visit(pipeline.jobsByName.get(input.job)!);
      const listed = pipeline.listed.get(job.name) ?? {};
      const keys = partitionKeys(job.output.partitionBy, job.dateField, listed);
      const lastSql = job.stages.at(-1)?.sql;
      if (lastSql && !job.output.tables) {
        const inputs = Object.fromEntries(job.inputs.map((i) => [i.relation, [emptyFiles.get(i.source)!]]));
        const values = Object.fromEntries(job.batchKey.map((k) => [k, k === job.dateField ? DUMMY_DATE : 'x']));
        const out = join(dir, `curated-${job.name}.parquet`);
        await runSqlTransform(duckdb.conn, { sql: await loadSql(lastSql), inputs, params: sqlParams(values), outputPath: out });
        emptyFiles.set(job.name, out);
        tables.push({
          zone: 'curated',
          name: job.output.table,
          prefix: `${PREFIX.curated}${job.output.table}/`,
          fileColumns: typed(await describe(out), `curated table ${job.output.table}`),
          partitionKeys: keys,
          source: job.name,
        });
        return;
      }
      for (const [name, spec] of Object.entries(job.output.tables ?? { [job.output.table]: { key: job.output.key } })) {
        const prefix = job.output.tables ? `${PREFIX.curated}${job.output.table}/${name}/` : `${PREFIX.curated}${job.output.table}/`;
        if (!spec.columns) {
          skipped.push(`${job.name}: table ${name} declares no columns (a Spark table's columns are declared in output.tables.${name}.columns)`);
          continue;
        }
        tables.push({ zone: 'curated', name, prefix, fileColumns: spec.columns.map((c) => ({ ...c })), partitionKeys: keys, source: job.name });
      }
    };
    for (const job of pipeline.config.jobs) await visit(job);
  } finally {
    duckdb.close();
    await rm(dir, { recursive: true, force: true });
  }
  return { tables, skipped };
}

function typed(columns: CatalogColumn[], what: string): CatalogColumn[] {
  return columns.map((c) => ({ name: c.name, type: glueType(c.type, `${what}, column ${c.name}`) }));
}

/** A processed file of the dataset with no rows, written exactly as convert writes one (its lineage columns included). */
async function emptyProcessedFile(conn: Parameters<typeof csvToParquet>[0], dataset: DatasetConfig, dir: string, path: string): Promise<void> {
  const csv = join(dir, `${dataset.name}.csv`);
  await writeFile(csv, `${dataset.columns.map((c) => c.name).join(',')}\n`);
  const fields = Object.fromEntries(compileKeyPattern(dataset.keyPattern).fields.map((f) => [f.name, 'x']));
  await csvToParquet(conn, { csvPath: csv, parquetPath: path, columns: dataset.columns, constants: lineageColumns(fields, { key: 'x', versionTag: 'x' }) });
}
