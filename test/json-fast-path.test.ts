import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { latestPerKey } from '../ops/reports/file-state-report';
import { PREFIX } from '../shared/core/s3/layout';
import { downloadToFile } from '../shared/core/s3/object-io';
import { landAndSettle, useLocalStack } from './support/local-stack';

/*
 * The fast path of JSON lines through the real handlers on the local stack: a gzip'd object of
 * canonical JSON lines is proved good in one pass (its verdict says `canonicalJson`) and converted
 * by DuckDB's JSON reader; the same records with one line in another key order take the JavaScript
 * way in convert. Both Parquets hold the records' values, computed here independently.
 */
const configDir = await mkdtemp(join(tmpdir(), 'landfall-json-fast-'));
process.env.LANDFALL_CONFIG_FILE = join(configDir, 'pipeline.json');
await writeFile(
  process.env.LANDFALL_CONFIG_FILE,
  JSON.stringify({
    datasets: [
      // (a boolean column makes the decoder rewrite each record: declared key order, every value a string)
      ...['orders', 'flagged'].map((name) => ({
        name,
        keyPattern: `${name}/{part}_{date:YYYYMMDD}.jsonl.gz`,
        format: { kind: 'jsonl' },
        columns: [
          { name: 'id', kind: 'string' },
          { name: 'customer', kind: 'string' },
          { name: 'qty', kind: 'integer' },
          { name: 'amount', kind: 'decimal', precision: 12, scale: 2 },
          { name: 'price', kind: 'double' },
          ...(name === 'flagged' ? [{ name: 'ok', kind: 'boolean' }] : []),
          { name: 'note', kind: 'string', nullable: true },
          { name: 'day', kind: 'date', equalsKeyField: 'date' },
          { name: 'at', kind: 'timestamp' },
        ],
        dateField: 'date',
      })),
    ],
  }),
);

const stack = useLocalStack();

interface Order {
  id: string;
  customer: string;
  qty: number;
  amount: string;
  price: number;
  ok: boolean;
  note: string | null;
  day: string;
  at: string;
}

const ROWS = 40_000;
const NAMES = ['Jane Doe', 'Jürgen Müller', 'Dupont, Amélie', 'Mei "M" Chen', 'O\\Brien', '😀 emoji'];
const orders: Order[] = Array.from({ length: ROWS }, (_, i) => ({
  id: `O${String(i).padStart(7, '0')}`,
  customer: NAMES[i % NAMES.length]!,
  qty: 1 + (i % 20),
  amount: `${i % 1000}.${String(i % 100).padStart(2, '0')}`,
  // (prices as exporters print them: a few places; 0.1 + 0.2 would be 17 digits, left to the general rule)
  price: Number(((i % 997) * 1.37 + 0.5).toFixed(4)),
  ok: i % 3 === 0,
  note: i % 4 === 0 ? null : i % 4 === 1 ? '' : `note ${i % 7}`,
  day: '2026-12-07',
  at: `2026-12-07T${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:05${i % 2 ? '.25' : ''}Z`,
}));

/** An order as exporters write it: the amount a JSON number with its cents, keys in the declared order. */
const jsonLine = (o: Order, flagged = false) =>
  `{"id":${JSON.stringify(o.id)},"customer":${JSON.stringify(o.customer)},"qty":${o.qty},"amount":${o.amount},"price":${o.price},${flagged ? `"ok":${o.ok},` : ''}"note":${JSON.stringify(o.note)},"day":"${o.day}","at":"${o.at}"}`;

/** The same record with its keys in another order: good for the rules, not canonical. */
const reordered = (o: Order, flagged = false) =>
  JSON.stringify({
    customer: o.customer,
    id: o.id,
    qty: o.qty,
    amount: Number(o.amount),
    price: o.price,
    ...(flagged ? { ok: o.ok } : {}),
    note: o.note,
    day: o.day,
    at: o.at,
  });

/** The Parquet's rows as text, by id (DuckDB prints DECIMAL with its scale, DOUBLE in its shortest digits). */
function expected(flagged = false): string[] {
  return orders.map((o) =>
    [
      o.id,
      o.customer,
      o.qty,
      Number(o.amount).toFixed(2),
      Number.isInteger(o.price) ? `${o.price}.0` : String(o.price),
      ...(flagged ? [o.ok] : []),
      o.note === null || o.note === '' ? 'NULL' : o.note,
      o.day,
      o.at.replace('T', ' ').replace('Z', ''),
    ].join('|'),
  );
}

async function parquetRows(key: string, flagged = false): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'landfall-json-fast-pq-'));
  const path = join(dir, 'f.parquet');
  await downloadToFile(stack().s3, stack().deployment.names.lakeBucket, key, undefined, path);
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  const rows = (
    await conn.runAndReadAll(
      `SELECT concat_ws('|', id, customer, qty, amount, price, ${flagged ? 'ok, ' : ''}coalesce(note, 'NULL'), day, strftime("at", '%Y-%m-%d %H:%M:%S.%f')) FROM read_parquet($1) ORDER BY id`,
      [path],
    )
  ).getRows();
  conn.closeSync();
  // (strftime writes six places: back to DuckDB's own shortest form of the fraction)
  return rows.map(([r]) => (r as string).replace(/\.000000$/, '').replace(/(\.\d*?)0+$/, '$1'));
}

async function verdictOf(relative: string): Promise<{ rules: Record<string, unknown>; rows: Record<string, number> }> {
  const out = await stack().s3.send(new GetObjectCommand({ Bucket: stack().deployment.names.rawBucket, Key: `${PREFIX.validated}${relative}` }));
  return JSON.parse(await out.Body!.transformToString());
}

async function item(relative: string) {
  const found = latestPerKey(await stack().fileStates.listAll()).find((i) => i.key === `${PREFIX.landing}${relative}`);
  if (!found) throw new Error(`no file state for ${relative}`);
  return found;
}

describe('gzip’d JSON lines on the fast path', () => {
  it('proves canonical lines good in one pass, and converts them with DuckDB’s JSON reader, exactly', { timeout: 300_000 }, async () => {
    const relative = 'orders/a_20261207.jsonl.gz';
    await landAndSettle(stack(), relative, gzipSync(`${orders.map((o) => jsonLine(o)).join('\n')}\n`));
    const file = await item(relative);
    expect({ state: file.state, rows: file.rows, parquet: file.parquetRows }).toEqual({
      state: 'CONVERTED',
      rows: { in: ROWS, out: ROWS, rejected: 0, junk: 0 },
      parquet: ROWS,
    });
    const verdict = await verdictOf(relative);
    expect(verdict.rules).toEqual({ engine: 'duckdb', skipLines: 0, allGood: true, canonicalJson: true });
    expect(await parquetRows(file.processedKey!)).toEqual(expected());
  });

  it('takes the JavaScript way in convert when one line is not canonical (keys in another order), with the same values', { timeout: 300_000 }, async () => {
    const relative = 'orders/b_20261207.jsonl.gz';
    const lines = orders.map((o) => jsonLine(o));
    lines[123] = reordered(orders[123]!);
    await landAndSettle(stack(), relative, gzipSync(`${lines.join('\n')}\n`));
    const file = await item(relative);
    expect({ state: file.state, rows: file.rows, parquet: file.parquetRows }).toEqual({
      state: 'CONVERTED',
      rows: { in: ROWS, out: ROWS, rejected: 0, junk: 0 },
      parquet: ROWS,
    });
    const verdict = await verdictOf(relative);
    expect(verdict.rules).toEqual({ engine: 'duckdb', skipLines: 0, allGood: true });
    expect(await parquetRows(file.processedKey!)).toEqual(expected());
  });

  it('takes the fast path on the text the decoder rewrites (each record in the declared order), whatever the landed order', { timeout: 300_000 }, async () => {
    const relative = 'flagged/c_20261207.jsonl.gz';
    const lines = orders.map((o) => jsonLine(o, true));
    lines[123] = reordered(orders[123]!, true);
    await landAndSettle(stack(), relative, gzipSync(`${lines.join('\n')}\n`));
    const file = await item(relative);
    expect({ state: file.state, rows: file.rows, parquet: file.parquetRows }).toEqual({
      state: 'CONVERTED',
      rows: { in: ROWS, out: ROWS, rejected: 0, junk: 0 },
      parquet: ROWS,
    });
    expect((await verdictOf(relative)).rules).toEqual({ engine: 'duckdb', skipLines: 0, allGood: true, canonicalJson: true });
    expect(await parquetRows(file.processedKey!, true)).toEqual(expected(true));
  });
});
