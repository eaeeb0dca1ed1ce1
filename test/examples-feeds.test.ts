import { describe, expect, it } from 'vitest';
import * as firehose from '../examples/firehose-clickstream/sample';
import * as partner from '../examples/partner-zip/sample';
import * as dms from '../examples/dms-parquet/sample';
import * as legacy from '../examples/legacy-extract/sample';
import {
  curatedLines,
  expectedClicksByCountry,
  expectedDmsDaily,
  expectedLegacyBranchDaily,
  expectedPartnerDaily,
  landedStates,
  processedRowsByKey,
  rejectsByKey,
  runExample,
  type ExampleRun,
} from './support/feed-samples';

/*
 * The feed examples, each run end to end on the local stack through `landfall run --config`: every
 * landed object (hostile ones included) ends in the state its sample expects, with its reason; a
 * rejected file has no row in processed/; the jobs' tables equal an independent computation from the
 * generated records.
 */

interface Expected {
  key: string;
  state: string;
  rows?: { in: number; out: number; rejected: number; junk: number };
  reason?: string;
}

/** Every bad row is in its file's rejects report, with a reason that says what is wrong. */
async function expectRejects(run: ExampleRun, expected: Expected[], reason: RegExp): Promise<void> {
  const reports = await rejectsByKey(run.out);
  const withBadRows = expected.filter((e) => (e.rows?.rejected ?? 0) > 0);
  expect(withBadRows.length).toBeGreaterThan(0);
  for (const e of withBadRows) {
    const rows = reports.get(e.key) ?? [];
    expect(rows, e.key).toHaveLength(e.rows!.rejected);
    for (const r of rows) expect(r.reason, `${e.key} line ${r.line}`).toMatch(reason);
  }
}

async function expectFiles(run: ExampleRun, expected: Expected[]): Promise<void> {
  const landed = landedStates(run.states);
  // every landed object, no more, no fewer, each in its state
  expect([...landed.keys()].sort()).toEqual(expected.map((e) => e.key).sort());
  for (const e of expected) {
    const state = landed.get(e.key)!;
    expect({ key: e.key, state: state.state }).toEqual({ key: e.key, state: e.state });
    if (e.rows) expect({ key: e.key, rows: state.rows }).toEqual({ key: e.key, rows: e.rows });
    if (e.reason) expect(state.reason ?? '', e.key).toContain(e.reason);
  }
  // the Parquet holds exactly the good rows of each converted file, nothing of a rejected one
  const processed = await processedRowsByKey(run.out);
  const converted = expected.filter((e) => e.state === 'CONVERTED');
  expect(Object.fromEntries([...processed].sort())).toEqual(Object.fromEntries(converted.map((e) => [e.key, e.rows!.out]).sort()));
}

/** Each batch's runs: none failed, the last succeeded. */
function expectRuns(run: ExampleRun, job: string, batches: string[]): void {
  const runs = run.runs.filter((r) => r.job === job);
  expect(runs.filter((r) => r.status === 'FAILED')).toEqual([]);
  const succeeded = [...new Set(runs.filter((r) => r.status === 'SUCCEEDED').map((r) => Object.values(r.values).join(' ')))].sort();
  expect(succeeded).toEqual([...batches].sort());
}

describe('firehose-clickstream', () => {
  it("reads gzip'd concatenated JSON records by path, isolates a malformed record, rejects a truncated gzip; the table is exact", {
    timeout: 300_000,
  }, async () => {
    const files = firehose.clickFiles(firehose.defaults);
    let expected: Expected[] = [];
    const run = await runExample('firehose-clickstream', async (dir) => {
      expected = (await firehose.generateSample(dir, firehose.defaults)).expected;
    });
    expect(run.status, run.stderr).toBe(0);
    // the sample holds what the test is about: files without the suffix, an uncompressed one, a malformed record, a truncated gzip
    expect(files.some((f) => f.compressed && !f.key.endsWith('.gz'))).toBe(true);
    expect(files.some((f) => !f.compressed)).toBe(true);
    expect(files.filter((f) => f.truncated)).toHaveLength(1);
    expect(files.filter((f) => f.malformed)).toHaveLength(1);
    expect(files.flatMap((f) => f.events).some((e) => e.country === null)).toBe(true);
    await expectFiles(run, expected);
    await expectRejects(run, expected, /^not JSON: /);
    expectRuns(run, 'clicks_by_country', [...new Set(files.map((f) => f.date))]);
    expect(await curatedLines(run.out, 'clicks_by_country')).toEqual(expectedClicksByCountry(files));
  });
});

describe('partner-zip', () => {
  it('unpacks each drop into its members (Windows-1252, decimal comma, a changed header), rejects a ../ member and a zip bomb; the table is exact', {
    timeout: 300_000,
  }, async () => {
    const drops = partner.partnerDrops(partner.defaults);
    let expected: Expected[] = [];
    const run = await runExample('partner-zip', async (dir) => {
      expected = (await partner.generateSample(dir, partner.defaults)).expected;
    });
    expect(run.status, run.stderr).toBe(0);
    expect(new Set(drops.map((d) => d.layout))).toEqual(new Set(['v1', 'v2']));
    expect(drops.flatMap((d) => d.orders).filter((o) => o.badByte)).toHaveLength(1);
    expect(drops.every((d) => d.customers.some((c) => c.city.includes(';')))).toBe(true);
    await expectFiles(run, expected);
    await expectRejects(run, expected, /^bytes not defined in windows-1252$/);
    expectRuns(
      run,
      'partner_daily',
      drops.map((d) => `${d.partner} ${d.date}`),
    );
    expect(await curatedLines(run.out, 'partner_daily')).toEqual(expectedPartnerDaily(drops));
  });
});

describe('dms-parquet', () => {
  it('reads DMS Parquet loads by column name and type, rejects a load whose amount is text with the column diff; the table is exact', {
    timeout: 300_000,
  }, async () => {
    const files = dms.dmsFiles(dms.defaults);
    let expected: Expected[] = [];
    const run = await runExample('dms-parquet', async (dir) => {
      expected = (await dms.generateSample(dir, dms.defaults)).expected;
    });
    expect(run.status, run.stderr).toBe(0);
    expect(files.filter((f) => f.wrongType)).toHaveLength(1);
    await expectFiles(run, expected);
    const rejected = landedStates(run.states).get(files.find((f) => f.wrongType)!.key)!;
    // the diff names the column, what it declares and what the file has
    expect(rejected.reason).toMatch(/AMOUNT/);
    expect(rejected.reason).toMatch(/decimal\(12,2\)/i);
    expect(rejected.reason).toMatch(/varchar/i);
    expectRuns(run, 'dms_daily_orders', [...new Set(files.map((f) => f.date))]);
    expect(await curatedLines(run.out, 'dms_daily_orders')).toEqual(expectedDmsDaily(files));
  });
});

describe('legacy-extract', () => {
  it("reads headerless gzip'd pipe-delimited parts with \\N and DD/MM/YYYY and a fixed-width ISO-8859-1 master; the table is exact", {
    timeout: 300_000,
  }, async () => {
    const days = legacy.legacyDays(legacy.defaults);
    let expected: Expected[] = [];
    const run = await runExample('legacy-extract', async (dir) => {
      expected = (await legacy.generateSample(dir, legacy.defaults)).expected;
    });
    expect(run.status, run.stderr).toBe(0);
    expect(days.flatMap((d) => d.parts.flat()).some((t) => t.branch_code === null)).toBe(true);
    await expectFiles(run, expected);
    await expectRejects(run, expected, /"31\/02\/2026" is not a date in DD\/MM\/YYYY/);
    expectRuns(
      run,
      'legacy_branch_daily',
      days.map((d) => d.date),
    );
    expect(await curatedLines(run.out, 'legacy_branch_daily')).toEqual(expectedLegacyBranchDaily(days, legacy.BRANCHES));
  });
});
