import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { openDuckDb } from '../shared/core/duckdb/duckdb';
import { downloadToFile } from '../shared/core/s3/object-io';
import { landAndSettle, useLocalStack } from './support/local-stack';

/*
 * A feed whose header changes (schemaPolicy additive): through the real validate handler on the local
 * stack, each file ends with its state and reason, and each schema change of the dataset is alerted
 * exactly once on the alerts topic, however many files show it.
 */
const configDir = await mkdtemp(join(tmpdir(), 'landfall-schema-'));
process.env.LANDFALL_CONFIG_FILE = join(configDir, 'pipeline.json');
await writeFile(
  process.env.LANDFALL_CONFIG_FILE,
  JSON.stringify({
    datasets: [
      {
        name: 'orders',
        keyPattern: 'orders/{part}_{date:YYYYMMDD}.csv',
        format: { kind: 'delimited', delimiter: ';' },
        schemaPolicy: 'additive',
        columns: [
          { name: 'id', kind: 'integer' },
          { name: 'amount', kind: 'decimal', scale: 2 },
          { name: 'note', kind: 'string', nullable: true },
        ],
        dateField: 'date',
      },
    ],
  }),
);

const stack = useLocalStack();

/** Every processed Parquet file of orders, read together as a job reads them (union_by_name). */
async function processedRows(): Promise<Array<{ source_key: string; id: bigint; channel: string | null }>> {
  const lake = stack().deployment.names.lakeBucket;
  const listed = await stack().s3.send(new ListObjectsV2Command({ Bucket: lake, Prefix: 'processed/orders/' }));
  const dir = await mkdtemp(join(tmpdir(), 'landfall-schema-parquet-'));
  const paths: string[] = [];
  for (const [i, object] of (listed.Contents ?? []).entries()) {
    paths.push(join(dir, `${i}.parquet`));
    await downloadToFile(stack().s3, lake, object.Key!, undefined, paths[i]!);
  }
  const duckdb = await openDuckDb({ workDir: dir, functionMemoryMb: 512 });
  try {
    const list = paths.map((p) => `'${p}'`).join(', ');
    const read = await duckdb.conn.runAndReadAll(
      `SELECT CAST(source_key AS VARCHAR) AS source_key, id, channel FROM read_parquet([${list}], union_by_name = true) ORDER BY source_key`,
    );
    return read.getRowObjects() as Array<{ source_key: string; id: bigint; channel: string | null }>;
  } finally {
    duckdb.close();
  }
}

const alerts = () =>
  stack()
    .sns.messages()
    .map((m) => JSON.parse(m.message) as { kind: string; dataset: string; change: string; breaking: boolean; firstFile: string })
    .filter((m) => m.kind === 'schema-changed');
const state = async (relative: string) => (await stack().fileStates.listAll()).find((i) => i.key === `landing/${relative}`)!;

describe('a dataset whose files change columns', () => {
  it('takes columns in any order, keeps new ones (Parquet and Glue table), rejects a file without a required one, and alerts each change once', {
    timeout: 120_000,
  }, async () => {
    await landAndSettle(stack(), 'orders/a_20261207.csv', 'id;amount;note\n1;2.50;x\n');
    expect((await state('orders/a_20261207.csv')).state).toBe('CONVERTED');
    expect(alerts()).toEqual([]);

    // the columns in another order and a new one: converted, the new column ignored, one alert
    await landAndSettle(stack(), 'orders/b_20261207.csv', 'amount;channel;id\n3.00;web;2\n');
    await landAndSettle(stack(), 'orders/c_20261207.csv', 'channel;id;amount\nshop;3;4.00\n');
    expect((await state('orders/b_20261207.csv')).state).toBe('CONVERTED');
    expect((await state('orders/c_20261207.csv')).rows).toEqual({ in: 1, out: 1, rejected: 0, junk: 0 });
    expect(alerts()).toEqual([expect.objectContaining({ dataset: 'orders', breaking: false, firstFile: 'landing/orders/b_20261207.csv' })]);
    expect(alerts()[0]!.change).toMatch(/column channel, which the dataset does not declare \(kept as string: channel\)/);
    // kept: the Glue table gained it once, as string; b's and c's Parquet hold it, a's reads it as null (union_by_name)
    const columnsOfTable = () => stack().glue.table(stack().glueProcessedDatabase, 'orders')!.StorageDescriptor!.Columns!;
    expect(columnsOfTable().filter((c) => c.Name === 'channel')).toEqual([expect.objectContaining({ Name: 'channel', Type: 'string' })]);
    expect(await processedRows()).toEqual([
      { source_key: 'landing/orders/a_20261207.csv', id: 1n, channel: null },
      { source_key: 'landing/orders/b_20261207.csv', id: 2n, channel: 'web' },
      { source_key: 'landing/orders/c_20261207.csv', id: 3n, channel: 'shop' },
    ]);

    // a required column gone: the file is rejected with the diff, the change alerted once
    await landAndSettle(stack(), 'orders/d_20261207.csv', 'id;note\n4;y\n');
    await landAndSettle(stack(), 'orders/e_20261207.csv', 'id;note\n5;z\n');
    const rejected = await state('orders/d_20261207.csv');
    expect(rejected.state).toBe('REJECTED');
    expect(rejected.reason).toMatch(/lacks the required column amount/);
    expect((await state('orders/e_20261207.csv')).state).toBe('REJECTED');
    expect(alerts()).toHaveLength(2);
    expect(alerts()[1]).toEqual(expect.objectContaining({ breaking: true, firstFile: 'landing/orders/d_20261207.csv' }));

    // a replay of a file that showed a known change alerts nothing more
    await landAndSettle(stack(), 'orders/b_20261207.csv', 'amount;channel;id\n3.00;web;2\n9.00;app;9\n');
    expect(alerts()).toHaveLength(2);
    // and adds no column twice
    expect(columnsOfTable().filter((c) => c.Name === 'channel')).toHaveLength(1);
  });
});
