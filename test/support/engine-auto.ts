import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { retailConfig } from '../../examples/retail/config';
import type { PipelineConfig } from '../../shared/core/config/types';
import type { ExpectedPosRow } from './expected-pos';
import { itemMaster, masterKey, storeFile, storeKey } from './pos-files';

/** The POS batch both engine tests run: ON on one day. */
export const DATE = '2026-11-23';
const STORES = ['ON01', 'ON02', 'ON03', 'ON04', 'ON05'];
/** Quoted as RFC 4180 says, written here again so the expectation does not reuse the writer's code. */
const csvCell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
export const POS_CSV_HEADER = 'province,transaction_date,store_id,item_id,item_name,category,sale_amount,tax_amount,discount_amount,dt';

/** Expected rows as `landfall run` writes OUT/curated/pos_daily_sales.csv. */
export const posCsvLines = (rows: ExpectedPosRow[]) =>
  rows.map((r) =>
    [
      r.province,
      r.transaction_date,
      r.store_id,
      r.item_id,
      r.item_name ?? '',
      r.category ?? '',
      r.sale_amount,
      r.tax_amount,
      r.discount_amount,
      r.transaction_date,
    ]
      .map(csvCell)
      .join(','),
  );

/** Every store of ON with a cumulative file (ON01 also with an earlier, smaller one) and the item master. */
export const firstGeneration = (): Record<string, string> => ({
  ...Object.fromEntries(STORES.map((s) => [storeKey(s, DATE, '200000'), storeFile(s, DATE, 30)])),
  [storeKey('ON01', DATE, '120000')]: storeFile('ON01', DATE, 10),
  [masterKey(DATE)]: itemMaster(),
});

/** The bytes the router weighs for the first generation: each store's newest file and the item master. */
export const firstGenerationInputBytes = () =>
  Object.entries(firstGeneration())
    .filter(([k]) => !k.includes('_120000'))
    .reduce((n, [, body]) => n + Buffer.byteLength(body), 0);

/** The samples' configuration with the POS job's router threshold set (bytes of input), written as JSON. */
export async function retailWithThreshold(bytes: number): Promise<string> {
  const config: PipelineConfig = retailConfig();
  const pos = config.jobs.find((j) => j.name === 'pos_daily_sales')!;
  if (pos.engine !== 'auto') throw new Error(`the POS job's engine is ${pos.engine}, not auto`);
  pos.autoThresholdBytes = bytes;
  const file = join(await mkdtemp(join(tmpdir(), 'landfall-auto-')), 'pipeline.json');
  await writeFile(file, JSON.stringify(config));
  return file;
}
