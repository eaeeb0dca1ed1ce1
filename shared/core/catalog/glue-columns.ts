import { ConcurrentModificationException, GetTableCommand, type GlueClient, type Table, type TableInput, UpdateTableCommand } from '@aws-sdk/client-glue';
import { LandfallError } from '../errors';

/**
 * A processed dataset's Glue table gains the columns its files brought (schemaPolicy additive):
 * each appended as `string` after the table's columns, once. The table is read (GetTable) and
 * written back whole (UpdateTable) on the version read, so two converts adding columns at once
 * cannot lose one another's: the loser reads again and adds what is still missing.
 */
export interface GlueTableRef {
  databaseName: string;
  tableName: string;
}

/** The table kept changing under us (every attempt lost the race on its VersionId). */
export class GlueTableBusyError extends LandfallError {
  override readonly name = 'GlueTableBusyError';
  readonly code = 'GLUE_TABLE_BUSY';
}

/** The table has no storage descriptor to add columns to (not one landfall's template made). */
export class GlueTableShapeError extends LandfallError {
  override readonly name = 'GlueTableShapeError';
  readonly code = 'GLUE_TABLE_SHAPE';
}

/** The fields of a Table that TableInput takes: the rest (CreateTime, VersionId, DatabaseName, …) are read-only. */
const INPUT_FIELDS = [
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
] as const satisfies ReadonlyArray<keyof Table & keyof TableInput>;

/**
 * The TableInput that appends to `table` the `columns` it lacks (names compared lower-case, as
 * Glue stores them; partition keys count as present), or null when it has them all.
 */
export function tableInputAdding(table: Table, columns: string[]): TableInput | null {
  if (!table.StorageDescriptor) throw new GlueTableShapeError(`Glue table ${table.Name} has no StorageDescriptor`);
  const present = new Set([...(table.StorageDescriptor.Columns ?? []), ...(table.PartitionKeys ?? [])].map((c) => c.Name?.toLowerCase()));
  const missing: string[] = [];
  for (const name of columns) {
    const lower = name.toLowerCase();
    if (present.has(lower)) continue;
    present.add(lower);
    missing.push(lower);
  }
  if (missing.length === 0) return null;
  const input: TableInput = { Name: table.Name };
  for (const field of INPUT_FIELDS) if (table[field] !== undefined) Object.assign(input, { [field]: table[field] });
  input.StorageDescriptor = {
    ...table.StorageDescriptor,
    Columns: [
      ...(table.StorageDescriptor.Columns ?? []),
      ...missing.map((Name) => ({ Name, Type: 'string', Comment: 'added by landfall (schemaPolicy additive)' })),
    ],
  };
  return input;
}

/** UpdateTable attempts before the convert fails (and Lambda retries it). */
const MAX_ATTEMPTS = 5;

/** Appends the missing `columns` to the table; returns those added (none: the table had them all). */
export async function ensureTableColumns(glue: GlueClient, ref: GlueTableRef, columns: string[]): Promise<string[]> {
  for (let attempt = 1; ; attempt += 1) {
    const { Table: table } = await glue.send(new GetTableCommand({ DatabaseName: ref.databaseName, Name: ref.tableName }));
    if (!table) throw new GlueTableShapeError(`GetTable of ${ref.databaseName}.${ref.tableName} answered no table`);
    const input = tableInputAdding(table, columns);
    if (!input) return [];
    try {
      await glue.send(
        new UpdateTableCommand({ DatabaseName: ref.databaseName, TableInput: input, ...(table.VersionId ? { VersionId: table.VersionId } : {}) }),
      );
      const before = new Set((table.StorageDescriptor?.Columns ?? []).map((c) => c.Name));
      return (input.StorageDescriptor?.Columns ?? []).map((c) => c.Name!).filter((name) => !before.has(name));
    } catch (err) {
      if (!(err instanceof ConcurrentModificationException)) throw err;
      if (attempt >= MAX_ATTEMPTS) throw new GlueTableBusyError(`${ref.databaseName}.${ref.tableName} changed under ${attempt} updates in a row`);
    }
  }
}
