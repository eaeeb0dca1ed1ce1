import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ClickFile } from '../../examples/firehose-clickstream/sample';
import type { PartnerDrop } from '../../examples/partner-zip/sample';
import type { DmsFile } from '../../examples/dms-parquet/sample';
import type { LegacyDay } from '../../examples/legacy-extract/sample';

/**
 * The feed examples (examples/firehose-clickstream, partner-zip, dms-parquet, legacy-extract) run
 * through `landfall run`, and their tables computed independently from the records each sample
 * generated (never from the files landfall read): exact decimals in integer cents.
 */

export const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');
export const examplePipeline = (name: string) => join(EXAMPLES, name, 'pipeline.yaml');

export interface StateLine {
  key: string;
  state: string;
  reason?: string;
  rows?: { in: number; out: number; rejected: number; junk: number };
}

export interface RunLine {
  job: string;
  status: string;
  values: Record<string, string>;
}

export interface ExampleRun {
  out: string;
  states: StateLine[];
  runs: RunLine[];
}

const lines = async (path: string) => (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '');

/** Writes a sample with its own module, runs `landfall run` on it and reads what it wrote. */
export async function runExample(
  name: string,
  generate: (dir: string) => Promise<unknown>,
): Promise<ExampleRun & { status: number | null; stderr: string; stdout: string }> {
  const input = await mkdtemp(join(tmpdir(), `landfall-${name}-in-`));
  const out = await mkdtemp(join(tmpdir(), `landfall-${name}-out-`));
  await generate(input);
  const result = spawnSync(
    process.execPath,
    [join(import.meta.dirname, '..', '..', 'bin', 'landfall.mjs'), 'run', '--input', input, '--out', out, '--config', examplePipeline(name)],
    {
      cwd: tmpdir(),
      encoding: 'utf8',
      env: { ...process.env, CI: 'true' },
      timeout: 280_000,
    },
  );
  const read = async <T>(file: string): Promise<T[]> => (existsSync(join(out, file)) ? (await lines(join(out, file))).map((l) => JSON.parse(l) as T) : []);
  return {
    status: result.status,
    stderr: result.stderr,
    stdout: result.stdout,
    out,
    states: await read<StateLine>('file-states.jsonl'),
    runs: await read<RunLine>('job-runs.jsonl'),
  };
}

/** The landed objects' states, keyed relative to landing/. */
export function landedStates(states: StateLine[]): Map<string, StateLine> {
  return new Map(states.filter((s) => s.key.startsWith('landing/')).map((s) => [s.key.slice('landing/'.length), s]));
}

/** Rows per landed key (relative to landing/) in the processed Parquet landfall wrote under OUT/processed/. */
export async function processedRowsByKey(out: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (!existsSync(join(out, 'processed'))) return counts;
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll(
      `SELECT source_key, count(*) AS n FROM read_parquet('${join(out, 'processed').replaceAll("'", "''")}/**/*.parquet', union_by_name = true, hive_partitioning = false) GROUP BY source_key`,
    );
    for (const [key, n] of reader.getRowObjectsJS().map((r) => [String(r.source_key), Number(r.n)] as const)) counts.set(key.replace(/^landing\//, ''), n);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  return counts;
}

/** A curated table as `landfall run` exports it (header and rows). */
export const curatedLines = (out: string, table: string) => lines(join(out, 'curated', `${table}.csv`));

/** Each landed file's rejects report (OUT/rejected/<key>@<version>.rejects.csv): its bad rows' line, reason and text, keyed relative to landing/. */
export async function rejectsByKey(out: string): Promise<Map<string, Array<{ line: number; reason: string; text: string }>>> {
  const reports = new Map<string, Array<{ line: number; reason: string; text: string }>>();
  if (!existsSync(join(out, 'rejected'))) return reports;
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll(
      `SELECT filename, line, reason, text FROM read_csv('${join(out, 'rejected').replaceAll("'", "''")}/**/*.rejects.csv', header = true, all_varchar = true, filename = true)`,
    );
    for (const r of reader.getRowObjectsJS()) {
      const key = String(r.filename)
        .slice(join(out, 'rejected').length + 1)
        .replace(/@[^@]*\.rejects\.csv$/, '');
      reports.set(key, [...(reports.get(key) ?? []), { line: Number(r.line), reason: String(r.reason), text: String(r.text ?? '') }]);
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  return reports;
}

/** A cell as DuckDB's CSV writer quotes it. */
const cell = (v: string | number | bigint) => {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};
const row = (cells: Array<string | number | bigint>) => cells.map(cell).join(',');

/** Exact money from cents (or any scale-2 integer), the sign in front. */
export function money(cents: bigint | number): string {
  const c = BigInt(cents);
  const abs = c < 0n ? -c : c;
  return `${c < 0n ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

const byKey = <T>(rows: T[], key: (r: T) => string[]) =>
  [...rows].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < x.length; i += 1) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
    return 0;
  });

/** clicks_by_country: per day and country (null: '(unknown)'), over every good record of every readable file. */
export function expectedClicksByCountry(files: ClickFile[]): string[] {
  const groups = new Map<
    string,
    { date: string; country: string; events: number; users: Set<string>; first: number; last: number; quantity: number; revenue: bigint }
  >();
  for (const file of files.filter((f) => !f.truncated)) {
    for (const e of file.events) {
      const country = e.country ?? '(unknown)';
      const id = `${file.date}|${country}`;
      const g = groups.get(id) ?? { date: file.date, country, events: 0, users: new Set<string>(), first: Infinity, last: -Infinity, quantity: 0, revenue: 0n };
      g.events += 1;
      g.users.add(e.user_id);
      g.first = Math.min(g.first, e.epochMillis);
      g.last = Math.max(g.last, e.epochMillis);
      for (const item of e.items ?? []) {
        g.quantity += item.qty;
        if (e.event_type === 'purchase') g.revenue += BigInt(item.qty * item.cents);
      }
      groups.set(id, g);
    }
  }
  return [
    'day,country,events,users,first_event,last_event,quantity,revenue',
    ...byKey([...groups.values()], (g) => [g.date, g.country]).map((g) =>
      row([g.date, g.country, g.events, g.users.size, new Date(g.first).toISOString(), new Date(g.last).toISOString(), g.quantity, money(g.revenue)]),
    ),
  ];
}

/** partner_daily: per partner, day and ordering customer, over every good order line. */
export function expectedPartnerDaily(drops: PartnerDrop[]): string[] {
  const out: Array<{ partner: string; date: string; id: string; cells: Array<string | number> }> = [];
  for (const drop of drops) {
    const totals = new Map<string, { orders: number; cents: bigint; first: string; notes: Set<string> }>();
    for (const o of drop.orders.filter((x) => !x.badByte)) {
      const t = totals.get(o.customer_id) ?? { orders: 0, cents: 0n, first: o.order_date, notes: new Set<string>() };
      t.orders += 1;
      t.cents += BigInt(o.cents);
      if (o.order_date < t.first) t.first = o.order_date;
      if (o.note !== null) t.notes.add(o.note);
      totals.set(o.customer_id, t);
    }
    for (const c of drop.customers) {
      const t = totals.get(c.customer_id);
      if (t)
        out.push({
          partner: drop.partner,
          date: drop.date,
          id: c.customer_id,
          cells: [drop.partner, c.customer_id, c.name, c.city, t.orders, money(t.cents), t.first, [...t.notes].sort().join(' / '), drop.date],
        });
    }
  }
  return ['partner,customer_id,name,city,orders,total,first_order,notes,day', ...byKey(out, (r) => [r.partner, r.date, r.id]).map((r) => row(r.cells))];
}

/** `YYYY-MM-DD HH:MM:SS.ffffff` as an ISO instant in UTC. */
const iso = (timestamp: string) => `${timestamp.replace(' ', 'T')}Z`;

/** dms_daily_orders: per day, over every load file whose columns convert. */
export function expectedDmsDaily(files: DmsFile[]): string[] {
  const days = [...new Set(files.map((f) => f.date))].sort();
  return [
    'day,orders,paid_orders,total,paid_total,customers,without_status,last_order_id,first_created,last_created',
    ...days.map((date) => {
      const orders = files.filter((f) => f.date === date && !f.wrongType).flatMap((f) => f.orders);
      const paid = orders.filter((o) => o.is_paid);
      const sum = (os: typeof orders) => os.reduce((s, o) => s + o.cents, 0n);
      // biome-ignore lint/complexity/useMathMinMax: bigints (Math.max takes numbers)
      const last = orders.reduce((m, o) => (o.order_id > m ? o.order_id : m), 0n);
      return row([
        date,
        orders.length,
        paid.length,
        money(sum(orders)),
        money(sum(paid)),
        new Set(orders.map((o) => o.customer_id)).size,
        orders.filter((o) => o.status === null).length,
        last,
        iso(orders.map((o) => o.created_at).sort()[0]!),
        iso(
          orders
            .map((o) => o.created_at)
            .sort()
            .at(-1)!,
        ),
      ]);
    }),
  ];
}

/** legacy_branch_daily: per extract day and branch (none: 'NONE'), over every good transaction. */
export function expectedLegacyBranchDaily(days: LegacyDay[], branches: Array<[string, string, string]>): string[] {
  const names = new Map(branches.map(([code, name]) => [code, name]));
  const out: Array<{ date: string; code: string; cells: Array<string | number> }> = [];
  for (const day of days) {
    const groups = new Map<string, { txns: number; first: string; memos: number; credits: bigint; debits: bigint }>();
    for (const t of day.parts.flat()) {
      const code = t.branch_code ?? 'NONE';
      const g = groups.get(code) ?? { txns: 0, first: t.txn_date, memos: 0, credits: 0n, debits: 0n };
      g.txns += 1;
      if (t.txn_date < g.first) g.first = t.txn_date;
      if (t.memo !== null) g.memos += 1;
      if (t.cents > 0) g.credits += BigInt(t.cents);
      else g.debits += BigInt(t.cents);
      groups.set(code, g);
    }
    for (const [code, g] of groups)
      out.push({
        date: day.date,
        code,
        cells: [day.date, code, names.get(code) ?? '(no branch)', g.txns, g.first, g.memos, money(g.credits), money(g.debits), money(g.credits + g.debits)],
      });
  }
  return ['day,branch_code,branch_name,txns,first_txn_date,with_memo,credits,debits,net', ...byKey(out, (r) => [r.date, r.code]).map((r) => row(r.cells))];
}
