/* The lake's tables as the catalog describes them: computed at build time (shared/stages/catalog), read at run time (catalog-file.ts). */

export interface CatalogColumn {
  name: string;
  /** Hive/Glue type: string, bigint, decimal(18,2), date, timestamp, … */
  type: string;
}

export interface PartitionKey extends CatalogColumn {
  /** the values the pipeline can write (partition projection `enum`), when the configuration lists them */
  values?: string[];
  /** the batch's business date (projection `date`, yyyy-MM-dd) */
  isDate?: boolean;
}

/** One table as the lake lays it out: what the Glue table, `landfall query` and the warehouse load read. */
export interface CatalogTable {
  zone: 'processed' | 'curated';
  name: string;
  /** the key prefix of the table in the lake bucket, ending in `/` */
  prefix: string;
  /** the columns of each Parquet file, in file order (a Redshift COPY maps them by position) */
  fileColumns: CatalogColumn[];
  /** the Hive partitions of the key, in path order */
  partitionKeys: PartitionKey[];
  /** the dataset or job it comes from */
  source: string;
}

/** The Glue table's data columns: the file's, without those the path holds (Athena refuses a name in both). */
export function dataColumns(table: CatalogTable): CatalogColumn[] {
  const partitions = new Set(table.partitionKeys.map((p) => p.name));
  return table.fileColumns.filter((c) => !partitions.has(c.name));
}
