import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { retailConfig } from '../../examples/retail/config';
import { undeclaredCheckColumns } from '../../shared/core/checks/check-columns';
import { checkQuery } from '../../shared/core/checks/check-queries';
import { loadPipelineFile } from '../../shared/core/config/load-config';
import { type CheckContext, parseChecks } from '../../shared/core/config/parse-checks';
import { parsePipelineConfig } from '../../shared/core/config/parse-config';
import type { JobConfig, OutputCheck, PipelineConfig } from '../../shared/core/config/types';
import { ConfigError } from '../../shared/core/errors';
import { checkPipelineSql } from '../../shared/stages/catalog';
import { type SparkChecksReport, sparkCheckResults, sparkChecksPlan } from '../../shared/stages/orchestrate/spark-checks';
import { thrown } from '../support/thrown';

/** Checks on a job writing several tables (the clickstream job): each names the table it reads. */
const CLICKSTREAM = 1;
const clickstreamOf = (config: PipelineConfig) => config.jobs[CLICKSTREAM]!;

/** The samples' configuration as JSON, the clickstream job's checks replaced (when given) and changed. */
function withTableChecks(checks: unknown[] | undefined, change: (c: PipelineConfig) => void = () => undefined): unknown {
  const config = retailConfig();
  expect(clickstreamOf(config).name).toBe('clickstream_daily');
  if (checks) (clickstreamOf(config) as unknown as { checks: unknown[] }).checks = checks;
  change(config);
  return JSON.parse(JSON.stringify(config));
}
const parse = (raw: unknown) => parsePipelineConfig(raw, {});
const rejects = (raw: unknown) => thrown(ConfigError, () => parse(raw));

describe('checks naming a table of a job writing several', () => {
  it("loads the sample's clickstream checks, each with its table, named after it; the effective form loads as itself", () => {
    const config = parse(withTableChecks(undefined));
    const checks = clickstreamOf(config).checks!;
    expect(checks.map((c) => [c.table, c.name])).toEqual([
      ['funnel', 'funnel: unique date, step_order'],
      ['gmv_daily', 'gmv_daily: notNull gmv, orders, units'],
      ['gmv_hourly', 'gmv_hourly: rowCount'],
      ['sessions_per_user', 'sessions_per_user: rowCount'],
      ['sessions_per_user', 'sessions_per_user: referential customer_id in customers.customer_id'],
    ]);
    expect(checks[0]).toEqual({ name: 'funnel: unique date, step_order', table: 'funnel', severity: 'error', unique: ['date', 'step_order'] });
    expect(parse(JSON.parse(JSON.stringify(config))).jobs[CLICKSTREAM]!.checks).toEqual(checks);
  });

  it('tells two tables’ same rule apart by the table in the default name', () => {
    const checks = clickstreamOf(
      parse(
        withTableChecks([
          { table: 'gmv_daily', notNull: ['gmv'] },
          { table: 'channel_region', notNull: ['gmv'] },
        ]),
      ),
    ).checks!;
    expect(checks.map((c) => c.name)).toEqual(['gmv_daily: notNull gmv', 'channel_region: notNull gmv']);
  });

  it.each([
    [
      'no table',
      [{ unique: ['date'] }],
      'jobs[1].checks[0].table',
      /job clickstream_daily writes several tables: name the one this check reads \(one of gmv_daily, .*funnel.*\)/,
    ],
    [
      'a table not written',
      [{ table: 'gmv_weekly', notNull: ['gmv'] }],
      'jobs[1].checks[0].table',
      /job clickstream_daily writes no table "gmv_weekly" \(its tables: gmv_daily, gmv_hourly, funnel/,
    ],
    ['a table that is no identifier', [{ table: 'Funnel', notNull: ['gmv'] }], 'jobs[1].checks[0].table', /not a lower-case identifier/],
  ])('refuses %s, naming the job, the check and the field', (_what, checks, field, problem) => {
    const err = rejects(withTableChecks(checks));
    expect(err.field).toBe(field);
    expect(err.problem).toMatch(problem);
  });

  it("takes the named table's own key (output.tables.<table>.key) for unique: true", () => {
    const [check] = clickstreamOf(parse(withTableChecks([{ table: 'funnel', unique: true }]))).checks!;
    expect(check).toEqual({ name: 'funnel: unique date, step_order', table: 'funnel', severity: 'error', unique: ['date', 'step_order'] });
  });

  it('refuses a table on a job writing one table (its checks read it)', () => {
    const err = rejects(
      withTableChecks(undefined, (c) => {
        (c.jobs[0] as unknown as { checks: unknown[] }).checks = [{ table: 'pos_daily_sales', unique: true }];
      }),
    );
    expect(err.field).toBe('jobs[0].checks[0].table');
    expect(err.problem).toMatch(/job pos_daily_sales writes one table: its checks read it, so a check names no table/);
  });

  it("takes a table's own key for unique: true when the job gives the tables' keys", () => {
    const ctx: CheckContext = {
      job: {
        name: 'clicks',
        engine: 'emr',
        key: ['date'],
        relations: ['events'],
        tables: { funnel: { key: ['date', 'step_order'] }, daily: { key: ['date'] } },
      },
      lookups: {},
      file: () => {
        throw new Error('no file');
      },
    };
    expect(
      parseChecks(
        [
          { table: 'funnel', unique: true },
          { unique: true, table: 'daily' },
        ],
        'jobs[0].checks',
        ctx,
      ),
    ).toEqual([
      { name: 'funnel: unique date, step_order', table: 'funnel', severity: 'error', unique: ['date', 'step_order'] },
      { name: 'daily: unique date', table: 'daily', severity: 'error', unique: ['date'] },
    ]);
    expect(thrown(ConfigError, () => parseChecks([{ table: 'weekly', unique: true }], 'jobs[0].checks', ctx)).problem).toMatch(
      'job clicks writes no table "weekly" (its tables: funnel, daily)',
    );
  });
});

const TABLE_CHECKS: OutputCheck[] = [
  { name: 'funnel: unique date, step_order', table: 'funnel', severity: 'error', unique: ['date', 'step_order'] },
  { name: 'gmv_daily: notNull gmv', table: 'gmv_daily', severity: 'warn', notNull: ['gmv'] },
  { name: 'steps', table: 'funnel', severity: 'error', sql: 'SELECT * FROM output WHERE sessions < 0' },
];
const JOB = {
  name: 'clicks',
  checks: TABLE_CHECKS,
  stages: [{ name: 'clean' }, { name: 'metrics' }],
  output: { tables: { gmv_daily: { key: ['date'] }, funnel: { key: ['date', 'step_order'] }, gmv_hourly: { key: ['date', 'hour'] } } },
} as Parameters<typeof sparkChecksPlan>[0];

describe("a table check's query and plan", () => {
  it('reads `output` (the engine binds it to the table) and carries the table; a check without one carries none', () => {
    const query = checkQuery(TABLE_CHECKS[0]!, 'spark');
    expect(query).toMatchObject({ table: 'funnel', reads: { output: ['date', 'step_order'] } });
    expect(query.count).toContain('FROM output GROUP BY `date`, `step_order`');
    expect(checkQuery({ name: 'u', severity: 'error', unique: ['a'] }, 'spark')).not.toHaveProperty('table');
  });

  it('lists every table the step stages and publishes, on the last stage only', () => {
    const plan = sparkChecksPlan(JOB, 'metrics')!;
    expect(plan.tables).toEqual(['gmv_daily', 'funnel', 'gmv_hourly']);
    expect(plan.checks.map((c) => [c.name, c.table])).toEqual(TABLE_CHECKS.map((c) => [c.name, c.table]));
    expect(sparkChecksPlan(JOB, 'clean')).toBeUndefined();
    // a job writing one table: the plan has no tables (the step stages its one partition)
    expect(sparkChecksPlan({ ...JOB, output: {}, checks: [{ name: 'u', severity: 'error', unique: ['a'] }] }, 'metrics')).not.toHaveProperty('tables');
  });
});

/** A step's report on TABLE_CHECKS: each table's columns, and what Spark measured. */
const report = (over: Partial<SparkChecksReport> = {}): SparkChecksReport => ({
  stage: 'metrics',
  columns: { events: ['event_id'] },
  tables: { funnel: ['step', 'step_order', 'sessions', 'events', 'date'], gmv_daily: ['gmv', 'orders', 'units', 'date'] },
  measures: [
    { name: TABLE_CHECKS[0]!.name, failing: 0, sample: [] },
    { name: TABLE_CHECKS[1]!.name, failing: 1, sample: [{ gmv: null, date: '2026-11-01' }] },
    { name: TABLE_CHECKS[2]!.name, failing: 0, sample: [] },
  ],
  published: true,
  ...over,
});

describe("a multi-table step's report as results", () => {
  it('gives each check its result', () => {
    const found = sparkCheckResults(TABLE_CHECKS, report());
    expect('results' in found && found.results.map((r) => [r.name, r.passed, r.failing])).toEqual([
      ['funnel: unique date, step_order', true, 0],
      ['gmv_daily: notNull gmv', false, 1],
      ['steps', true, 0],
    ]);
  });

  it('names the table whose column a check could not read, or the table the stage did not write', () => {
    const unreadable = report({ measures: [{ name: TABLE_CHECKS[0]!.name, unreadable: true }], published: false });
    expect(sparkCheckResults(TABLE_CHECKS, { ...unreadable, tables: { funnel: ['step', 'sessions', 'date'] } })).toEqual({
      invalid: 'check "funnel: unique date, step_order": the output table funnel has no column "step_order" (it has step, sessions, date)',
    });
    expect(sparkCheckResults(TABLE_CHECKS, { ...unreadable, tables: {} })).toEqual({
      invalid: 'check "funnel: unique date, step_order": the stage wrote no output table funnel',
    });
  });
});

describe("a Spark job's checks against its declared columns", () => {
  const job = (checks: OutputCheck[]) => ({ ...clickstreamOf(retailConfig()), checks }) as JobConfig;
  const inputs = (relation: string) => (relation === 'customers' ? ['customer_id', 'customer_name'] : undefined);

  it("finds a column its table does not declare (the partition fields are columns), or its input lacks; an input's unknown columns are not checked", () => {
    expect(
      undeclaredCheckColumns(
        job([
          { name: 'a', table: 'funnel', severity: 'error', unique: ['date', 'step_order'] },
          { name: 'b', table: 'gmv_daily', severity: 'error', notNull: ['gmv', 'sessions'] },
          { name: 'c', table: 'sessions_per_user', severity: 'error', referential: { column: 'customer_id', relation: 'customers', relationColumn: 'id' } },
          { name: 'd', table: 'sessions_per_user', severity: 'error', referential: { column: 'customer_id', relation: 'events', relationColumn: 'nope' } },
          { name: 'e', table: 'funnel', severity: 'error', sql: 'SELECT * FROM output WHERE nope' },
        ]),
        inputs,
      ),
    ).toEqual([
      { index: 1, problem: 'check "b": the output table gmv_daily has no column "sessions" (it has gmv, orders, units, date)' },
      { index: 2, problem: 'check "c": the input customers has no column "id" (it has customer_id, customer_name)' },
    ]);
  });

  it('is a configuration error of `landfall config`, naming the job, the stage, the check and its table', async () => {
    const config = retailConfig();
    clickstreamOf(config).checks = [{ name: 'steps named', table: 'funnel', severity: 'error', notNull: ['step_name'] }];
    const file = join(mkdtempSync(join(tmpdir(), 'landfall-table-checks-')), 'pipeline.json');
    writeFileSync(file, JSON.stringify(config));
    const { problems } = await checkPipelineSql(loadPipelineFile(file));
    expect(problems).toEqual([
      {
        job: 'clickstream_daily',
        stage: 'metrics',
        field: 'jobs[1].checks[0]',
        file: expect.stringMatching(/spark[/\\]metrics\.py$/),
        problem: 'check "steps named": the output table funnel has no column "step_name" (it has step, step_order, sessions, events, date)',
      },
    ]);
    // the sample's own checks bind
    expect((await checkPipelineSql(loadPipelineFile(join(import.meta.dirname, '..', '..', 'examples', 'retail', 'pipeline.yaml')))).problems).toEqual([]);
  });
});
