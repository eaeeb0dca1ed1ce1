import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

/*
 * The sample of the Firehose clickstream pipeline (the convention of ops/README.md, "Samples"): what
 * a Kinesis Data Firehose delivery stream writes, `clicks/YYYY/MM/DD/HH/<stream>-<date>-<uuid>[.gz]`,
 * gzip'd JSON records concatenated with no separator, nested objects and a list of items. Some files
 * have no `.gz` suffix, one is not compressed at all, one record is malformed (a bad row) and one
 * file is cut short in transit (a truncated gzip: REJECTED whole, none of its rows count).
 */

interface Knobs {
  seed?: number;
  days?: number;
  rows?: number;
}

export const defaults = { seed: 7, days: 2, rows: 40 };

export const description =
  "a Kinesis Data Firehose delivery stream: gzip'd JSON click events concatenated without separators, in UTC date and hour folders, " +
  'nested users and item lists, epoch-millisecond times; a malformed record and a truncated gzip among them';

export const START_DATE = '2026-12-07';
export const HOURS = [10, 11, 14];
const FILES_PER_HOUR = 2;
const COUNTRIES = ['DE', 'FR', 'US', 'BR'];
const USERS = 97;
const SKUS = ['sku-100', 'sku-200', 'sku-300', 'sku-400', 'sku-500'];

export interface ClickItem {
  sku: string;
  qty: number;
  /** the price in cents (a JSON number with two places in the file) */
  cents: number;
}

export interface ClickEvent {
  event_id: string;
  event_type: 'view' | 'add_to_cart' | 'purchase';
  user_id: string;
  /** null: the record has no user.geo (a missing optional path) */
  country: string | null;
  epochMillis: number;
  /** null: a view has no items field */
  items: ClickItem[] | null;
}

export interface ClickFile {
  key: string;
  date: string;
  events: ClickEvent[];
  /** how the bytes are laid out: gzip'd (with or without the suffix) or plain */
  compressed: boolean;
  /** a newline after each record (Firehose with a delimiter) or none */
  newlines: boolean;
  /** a malformed record written after the good ones (a bad row) */
  malformed: boolean;
  /** the gzip is cut short: REJECTED, none of its events count */
  truncated: boolean;
}

/** A small deterministic sequence (the same seed writes the same bytes). */
function numbers(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x >>> 8;
  };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

function uuid(next: () => number): string {
  const hex = Array.from({ length: 32 }, () => (next() % 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The sample's files and every event in them, before any is written. */
export function clickFiles(options: Knobs = {}): ClickFile[] {
  const { seed, days, rows } = { ...defaults, ...options };
  const next = numbers(seed);
  // a user's country is fixed; every fifth user has no geo at all
  const countryOf = (user: number) => (user % 5 === 4 ? null : COUNTRIES[user % COUNTRIES.length]!);
  const files: ClickFile[] = [];
  let serial = 0;
  for (let d = 0; d < days; d += 1) {
    const date = addDays(START_DATE, d);
    for (const hour of HOURS) {
      for (let f = 0; f < FILES_PER_HOUR; f += 1) {
        const minute = 15 + f * 20;
        const hourStart = Date.parse(`${date}T${pad(hour)}:00:00Z`);
        const events: ClickEvent[] = Array.from({ length: rows }, () => {
          const user = next() % USERS;
          const roll = next() % 10;
          const type = roll < 6 ? 'view' : roll < 8 ? 'add_to_cart' : 'purchase';
          const items =
            type === 'view'
              ? null
              : Array.from({ length: 1 + (next() % 3) }, () => ({ sku: SKUS[next() % SKUS.length]!, qty: 1 + (next() % 4), cents: 199 + (next() % 9800) }));
          serial += 1;
          return {
            event_id: `evt-${pad(serial, 6)}`,
            event_type: type,
            user_id: `u${pad(user, 3)}`,
            country: countryOf(user),
            epochMillis: hourStart + (next() % 3_600_000),
            items,
          };
        });
        const first = d === 0 && hour === HOURS[0];
        const name = `clicks-stream-1-${date}-${pad(hour)}-${pad(minute)}-00-${uuid(next)}`;
        // the first file of each hour keeps Firehose's .gz suffix; the second has none (told from the bytes)
        files.push({
          key: `clicks/${date.replaceAll('-', '/')}/${pad(hour)}/${f === 0 ? `${name}.gz` : name}`,
          date,
          events,
          // the last hour's second file of each day is not compressed at all
          compressed: !(hour === HOURS[HOURS.length - 1] && f === 1),
          newlines: f === 1,
          malformed: first && f === 0,
          truncated: false,
        });
      }
    }
    if (d === 0) {
      // a file cut short in transit: a gzip stream without its end
      const events: ClickEvent[] = Array.from({ length: rows }, (_, i) => {
        serial += 1;
        return {
          event_id: `evt-${pad(serial, 6)}`,
          event_type: 'view',
          user_id: `u${pad(i % USERS, 3)}`,
          country: countryOf(i % USERS),
          epochMillis: Date.parse(`${date}T${pad(HOURS[1]!)}:59:00Z`),
          items: null,
        };
      });
      files.push({
        key: `clicks/${date.replaceAll('-', '/')}/${pad(HOURS[1]!)}/clicks-stream-1-${date}-${pad(HOURS[1]!)}-59-00-${uuid(next)}.gz`,
        date,
        events,
        compressed: true,
        newlines: false,
        malformed: false,
        truncated: true,
      });
    }
  }
  return files;
}

/** An event as the producer sent it: nested user and geo, items with decimal prices, fields the pipeline ignores. */
function record(e: ClickEvent): string {
  const price = (cents: number) => `${Math.floor(cents / 100)}.${pad(cents % 100)}`;
  const items = e.items === null ? '' : `,"items":[${e.items.map((i) => `{"sku":"${i.sku}","qty":${i.qty},"price":${price(i.cents)}}`).join(',')}]`;
  const user = e.country === null ? `{"id":"${e.user_id}"}` : `{"id":"${e.user_id}","geo":{"country":"${e.country}","city":"x"}}`;
  return `{"event_id":"${e.event_id}","event_type":"${e.event_type}","user":${user},"event_time":${e.epochMillis},"ua":"Mozilla/5.0"${items}}`;
}

/** A record that is not JSON (a comma missing), whose braces still balance: a bad row, the next record read as usual. */
const MALFORMED = '{"event_id":"evt-broken","event_type":"view","user":{"id":"u001"} "event_time":1765100000000}';

function fileBytes(file: ClickFile): Buffer {
  const records = [...file.events.map(record), ...(file.malformed ? [MALFORMED] : [])];
  const text = Buffer.from(file.newlines ? `${records.join('\n')}\n` : records.join(''));
  if (!file.compressed) return text;
  const gz = gzipSync(text);
  return file.truncated ? gz.subarray(0, Math.floor(gz.length / 2)) : gz;
}

/** What each file must become. */
export function expectedStates(files: ClickFile[]) {
  return files.map((f) =>
    f.truncated
      ? { key: f.key, state: 'REJECTED' as const, reason: 'corrupt or truncated gzip' }
      : {
          key: f.key,
          state: 'CONVERTED' as const,
          rows: { in: f.events.length + (f.malformed ? 1 : 0), out: f.events.length, rejected: f.malformed ? 1 : 0, junk: 0 },
        },
  );
}

/** `landfall generate`: the files under outDir (each path its key under landing/) and their expected states. */
export async function generateSample(outDir: string, options: Knobs) {
  const files = clickFiles(options);
  for (const file of files) {
    const path = join(outDir, file.key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, fileBytes(file));
  }
  return { expected: expectedStates(files) };
}
