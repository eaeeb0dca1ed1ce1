import type { Server } from 'node:http';
import { awsJsonServer, ServiceError, str } from './aws-json';
import { listenOnLoopback } from './http';
import { type CatalogTable, dataColumns } from '../shared/core/catalog/tables';

/** An injected fault: `throttle` answers ThrottlingException, `error` 500 InternalServiceException. */
export interface GlueFault {
  kind: 'throttle' | 'error';
  /** how many requests of the operation it answers (default 1) */
  times?: number;
}

interface GlueColumn {
  Name: string;
  Type?: string;
  Comment?: string;
}

/** A table as GetTable answers it (the fields landfall reads and writes back). */
export interface LocalGlueTable {
  Name: string;
  DatabaseName: string;
  VersionId: string;
  TableType?: string;
  Parameters?: Record<string, string>;
  PartitionKeys?: GlueColumn[];
  StorageDescriptor?: { Columns?: GlueColumn[]; Location?: string; [field: string]: unknown };
  [field: string]: unknown;
}

export interface LocalGlue {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** a table as it is now (undefined: none) */
  table(database: string, name: string): LocalGlueTable | undefined;
  /** the next `times` requests of `operation` (e.g. 'UpdateTable') fail as `kind` says */
  fault(operation: string, fault: GlueFault): void;
  clearFaults(): void;
  /** requests received per operation (faulted ones included) */
  requests(): Record<string, number>;
  stop(): Promise<void>;
}

export interface GlueSeed {
  database: string;
  tables: CatalogTable[];
  /** the lake bucket, for each table's Location */
  lakeBucket: string;
}

/** Fields of a TableInput UpdateTable takes; the others (CreateTime, VersionId, DatabaseName…) are refused as AWS refuses them. */
const INPUT_FIELDS = new Set([
  'Name',
  'Description',
  'Owner',
  'LastAccessTime',
  'LastAnalyzedTime',
  'Retention',
  'StorageDescriptor',
  'PartitionKeys',
  'ViewOriginalText',
  'ViewExpandedText',
  'TableType',
  'Parameters',
  'TargetTable',
  'ViewDefinition',
]);

/**
 * The Glue Data Catalog's tables for the local stack (awsJson1_1, `AWSGlue.`): GetTable, GetTables
 * and UpdateTable with optimistic locking on VersionId (a stale one is a
 * ConcurrentModificationException), seeded with the catalog tables the template declares.
 */
export async function startLocalGlue(
  options: { seed?: GlueSeed; onCall?: (operation: string, body: Record<string, unknown>) => void } = {},
): Promise<LocalGlue> {
  const tables = new Map<string, LocalGlueTable>();
  const keyOf = (database: string, name: string) => `${database}\u0000${name.toLowerCase()}`;
  const faults = new Map<string, Required<GlueFault>>();
  const counts: Record<string, number> = {};
  if (options.seed) {
    const { database, lakeBucket } = options.seed;
    for (const t of options.seed.tables.filter((t) => t.zone === 'processed' || t.zone === 'curated')) {
      tables.set(keyOf(database, t.name), {
        Name: t.name,
        DatabaseName: database,
        VersionId: '1',
        TableType: 'EXTERNAL_TABLE',
        Parameters: { classification: 'parquet', EXTERNAL: 'TRUE' },
        PartitionKeys: t.partitionKeys.map((k) => ({ Name: k.name, Type: k.type })),
        StorageDescriptor: { Columns: dataColumns(t).map((c) => ({ Name: c.name, Type: c.type })), Location: `s3://${lakeBucket}/${t.prefix}` },
      });
    }
  }
  const found = (body: Record<string, unknown>, nameField: string) => {
    const database = str(body, 'DatabaseName');
    const name = str(body, nameField);
    if (!database || !name) throw new ServiceError('InvalidInputException', `DatabaseName and ${nameField} are required`);
    const table = tables.get(keyOf(database, name));
    if (!table) throw new ServiceError('EntityNotFoundException', `Table ${name} not found in database ${database}`);
    return table;
  };
  const server: Server = awsJsonServer({
    targetPrefix: 'AWSGlue.',
    version: '1.1',
    internalErrorType: 'InternalServiceException',
    beforeOperation: (name) => {
      counts[name] = (counts[name] ?? 0) + 1;
      const fault = faults.get(name);
      if (!fault) return;
      fault.times -= 1;
      if (fault.times <= 0) faults.delete(name);
      throw fault.kind === 'throttle'
        ? new ServiceError('ThrottlingException', 'Rate exceeded (injected)')
        : new ServiceError('InternalServiceException', 'Internal error (injected)', 500);
    },
    operations: {
      GetTable: (body) => {
        options.onCall?.('GetTable', body);
        return { Table: found(body, 'Name') };
      },
      GetTables: (body) => {
        options.onCall?.('GetTables', body);
        const database = str(body, 'DatabaseName');
        return { TableList: [...tables.values()].filter((t) => t.DatabaseName === database) };
      },
      UpdateTable: (body) => {
        options.onCall?.('UpdateTable', body);
        const input = body.TableInput as Record<string, unknown> | undefined;
        if (!input || typeof input.Name !== 'string') throw new ServiceError('InvalidInputException', 'TableInput.Name is required');
        const table = found({ DatabaseName: body.DatabaseName, Name: input.Name }, 'Name');
        const unknown = Object.keys(input).filter((field) => !INPUT_FIELDS.has(field));
        if (unknown.length > 0) throw new ServiceError('ValidationException', `TableInput does not take ${unknown.join(', ')}`);
        const versionId = str(body, 'VersionId');
        if (versionId !== undefined && versionId !== table.VersionId)
          throw new ServiceError('ConcurrentModificationException', `Table ${table.Name} is at version ${table.VersionId}, not ${versionId}`);
        const next: LocalGlueTable = {
          ...(input as Partial<LocalGlueTable>),
          Name: table.Name,
          DatabaseName: table.DatabaseName,
          VersionId: String(Number(table.VersionId) + 1),
        };
        tables.set(keyOf(table.DatabaseName, table.Name), next);
        return {};
      },
    },
  });
  const listening = await listenOnLoopback(server);
  return {
    endpoint: listening.endpoint,
    table: (database, name) => {
      const t = tables.get(keyOf(database, name));
      return t ? structuredClone(t) : undefined;
    },
    fault: (operation, fault) => faults.set(operation, { kind: fault.kind, times: fault.times ?? 1 }),
    clearFaults: () => faults.clear(),
    requests: () => ({ ...counts }),
    stop: () => listening.close(),
  };
}
