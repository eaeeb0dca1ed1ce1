import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkQuery, quoteName, stringLiteral } from '../../shared/core/checks/check-queries';
import type { OutputCheck } from '../../shared/core/config/types';
import { type SparkChecksReport, sparkCheckResults, sparkChecksPlan } from '../../shared/stages/orchestrate/spark-checks';

/**
 * The checks of spark/tests/fixtures/checks-plan.json, which pytest runs on local Spark: one of
 * each rule, over an output (store_id, item_id, category, amount) and an input `sales`. The first
 * test keeps the file equal to the generator's plan (LANDFALL_UPDATE_FIXTURES=1 rewrites it).
 */
const PLAN_CHECKS: OutputCheck[] = [
  { name: 'unique key', severity: 'error', unique: ['store_id', 'item_id'] },
  { name: 'category set', severity: 'warn', notNull: ['category'] },
  { name: 'known categories', severity: 'warn', acceptedValues: { column: 'category', values: ['A', "it's", 'back\\slash'] } },
  { name: 'items sold', severity: 'error', referential: { column: 'item_id', relation: 'sales', relationColumn: 'item_id' } },
  { name: 'rows', severity: 'error', rowCount: { min: 1, input: 'sales', maxRatioOfInput: 2, minRatioOfPrevious: 0.5 } },
  {
    name: 'amounts add up',
    severity: 'error',
    reconcile: { output: 'sum(amount)', input: { relation: 'sales', expression: 'sum(amount) FILTER (WHERE amount > 0)' }, tolerance: 0.01 },
  },
  { name: 'no negative amounts', severity: 'warn', sql: 'SELECT store_id, item_id, amount FROM output WHERE amount < 0;' },
];
const FIXTURE = join(import.meta.dirname, '..', '..', 'spark', 'tests', 'fixtures', 'checks-plan.json');
const JOB = { name: 'fixture', checks: PLAN_CHECKS, stages: [{ name: 'prepare' }, { name: 'copy' }] } as Parameters<typeof sparkChecksPlan>[0];

describe('the output checks as Spark SQL', () => {
  it('are the plan pytest runs (spark/tests/fixtures/checks-plan.json), for the last stage only', () => {
    const plan = sparkChecksPlan(JOB, 'copy');
    if (process.env.LANDFALL_UPDATE_FIXTURES === '1') writeFileSync(FIXTURE, `${JSON.stringify(plan, null, 2)}\n`);
    expect(JSON.parse(readFileSync(FIXTURE, 'utf8'))).toEqual(plan);
    expect(sparkChecksPlan(JOB, 'prepare')).toBeUndefined();
    expect(sparkChecksPlan({ ...JOB, checks: [] }, 'copy')).toBeUndefined();
  });

  it('differ from DuckDB only in quoting, string literals and the text type', () => {
    expect(quoteName('a`b', 'spark')).toBe('`a``b`');
    expect(quoteName('a"b', 'duckdb')).toBe('"a""b"');
    expect(stringLiteral("it's \\", 'spark')).toBe("'it\\'s \\\\'");
    expect(stringLiteral("it's \\", 'duckdb')).toBe("'it''s \\'");
    const accepted = PLAN_CHECKS[2]!;
    expect(checkQuery(accepted, 'spark').count).toContain("CAST(`category` AS STRING) NOT IN ('A', 'it\\'s', 'back\\\\slash')");
    expect(checkQuery(accepted, 'duckdb').count).toContain(`CAST("category" AS VARCHAR) NOT IN ('A', 'it''s', 'back\\slash')`);
    // the same statements once the dialect's spelling is undone
    const neutral = (sql: string) => sql.replaceAll('`', '"').replace(/AS STRING/g, 'AS VARCHAR');
    for (const check of PLAN_CHECKS.filter((c) => !c.acceptedValues && !c.rowCount)) {
      const [spark, duckdb] = [checkQuery(check, 'spark'), checkQuery(check, 'duckdb')];
      expect(neutral(spark.count ?? spark.facts!), check.name).toBe(duckdb.count ?? duckdb.facts!);
    }
    // the previous partition: Spark counts the published partition, DuckDB is given the number
    expect(checkQuery(PLAN_CHECKS[4]!, 'spark').facts).toContain('COALESCE(CAST((SELECT count(*) FROM landfall_previous) AS BIGINT), 0)');
    expect(checkQuery(PLAN_CHECKS[4]!, 'duckdb', '85').facts).toContain('COALESCE(CAST(85 AS BIGINT), 0)');
  });
});

/** A step's report: what Spark measured for each check of PLAN_CHECKS. */
const report = (over: Partial<SparkChecksReport> = {}): SparkChecksReport => ({
  stage: 'copy',
  columns: { output: ['store_id', 'item_id', 'category', 'amount'], sales: ['store_id', 'item_id', 'amount'] },
  measures: [
    { name: 'unique key', failing: 12, sample: Array.from({ length: 12 }, (_, i) => ({ store_id: 'S1', item_id: `I${i}`, copies: 2 })) },
    { name: 'category set', failing: 0, sample: [] },
    { name: 'known categories', failing: 1, sample: [{ store_id: 'S1', item_id: 'I1', category: 'x'.repeat(300), amount: '1.50' }] },
    { name: 'items sold', failing: 0, sample: [] },
    { name: 'rows', facts: { rows: 3, previousRows: '8', inputRows: 2, failed: true } },
    { name: 'amounts add up', facts: { output_total: 10, input_total: 10.005, difference: 0.005, failed: false } },
    { name: 'no negative amounts', failing: 0, sample: [] },
  ],
  published: false,
  ...over,
});

describe("a Spark step's report as results", () => {
  it('gives the DuckDB transform’s results: counts, at most 10 rows, long values cut, the details of counts and totals', () => {
    const found = sparkCheckResults(PLAN_CHECKS, report());
    expect('results' in found).toBe(true);
    const results = (found as { results: import('../../shared/core/runs/job-run-store').OutputCheckResult[] }).results;
    expect(results.map((r) => [r.name, r.rule, r.severity, r.passed, r.failing])).toEqual([
      ['unique key', 'unique', 'error', false, 12],
      ['category set', 'notNull', 'warn', true, 0],
      ['known categories', 'acceptedValues', 'warn', false, 1],
      ['items sold', 'referential', 'error', true, 0],
      ['rows', 'rowCount', 'error', false, 1],
      ['amounts add up', 'reconcile', 'error', true, 0],
      ['no negative amounts', 'sql', 'warn', true, 0],
    ]);
    expect(results[0]!.sample).toHaveLength(10);
    expect((results[2]!.sample[0]!.category as string).length).toBe(201);
    expect(results[4]).toMatchObject({
      sample: [{ rows: 3, previousRows: 8, inputRows: 2 }],
      detail: "ratio to the previous partition's 8 rows 0.375 < 0.5",
    });
    expect(results[5]).toMatchObject({
      sample: [],
      detail: 'output sum(amount) = 10, sales sum(amount) FILTER (WHERE amount > 0) = 10.005, difference 0.005 (tolerance 0.01)',
    });
  });

  it('says which check could not run: a column or relation missing, SQL Spark refused, no output', () => {
    const missing = report();
    missing.columns.output = ['store_id', 'item_id', 'amount'];
    missing.measures[1] = { name: 'category set', unreadable: true };
    expect(sparkCheckResults(PLAN_CHECKS, missing)).toEqual({
      invalid: 'check "category set": the output has no column "category" (it has store_id, item_id, amount)',
    });
    const refused = report();
    refused.measures[6] = { name: 'no negative amounts', error: '[UNRESOLVED_COLUMN] amout' };
    expect(sparkCheckResults(PLAN_CHECKS, refused)).toEqual({ invalid: 'check "no negative amounts" cannot run: [UNRESOLVED_COLUMN] amout' });
    expect(sparkCheckResults(PLAN_CHECKS, report({ invalid: 'stage copy wrote no Parquet' }))).toEqual({ invalid: 'stage copy wrote no Parquet' });
    expect(sparkCheckResults(PLAN_CHECKS, report({ measures: [] }))).toMatchObject({
      invalid: expect.stringContaining('check "unique key": the step reported no result'),
    });
  });
});
