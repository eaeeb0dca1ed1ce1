import { describe, expect, it } from 'vitest';
import { checkMetricsLine } from '../../shared/core/alerts';
import { checkFailureMessage, checkResultsOf, type OutputCheckResult, type RunItem } from '../../shared/core/runs/job-run-store';
import { checksSummary, runCheckLines } from '../../ops/reports/job-run-report';

const failedUnique: OutputCheckResult = {
  rule: 'unique',
  name: 'unique store_id, item_id',
  severity: 'error',
  passed: false,
  failing: 12,
  sample: Array.from({ length: 10 }, (_, i) => ({ store_id: `S${i}`, item_id: 'I1', copies: 2 })),
};
const warned: OutputCheckResult = {
  rule: 'rowCount',
  name: 'rowCount',
  severity: 'warn',
  passed: false,
  failing: 1,
  sample: [{ rows: 3, previousRows: 10 }],
  detail: "ratio to the previous partition's 10 rows 0.3 < 0.5",
};
const passed: OutputCheckResult = { rule: 'notNull', name: 'notNull sale_amount', severity: 'error', passed: true, failing: 0, sample: [] };

describe('the results a failed check carries to the step that records it', () => {
  it('come back from the message whole, after the summary', () => {
    const message = checkFailureMessage('job j, batch d=1: the error check "u" failed; nothing was published', [failedUnique, passed]);
    expect(message.startsWith('job j, batch d=1: the error check "u" failed; nothing was published\nresults: ')).toBe(true);
    expect(checkResultsOf(message)).toEqual({
      summary: 'job j, batch d=1: the error check "u" failed; nothing was published',
      results: [failedUnique, passed],
    });
    expect(checkResultsOf('ConfigError: something else')).toBeUndefined();
    expect(checkResultsOf('x\nresults: {not json')).toBeUndefined();
  });

  it('keep under the size Step Functions keeps of a cause, by shortening the samples', () => {
    const wide = { ...failedUnique, sample: failedUnique.sample.map((r) => ({ ...r, note: 'x'.repeat(1_000) })) };
    const message = checkFailureMessage('s', [wide, { ...wide, name: 'other' }, { ...wide, name: 'third' }]);
    expect(message.length).toBeLessThan(32_768);
    const back = checkResultsOf(message)!.results;
    expect(back.map((r) => [r.name, r.failing])).toEqual([
      ['unique store_id, item_id', 12],
      ['other', 12],
      ['third', 12],
    ]);
    expect(back[0]!.sample.length).toBeGreaterThan(0);
    expect(back[0]!.sample.length).toBeLessThan(10);
  });
});

describe('status and explain', () => {
  const run = { checks: { stage: 'aggregate', at: '2026-11-23T20:00:00.000Z', results: [failedUnique, warned, passed] } } as unknown as RunItem;

  it('summarise a run in the status table', () => {
    expect(checksSummary(run)).toBe('1/3 passed; failed: unique store_id, item_id (error), rowCount (warn)');
    expect(checksSummary({ checks: { results: [passed] } } as unknown as RunItem)).toBe('1/1 passed');
    expect(checksSummary({} as RunItem)).toBe('');
  });

  it('list each check in explain, with the first failing rows', () => {
    expect(runCheckLines(run)).toEqual([
      '  checks on aggregate at 2026-11-23T20:00:00.000Z: 1/3 passed; failed: unique store_id, item_id (error), rowCount (warn)',
      '  FAILED unique store_id, item_id (unique, error): 12 failing',
      '    {"store_id":"S0","item_id":"I1","copies":2}',
      '    {"store_id":"S1","item_id":"I1","copies":2}',
      '    {"store_id":"S2","item_id":"I1","copies":2}',
      '    … 9 more (the run item keeps 10)',
      "  warned rowCount (rowCount, warn): ratio to the previous partition's 10 rows 0.3 < 0.5",
      '    {"rows":3,"previousRows":10}',
      '  passed notNull sale_amount (notNull, error): 0 failing',
    ]);
    expect(runCheckLines({} as RunItem)).toEqual([]);
  });
});

describe('the pass-rate metric', () => {
  it('is an EMF document per job: namespace landfall, dimensions Stage and Job', () => {
    const doc = JSON.parse(checkMetricsLine('prod', 'pos_daily_sales', [failedUnique, warned, passed, passed], new Date(0)));
    expect(doc).toEqual({
      _aws: {
        Timestamp: 0,
        CloudWatchMetrics: [
          {
            Namespace: 'landfall',
            Dimensions: [['Stage', 'Job']],
            Metrics: [
              { Name: 'OutputChecksPassRate', Unit: 'Percent' },
              { Name: 'OutputChecksFailed', Unit: 'Count' },
              { Name: 'OutputChecksRun', Unit: 'Count' },
            ],
          },
        ],
      },
      Stage: 'prod',
      Job: 'pos_daily_sales',
      OutputChecksPassRate: 50,
      OutputChecksFailed: 2,
      OutputChecksRun: 4,
    });
  });
});
