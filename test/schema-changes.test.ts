import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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

const alerts = () =>
  stack()
    .sns.messages()
    .map((m) => JSON.parse(m.message) as { kind: string; dataset: string; change: string; breaking: boolean; firstFile: string })
    .filter((m) => m.kind === 'schema-changed');
const state = async (relative: string) => (await stack().fileStates.listAll()).find((i) => i.key === `landing/${relative}`)!;

describe('a dataset whose files change columns', () => {
  it('takes columns in any order, ignores and records new ones, rejects a file without a required one, and alerts each change once', {
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
    expect(alerts()[0]!.change).toMatch(/column channel, which the dataset does not declare/);

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
  });
});
