import { dataColumns, type CatalogTable, type PartitionKey } from '../../core/catalog/tables';

/**
 * The Glue Data Catalog of a pipeline as CloudFormation: one database per lake zone
 * (`landfall_<stage>_processed`, `landfall_<stage>_curated`), one table per processed dataset and
 * per curated table, each with partition projection (Athena computes the partitions from the
 * table's properties: no crawler, no MSCK REPAIR, no partition API call per batch), and an Athena
 * workgroup whose results stay in the lake bucket and whose queries stop at a scan limit.
 */
export interface CatalogOptions {
  /** the deployment stage (dev, prod…): part of the database names */
  stage: string;
  /** CloudFormation value of the lake bucket's name (e.g. { Ref: 'S3BucketLake' }) */
  lakeBucket: unknown;
  /** first business date Athena projects (yyyy-MM-dd); default 2020-01-01 */
  firstDate?: string;
  /** the workgroup's per-query scan cutoff (default 10 GiB) */
  bytesScannedCutoff?: number;
}

type Resources = Record<string, { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] }>;

/** `landfall_dev_curated`: Glue and Athena names are lower-case letters, digits and `_`. */
export function databaseName(stage: string, zone: CatalogTable['zone']): string {
  return `landfall_${stage.toLowerCase().replace(/[^a-z0-9]+/g, '_')}_${zone}`;
}

const logicalId = (prefix: string, name: string) => `${prefix}${name.replace(/(^|_)([a-z0-9])/g, (_m, _u, c: string) => c.toUpperCase())}`;
const sub = (bucket: unknown, path: string) => ({ 'Fn::Join': ['', ['s3://', bucket, `/${path}`]] });

function projection(key: PartitionKey, firstDate: string): Record<string, string> {
  const p = `projection.${key.name}`;
  if (key.isDate)
    return { [`${p}.type`]: 'date', [`${p}.format`]: 'yyyy-MM-dd', [`${p}.range`]: `${firstDate},NOW`, [`${p}.interval`]: '1', [`${p}.interval.unit`]: 'DAYS' };
  // values the configuration lists are enumerated; others must be named by each query
  return key.values ? { [`${p}.type`]: 'enum', [`${p}.values`]: key.values.join(',') } : { [`${p}.type`]: 'injected' };
}

function tableResource(table: CatalogTable, database: string, options: CatalogOptions & { databaseId: string }) {
  const firstDate = options.firstDate ?? '2020-01-01';
  const template = `${table.prefix}${table.partitionKeys.map((k) => `${k.name}=\${${k.name}}`).join('/')}/`;
  return {
    Type: 'AWS::Glue::Table',
    DependsOn: [options.databaseId],
    Properties: {
      CatalogId: { Ref: 'AWS::AccountId' },
      DatabaseName: database,
      TableInput: {
        Name: table.name,
        Description: `landfall ${table.zone} ${table.zone === 'processed' ? 'dataset' : 'table'} ${table.name} (from ${table.source})`,
        TableType: 'EXTERNAL_TABLE',
        Parameters: {
          classification: 'parquet',
          EXTERNAL: 'TRUE',
          'parquet.compression': 'ZSTD',
          'projection.enabled': 'true',
          ...Object.assign({}, ...table.partitionKeys.map((k) => projection(k, firstDate))),
          'storage.location.template': sub(options.lakeBucket, template),
        },
        PartitionKeys: table.partitionKeys.map((k) => ({ Name: k.name, Type: k.type })),
        StorageDescriptor: {
          Columns: dataColumns(table).map((c) => ({ Name: c.name, Type: c.type })),
          Location: sub(options.lakeBucket, table.prefix),
          InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe', Parameters: { 'serialization.format': '1' } },
        },
      },
    },
  };
}

export function catalogResources(tables: CatalogTable[], options: CatalogOptions): Resources {
  const resources: Resources = {};
  for (const zone of ['processed', 'curated'] as const) {
    const database = databaseName(options.stage, zone);
    const databaseId = logicalId('GlueDatabase', zone);
    resources[databaseId] = {
      Type: 'AWS::Glue::Database',
      Properties: {
        CatalogId: { Ref: 'AWS::AccountId' },
        DatabaseInput: { Name: database, Description: `landfall ${options.stage}: the ${zone} zone of the lake (partition projection; no crawler)` },
      },
    };
    for (const table of tables.filter((t) => t.zone === zone))
      resources[logicalId(zone === 'processed' ? 'GlueProcessed' : 'GlueCurated', table.name)] = tableResource(table, database, { ...options, databaseId });
  }
  resources.AthenaWorkGroup = {
    Type: 'AWS::Athena::WorkGroup',
    Properties: {
      Name: `landfall-${options.stage}`,
      Description: 'landfall: queries over the Glue tables of the lake; results in the lake bucket',
      State: 'ENABLED',
      RecursiveDeleteOption: true,
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
        BytesScannedCutoffPerQuery: options.bytesScannedCutoff ?? 10 * 1024 ** 3,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: { OutputLocation: sub(options.lakeBucket, 'athena-results/'), EncryptionConfiguration: { EncryptionOption: 'SSE_S3' } },
      },
    },
  };
  return resources;
}
