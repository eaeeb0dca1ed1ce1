import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

/*
 * The sample of the legacy-extract pipeline (the convention of ops/README.md, "Samples"): a
 * mainframe's nightly extract of transactions, headerless, `|`-delimited, gzip'd, `\N` for null,
 * `DD/MM/YYYY` dates, in parts `legacy/txn/<YYYYMMDD>/TXN<nn>.dat.gz`; and its branch master as
 * fixed-width ISO-8859-1 text, `legacy/branches/<YYYYMMDD>/BRANCHES.txt`. One transaction line
 * holds an impossible date (31/02): a bad row.
 */

interface Knobs {
  seed?: number;
  days?: number;
  rows?: number;
}

export const defaults = { seed: 3, days: 2, rows: 70 };

export const description =
  "a legacy system's nightly extract: headerless '|'-delimited gzip'd transactions with \\N for null and DD/MM/YYYY dates, " +
  'and a fixed-width ISO-8859-1 branch master; one line holds an impossible date';

export const START_DATE = '2026-12-07';
const PARTS_PER_DAY = 2;
/** each branch's code, name and region (the names hold ISO-8859-1 letters) */
export const BRANCHES: Array<[string, string, string]> = [
  ['BR0001', 'São Paulo Centro', 'SUD'],
  ['BR0002', 'Málaga Puerto', 'SUD'],
  ['BR0003', 'Köln Altstadt', 'NORD'],
  ['BR0004', 'Reykjavík', 'NORD'],
];
/** the fixed widths of the branch master: code, name, region */
export const BRANCH_WIDTHS = [6, 24, 4];

export interface LegacyTxn {
  txn_id: number;
  account_no: string;
  /** YYYY-MM-DD */
  txn_date: string;
  /** cents, negative for a debit */
  cents: number;
  /** null: written \N */
  branch_code: string | null;
  memo: string | null;
}

export interface LegacyDay {
  date: string;
  /** the day's transactions per part file */
  parts: LegacyTxn[][];
  /** the part (index) holding the line with an impossible date, written after its good lines */
  badPart: number | null;
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
const compact = (date: string) => date.replaceAll('-', '');

/** The extract's days, parts and transactions, before any is written. */
export function legacyDays(options: Knobs = {}): LegacyDay[] {
  const { seed, days, rows } = { ...defaults, ...options };
  const next = numbers(seed);
  let id = 500_000;
  return Array.from({ length: days }, (_, d) => {
    const date = addDays(START_DATE, d);
    const parts = Array.from({ length: PARTS_PER_DAY }, () =>
      Array.from({ length: rows }, (): LegacyTxn => {
        id += 1;
        const roll = next() % 10;
        return {
          txn_id: id,
          account_no: `00${pad(next() % 40, 4)}-${pad((next() % 90) + 10)}`,
          txn_date: addDays(date, -(next() % 2)),
          cents: (roll < 3 ? -1 : 1) * (1 + (next() % 500_000)),
          // a tenth of the transactions come from no branch (online)
          branch_code: roll === 9 ? null : BRANCHES[next() % BRANCHES.length]![0],
          memo: next() % 4 === 0 ? null : `REF ${pad(next() % 10000, 4)}`,
        };
      }),
    );
    return { date, parts, badPart: d === 0 ? 1 : null };
  });
}

const ddmmyyyy = (date: string) => `${date.slice(8, 10)}/${date.slice(5, 7)}/${date.slice(0, 4)}`;
const amount = (cents: number) => `${cents < 0 ? '-' : ''}${Math.floor(Math.abs(cents) / 100)}.${pad(Math.abs(cents) % 100)}`;

export const partKey = (date: string, part: number) => `legacy/txn/${compact(date)}/TXN${pad(part + 1)}.dat.gz`;
export const branchesKey = (date: string) => `legacy/branches/${compact(date)}/BRANCHES.txt`;

function partBytes(txns: LegacyTxn[], bad: boolean): Buffer {
  const line = (t: LegacyTxn) => [t.txn_id, t.account_no, ddmmyyyy(t.txn_date), amount(t.cents), t.branch_code ?? '\\N', t.memo ?? '\\N'].join('|');
  const lines = [...txns.map(line), ...(bad ? ['999999|000000-00|31/02/2026|1.00|BR0001|IMPOSSIBLE DATE'] : [])];
  return gzipSync(`${lines.join('\n')}\n`);
}

function branchesBytes(): Buffer {
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(BRANCH_WIDTHS[i]!)).join('');
  return Buffer.from(`${BRANCHES.map(line).join('\n')}\n`, 'latin1');
}

/** What each file must become. */
export function expectedStates(days: LegacyDay[]) {
  return days.flatMap((d) => [
    ...d.parts.map((txns, p) => {
      const bad = d.badPart === p ? 1 : 0;
      return { key: partKey(d.date, p), state: 'CONVERTED' as const, rows: { in: txns.length + bad, out: txns.length, rejected: bad, junk: 0 } };
    }),
    { key: branchesKey(d.date), state: 'CONVERTED' as const, rows: { in: BRANCHES.length, out: BRANCHES.length, rejected: 0, junk: 0 } },
  ]);
}

/** `landfall generate`: the extract's files under outDir (each path its key under landing/) and their expected states. */
export async function generateSample(outDir: string, options: Knobs) {
  const days = legacyDays(options);
  const put = async (key: string, bytes: Buffer) => {
    await mkdir(dirname(join(outDir, key)), { recursive: true });
    await writeFile(join(outDir, key), bytes);
  };
  for (const day of days) {
    for (const [p, txns] of day.parts.entries()) await put(partKey(day.date, p), partBytes(txns, day.badPart === p));
    await put(branchesKey(day.date), branchesBytes());
  }
  return { expected: expectedStates(days) };
}
