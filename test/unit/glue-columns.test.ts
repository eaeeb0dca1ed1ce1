import { ConcurrentModificationException, GetTableCommand, GlueClient, type Table, UpdateTableCommand } from '@aws-sdk/client-glue';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureTableColumns, GlueTableBusyError, tableInputAdding } from '../../shared/core/catalog/glue-columns';

const table = (columns: string[], versionId = '1'): Table => ({
  Name: 'orders',
  DatabaseName: 'landfall_dev_processed',
  CreateTime: new Date('2026-01-01T00:00:00Z'),
  UpdateTime: new Date('2026-01-02T00:00:00Z'),
  CreatedBy: 'arn:aws:iam::1:role/x',
  IsRegisteredWithLakeFormation: false,
  CatalogId: '123456789012',
  VersionId: versionId,
  TableType: 'EXTERNAL_TABLE',
  Parameters: { classification: 'parquet', 'projection.enabled': 'true' },
  PartitionKeys: [{ Name: 'dt', Type: 'date' }],
  StorageDescriptor: { Columns: columns.map((Name) => ({ Name, Type: Name === 'id' ? 'bigint' : 'string' })), Location: 's3://lake/processed/orders/' },
});

describe('the Glue table input that adds columns', () => {
  it('appends the missing columns as string and drops the read-only fields', () => {
    const input = tableInputAdding(table(['id', 'note']), ['channel', 'NOTE', 'dt', 'channel']);
    expect(input).toEqual({
      Name: 'orders',
      TableType: 'EXTERNAL_TABLE',
      Parameters: { classification: 'parquet', 'projection.enabled': 'true' },
      PartitionKeys: [{ Name: 'dt', Type: 'date' }],
      StorageDescriptor: {
        Location: 's3://lake/processed/orders/',
        Columns: [
          { Name: 'id', Type: 'bigint' },
          { Name: 'note', Type: 'string' },
          { Name: 'channel', Type: 'string', Comment: 'added by landfall (schemaPolicy additive)' },
        ],
      },
    });
  });

  it('is null when the table has every column', () => {
    expect(tableInputAdding(table(['id', 'channel']), ['Channel', 'id'])).toBeNull();
  });
});

describe('ensureTableColumns', () => {
  const glue = mockClient(GlueClient);
  afterEach(() => glue.reset());
  const ref = { databaseName: 'landfall_dev_processed', tableName: 'orders' };

  it('updates on the version read, and again after losing a race', async () => {
    glue
      .on(GetTableCommand)
      .resolvesOnce({ Table: table(['id'], '1') })
      .resolvesOnce({ Table: table(['id', 'other'], '2') });
    glue
      .on(UpdateTableCommand)
      .rejectsOnce(new ConcurrentModificationException({ message: 'version changed', $metadata: {} }))
      .resolves({});
    expect(await ensureTableColumns(new GlueClient({}), ref, ['channel'])).toEqual(['channel']);
    const updates = glue.commandCalls(UpdateTableCommand).map((c) => c.args[0].input);
    expect(updates.map((u) => u.VersionId)).toEqual(['1', '2']);
    expect(updates[1]!.TableInput!.StorageDescriptor!.Columns!.map((c) => c.Name)).toEqual(['id', 'other', 'channel']);
  });

  it('adds nothing to a table that has the columns', async () => {
    glue.on(GetTableCommand).resolves({ Table: table(['id', 'channel']) });
    expect(await ensureTableColumns(new GlueClient({}), ref, ['channel'])).toEqual([]);
    expect(glue.commandCalls(UpdateTableCommand)).toHaveLength(0);
  });

  it('gives up with a typed error when every attempt loses', async () => {
    glue.on(GetTableCommand).resolves({ Table: table(['id']) });
    glue.on(UpdateTableCommand).rejects(new ConcurrentModificationException({ message: 'busy', $metadata: {} }));
    await expect(ensureTableColumns(new GlueClient({}), ref, ['channel'])).rejects.toBeInstanceOf(GlueTableBusyError);
    expect(glue.commandCalls(UpdateTableCommand)).toHaveLength(5);
  });
});
