import { readFile, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { retailProvinces } from '../../examples/retail/config';
const PROVINCES = retailProvinces();
import { MAX_LINE_BYTES } from '../../shared/core/datasets/line-limits';

/**
 * The POS job's expected result computed independently of the pipeline: plain TypeScript straight
 * from the landing files on disk (no DuckDB, no SQL, none of the validator's code). It restates the
 * rules: files rejected as a whole are ignored, bad rows (a line over MAX_LINE_BYTES bytes, a row
 * not dated the file's date) are dropped, each store's newest cumulative file of a day wins, only
 * codes 4/5/6 count, amounts are summed in integer cents (a bigint: no sum overflows).
 */
export interface ExpectedPosRow {
  province: string;
  transaction_date: string;
  store_id: string;
  item_id: string;
  item_name: string | null;
  category: string | null;
  sale_amount: string;
  tax_amount: string;
  discount_amount: string;
}

const POS_HEADER = 'store_id\titem_id\ttransaction_date\ttransaction_code\tamount';
const ITEM_HEADER = 'item_id,item_name,category,unit_price';
const AMOUNT = /^-?\d{1,16}(\.\d{1,2})?$/;
const MAX_BAD_ROW_RATIO = 0.5;

/** Bytewise (UTF-8) order, as DuckDB compares VARCHAR. */
function compareText(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Proleptic Gregorian, year 0000 included (a leap year), as in JavaScript and DuckDB. */
function isRealDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
  return d <= days;
}

function isoDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  return m !== null && isRealDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** `20261123` → `2026-11-23`, or null when it names no day. */
function compactDate(text: string): string | null {
  const iso = `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6, 8)}`;
  return isoDate(iso) ? iso : null;
}

function isTimeOfDay(hhmmss: string): boolean {
  const [h, m, s] = [hhmmss.slice(0, 2), hhmmss.slice(2, 4), hhmmss.slice(4, 6)].map(Number) as [number, number, number];
  return h <= 23 && m <= 59 && s <= 59;
}

function toCents(amount: string): bigint {
  const negative = amount.startsWith('-');
  const [whole, fraction = ''] = (negative ? amount.slice(1) : amount).split('.') as [string, string?];
  const cents = BigInt(whole) * 100n + BigInt(`${fraction}00`.slice(0, 2));
  return negative ? -cents : cents;
}

function formatCents(cents: bigint): string {
  const negative = cents < 0n;
  const abs = negative ? -cents : cents;
  return `${negative ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

/** Strict UTF-8 text split into lines (BOM dropped, `\r\n` or `\n`), or null for a file that is not text. */
function textLines(bytes: Buffer): string[] | null {
  if (bytes.length === 0) return null;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  if (text.includes('\u0000')) return null;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** One CSV line with RFC 4180 quotes; null when the quoting is broken. */
function csvFields(line: string): string[] | null {
  const fields: string[] = [];
  let value = '';
  let state: 'start' | 'plain' | 'quoted' | 'closed' = 'start';
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i]!;
    if (state === 'quoted') {
      if (c !== '"') value += c;
      else if (line[i + 1] === '"') {
        value += '"';
        i += 1;
      } else state = 'closed';
    } else if (c === ',') {
      fields.push(value);
      value = '';
      state = 'start';
    } else if (c === '"') {
      if (state !== 'start') return null;
      state = 'quoted';
    } else {
      if (state === 'closed') return null;
      value += c;
      state = 'plain';
    }
  }
  if (state === 'quoted') return null;
  fields.push(value);
  return fields;
}

/**
 * The good rows of one delimited file, or null when the file is rejected as a whole (not text, no
 * header, more than half of its rows bad).
 */
function goodRows(
  bytes: Buffer,
  header: string,
  split: (line: string) => string[] | null,
  isGood: (fields: string[]) => boolean,
  junkPrefix?: string,
): string[][] | null {
  const lines = textLines(bytes);
  if (lines === null) return null;
  let headerSeen = false;
  let rows = 0;
  let bad = 0;
  const good: string[][] = [];
  for (const line of lines) {
    if (junkPrefix !== undefined && line.startsWith(junkPrefix)) continue;
    const tooLong = Buffer.byteLength(line) > MAX_LINE_BYTES;
    if (!tooLong && line.trim() === '') continue;
    if (!headerSeen) {
      if (tooLong || line.trimEnd() !== header) return null;
      headerSeen = true;
      continue;
    }
    rows += 1;
    const fields = tooLong ? null : split(line);
    if (fields !== null && isGood(fields)) good.push(fields);
    else bad += 1;
  }
  if (!headerSeen) return null;
  if (rows > 0 && bad / rows > MAX_BAD_ROW_RATIO) return null;
  return good;
}

interface PosRow {
  store: string;
  item: string;
  date: string;
  code: number;
  cents: bigint;
}

/** A store file's rows: each names the file's store and is dated the file's date. */
function posRows(bytes: Buffer, store: string, fileDate: string): PosRow[] | null {
  const isGood = (f: string[]) => {
    if (f.length !== 5 || f.some((v) => v === '')) return false;
    const [storeId, , date, code, amount] = f as [string, string, string, string, string];
    if (storeId !== store || date !== fileDate || !AMOUNT.test(amount)) return false;
    if (!/^-?\d{1,18}$/.test(code)) return false;
    const n = Number(code);
    return n >= 1 && n <= 9;
  };
  const rows = goodRows(bytes, POS_HEADER, (l) => l.split('\t'), isGood, '----');
  return rows?.map(([s, item, date, code, amount]) => ({ store: s!, item: item!, date: date!, code: Number(code), cents: toCents(amount!) })) ?? null;
}

/** item_id → name and category; where an id repeats, the least (name, category) wins, as in the SQL. */
function itemMaster(bytes: Buffer): Map<string, { name: string; category: string }> | null {
  const isGood = (f: string[]) => f.length === 4 && f.every((v) => v !== '') && AMOUNT.test(f[3]!);
  const rows = goodRows(bytes, ITEM_HEADER, csvFields, isGood);
  if (rows === null) return null;
  const items = new Map<string, { name: string; category: string }>();
  for (const [id, name, category] of rows as Array<[string, string, string]>) {
    const seen = items.get(id);
    if (!seen || compareText(name, seen.name) < 0 || (name === seen.name && compareText(category, seen.category) < 0)) {
      items.set(id, { name, category });
    }
  }
  return items;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'));
}

/**
 * The curated rows the POS job must produce for every (province, day) of a landing directory (keys
 * relative to landing/, as `writePosSample` writes them). Amounts are strings with two decimals;
 * rows are sorted by (province, transaction_date, store_id, item_id).
 */
export async function expectedPosDailySales(landingDir: string, options: { provinces?: readonly string[] } = {}): Promise<ExpectedPosRow[]> {
  const provinces = new Set(options.provinces ?? Object.keys(PROVINCES));
  const masters = new Map<string, Map<string, { name: string; category: string }> | null>();
  // (province, store, date) → the newest accepted file's time and rows
  const newest = new Map<string, { province: string; date: string; time: string; rows: PosRow[] }>();

  for (const key of (await listFiles(landingDir)).sort()) {
    const master = /^master\/(\d{8})\/Item\.csv$/.exec(key);
    if (master) {
      const date = compactDate(master[1]!);
      if (date !== null) masters.set(date, itemMaster(await readFile(join(landingDir, key))));
      continue;
    }
    const pos = /^pos\/([^/_]+)\/([^/_]+)_(\d{8})_(\d{6})\.tdf$/.exec(key);
    if (!pos) continue;
    const [, province, store, compact, time] = pos as unknown as [string, string, string, string, string];
    const date = compactDate(compact);
    if (date === null || !isTimeOfDay(time) || !provinces.has(province)) continue;
    const rows = posRows(await readFile(join(landingDir, key)), store, date);
    if (rows === null) continue;
    const id = `${province}\u0000${store}\u0000${date}`;
    const current = newest.get(id);
    if (!current || time > current.time) newest.set(id, { province, date, time, rows });
  }

  const totals = new Map<string, { row: Omit<ExpectedPosRow, 'sale_amount' | 'tax_amount' | 'discount_amount'>; cents: [bigint, bigint, bigint] }>();
  for (const file of newest.values()) {
    const items = masters.get(file.date) ?? null;
    for (const r of file.rows) {
      if (r.code < 4 || r.code > 6) continue;
      const id = [file.province, file.date, r.store, r.item, r.date].join('\u0000');
      let total = totals.get(id);
      if (!total) {
        const item = items?.get(r.item);
        total = {
          row: {
            province: file.province,
            transaction_date: r.date,
            store_id: r.store,
            item_id: r.item,
            item_name: item?.name ?? null,
            category: item?.category ?? null,
          },
          cents: [0n, 0n, 0n],
        };
        totals.set(id, total);
      }
      const slot = (r.code - 4) as 0 | 1 | 2;
      total.cents[slot] += r.cents;
    }
  }

  const rows = [...totals.values()].map(({ row, cents: [sale, tax, discount] }) => ({
    ...row,
    sale_amount: formatCents(sale),
    tax_amount: formatCents(tax),
    discount_amount: formatCents(discount),
  }));
  const order = ['province', 'transaction_date', 'store_id', 'item_id'] as const;
  return rows.sort((a, b) => {
    for (const k of order) {
      const c = compareText(a[k], b[k]);
      if (c !== 0) return c;
    }
    return 0;
  });
}
