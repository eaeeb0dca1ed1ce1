import { execFile } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';
import type { Column, Pipeline } from '../../shared/core/config/pipeline-input.generated';
import { BENCH_DATA_DIR, MB } from './data';
import { seededRandom } from '../../examples/retail/data/random';

/*
 * The feeds benchmark's inputs: orders as a partner exports them (strings, a quoted name holding the
 * delimiter, integers, decimals, doubles, dates, UTC timestamps, a mostly empty note), as a gzip'd
 * CSV, as gzip'd JSON lines, and as a zip of CSV members; and the pipeline that reads them.
 */

/** The orders' columns, in file order: the datasets' and the DuckDB floor's. */
export const ORDER_COLUMNS = [
  { name: 'order_id', kind: 'string' },
  { name: 'store', kind: 'string' },
  { name: 'sku', kind: 'string' },
  { name: 'customer', kind: 'string' },
  { name: 'qty', kind: 'integer' },
  { name: 'amount', kind: 'decimal', precision: 12, scale: 2 },
  { name: 'unit_price', kind: 'double' },
  { name: 'order_date', kind: 'date' },
  { name: 'created_at', kind: 'timestamp' },
  { name: 'note', kind: 'string', nullable: true },
] as const satisfies readonly Column[];

/** Landing keys (relative to landing/) of each shape; `run` tells the runs apart. */
export const FEED_KEYS = {
  csv: (run: string) => `feeds/csv/20261207/${run}.csv.gz`,
  jsonl: (run: string) => `feeds/jsonl/20261207/${run}.jsonl.gz`,
  zip: (run: string) => `feeds/drop/20261207/${run}.zip`,
} as const;

/** The bench pipeline: one dataset per shape (the zip's members are its own dataset) and the archive kind. */
export function feedsPipeline(): Pipeline {
  const columns = ORDER_COLUMNS.map((c) => ({ ...c }));
  return {
    archives: [{ keyPattern: 'feeds/drop/{day:YYYYMMDD}/{run}.zip', maxMembers: 1000 }],
    datasets: [
      { name: 'feed_csv', keyPattern: 'feeds/csv/{day:YYYYMMDD}/{run}.csv.gz', format: { kind: 'delimited', delimiter: ',' }, columns, dateField: 'day' },
      { name: 'feed_jsonl', keyPattern: 'feeds/jsonl/{day:YYYYMMDD}/{run}.jsonl.gz', format: { kind: 'jsonl' }, columns, dateField: 'day' },
      {
        name: 'feed_zip_part',
        keyPattern: 'feeds/drop/{day:YYYYMMDD}/{run}.zip!/{part}.csv',
        format: { kind: 'delimited', delimiter: ',' },
        columns,
        // the archive's name is a folder of its members' keys
        partitionBy: ['run'],
        dateField: 'day',
      },
    ],
  };
}

/** Writes the bench pipeline (JSON) and returns its path. */
export async function writeFeedsPipeline(): Promise<string> {
  await mkdir(BENCH_DATA_DIR, { recursive: true });
  const path = join(BENCH_DATA_DIR, 'feeds-pipeline.json');
  await writeFile(path, `${JSON.stringify(feedsPipeline(), null, 2)}\n`);
  return path;
}

const FIRST = ['Jane', 'John', 'Amélie', 'Jürgen', 'Mei', 'Omar', 'Sofia', 'Lars'];
const LAST = ['Doe', 'Smith', 'Müller', 'Dupont', 'Chen', 'Haddad', 'Rossi', 'Berg'];
const NOTES = ['gift wrap', 'leave at door', 'call first', 'fragile'];

interface Order {
  order_id: string;
  store: string;
  sku: string;
  customer: string;
  qty: number;
  amount: string;
  unit_price: number;
  order_date: string;
  created_at: string;
  note: string | null;
}

function order(n: number, next: () => number): Order {
  const qty = 1 + Math.floor(next() * 20);
  const cents = 50 + Math.floor(next() * 99_950);
  const second = Math.floor(next() * 86_400);
  const hh = String(Math.floor(second / 3600)).padStart(2, '0');
  const mm = String(Math.floor((second % 3600) / 60)).padStart(2, '0');
  const ss = String(second % 60).padStart(2, '0');
  const last = LAST[Math.floor(next() * LAST.length)]!;
  const first = FIRST[Math.floor(next() * FIRST.length)]!;
  return {
    order_id: `O${String(n).padStart(10, '0')}`,
    store: `S${String(1 + Math.floor(next() * 50)).padStart(3, '0')}`,
    sku: `SKU-${String(Math.floor(next() * 1_000_000)).padStart(6, '0')}`,
    // one name in ten is "Last, First": a CSV writer quotes it
    customer: next() < 0.1 ? `${last}, ${first}` : `${first} ${last}`,
    qty,
    amount: (cents / 100).toFixed(2),
    unit_price: Math.round((cents / 100 / qty) * 1e6) / 1e6,
    order_date: '2026-12-07',
    created_at: `2026-12-07T${hh}:${mm}:${ss}Z`,
    note: next() < 0.3 ? NOTES[Math.floor(next() * NOTES.length)]! : null,
  };
}

const csvValue = (v: string) => (v.includes(',') || v.includes('"') ? `"${v.replaceAll('"', '""')}"` : v);

export function csvLine(o: Order): string {
  return `${o.order_id},${o.store},${o.sku},${csvValue(o.customer)},${o.qty},${o.amount},${o.unit_price},${o.order_date},${o.created_at},${o.note === null ? '' : csvValue(o.note)}\n`;
}

export function jsonLine(o: Order): string {
  // the amount as a JSON number with its cents, as exporters write decimals
  return `{"order_id":"${o.order_id}","store":"${o.store}","sku":"${o.sku}","customer":${JSON.stringify(o.customer)},"qty":${o.qty},"amount":${o.amount},"unit_price":${o.unit_price},"order_date":"${o.order_date}","created_at":"${o.created_at}","note":${o.note === null ? 'null' : JSON.stringify(o.note)}}\n`;
}

export const CSV_HEADER = `${ORDER_COLUMNS.map((c) => c.name).join(',')}\n`;

/** About `bytes` of text (a header, then lines of orders from `firstOrder`), in chunks of about 1 MB. */
export async function* orderText(bytes: number, line: (o: Order) => string, header: string, firstOrder = 0): AsyncGenerator<string> {
  // seeded: the cached inputs are the same on every machine
  const next = seededRandom(firstOrder + 1);
  let chunk = header;
  let written = 0;
  for (let n = firstOrder; written + chunk.length < bytes; n += 1) {
    chunk += line(order(n, next));
    if (chunk.length >= MB) {
      written += Buffer.byteLength(chunk);
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** Generates `path` once (cached between runs, like the other suites' inputs): written aside, then renamed. */
async function cached(name: string, make: (partPath: string) => Promise<void>): Promise<string> {
  const path = join(BENCH_DATA_DIR, name);
  if (!existsSync(path)) {
    await mkdir(BENCH_DATA_DIR, { recursive: true });
    await rm(`${path}.part`, { recursive: true, force: true });
    await make(`${path}.part`);
    await rename(`${path}.part`, path);
  }
  return path;
}

const gzipTo = (text: AsyncIterable<string>, out: Writable) => pipeline(Readable.from(text), createGzip(), out);

/** A gzip'd CSV of about `mb` MB of text before compression (header included). */
export function csvGzOfSize(mb: number): Promise<string> {
  return cached(`feeds-orders-${mb}mb.csv.gz`, (part) => gzipTo(orderText(mb * MB, csvLine, CSV_HEADER), createWriteStream(part)));
}

/** A gzip'd JSON-lines file of about `mb` MB of text before compression. */
export function jsonlGzOfSize(mb: number): Promise<string> {
  return cached(`feeds-orders-${mb}mb.jsonl.gz`, (part) => gzipTo(orderText(mb * MB, jsonLine, ''), createWriteStream(part)));
}

/** The member names of a zip of `members` parts: part-001.csv, … */
export const memberNames = (members: number) => Array.from({ length: members }, (_, i) => `part-${String(i + 1).padStart(3, '0')}.csv`);

/**
 * A zip (the `zip` tool, deflate at its default level, as a partner's drop is made) of `members`
 * CSV members of about `memberMb` MB each, each with its header and its own orders.
 */
export function zipOfMembers(members: number, memberMb: number): Promise<string> {
  return cached(`feeds-orders-${members}x${memberMb}mb.zip`, async (part) => {
    const dir = await mkdtemp(join(BENCH_DATA_DIR, 'zip-members-'));
    try {
      const names = memberNames(members);
      for (const [i, name] of names.entries()) {
        // a member's orders start past the previous members' (a member holds fewer than 1e6 per MB)
        await pipeline(Readable.from(orderText(memberMb * MB, csvLine, CSV_HEADER, i * memberMb * 1_000_000)), createWriteStream(join(dir, name)));
      }
      await promisify(execFile)('zip', ['-q', '-X', 'archive.zip', ...names], { cwd: dir });
      await rename(join(dir, 'archive.zip'), part);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
