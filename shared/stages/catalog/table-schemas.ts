import type { Pipeline } from '../../core/config/load-config';
import { PREFIX } from '../../core/s3/layout';
import { glueType } from './glue-types';
import type { CatalogColumn, CatalogTable, PartitionKey } from '../../core/catalog/tables';
import { bindPipeline } from './pipeline-binding';
import { SqlBindingError } from './sql-binding';

function partitionKeys(fields: string[], dateField: string, listed: Record<string, string[] | undefined>): PartitionKey[] {
  return fields.map((name) =>
    name === dateField ? { name, type: 'date', isDate: true } : { name, type: 'string', ...(listed[name] ? { values: listed[name] } : {}) },
  );
}

/**
 * Every table of the pipeline with the columns its Parquet files actually have: each processed
 * dataset's schema is read from an (empty) file written by convert's own writer, each DuckDB job's
 * from its last SQL stage run by the transform's own runner over empty inputs of its relations'
 * schemas (upstream jobs first: see bindPipeline); a Spark job's tables declare their columns
 * (`output.tables`, `output.columns`). A SQL stage that does not bind throws SqlBindingError: no
 * catalog (nor package, nor local stack) is built on SQL that cannot run.
 */
export async function catalogTables(pipeline: Pipeline): Promise<{ tables: CatalogTable[]; skipped: string[] }> {
  const binding = await bindPipeline(pipeline);
  if (binding.problems.length > 0) throw new SqlBindingError(binding.problems, pipeline.dir);
  const tables: CatalogTable[] = [];
  const skipped: string[] = [];
  for (const { dataset, columns } of binding.datasets) {
    tables.push({
      zone: 'processed',
      name: dataset.name,
      prefix: `${PREFIX.processed}${dataset.name}/`,
      fileColumns: typed(columns, `processed dataset ${dataset.name}`),
      partitionKeys: [{ name: 'dt', type: 'date', isDate: true }, ...partitionKeys(dataset.partitionBy, dataset.dateField, dataset.keyFieldValues ?? {})],
      source: dataset.name,
    });
  }
  for (const { job, columns } of binding.jobs) {
    const keys = partitionKeys(job.output.partitionBy, job.dateField, pipeline.listed.get(job.name) ?? {});
    if (job.stages.some((s) => s.sql)) {
      if (!columns) {
        skipped.push(`${job.name}: table ${job.output.table}: the columns of its inputs are unknown`);
        continue;
      }
      tables.push({
        zone: 'curated',
        name: job.output.table,
        prefix: `${PREFIX.curated}${job.output.table}/`,
        fileColumns: typed(columns, `curated table ${job.output.table}`),
        partitionKeys: keys,
        source: job.name,
      });
      continue;
    }
    const declared = job.output.tables ?? { [job.output.table]: { key: job.output.key, ...(job.output.columns ? { columns: job.output.columns } : {}) } };
    for (const [name, spec] of Object.entries(declared)) {
      const prefix = job.output.tables ? `${PREFIX.curated}${job.output.table}/${name}/` : `${PREFIX.curated}${job.output.table}/`;
      if (!spec.columns) {
        skipped.push(
          `${job.name}: table ${name} declares no columns (a Spark table's columns are declared in ${job.output.tables ? `output.tables.${name}.columns` : 'output.columns'})`,
        );
        continue;
      }
      tables.push({ zone: 'curated', name, prefix, fileColumns: spec.columns.map((c) => ({ ...c })), partitionKeys: keys, source: job.name });
    }
  }
  return { tables, skipped };
}

function typed(columns: CatalogColumn[], what: string): CatalogColumn[] {
  return columns.map((c) => ({ name: c.name, type: glueType(c.type, `${what}, column ${c.name}`) }));
}
