import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import type { FileState } from '../../../shared/core/state/file-state';
import { addDays, compactDate } from '../../../shared/core/time/dates';
import { pick, seededRandom } from './random';

/**
 * The "Yummy Foods" POS sample: cumulative tab-delimited store files per province and day, the day's
 * item master, junk lines from some store systems, a few bad rows and a few bad files. Every file
 * comes with the state and row counts the pipeline must reach, so demos and tests can check them.
 */
export interface PosSampleOptions {
  seed: number;
  /** first business day, YYYY-MM-DD */
  startDate: string;
  days: number;
  /** province → number of stores */
  provinces: Record<string, number>;
  /** data rows in a store's last (complete) file of a day */
  rowsPerFile: number;
  /** cumulative files per store and day (each repeats the previous one and adds rows) */
  filesPerStore: number;
  items: number;
  /** add the bad files (empty, binary, mostly bad, unknown key, unknown province) on the first day */
  badFiles: boolean;
}

export const DEFAULT_SAMPLE: PosSampleOptions = {
  seed: 42,
  startDate: '2026-11-23',
  days: 2,
  provinces: { ON: 5, QC: 4, BC: 3 },
  rowsPerFile: 200,
  filesPerStore: 2,
  items: 25,
  badFiles: true,
};

export interface ExpectedFile {
  /** key relative to landing/ */
  key: string;
  state: Extract<FileState, 'CONVERTED' | 'REJECTED' | 'UNRECOGNISED'>;
  rows?: { in: number; out: number; rejected: number; junk: number };
  /** a fragment of the recorded reason */
  reason?: string;
}

export interface PosSample {
  files: ExpectedFile[];
}

export const POS_HEADER = ['store_id', 'item_id', 'transaction_date', 'transaction_code', 'amount'].join('\t');
export const ITEM_HEADER = 'item_id,item_name,category,unit_price';
const CODES = [1, 2, 3, 4, 4, 4, 5, 5, 6, 7, 8, 9];
const CATEGORIES = ['Burgers', 'Sides', 'Drinks', 'Desserts', 'Breakfast'];
const NAMES = ['Classic', 'Double', 'Spicy', 'Veggie', 'Maple', 'Smoky', 'Crispy', 'Garden'];

export const storeId = (province: string, index: number) => `${province}${String(index + 1).padStart(2, '0')}`;
export const itemId = (index: number) => `I${String(index + 1).padStart(4, '0')}`;

function cents(random: () => number, max = 5000): string {
  return (Math.floor(random() * max) / 100 + 0.01).toFixed(2);
}

export function posRow(random: () => number, store: string, date: string, items: number): string {
  return [store, itemId(Math.floor(random() * items)), date, pick(random, CODES), cents(random)].join('\t');
}

function itemMaster(random: () => number, items: number): string {
  const lines = [ITEM_HEADER];
  for (let i = 0; i < items; i += 1) {
    const category = pick(random, CATEGORIES);
    // Some names carry a comma, so the master exercises CSV quoting.
    const name = i % 5 === 0 ? `"${pick(random, NAMES)} ${category}, large"` : `${pick(random, NAMES)} ${category}`;
    lines.push([itemId(i), name, category, cents(random, 2000)].join(','));
  }
  return `${lines.join('\n')}\n`;
}

async function put(dir: string, key: string, content: string | Uint8Array): Promise<void> {
  const path = join(dir, key);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
}

/** Writes the sample under `dir` (keys relative to landing/) and returns what each file must become. */
export async function writePosSample(dir: string, options: PosSampleOptions = DEFAULT_SAMPLE): Promise<PosSample> {
  const random = seededRandom(options.seed);
  const files: ExpectedFile[] = [];
  for (let day = 0; day < options.days; day += 1) {
    const date = addDays(options.startDate, day);
    const masterKey = `master/${compactDate(date)}/Item.csv`;
    await put(dir, masterKey, itemMaster(random, options.items));
    files.push({ key: masterKey, state: 'CONVERTED', rows: { in: options.items, out: options.items, rejected: 0, junk: 0 } });

    for (const [province, stores] of Object.entries(options.provinces)) {
      for (let s = 0; s < stores; s += 1) {
        const store = storeId(province, s);
        const rows = Array.from({ length: options.rowsPerFile }, () => posRow(random, store, date, options.items));
        const withJunk = s % 3 === 2; // every third store's system adds junk lines
        for (let f = 1; f <= options.filesPerStore; f += 1) {
          const count = Math.ceil((options.rowsPerFile * f) / options.filesPerStore);
          const body = rows.slice(0, count);
          let junk = 0;
          let bad = 0;
          if (withJunk) {
            body.unshift(`---- ${store} export ${date} part ${f} ----`);
            body.splice(Math.floor(body.length / 2), 0, '----------------------------------------');
            junk = 2;
          }
          // The last file of the first store of each province carries a few bad rows.
          if (s === 0 && f === options.filesPerStore) {
            body.push([store, itemId(0), date, '4', '12.345'].join('\t'));
            body.push([store, itemId(1), date, '99', '1.00'].join('\t'));
            body.push([store, itemId(2), date, '5'].join('\t'));
            bad = 3;
          }
          const time = `${String(8 + Math.floor((12 * f) / options.filesPerStore)).padStart(2, '0')}0000`;
          const key = `pos/${province}/${store}_${compactDate(date)}_${time}.tdf`;
          await put(dir, key, `${POS_HEADER}\n${body.join('\n')}\n`);
          files.push({ key, state: 'CONVERTED', rows: { in: count + bad, out: count, rejected: bad, junk } });
        }
      }
    }
    if (day === 0 && options.badFiles) files.push(...(await writeBadFiles(dir, date, options, random)));
  }
  return { files };
}

/** Bad files, timed before the day's good files so they never are a store's newest file. */
async function writeBadFiles(dir: string, date: string, options: PosSampleOptions, random: () => number): Promise<ExpectedFile[]> {
  const [first, second = first] = Object.keys(options.provinces) as [string, string?];
  const d = compactDate(date);
  const empty = `pos/${first}/${storeId(first, 0)}_${d}_060000.tdf`;
  await put(dir, empty, '');
  const binary = `pos/${second}/${storeId(second!, 0)}_${d}_060500.tdf`;
  await put(
    dir,
    binary,
    Uint8Array.from({ length: 512 }, (_, i) => (i < 4 ? [0x1f, 0x8b, 0x08, 0x00][i]! : Math.floor(random() * 256))),
  );
  const mostlyBad = `pos/${first}/${storeId(first, 1)}_${d}_061000.tdf`;
  const store = storeId(first, 1);
  const badLines = Array.from({ length: 8 }, (_, i) => [store, itemId(i), d, '4', 'n/a'].join('\t'));
  const goodLines = Array.from({ length: 2 }, () => posRow(random, store, date, options.items));
  await put(dir, mostlyBad, `${POS_HEADER}\n${[...goodLines, ...badLines].join('\n')}\n`);
  const noHeader = `pos/${second}/${storeId(second!, 1)}_${d}_061500.tdf`;
  await put(dir, noHeader, `${posRow(random, storeId(second!, 1), date, options.items)}\n`);
  const unknownProvince = `pos/ZZ/ZZ01_${d}_070000.tdf`;
  await put(dir, unknownProvince, `${POS_HEADER}\n${posRow(random, 'ZZ01', date, options.items)}\n`);
  const stray = `pos/${first}/notes from head office.txt`;
  await put(dir, stray, 'Please send files before 23:00.\n');
  return [
    { key: empty, state: 'REJECTED', reason: 'empty file' },
    { key: binary, state: 'REJECTED', reason: 'corrupt or truncated gzip data' },
    { key: mostlyBad, state: 'REJECTED', reason: 'mostly bad', rows: { in: 10, out: 2, rejected: 8, junk: 0 } },
    { key: noHeader, state: 'REJECTED', reason: 'header' },
    { key: unknownProvince, state: 'REJECTED', reason: 'province' },
    { key: stray, state: 'UNRECOGNISED', reason: 'matches no dataset' },
  ];
}

/**
 * Streams one large valid POS file of about `bytes` bytes (for memory and throughput tests) without
 * holding it in memory. Returns the number of data rows written.
 */
export async function writeLargePosFile(path: string, bytes: number, seed = 7, store = 'ON01', date = '2026-11-23'): Promise<number> {
  await mkdir(dirname(path), { recursive: true });
  const out = createWriteStream(path);
  const random = seededRandom(seed);
  let written = 0;
  let rows = 0;
  out.write(`${POS_HEADER}\n`);
  while (written < bytes) {
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i += 1) lines.push(posRow(random, store, date, 5000));
    rows += lines.length;
    const chunk = `${lines.join('\n')}\n`;
    written += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  return rows;
}
export { addDays } from '../../../shared/core/time/dates';
