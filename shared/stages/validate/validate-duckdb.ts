import { rm, writeFile } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { DatasetConfig } from '../../core/config/types';
import { MAX_LINE_BYTES } from '../../core/datasets/line-limits';
import { parseBadLine } from '../../core/feeds/canonical';
import { classifiedLinesSql, goodRowsSql, linesSql } from './line-rules-sql';
import {
  REJECTED_TEXT_CHARS,
  expectedHeader,
  formatReject,
  isBlankLine,
  junkTest,
  lineParser,
  mostlyBad,
  noHeader,
  wrongHeader,
  type FileRowCounts,
  type LineSink,
  type ValidationOutcome,
} from './validate-file';
import { compileRowCheck } from './row-checks';

/**
 * The outcome, and how convert finds the good rows again: every line after the first `skipLines`
 * (the header and the blank or junk lines before it) whose class is `good` (line-rules-sql.ts).
 */
export type DuckDbVerdict = {
  kind: 'decided';
  outcome: ValidationOutcome;
  skipLines: number;
  /** every line after `skipLines` is a good row (none blank, junk or bad) */
  allGood?: boolean;
  /** and every one of them a canonical JSON line (json-fast-path.ts): DuckDB's JSON reader reads their checked values */
  canonicalJson?: boolean;
  goodValues?: (column: string) => Promise<string[]>;
};
/** DuckDB could not decide with exactly the JavaScript's semantics: the file is validated in JavaScript. */
export type Fallback = { kind: 'fallback'; why: string };

/** Lines read at first to find the header; more only when all of them are blank or junk. */
const HEAD_LINES = 1000;

/** Every line of a file by class (line-rules-sql.ts), the header and what precedes it included. */
export interface LineCounts {
  good: number;
  bad: number;
  junk: number;
  blank: number;
  /** lines holding a NUL byte (the file is not text: the JavaScript rejects it, naming where) */
  nul: number;
  /** good lines with a value to truncate (`onTooLong: truncate`) */
  truncated: number;
  /** good lines the canonical JSON line's pattern proved good (json-fast-path.ts) */
  fast: number;
}

/**
 * The landed file as validation reads it: its first lines at once, the whole file only when needed
 * (the count pass may have read the object as it downloaded, through a pipe).
 */
export interface LandedCopy {
  size: number;
  /** a file of (at least) the first whole lines; `complete` when it is the whole file */
  head(): Promise<{ path: string; complete: boolean }>;
  /** the whole file (downloaded on first use) */
  whole(): Promise<string>;
}

/** A file that is already here whole. */
export function localCopy(path: string, size: number): LandedCopy {
  return { size, head: async () => ({ path, complete: true }), whole: async () => path };
}

/** The one parallel pass: counts every line by class. It may read a pipe: it needs no order. */
export async function countLines(conn: DuckDBConnection, path: string, dataset: DatasetConfig, keyFields: Record<string, string>): Promise<LineCounts> {
  const row = (
    await conn.runAndReadAll(
      `SELECT count(*) FILTER (class = 'good') AS good, count(*) FILTER (class = 'bad') AS bad, count(*) FILTER (class = 'junk') AS junk,
      count(*) FILTER (class = 'blank') AS blank, count(*) FILTER (contains(line, chr(0))) AS nul, count(*) FILTER (t) AS truncated,
      count(*) FILTER (fast AND class = 'good') AS fast FROM (${classifiedLinesSql(dataset, keyFields, 0)})`,
      { path },
    )
  ).getRowObjects()[0]!;
  return {
    good: Number(row.good),
    bad: Number(row.bad),
    junk: Number(row.junk),
    blank: Number(row.blank),
    nul: Number(row.nul),
    truncated: Number(row.truncated),
    fast: Number(row.fast),
  };
}

/** Why the JavaScript reads a file DuckDB refused. */
export function refusal(err: unknown): string {
  return `DuckDB could not read the file as lines: ${((err as Error).message ?? String(err)).split('\n')[0]}`;
}

/** A DuckDB error that says it could not read the file as the rules must (the JavaScript reads it then). */
export function isReadRefusal(err: unknown): boolean {
  return /Invalid Input Error|Conversion Error|Invalid unicode|CSV/i.test((err as Error)?.message ?? '');
}

/**
 * Validates a local file in DuckDB with the rules of validate-file.ts: the lines counted by class in
 * one parallel pass (`counted`, when it already ran while the file downloaded), the header found
 * from the first lines (in order) and taken out of the counts, then, only when there are bad lines,
 * one numbered pass that hands each bad line to the JavaScript row check for its reason (so
 * reasons, excerpts and line numbers are the JavaScript's own) and writes the rejects report.
 * Memory stays bounded: nothing is held per line. A DuckDB read refusal, a NUL byte, or a line the
 * JavaScript finds good after all is a Fallback, never a different outcome.
 */
export async function validateWithDuckDb(
  conn: DuckDBConnection,
  file: LandedCopy,
  dataset: DatasetConfig,
  keyFields: Record<string, string>,
  rejects: LineSink,
  counted?: LineCounts,
): Promise<DuckDbVerdict | Fallback> {
  const rows: FileRowCounts = { in: 0, out: 0, rejected: 0, junk: 0 };
  const decided = (outcome: ValidationOutcome, skipLines = 0): DuckDbVerdict => ({ kind: 'decided', outcome, skipLines });
  if (file.size === 0) return decided({ state: 'REJECTED', reason: 'empty file (0 bytes)', rows });
  try {
    const counts = { ...(counted ?? (await countLines(conn, await file.whole(), dataset, keyFields))) };
    if (counts.nul > 0) return { kind: 'fallback', why: 'NUL bytes (the JavaScript names where)' };
    const header = await findHeader(conn, file, dataset);
    if (header.kind === 'fallback') return header;
    if (header.kind === 'rejected') return decided({ state: 'REJECTED', reason: header.reason, rows: { ...rows, junk: header.junk } });
    const skipLines = header.line;
    if (skipLines > 0) {
      // the header line was counted as a line like any other: as whatever class the rules give its text
      // (classified alone, from a file of its own: a LIMIT over a scan that skips many lines need not
      // return the first line after them)
      const headerPath = `${header.path}.header-line`;
      await writeFile(headerPath, `${header.text ?? ''}\n`);
      const [[headerClass, headerTruncated]] = (
        await conn.runAndReadAll(`SELECT class, t FROM (${classifiedLinesSql(dataset, keyFields, 0)}) LIMIT 1`, { path: headerPath })
      ).getRows() as [[keyof LineCounts, boolean]];
      await rm(headerPath, { force: true });
      counts[headerClass] -= 1;
      if (headerTruncated) counts.truncated -= 1;
    }
    rows.out = counts.good;
    rows.rejected = counts.bad;
    rows.in = rows.out + rows.rejected;
    rows.junk = counts.junk;
    if (counts.truncated > 0) rows.truncated = counts.truncated;
    if (rows.rejected > 0) {
      const reported = await reportBadLines(
        conn,
        await file.whole(),
        classifiedLinesSql(dataset, keyFields, skipLines),
        skipLines,
        dataset,
        keyFields,
        rejects,
      );
      if (typeof reported === 'object') return reported;
      if (reported !== rows.rejected) throw new Error(`DuckDB counted ${rows.rejected} bad lines but numbered ${reported}`);
    }
    const tooBad = mostlyBad(rows, dataset);
    const verdict = decided(tooBad ? { state: 'REJECTED', reason: tooBad, rows } : { state: 'VALIDATED', rows }, skipLines);
    verdict.allGood = rows.rejected === 0 && counts.junk === header.junk && counts.blank === header.blank;
    // (JSON lines have no header: every good line was counted)
    if (verdict.allGood && skipLines === 0 && counts.fast === rows.out) verdict.canonicalJson = true;
    verdict.goodValues = async (column) => goodValues(conn, await file.whole(), dataset, keyFields, skipLines, column);
    return verdict;
  } catch (err) {
    // A read DuckDB refuses (encoding, line ends, line size, a stray delimiter): the JavaScript reads it.
    if (isReadRefusal(err)) return { kind: 'fallback', why: refusal(err) };
    throw err;
  }
}

/** The header's line (0: none, JSON lines), and the junk and blank lines before it. */
type HeaderSearch =
  | { kind: 'found'; line: number; junk: number; blank: number; path: string; text?: string }
  | { kind: 'rejected'; reason: string; junk: number }
  | Fallback;

/** The first line that is neither blank nor junk must be the header (the JavaScript's rule, applied in order). */
async function findHeader(conn: DuckDBConnection, file: LandedCopy, dataset: DatasetConfig): Promise<HeaderSearch> {
  const header = expectedHeader(dataset);
  // JSON lines and headerless files have no header: the rows start on line 1
  if (header === null) return { kind: 'found', line: 0, junk: 0, blank: 0, path: '' };
  let { path, complete } = await file.head();
  const isJunk = junkTest(dataset);
  for (let limit = HEAD_LINES; ; limit *= 16) {
    const lines = (await conn.runAndReadAll(`SELECT line FROM (${linesSql(0)}) LIMIT ${limit}`, { path })).getRows().map(([l]) => (l ?? '') as string);
    let junk = 0;
    let blank = 0;
    for (const [i, text] of lines.entries()) {
      if (text.includes('\u0000')) return { kind: 'fallback', why: 'NUL bytes (the JavaScript names where)' };
      if (isJunk(text)) {
        junk += 1;
        continue;
      }
      if (Buffer.byteLength(text) <= MAX_LINE_BYTES && isBlankLine(text)) {
        blank += 1;
        continue;
      }
      if (Buffer.byteLength(text) > MAX_LINE_BYTES || text.trimEnd() !== header) return { kind: 'rejected', reason: wrongHeader(header, i + 1, text), junk };
      return { kind: 'found', line: i + 1, junk, blank, path, text };
    }
    if (lines.length < limit) {
      if (complete) return { kind: 'rejected', reason: noHeader(header), junk };
      // only blank or junk lines in the head: look further, in the whole file
      ({ path, complete } = { path: await file.whole(), complete: true });
      limit = HEAD_LINES / 16;
    }
  }
}

/**
 * Streams the bad lines in order with their numbers to the JavaScript row check, which writes the
 * report line. Returns how many were reported, or a Fallback if the JavaScript finds one good.
 */
async function reportBadLines(
  conn: DuckDBConnection,
  path: string,
  classified: string,
  skipLines: number,
  dataset: DatasetConfig,
  keyFields: Record<string, string>,
  rejects: LineSink,
): Promise<number | Fallback> {
  const parse = lineParser(dataset);
  const checkRow = compileRowCheck(dataset.columns, keyFields);
  const result = await conn.stream(`SELECT n, line FROM (SELECT row_number() OVER () AS n, line, class FROM (${classified})) WHERE class = 'bad'`, { path });
  let reported = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (const [n, line] of chunk.getRows()) {
      const number = skipLines + Number(n);
      const text = (line ?? '') as string;
      const bytes = Buffer.byteLength(text);
      let problem: string | null;
      // a bad row the decoder marked: its reason, its text (of a long line, from its head, as the JavaScript reads it)
      const marked = parseBadLine(bytes > MAX_LINE_BYTES ? text.slice(0, REJECTED_TEXT_CHARS) : text);
      if (marked) {
        reported += 1;
        const pending = rejects.write(formatReject(number, marked.reason, marked.text.slice(0, REJECTED_TEXT_CHARS)));
        if (pending) await pending;
        continue;
      }
      if (bytes > MAX_LINE_BYTES) {
        problem = `line longer than ${MAX_LINE_BYTES} bytes (${bytes} bytes)`;
      } else {
        const fields = parse(text);
        problem = Array.isArray(fields) ? checkRow(fields) : fields.error;
      }
      if (problem === null)
        return {
          kind: 'fallback',
          why: `line ${number} is good by the JavaScript rules, which DuckDB's cannot express: ${JSON.stringify(text.slice(0, 200))}`,
        };
      reported += 1;
      const pending = rejects.write(formatReject(number, problem, text.slice(0, REJECTED_TEXT_CHARS)));
      if (pending) await pending;
    }
  }
  return reported;
}

/** One column's values in the good rows, in file order (a manifest's parts or count). */
async function goodValues(
  conn: DuckDBConnection,
  path: string,
  dataset: DatasetConfig,
  keyFields: Record<string, string>,
  skip: number,
  column: string,
): Promise<string[]> {
  const index = dataset.columns.findIndex((c) => c.name === column) + 1;
  const rows = (await conn.runAndReadAll(`SELECT v[${index}] FROM (${goodRowsSql(dataset, keyFields, skip, true)}) ORDER BY n`, { path })).getRows();
  return rows.map(([v]) => (v ?? '') as string);
}
