import { join } from 'node:path';
import { expect } from 'vitest';
import type { DatasetConfig, ColumnSpec } from '../../shared/core/config/types';
import { openDuckDb } from '../../shared/core/duckdb/duckdb';
import { csvToParquet } from '../../shared/stages/convert/csv-to-parquet';
import { FileLineSink } from '../../shared/stages/validate/file-sink';
import { validateFile } from '../../shared/stages/validate/validate-file';

/** A list of structs (a column of orders' items). */
export const ITEMS = {
  name: 'items',
  kind: 'list',
  items: {
    kind: 'struct',
    fields: [
      { name: 'sku', kind: 'string' },
      { name: 'qty', kind: 'integer' },
    ],
  },
};

/** One column of every kind, nested ones included. */
export const EVERY_KIND: ColumnSpec[] = [
  { name: 's', kind: 'string' },
  { name: 'i', kind: 'integer' },
  { name: 'd', kind: 'decimal', scale: 2 },
  { name: 'wide', kind: 'decimal', precision: 38, scale: 6 },
  { name: 'x', kind: 'double' },
  { name: 'b', kind: 'boolean' },
  { name: 'day', kind: 'date' },
  { name: 'ts', kind: 'timestamp' },
  { name: 't', kind: 'time' },
  {
    name: 'user',
    kind: 'struct',
    fields: [
      { name: 'id', kind: 'integer' },
      { name: 'geo', kind: 'struct', nullable: true, fields: [{ name: 'country', kind: 'string' }] },
    ],
  },
  ITEMS as ColumnSpec,
  { name: 'scores', kind: 'list', items: { kind: 'double', nullable: true }, nullable: true },
];

/** A row of every kind, as a JSON-lines record. */
export const EVERY_KIND_RECORD = {
  s: 'a',
  i: 1,
  d: '1.50',
  wide: 2.5,
  x: 1e-3,
  b: true,
  day: '2024-02-29',
  ts: '2026-11-23T10:00:00Z',
  t: '10:00:00',
  user: { id: 1, geo: { country: 'CA' } },
  items: [{ sku: 'a', qty: 2 }],
  scores: [1.5, null],
};

/** The Parquet convert writes for one row of every kind (validated by the engine first), in `dir`. */
export async function everyKindParquet(dir: string, dataset: DatasetConfig): Promise<string> {
  const good = new FileLineSink(join(dir, 'good.csv'));
  const outcome = await validateFile(
    (async function* () {
      yield new TextEncoder().encode(`${JSON.stringify(EVERY_KIND_RECORD)}\n`);
    })(),
    dataset,
    { date: '2026-11-23', part: 'p' },
    { good, rejects: { write() {} } },
  );
  await good.close();
  expect(outcome).toMatchObject({ state: 'VALIDATED', rows: { out: 1 } });
  const duckdb = await openDuckDb({ workDir: dir, functionMemoryMb: 512 });
  const parquet = join(dir, 'kinds.parquet');
  try {
    await csvToParquet(duckdb.conn, { csvPath: good.path, parquetPath: parquet, columns: EVERY_KIND, constants: [] });
  } finally {
    duckdb.close();
  }
  return parquet;
}
