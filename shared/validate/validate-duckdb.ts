import type { DuckDBConnection } from '@duckdb/node-api';
import type { DatasetConfig } from '../config/types';
import { MAX_LINE_BYTES } from '../datasets/line-limits';
import { classifiedLinesSql, goodRowsSql, linesSql } from './line-rules-sql';
import { REJECTED_TEXT_CHARS, expectedHeader, formatReject, isBlankLine, lineParser, mostlyBad, noHeader, wrongHeader, type LineSink, type RowCounts, type ValidationOutcome } from './validate-file';
import { compileRowCheck } from './row-checks';

/**
 * The outcome, and how convert finds the good rows again: every line after the first `skipLines`
 * (the header and the blank or junk lines before it) whose class is `good` (line-rules-sql.ts).
 */
export type DuckDbVerdict = { kind: 'decided'; outcome: ValidationOutcome; skipLines: number; goodValues?: (column: string) => Promise<string[]> };
/** DuckDB could not decide with exactly the JavaScript's semantics: the file is validated in JavaScript. */
export type Fallback = { kind: 'fallback'; why: string };

/** Lines read at first to find the header; more only when all of them are blank or junk. */
const HEAD_LINES = 1000;

/**
 * Validates a local file in DuckDB with the rules of validate-file.ts: the header found from the
 * first lines (in order), the lines counted by class in one parallel pass, then, only when there are
 * bad lines, one numbered pass that hands each bad line to the JavaScript row check for its reason
 * (so reasons, excerpts and line numbers are the JavaScript's own) and writes the rejects report.
 * Memory stays bounded: nothing is held per line. Any DuckDB read error, a NUL byte, or a line the
 * JavaScript finds good after all is a Fallback, never a different outcome.
 */
export async function validateWithDuckDb(
  conn: DuckDBConnection,
  file: { path: string; size: number },
  dataset: DatasetConfig,
  keyFields: Record<string, string>,
  rejects: LineSink,
): Promise<DuckDbVerdict | Fallback> {
  const rows: RowCounts = { in: 0, out: 0, rejected: 0, junk: 0 };
  const decided = (outcome: ValidationOutcome, skipLines = 0): DuckDbVerdict => ({ kind: 'decided', outcome, skipLines });
  if (file.size === 0) return decided({ state: 'REJECTED', reason: 'empty file (0 bytes)', rows });
  try {
    const header = await findHeader(conn, file.path, dataset);
    if (header.kind === 'fallback') return header;
    rows.junk = header.junk;
    if (header.kind === 'rejected') return decided({ state: 'REJECTED', reason: header.reason, rows });
    const skipLines = header.line;
    const classified = classifiedLinesSql(dataset, keyFields, skipLines);
    const counts = (await conn.runAndReadAll(
      `SELECT count(*) FILTER (class = 'good') AS good, count(*) FILTER (class = 'bad') AS bad, count(*) FILTER (class = 'junk') AS junk,
        count(*) FILTER (contains(line, chr(0))) AS nul FROM (${classified})`,
      { path: file.path },
    )).getRowObjects()[0]!;
    if (Number(counts.nul) > 0) return { kind: 'fallback', why: 'NUL bytes (the JavaScript names where)' };
    rows.out = Number(counts.good);
    rows.rejected = Number(counts.bad);
    rows.in = rows.out + rows.rejected;
    rows.junk += Number(counts.junk);
    if (rows.rejected > 0) {
      const reported = await reportBadLines(conn, file.path, classified, skipLines, dataset, keyFields, rejects);
      if (typeof reported === 'object') return reported;
      if (reported !== rows.rejected) throw new Error(`DuckDB counted ${rows.rejected} bad lines but numbered ${reported}`);
    }
    if (mostlyBad(rows, dataset)) return decided({ state: 'REJECTED', reason: mostlyBad(rows, dataset)!, rows }, skipLines);
    const verdict = decided({ state: 'VALIDATED', rows }, skipLines);
    verdict.goodValues = (column) => goodValues(conn, file.path, dataset, keyFields, skipLines, column);
    return verdict;
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    // A read DuckDB refuses (encoding, line ends, line size, a stray delimiter): the JavaScript reads it.
    if (/Invalid Input Error|Conversion Error|Invalid unicode|CSV/i.test(message)) return { kind: 'fallback', why: `DuckDB could not read the file as lines: ${message.split('\n')[0]}` };
    throw err;
  }
}

type HeaderSearch = { kind: 'found'; line: number; junk: number } | { kind: 'rejected'; reason: string; junk: number } | Fallback;

/** The first line that is neither blank nor junk must be the header (the JavaScript's rule, applied in order). */
async function findHeader(conn: DuckDBConnection, path: string, dataset: DatasetConfig): Promise<HeaderSearch> {
  const header = expectedHeader(dataset);
  // JSON lines have no header: the rows start on line 1
  if (header === null) return { kind: 'found', line: 0, junk: 0 };
  const junkPrefix = dataset.format.kind === 'delimited' ? dataset.format.junkLinePrefix : undefined;
  for (let limit = HEAD_LINES; ; limit *= 16) {
    const lines = (await conn.runAndReadAll(`SELECT line FROM (${linesSql(0)}) LIMIT ${limit}`, { path })).getRows().map(([l]) => (l ?? '') as string);
    let junk = 0;
    for (const [i, text] of lines.entries()) {
      if (text.includes('\u0000')) return { kind: 'fallback', why: 'NUL bytes (the JavaScript names where)' };
      if (junkPrefix && text.startsWith(junkPrefix)) {
        junk += 1;
        continue;
      }
      if (Buffer.byteLength(text) <= MAX_LINE_BYTES && isBlankLine(text)) continue;
      if (Buffer.byteLength(text) > MAX_LINE_BYTES || text.trimEnd() !== header) return { kind: 'rejected', reason: wrongHeader(header, i + 1, text), junk };
      return { kind: 'found', line: i + 1, junk };
    }
    if (lines.length < limit) return { kind: 'rejected', reason: noHeader(header), junk };
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
      if (bytes > MAX_LINE_BYTES) {
        problem = `line longer than ${MAX_LINE_BYTES} bytes (${bytes} bytes)`;
      } else {
        const fields = parse(text);
        problem = Array.isArray(fields) ? checkRow(fields) : fields.error;
      }
      if (problem === null) return { kind: 'fallback', why: `line ${number} is good by the JavaScript rules, which DuckDB's cannot express: ${JSON.stringify(text.slice(0, 200))}` };
      reported += 1;
      const pending = rejects.write(formatReject(number, problem, text.slice(0, REJECTED_TEXT_CHARS)));
      if (pending) await pending;
    }
  }
  return reported;
}

/** One column's values in the good rows, in file order (a manifest's parts or count). */
async function goodValues(conn: DuckDBConnection, path: string, dataset: DatasetConfig, keyFields: Record<string, string>, skip: number, column: string): Promise<string[]> {
  const index = dataset.columns.findIndex((c) => c.name === column) + 1;
  const rows = (await conn.runAndReadAll(`SELECT v[${index}] FROM (${goodRowsSql(dataset, keyFields, skip, true)}) ORDER BY n`, { path })).getRows();
  return rows.map(([v]) => (v ?? '') as string);
}
