import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ITEM_HEADER, POS_HEADER, itemId, posRow } from '../../examples/retail/data/pos-sample';
import { seededRandom } from '../../examples/retail/data/random';

export const compact = (date: string) => date.replaceAll('-', '');

/** Key (under landing/) of a store's file for a day and time, e.g. pos/ON/ON01_20261123_200000.tdf. */
export const storeKey = (store: string, date: string, time = '200000') => `pos/${store.slice(0, 2)}/${store}_${compact(date)}_${time}.tdf`;
export const masterKey = (date: string) => `master/${compact(date)}/Item.csv`;

/**
 * A store's cumulative file: the first `rows` rows of the store's day (the same seed gives the same
 * rows, so a file with more rows contains every row of one with fewer), plus any extra lines.
 */
export function storeFile(store: string, date: string, rows: number, extra: string[] = []): string {
  const random = seededRandom([...`${store}${date}`].reduce((h, c) => h * 31 + c.charCodeAt(0), 7) >>> 0);
  const lines = Array.from({ length: rows }, () => posRow(random, store, date, 5));
  return `${[POS_HEADER, ...lines, ...extra].join('\n')}\n`;
}

export function itemMaster(): string {
  return `${[ITEM_HEADER, ...Array.from({ length: 5 }, (_, i) => `${itemId(i)},Item ${i + 1},Burgers,${(i + 1).toFixed(2)}`)].join('\n')}\n`;
}

/** Writes files (key → text) under `dir`, as `landfall run --input` and the expected-rows helper read them. */
export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [key, body] of Object.entries(files)) {
    await mkdir(dirname(join(dir, key)), { recursive: true });
    await writeFile(join(dir, key), body);
  }
}
