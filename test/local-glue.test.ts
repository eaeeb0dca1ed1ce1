import {
  ConcurrentModificationException,
  EntityNotFoundException,
  GetTableCommand,
  GetTablesCommand,
  GlueClient,
  ThrottlingException,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTableColumns, tableInputAdding } from '../shared/core/catalog/glue-columns';
import { type LocalGlue, startLocalGlue } from '../local/glue';

/* The Glue stand-in through the real SDK client: tables seeded from the catalog, UpdateTable on a VersionId, faults. */
let glue: LocalGlue;
let client: GlueClient;
const database = 'landfall_local_processed';

beforeAll(async () => {
  glue = await startLocalGlue({
    seed: {
      database,
      lakeBucket: 'lake',
      tables: [
        {
          zone: 'processed',
          name: 'orders',
          prefix: 'processed/orders/',
          fileColumns: [
            { name: 'id', type: 'bigint' },
            { name: 'dt', type: 'date' },
          ],
          partitionKeys: [{ name: 'dt', type: 'date', isDate: true }],
          source: 'orders',
        },
      ],
    },
  });
  client = new GlueClient({ endpoint: glue.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
});
afterAll(async () => {
  client.destroy();
  await glue.stop();
});

describe('the local Glue', () => {
  it('answers the seeded table without its partition keys among the columns', async () => {
    const { Table } = await client.send(new GetTableCommand({ DatabaseName: database, Name: 'orders' }));
    expect(Table?.StorageDescriptor?.Columns).toEqual([{ Name: 'id', Type: 'bigint' }]);
    expect(Table?.PartitionKeys).toEqual([{ Name: 'dt', Type: 'date' }]);
    expect(Table?.StorageDescriptor?.Location).toBe('s3://lake/processed/orders/');
    expect((await client.send(new GetTablesCommand({ DatabaseName: database }))).TableList?.map((t) => t.Name)).toEqual(['orders']);
  });

  it('updates on the current VersionId and refuses a stale one', async () => {
    const { Table } = await client.send(new GetTableCommand({ DatabaseName: database, Name: 'orders' }));
    const input = tableInputAdding(Table!, ['channel'])!;
    await client.send(new UpdateTableCommand({ DatabaseName: database, TableInput: input, VersionId: Table!.VersionId }));
    await expect(client.send(new UpdateTableCommand({ DatabaseName: database, TableInput: input, VersionId: Table!.VersionId }))).rejects.toBeInstanceOf(
      ConcurrentModificationException,
    );
    expect(glue.table(database, 'orders')?.StorageDescriptor?.Columns?.map((c) => c.Name)).toEqual(['id', 'channel']);
    // a table the catalog does not have
    await expect(client.send(new GetTableCommand({ DatabaseName: database, Name: 'nothing' }))).rejects.toBeInstanceOf(EntityNotFoundException);
  });

  it('adds a column once through ensureTableColumns, through an injected fault', async () => {
    expect(await ensureTableColumns(client, { databaseName: database, tableName: 'orders' }, ['channel', 'device'])).toEqual(['device']);
    expect(await ensureTableColumns(client, { databaseName: database, tableName: 'orders' }, ['channel', 'device'])).toEqual([]);
    glue.fault('GetTable', { kind: 'throttle' });
    await expect(client.send(new GetTableCommand({ DatabaseName: database, Name: 'orders' }))).rejects.toBeInstanceOf(ThrottlingException);
    expect(glue.table(database, 'orders')?.StorageDescriptor?.Columns?.map((c) => c.Name)).toEqual(['id', 'channel', 'device']);
    expect(glue.requests().GetTable).toBeGreaterThanOrEqual(4);
  });
});
