import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPipelineFile } from '../../shared/core/config/load-config';
import { SqlBindingError, assertPipelineSql, catalogTables, checkPipelineSql } from '../../shared/stages/catalog';
import { cli, keepConfigEnv } from '../support/run-cli';
import { rejected } from '../support/thrown';

/*
 * The SQL check (shared/stages/catalog/pipeline-binding.ts): every SQL stage bound to its relations'
 * columns and its parameters when the configuration loads, each error naming the job, the stage, the
 * SQL file and its line. The pipeline of test/fixtures/sql-check/good: a dataset `sales` (batch key
 * shop, day), a job `shop_daily` of two SQL stages, and a job `all_shops` reading shop_daily's output.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'sql-check');
const GOOD = join(FIXTURES, 'good');
const work = mkdtempSync(join(tmpdir(), 'landfall-sql-check-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let copies = 0;
/** The good pipeline in a folder of its own, these files (relative to it) replaced. */
function pipelineWith(files: Record<string, string>): string {
  const dir = join(work, `p${(copies += 1)}`);
  cpSync(GOOD, dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return join(dir, 'pipeline.yaml');
}

/** The SqlBindingError checking the pipeline throws (the test fails if it binds). */
async function sqlErrorOf(file: string): Promise<SqlBindingError> {
  return rejected(SqlBindingError, assertPipelineSql(loadPipelineFile(file)));
}

const TOTALS = `-- totals
SELECT CAST($shop AS VARCHAR) AS shop,
       item_id,
       CAST(sum(amount) AS DECIMAL(38, 2)) AS total,
       CAST($day AS DATE) AS day
FROM sales
GROUP BY item_id
`;

describe('the SQL check', () => {
  it('passes the good pipeline: every SQL stage of every job bound, none left unchecked', async () => {
    expect(await checkPipelineSql(loadPipelineFile(join(GOOD, 'pipeline.yaml')))).toEqual({ problems: [], notChecked: [], stagesBound: 3 });
  });

  it('names the job, the stage, the file and its line of an unknown column, DuckDB’s message kept', async () => {
    const err = await sqlErrorOf(join(FIXTURES, 'unknown-column', 'pipeline.yaml'));
    expect(err.code).toBe('CONFIG_SQL_INVALID');
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatchObject({
      job: 'shop_daily',
      stage: 'totals',
      field: 'jobs[0].stages[1].sql',
      file: join(FIXTURES, 'unknown-column', 'sql', 'shop_totals.v1.sql'),
      line: 5,
    });
    expect(err.message).toContain(
      'jobs[0].stages[1].sql: job shop_daily, stage totals, sql/shop_totals.v1.sql:5: Binder Error: Referenced column "amount_due"',
    );
    // DuckDB's excerpt, its line number the file's and its caret under the column
    const excerpt = err.message.split('\n').filter((l) => /LINE|\^/.test(l));
    expect(excerpt[0]).toMatch(/^ {4}LINE 5: {8}CAST\(sum\(amount_due\)/);
    expect(excerpt[1]!.indexOf('^')).toBe(excerpt[0]!.indexOf('amount_due'));
  });

  it('counts the file’s lines: leading blank lines and comments included', async () => {
    const file = pipelineWith({ 'sql/shop_items.v1.sql': '\n\n-- a comment\n\nSELECT $shop AS shop, $day AS day,\n  nope\nFROM sales\n' });
    const err = await sqlErrorOf(file);
    expect(err.problems[0]).toMatchObject({ stage: 'items', line: 6 });
    expect(err.message).toContain('LINE 6:   nope');
  });

  it('reports a type error at its line, the candidate functions cut short', async () => {
    const file = pipelineWith({ 'sql/shop_totals.v1.sql': TOTALS.replace('item_id,', 'item_id,\n       lower(amount) AS low,') });
    const err = await sqlErrorOf(file);
    expect(err.problems[0]).toMatchObject({ job: 'shop_daily', stage: 'totals', line: 4 });
    expect(err.problems[0]!.problem).toMatch(/^Binder Error: No function matches the given name and argument types 'lower\(DECIMAL\(18,2\)\)'/);

    const plus = await sqlErrorOf(pipelineWith({ 'sql/shop_totals.v1.sql': TOTALS.replace('item_id,', 'item_id,\n       sum(qty + item_id) AS x,') }));
    expect(plus.problems[0]!.line).toBe(4);
    expect(plus.problems[0]!.problem).toMatch(/\n\t… \d+ more/);
    expect(plus.problems[0]!.problem.split('\n').filter((l) => l.startsWith('\t+(')).length).toBe(6);
  });

  it('names a parameter the SQL uses that the batch key does not give, at its line', async () => {
    const file = pipelineWith({ 'sql/shop_totals.v1.sql': TOTALS.replace('FROM sales', 'FROM sales\nWHERE key_shop = $region') });
    const err = await sqlErrorOf(file);
    expect(err.problems).toEqual([
      expect.objectContaining({
        job: 'shop_daily',
        stage: 'totals',
        line: 7,
        problem: expect.stringContaining('the SQL uses $region, which the job does not give'),
      }),
    ]);
    expect(err.message).toContain('its batch key fields (shop, day), as $shop, $day');
  });

  it('refuses a batch key field the SQL never uses (the transform would refuse it at run time)', async () => {
    const file = pipelineWith({ 'sql/all_shops.v1.sql': 'SELECT count(*) AS shops, CAST(NULL AS VARCHAR) AS day FROM daily\n' });
    const err = await sqlErrorOf(file);
    expect(err.problems).toEqual([
      expect.objectContaining({ job: 'all_shops', stage: 'sum', field: 'jobs[1].stages[0].sql', problem: expect.stringContaining('the SQL never uses $day') }),
    ]);
    expect(err.problems[0]!.line).toBeUndefined();
  });

  it('binds every stage, not only the last, each to the job’s inputs (stages do not chain)', async () => {
    // an error in the first stage, which the catalog never ran
    const first = await sqlErrorOf(pipelineWith({ 'sql/shop_items.v1.sql': 'SELECT $shop AS shop, $day AS day, bogus FROM sales\n' }));
    expect(first.problems.map((p) => [p.stage, p.line])).toEqual([['items', 1]]);
    // a later stage reads the job's inputs, not the previous stage's result: `qty` of items is not there as a relation
    const chained = await sqlErrorOf(pipelineWith({ 'sql/shop_totals.v1.sql': TOTALS.replace('FROM sales', 'FROM items') }));
    expect(chained.problems[0]).toMatchObject({ stage: 'totals', line: 6 });
    expect(chained.problems[0]!.problem).toContain('Table with name items does not exist');
  });

  it('binds a dataset relation with the lineage and key columns convert writes', async () => {
    const lineage = 'SELECT $shop AS shop, $day AS day, key_shop, key_day, source_key, source_version_id, item_id FROM sales\n';
    expect((await checkPipelineSql(loadPipelineFile(pipelineWith({ 'sql/shop_items.v1.sql': lineage })))).problems).toEqual([]);
    // the partition folders (shop=…/dt=…) are no columns: hive partitioning is off
    const err = await sqlErrorOf(pipelineWith({ 'sql/shop_items.v1.sql': lineage.replace('item_id FROM', 'dt, item_id FROM') }));
    expect(err.problems[0]!.problem).toContain('Referenced column "dt" not found');
  });

  it('binds a job relation to the upstream job’s output columns, as its last stage writes them', async () => {
    // `amount` is a column of sales, not of shop_daily's output (shop, item_id, qty, total, files, day)
    const file = pipelineWith({ 'sql/all_shops.v1.sql': 'SELECT CAST($day AS VARCHAR) AS day, sum(amount) AS total\nFROM daily\n' });
    const err = await sqlErrorOf(file);
    expect(err.problems[0]).toMatchObject({ job: 'all_shops', stage: 'sum', line: 1 });
    expect(err.problems[0]!.problem).toMatch(/^Binder Error: Referenced column "amount" not found in FROM clause!\n/);
  });

  it('binds a reader of a Spark job to the single table the Spark job declares (output.columns)', async () => {
    const spark = join(ROOT, 'test', 'fixtures', 'spark_stage.py');
    const base = pipelineWith({ 'sql/all_shops.v1.sql': 'SELECT $day AS day, count(*) AS shops, CAST(sum(total) AS DECIMAL(38, 2)) AS total FROM daily\n' });
    const yaml = (job: string) =>
      readFileSync(base, 'utf8').replace(
        / {2}- name: shop_daily[\s\S]*?(?=\n {2}- name: all_shops)/,
        `  - name: shop_daily\n    batchKey: [shop, day]\n    engine: emr\n    inputs: [{ relation: sales, dataset: sales, match: [shop, day] }]\n    stages: [{ name: totals, spark: ${spark} }]\n    output: { table: shop_daily, partitionBy: [shop, day], key: [item_id], columns: ${job} }\n`,
      );
    writeFileSync(base, yaml('{ item_id: string, total: "decimal(18,2)" }'));
    expect(await checkPipelineSql(loadPipelineFile(base))).toEqual({ problems: [], notChecked: [], stagesBound: 1 });
    writeFileSync(base, yaml('{ item_id: string, amount: "decimal(18,2)" }'));
    const err = await sqlErrorOf(base);
    expect(err.problems[0]).toMatchObject({ job: 'all_shops', stage: 'sum', line: 1 });
    expect(err.problems[0]!.problem).toContain('Referenced column "total" not found');
  });

  it('leaves a reader of a job whose SQL does not bind unchecked, and says so', async () => {
    const file = pipelineWith({ 'sql/shop_totals.v1.sql': TOTALS.replace('item_id,', 'nope,') });
    const { problems, notChecked, stagesBound } = await checkPipelineSql(loadPipelineFile(file));
    expect(problems.map((p) => p.job)).toEqual(['shop_daily']);
    expect(notChecked).toEqual([expect.stringMatching(/^job all_shops: its SQL is not checked: the columns of daily \(job shop_daily\) are unknown/)]);
    expect(stagesBound).toBe(2);
  });

  it('checks the output key against the result’s columns and the partition fields', async () => {
    const file = pipelineWith({ 'sql/shop_totals.v1.sql': TOTALS.replace('       item_id,\n', '') });
    const err = await sqlErrorOf(file);
    expect(err.problems).toEqual([expect.objectContaining({ job: 'shop_daily', stage: 'totals', field: 'jobs[0].output' })]);
    expect(err.problems[0]!.problem).toContain("item_id (output.key) is not a column of the last stage's result (shop, total, day)");
  });

  it('reports an unfinished SQL at its last line', async () => {
    const err = await sqlErrorOf(pipelineWith({ 'sql/shop_items.v1.sql': 'SELECT $shop AS shop, $day AS day\nFROM sales\nGROUP BY\n' }));
    expect(err.problems[0]).toMatchObject({ stage: 'items', line: 3 });
    expect(err.problems[0]!.problem).toMatch(/^Parser Error: .*\(at the end of the SQL: is it unfinished\?\)$/s);
  });

  it('lists every stage that does not bind, in one error', async () => {
    const file = pipelineWith({
      'sql/shop_items.v1.sql': 'SELECT $shop AS shop, $day AS day, bogus FROM sales\n',
      'sql/all_shops.v1.sql': 'SELECT $day AS day, nothing FROM daily\n',
    });
    // all_shops is still checked: it reads shop_daily's last stage, which binds
    const err = await sqlErrorOf(file);
    expect(err.problems.map((p) => `${p.job}.${p.stage}`)).toEqual(['shop_daily.items', 'all_shops.sum']);
    expect(err.message).toMatch(
      /^invalid pipeline configuration: 2 SQL stages do not bind:\n {2}jobs\[0\]\.stages\[0\]\.sql: .*\n[\s\S]*\n {2}jobs\[1\]\.stages\[0\]\.sql: /,
    );
  });

  it('stops the catalog (the package, the local stack) from being built on SQL that does not bind', async () => {
    await rejected(SqlBindingError, catalogTables(loadPipelineFile(join(FIXTURES, 'unknown-column', 'pipeline.yaml'))));
    const { tables } = await catalogTables(loadPipelineFile(join(GOOD, 'pipeline.yaml')));
    expect(tables.find((t) => t.name === 'all_shops')?.fileColumns.map((c) => c.name)).toEqual(['day', 'shops', 'total']);
  });

  const examples = readdirSync(join(ROOT, 'examples'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  it.each([...examples.map((e) => join('examples', e)), join('test', 'fixtures', 'meters')])('passes %s/pipeline.yaml', async (folder) => {
    const { problems, notChecked, stagesBound } = await checkPipelineSql(loadPipelineFile(join(ROOT, folder, 'pipeline.yaml')));
    expect(problems).toEqual([]);
    expect(notChecked).toEqual([]);
    expect(stagesBound).toBeGreaterThan(0);
  });
});

describe('landfall config and the SQL check', () => {
  keepConfigEnv({ beforeEach, afterEach });

  it('exits 2 naming the configuration, the job, the stage, the SQL file and its line', async () => {
    const file = join(FIXTURES, 'unknown-column', 'pipeline.yaml');
    const { status, stdout, stderr } = await cli('config', '--config', file);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(
      `landfall: invalid pipeline configuration ${file}: jobs[0].stages[1].sql: job shop_daily, stage totals, sql/shop_totals.v1.sql:5: Binder Error`,
    );
  });

  it('says how many SQL stages it bound when they all bind', async () => {
    const { status, stderr } = await cli('config', '--config', join(GOOD, 'pipeline.yaml'));
    expect(status).toBe(0);
    expect(stderr).toContain('valid (1 datasets, 2 jobs, 3 SQL stages bound)');
  });
});
