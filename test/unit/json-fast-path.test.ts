import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../examples/retail/data/random';
import type { DatasetConfig } from '../../shared/core/config/types';
import { openDuckDb, type DuckDb } from '../../shared/core/duckdb/duckdb';
import { csvToParquet, selectToParquet } from '../../shared/stages/convert/csv-to-parquet';
import { FileLineSink } from '../../shared/stages/validate/file-sink';
import { jsonFastPath, jsonFastPathBlocker, plainNumberPattern } from '../../shared/stages/validate/json-fast-path';
import { allGoodColumnsSql, allGoodRowsSql, classifiedLinesSql } from '../../shared/stages/validate/line-rules-sql';
import { compileRowCheck } from '../../shared/stages/validate/row-checks';
import { localCopy, validateWithDuckDb } from '../../shared/stages/validate/validate-duckdb';
import { discardLines, isBlankLine, lineParser, validateFile } from '../../shared/stages/validate/validate-file';
import { DuckDbValidator, validateInJavaScript } from '../support/validation-parity';

/**
 * The fast path of JSON lines (json-fast-path.ts) against the JavaScript reference, on generated
 * lines good and subtly bad: a line the canonical pattern calls good is good for the JavaScript,
 * with the same values; a file of such lines is `canonicalJson`, and DuckDB's JSON reader converts it
 * to the same Parquet as the JavaScript's CSV does.
 */
const dataset: DatasetConfig = {
  name: 'fastj',
  keyPattern: 'fastj/{date:YYYYMMDD}.jsonl',
  format: { kind: 'jsonl' },
  columns: [
    { name: 's', kind: 'string' },
    { name: 'short', kind: 'string', maxBytes: 12, nullable: true },
    { name: 'cut', kind: 'string', maxBytes: 8, onTooLong: 'truncate', nullable: true },
    { name: 'code', kind: 'string', allowed: ['A', 'B"q', 'C'], nullable: true },
    { name: 'i', kind: 'integer' },
    { name: 'tx', kind: 'integer', allowed: [1, 2, 30, '007'], nullable: true },
    { name: 'amt', kind: 'decimal', precision: 12, scale: 2 },
    { name: 'tiny', kind: 'decimal', precision: 18, scale: 8, nullable: true },
    { name: 'x', kind: 'double', nullable: true },
    { name: 'ok', kind: 'boolean', nullable: true },
    { name: 'day', kind: 'date', equalsKeyField: 'date' },
    { name: 'at', kind: 'timestamp', nullable: true },
    { name: 'tm', kind: 'time', nullable: true },
  ],
  partitionBy: [],
  dateField: 'date',
  maxBadRowRatio: 1,
};
const keys = { date: '2026-12-07' };
const NAMES = dataset.columns.map((c) => c.name);

type Random = () => number;
const pick = <T>(r: Random, values: readonly T[]): T => values[Math.floor(r() * values.length)]!;

/** Values a column takes on a canonical line (its JSON text): what exporters write. */
const GOOD: Record<string, readonly string[]> = {
  s: ['"a"', '"Jürgen Müller"', '"O0000001"', '" spaced "', '"tab\\there"', '"quote \\" and \\\\"', '"\\u00e9t\\u00e9"', '"\\ud83d\\ude00"', '"😀"', '"\\/"'],
  short: ['"abc"', '"twelve bytes"', '"ééééé"', '""', 'null', '"ü"'],
  cut: ['"short"', '"exactly8"', '"a longer value"', '"éééééé"', '"abcdefg😀"', '""', 'null'],
  code: ['"A"', '"C"', 'null'],
  i: ['0', '7', '-12', '123456789012345', '"42"', '"-0"', '"123456789012345678"', '-999'],
  tx: ['1', '2', '30', '"30"', 'null'],
  amt: ['3.23', '0.1', '12.50', '100', '-0.5', '9999999999.99', '"12.34"', '"-0"', '0', '0.00'],
  tiny: ['0.00000123', '0.000001', '1.5', '"0.00000001"', 'null', '0'],
  x: ['0.248462', '22.777', '1', '-3.5', '123456789012345', '0.000001', '"1e5"', '"-0"', '"0.30000000000000004"', 'null', '0.0'],
  ok: ['true', 'false', '"true"', '"false"', 'null'],
  day: ['"2026-12-07"'],
  at: ['"2026-12-07T12:39:31Z"', '"2024-02-29T23:59:59.123456Z"', '"0000-01-01T00:00:00Z"', 'null'],
  tm: ['"12:00:01"', '"23:59:59.5"', 'null'],
};

/** Values that look alike but that the rules, or the canonical form, treat otherwise. */
const TRAPS: Record<string, readonly string[]> = {
  s: ['12', '1.0', 'true', 'null', '""', '[1]', '{"a":1}', '"line\\nbreak"', '"cr\\r"', '"\\u000a"', '"\\ud800"', '"nul\\u0000"', '"\\u0041"', '"\u0007"'],
  short: ['"thirteen byte"', '"éééééé é"', '"😀😀😀😀"'],
  cut: ['"ééééééééé"', '12'],
  code: ['"B\\"q"', '"a"', '"D"', '""'],
  i: ['1.0', '1e3', '"12"', '"007"', '1.5', '12345678901234567890', '9007199254740993', '"1234567890123456789"', '-0', '"+1"', 'true', '" 1"', '01', '-'],
  tx: ['"007"', '7', '1.0', '3e1', '"01"', '""'],
  amt: ['1.234', '1e2', '"1.234"', '12345678901.5', '-0.0', '1.10', '0.30000000000000004', '"12,5"', 'NaN', 'null'],
  tiny: ['0.0000001', '1e-7', '0.000000001', '"1e-7"'],
  x: ['1e400', '-0', '-0.0', 'Infinity', 'NaN', '1e21', '1.5e3', '.5', '12345678901234567', '0.1234567890123456', '"0x10"', '"Infinity"', '-1e-400'],
  ok: ['1', '"yes"', '"True"', 'TRUE'],
  day: ['"2026-12-08"', '"2026-02-29"', '20261207', '""'],
  at: ['"2026-12-07 12:39:31"', '"2026-12-07T24:00:00Z"', '"2026-12-07T12:39:31+01:00"', '""', '1'],
  tm: ['"24:00:00"', '"1:00:00"', '12', '""'],
};

/** One line: mostly canonical, with `trap` the chance of each kind of oddity. */
function line(r: Random, trap: number): string {
  const values = NAMES.map((name) => (r() < trap / 3 ? pick(r, TRAPS[name]!) : pick(r, GOOD[name]!)));
  let members = NAMES.map((name, i) => `"${name}":${values[i]}`);
  const space = r() < trap ? pick(r, [' ', '\t', '  ']) : '';
  if (r() < trap / 4) members.push(pick(r, ['"extra":1', `"s":${pick(r, GOOD.s!)}`, `"i":${pick(r, GOOD.i!)}`, '"x":[]']));
  if (r() < trap / 4) members = members.filter((_, i) => i !== Math.floor(r() * members.length));
  if (r() < trap / 4) {
    const i = Math.floor(r() * (members.length - 1));
    [members[i], members[i + 1]] = [members[i + 1]!, members[i]!];
  }
  if (r() < trap / 6) members[0] = members[0]!.replace('"s"', '"\\u0073"');
  let text = `{${space}${members.join(`${space},${space}`)}${space}}`;
  if (r() < trap / 6) text = text.replace(/}$/, ',}');
  if (r() < trap / 8) text = pick(r, ['', '   ', '[1,2]', 'null', '"x"', '{', `${text} `, ` ${text}`, `${text}x`, '\u0001junk', '\u0002a reason\u0002text']);
  return text;
}

describe('the canonical JSON line pattern', () => {
  it('reads numbers whose JavaScript text is their digits without trailing zeros', () => {
    const r = seededRandom(7);
    const re = new RegExp(`^${plainNumberPattern(15, 15)}$`);
    let matched = 0;
    for (let n = 0; n < 20_000; n += 1) {
      const digits = (k: number) => Array.from({ length: k }, () => String(Math.floor(r() * 10))).join('');
      const raw = `${r() < 0.3 ? '-' : ''}${pick(r, ['0', digits(1 + Math.floor(r() * 18))])}${r() < 0.7 ? `.${digits(1 + Math.floor(r() * 18))}` : ''}`;
      if (!re.test(raw)) continue;
      matched += 1;
      const stripped = raw.includes('.') ? raw.replace(/0+$/, '').replace(/\.$/, '') : raw;
      // JSON's grammar (no leading zero), and String(Number(raw)) is the same text
      expect(() => JSON.parse(raw), raw).not.toThrow();
      expect(String(Number(raw)), raw).toBe(stripped);
    }
    expect(matched).toBeGreaterThan(2000);
  });

  it('names what keeps a dataset off the fast path', () => {
    expect(jsonFastPathBlocker(dataset)).toBeNull();
    expect(jsonFastPathBlocker({ ...dataset, format: { kind: 'delimited', delimiter: ',' } })).toBe('not JSON lines');
    expect(jsonFastPathBlocker({ ...dataset, columns: [...dataset.columns, { name: 'tags', kind: 'list', items: { kind: 'string' } }] })).toBe(
      'column tags is a list',
    );
    expect(jsonFastPathBlocker({ ...dataset, columns: [{ name: 'constructor', kind: 'string', nullable: true }] })).toMatch(/constructor/);
    expect(jsonFastPath({ ...dataset, format: { kind: 'delimited', delimiter: '\t' } }, keys)).toBeNull();
  });
});

describe('the fast path against the JavaScript rules, on generated JSON lines', () => {
  let dir: string;
  let duckdb: DuckDb;
  let parity: DuckDbValidator;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'landfall-json-fast-'));
    duckdb = await openDuckDb({ workDir: dir, functionMemoryMb: 2048, preserveOrder: true });
    parity = await DuckDbValidator.open();
  });
  afterAll(async () => {
    duckdb.close();
    await parity.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.each([1, 2, 3, 4, 5, 6])('seed %i: a line the pattern calls good is good, with the same values; the verdict is the reference’s', async (seed) => {
    const r = seededRandom(seed);
    const lines = Array.from({ length: 1500 }, () => line(r, 0.5));
    const content = `${lines.join('\n')}\n`;
    const path = join(dir, `mixed-${seed}.jsonl`);
    await writeFile(path, content);
    // line by line: fast ⇒ good by the JavaScript
    const parse = lineParser(dataset);
    const check = compileRowCheck(dataset.columns, keys);
    const classified = (
      await duckdb.conn.runAndReadAll(`SELECT row_number() OVER () AS n, fast, class FROM (${classifiedLinesSql(dataset, keys, 0)})`, { path })
    ).getRowObjects();
    expect(classified).toHaveLength(lines.length);
    let fast = 0;
    for (const { n, fast: isFast } of classified) {
      const text = lines[Number(n) - 1]!;
      if (!isFast) continue;
      fast += 1;
      const fields = parse(text);
      expect(Array.isArray(fields) && check(fields) === null && !isBlankLine(text), `line ${n}: ${text}`).toBe(true);
    }
    expect(fast, 'canonical lines').toBeGreaterThan(50);
    expect(fast, 'lines left to the general rule').toBeLessThan(lines.length - 50);
    // the whole file: the reference's verdict, or the JavaScript decides (these files hold lines only it reads right)
    const bytes = new TextEncoder().encode(content);
    const reference = await validateInJavaScript(bytes, dataset, keys);
    expect(reference.outcome.rows.rejected, 'bad lines').toBeGreaterThan(0);
    const verdict = await validateWithDuckDb(duckdb.conn, localCopy(path, bytes.length), dataset, keys, discardLines);
    if (verdict.kind === 'fallback') return;
    expect(verdict.outcome).toEqual(reference.outcome);
    expect(verdict.allGood || verdict.canonicalJson, 'a file with bad lines is neither allGood nor canonical').toBeFalsy();
  });

  it.each([1, 2, 3])('seed %i: canonical lines among bad ones: the reference’s outcome, rejects report and good rows, in one DuckDB pass', async (seed) => {
    const r = seededRandom(100 + seed);
    const parse = lineParser(dataset);
    const check = compileRowCheck(dataset.columns, keys);
    const jsBad = (text: string) => {
      const fields = parse(text);
      return !Array.isArray(fields) || check(fields) !== null;
    };
    // canonical lines, and oddities the JavaScript rejects (one it accepts would be the JavaScript's to decide: above)
    const lines: string[] = [];
    while (lines.length < 1500) {
      if (r() < 0.8) lines.push(line(r, 0));
      else {
        const odd = line(r, 0.6);
        if (odd !== '' && !odd.startsWith('\u0001') && jsBad(odd)) lines.push(odd);
      }
    }
    const bytes = new TextEncoder().encode(`${lines.join('\n')}\n`);
    const reference = await validateInJavaScript(bytes, dataset, keys);
    const result = await parity.validate(bytes, dataset, keys);
    if ('fallback' in result) expect.fail(`seed ${seed}: ${result.fallback}`);
    expect(reference.outcome.rows.rejected, 'bad lines').toBeGreaterThan(100);
    expect(result.outcome).toEqual(reference.outcome);
    expect(result.rejects).toEqual(reference.rejects);
    // (the good rows' values: a canonical line's from its tokens, as the JavaScript reads them)
    expect(result.good).toEqual(reference.good);
    const path = join(dir, `decided-${seed}.jsonl`);
    await writeFile(path, bytes);
    const verdict = await validateWithDuckDb(duckdb.conn, localCopy(path, bytes.length), dataset, keys, discardLines);
    expect(verdict.kind === 'decided' && !verdict.allGood && !verdict.canonicalJson).toBe(true);
  });

  it.each([11, 12, 13, 14])(
    'seed %i: a file of canonical lines is canonicalJson, and DuckDB’s JSON reader converts it to the JavaScript’s Parquet',
    async (seed) => {
      const r = seededRandom(seed);
      const lines = Array.from({ length: 2000 }, () => line(r, 0));
      // (CRLF line ends too: read alike by both readers)
      const end = seed % 2 === 0 ? '\r\n' : '\n';
      const content = `${lines.join(end)}${end}`;
      const bytes = new TextEncoder().encode(content);
      const landed = join(dir, `clean-${seed}.jsonl`);
      await writeFile(landed, content);
      const verdict = await validateWithDuckDb(duckdb.conn, localCopy(landed, bytes.length), dataset, keys, discardLines);
      const reference = await validateInJavaScript(bytes, dataset, keys);
      expect(verdict.kind).toBe('decided');
      if (verdict.kind !== 'decided') return;
      expect(verdict.outcome).toEqual(reference.outcome);
      expect(reference.outcome.rows.rejected).toBe(0);
      expect(reference.outcome.rows.truncated, 'values cut').toBeGreaterThan(0);
      expect(verdict.allGood && verdict.canonicalJson).toBe(true);
      // before: the JavaScript's good rows as CSV, converted; now: DuckDB's JSON reader on the landed file
      const constants: Array<[string, string]> = [
        ['key_date', keys.date],
        ['source_key', `landing/fastj/${seed}.jsonl`],
      ];
      const csv = new FileLineSink(join(dir, `clean-${seed}.csv`));
      await validateFile(
        (async function* () {
          yield bytes;
        })(),
        dataset,
        keys,
        { good: csv, rejects: discardLines },
      );
      await csv.close();
      const before = join(dir, `clean-${seed}.before.parquet`);
      const after = join(dir, `clean-${seed}.after.parquet`);
      const beforeRows = await csvToParquet(duckdb.conn, { csvPath: csv.path, parquetPath: before, columns: dataset.columns, constants });
      const from = allGoodRowsSql(dataset, 0, { canonicalJson: true });
      expect(from).toContain('json_transform_strict');
      const afterRows = await selectToParquet(duckdb.conn, {
        from: from!,
        select: allGoodColumnsSql(dataset, { canonicalJson: true }),
        path: landed,
        parquetPath: after,
        constants,
      });
      expect(afterRows).toBe(beforeRows);
      expect(afterRows).toBe(reference.outcome.rows.out);
      const schema = async (p: string) =>
        (await duckdb.conn.runAndReadAll('SELECT name, type, logical_type, converted_type, scale, precision FROM parquet_schema($1)', [p])).getRowObjectsJson();
      expect(await schema(after)).toEqual(await schema(before));
      // every value as its text (a double's shortest digits, -0.0 apart from 0.0), row by row in order
      const rows = async (p: string) => (await duckdb.conn.runAndReadAll('SELECT COLUMNS(*)::VARCHAR FROM read_parquet($1)', [p])).getRowsJson();
      const [a, b] = [await rows(after), await rows(before)];
      expect(a).toEqual(b);
      // (the values vary: not one row repeated)
      expect(new Set(a.map((row) => JSON.stringify(row))).size).toBeGreaterThan(1000);
    },
  );
});
