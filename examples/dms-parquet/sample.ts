import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/*
 * The sample of the DMS Parquet pipeline (the convention of ops/README.md, "Samples"): an AWS DMS
 * full load of an orders table, `dms/orders/<YYYYMMDD>/LOAD<8 digits>.parquet`, written here with
 * DuckDB (BIGINT, INTEGER, DECIMAL(12,2), TIMESTAMP, BOOLEAN, VARCHAR, nulls). One extra load file
 * was written by a task whose `amount` column came out as text: REJECTED with the column diff.
 */

interface Knobs {
  seed?: number;
  days?: number;
  rows?: number;
}

export const defaults = { seed: 5, days: 2, rows: 80 };

export const description =
  'an AWS DMS full load of an orders table as Parquet files per day (BIGINT, DECIMAL(12,2), TIMESTAMP, BOOLEAN, nulls), ' +
  'and one load whose amount column has the wrong type';

export const START_DATE = '2026-12-07';
const FILES_PER_DAY = 3;
const STATUSES = ['NEW', 'SHIPPED', 'DELIVERED', 'CANCELLED'];

export interface DmsOrder {
  order_id: bigint;
  customer_id: number;
  /** cents */
  cents: bigint;
  /** `YYYY-MM-DD HH:MM:SS.ffffff` (UTC) */
  created_at: string;
  is_paid: boolean;
  /** null: the source row has none */
  status: string | null;
}

export interface DmsFile {
  key: string;
  date: string;
  orders: DmsOrder[];
  /** the amount column written as VARCHAR: the file is REJECTED, none of its rows count */
  wrongType: boolean;
}

function numbers(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x >>> 8;
  };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const addDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/** The load files and their rows, before any is written. */
export function dmsFiles(options: Knobs = {}): DmsFile[] {
  const { seed, days, rows } = { ...defaults, ...options };
  const next = numbers(seed);
  const files: DmsFile[] = [];
  let id = 9_000_000_000n; // past the 32-bit range: a BIGINT
  for (let d = 0; d < days; d += 1) {
    const date = addDays(START_DATE, d);
    const compact = date.replaceAll('-', '');
    const load = (seq: number, wrongType: boolean): DmsFile => ({
      key: `dms/orders/${compact}/LOAD${pad(seq, 8)}.parquet`,
      date,
      wrongType,
      orders: Array.from({ length: rows }, () => {
        id += 1n + BigInt(next() % 3);
        return {
          order_id: id,
          customer_id: 1000 + (next() % 50),
          // up to 10 digits before the point: a DECIMAL(12,2) near its limit
          cents: BigInt(next() % 1_000_000) * (next() % 20 === 0 ? 100_000n : 1n) + 1n,
          created_at: `${date} ${pad(next() % 24)}:${pad(next() % 60)}:${pad(next() % 60)}.${pad(next() % 1_000_000, 6)}`,
          is_paid: next() % 3 !== 0,
          status: next() % 10 === 0 ? null : STATUSES[next() % STATUSES.length]!,
        };
      }),
    });
    for (let seq = 1; seq <= FILES_PER_DAY; seq += 1) files.push(load(seq, false));
    if (d === 0) files.push(load(FILES_PER_DAY + 1, true));
  }
  return files;
}

const money = (cents: bigint) => `${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`;

/** Writes one load file with DuckDB, its columns typed as DMS writes them. */
async function writeParquet(path: string, file: DmsFile): Promise<void> {
  const amountType = file.wrongType ? 'VARCHAR' : 'DECIMAL(12,2)';
  const values = file.orders
    .map(
      (o) =>
        `(${o.order_id}, ${o.customer_id}, CAST('${money(o.cents)}' AS ${amountType}), TIMESTAMP '${o.created_at}', ${o.is_paid}, ${o.status === null ? 'NULL' : `'${o.status}'`})`,
    )
    .join(',\n');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    // upper-case column names, as DMS writes an Oracle source's (the pipeline reads them by `path`)
    await conn.run(`CREATE TABLE orders (ORDER_ID BIGINT, CUSTOMER_ID INTEGER, AMOUNT ${amountType}, CREATED_AT TIMESTAMP, IS_PAID BOOLEAN, STATUS VARCHAR)`);
    await conn.run(`INSERT INTO orders VALUES ${values}`);
    await conn.run(`COPY orders TO '${path.replaceAll("'", "''")}' (FORMAT parquet)`);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** What each file must become. */
export function expectedStates(files: DmsFile[]) {
  return files.map((f) =>
    f.wrongType
      ? { key: f.key, state: 'REJECTED' as const, reason: 'AMOUNT is VARCHAR, declared decimal(12,2)' }
      : { key: f.key, state: 'CONVERTED' as const, rows: { in: f.orders.length, out: f.orders.length, rejected: 0, junk: 0 } },
  );
}

/** `landfall generate`: the load files under outDir (each path its key under landing/) and their expected states. */
export async function generateSample(outDir: string, options: Knobs) {
  const files = dmsFiles(options);
  for (const file of files) {
    const path = join(outDir, file.key);
    await mkdir(dirname(path), { recursive: true });
    await writeParquet(path, file);
  }
  return { expected: expectedStates(files) };
}
