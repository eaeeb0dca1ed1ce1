import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { retailConfig } from '../../examples/retail/config';
import { parsePipelineConfig } from '../../shared/core/config/parse-config';
import type { PipelineConfig } from '../../shared/core/config/types';
import { ConfigError } from '../../shared/core/errors';
import { thrown } from '../support/thrown';

/** The samples' configuration with these checks on the POS job (jobs[0], engine auto). */
function withChecks(checks: unknown[], change: (c: PipelineConfig) => void = () => undefined): unknown {
  const config = retailConfig();
  (config.jobs[0] as unknown as { checks: unknown[] }).checks = checks;
  change(config);
  return JSON.parse(JSON.stringify(config));
}
const parse = (raw: unknown, baseDir?: string) => parsePipelineConfig(raw, baseDir ? { baseDir } : {});
const rejects = (raw: unknown) => thrown(ConfigError, () => parse(raw));

describe('jobs[].checks in the configuration', () => {
  it('loads each rule with its defaults: names, severity, the output key, lookup values, tolerance', () => {
    const config = parse(
      withChecks([
        { unique: true },
        { notNull: ['store_id', 'item_id'], severity: 'warn' },
        { acceptedValues: { column: 'province', values: { lookup: 'stores' } } },
        { referential: { column: 'item_id', relation: 'item_master' } },
        { rowCount: { min: 1, minRatioOfPrevious: 0.5 } },
        { name: 'sales reconcile', reconcile: { output: 'sum(sale_amount)', input: { relation: 'pos', expression: 'sum(amount)' } } },
        { sql: '  SELECT * FROM output WHERE sale_amount < 0\n' },
      ]),
    );
    expect(config.jobs[0]!.checks).toEqual([
      { name: 'unique store_id, item_id, transaction_date', severity: 'error', unique: ['store_id', 'item_id', 'transaction_date'] },
      { name: 'notNull store_id, item_id', severity: 'warn', notNull: ['store_id', 'item_id'] },
      { name: 'acceptedValues province', severity: 'error', acceptedValues: { column: 'province', values: ['ON', 'QC', 'BC'] } },
      {
        name: 'referential item_id in item_master.item_id',
        severity: 'error',
        referential: { column: 'item_id', relation: 'item_master', relationColumn: 'item_id' },
      },
      { name: 'rowCount', severity: 'error', rowCount: { min: 1, minRatioOfPrevious: 0.5 } },
      {
        name: 'sales reconcile',
        severity: 'error',
        reconcile: { output: 'sum(sale_amount)', input: { relation: 'pos', expression: 'sum(amount)' }, tolerance: 0 },
      },
      { name: 'sql', severity: 'error', sql: 'SELECT * FROM output WHERE sale_amount < 0' },
    ]);
    // the effective form loads as itself (what the functions read)
    const effective = JSON.parse(JSON.stringify(config));
    expect(parse(effective).jobs[0]!.checks).toEqual(config.jobs[0]!.checks);
  });

  it('reads a custom check from a file into the configuration', () => {
    const dir = mkdtempSync(join(tmpdir(), 'landfall-checks-config-'));
    writeFileSync(join(dir, 'negative.sql'), '-- sales below zero\nSELECT * FROM output WHERE sale_amount < 0;\n');
    const config = parse(withChecks([{ name: 'no negative sales', sql: { file: 'negative.sql' } }]), dir);
    expect(config.jobs[0]!.checks).toEqual([
      { name: 'no negative sales', severity: 'error', sql: '-- sales below zero\nSELECT * FROM output WHERE sale_amount < 0;' },
    ]);
    expect(rejects(withChecks([{ sql: { file: 'missing.sql' } }])).field).toBe('jobs[0].checks[0].sql.file');
  });

  it.each<[string, unknown[], string, RegExp]>([
    ['no rule', [{ name: 'x' }], 'jobs[0].checks[0]', /give one rule: unique, notNull/],
    ['two rules', [{ unique: true, notNull: ['item_id'] }], 'jobs[0].checks[0]', /one rule per check, got unique and notNull/],
    ['an unknown field', [{ unique: true, when: 'x' }], 'jobs[0].checks[0].when', /unknown field \(allowed: name, severity, unique/],
    ['a bad severity', [{ unique: true, severity: 'fatal' }], 'jobs[0].checks[0].severity', /expected one of error, warn/],
    ['a column that is not a name', [{ notNull: ['Item Id'] }], 'jobs[0].checks[0].notNull[0]', /not a lower-case identifier/],
    ['no column', [{ notNull: [] }], 'jobs[0].checks[0].notNull', /at least one column/],
    [
      'an unknown input',
      [{ referential: { column: 'item_id', relation: 'items' } }],
      'jobs[0].checks[0].referential.relation',
      /no input with relation "items" \(inputs: pos, item_master\)/,
    ],
    [
      'an unknown lookup',
      [{ acceptedValues: { column: 'category', values: { lookup: 'categories' } } }],
      'jobs[0].checks[0].acceptedValues.values.lookup',
      /no lookup named "categories"/,
    ],
    ['a row count without a bound', [{ rowCount: {} }], 'jobs[0].checks[0].rowCount', /at least one bound/],
    ['an input ratio without its input', [{ rowCount: { minRatioOfInput: 0.1 } }], 'jobs[0].checks[0].rowCount.input', /compare with an input/],
    ['bounds no count meets', [{ rowCount: { min: 10, max: 5 } }], 'jobs[0].checks[0].rowCount.min', /no count passes/],
    [
      'a reconcile of an unknown input',
      [{ reconcile: { output: 'sum(x)', input: { relation: 'nope', expression: 'sum(y)' } } }],
      'jobs[0].checks[0].reconcile.input.relation',
      /no input with relation "nope"/,
    ],
    [
      'two checks of one name',
      [
        { unique: true, name: 'k' },
        { notNull: ['item_id'], name: 'k' },
      ],
      'jobs[0].checks[1].name',
      /two checks are named "k"/,
    ],
  ])('rejects %s, naming the field', (_what, checks, field, problem) => {
    const err = rejects(withChecks(checks));
    expect(err.field).toBe(field);
    expect(err.problem).toMatch(problem);
  });

  it('rejects a check on a job writing several tables that names no table (no one output to check)', () => {
    const err = rejects(
      withChecks([], (c) => {
        (c.jobs[1] as unknown as { checks: unknown[] }).checks = [{ unique: true }];
      }),
    );
    expect(err.field).toBe('jobs[1].checks[0].table');
    expect(err.problem).toMatch(/writes several tables: name the one this check reads/);
  });

  it('rejects an input a check could not tell from the output (relation "output")', () => {
    const err = rejects(
      withChecks([{ unique: true }], (c) => {
        const job = c.jobs[0]!;
        job.inputs[1]!.relation = 'output';
        job.preconditions = job.preconditions.map((p) => ('input' in p && p.input === 'item_master' ? { ...p, input: 'output' } : p));
      }),
    );
    expect(err.field).toBe('jobs[0].checks');
    expect(err.problem).toMatch(/relation "output"/);
  });
});
