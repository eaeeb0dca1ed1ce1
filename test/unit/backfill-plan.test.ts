import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipelineFile } from '../../shared/core/config/load-config';
import type { BatchItem } from '../../shared/core/runs/job-run-store';
import { BACKFILL_REASONS, batchesOfDay, daysBetween, downstreamOf, planBackfill, type BatchSituation } from '../../shared/stages/resolve/backfill-plan';
import { backfillExitCode, backfillRequestOf } from '../../ops/backfill';
import { UsageError } from '../../ops/commands';
import { planLines } from '../../ops/reports/backfill-report';

const pipeline = loadPipelineFile(join(import.meta.dirname, '..', 'fixtures', 'meters', 'pipeline.yaml'));
const DAY = '2026-05-01';
const ref = (region: string, day = DAY) => ({ job: 'region_usage', values: { region, day } });
const id = (region: string, day = DAY) => `region_usage#region=${region}#day=${day}`;

function situation(region: string, fields: Partial<BatchSituation> & { state?: Partial<BatchItem> } = {}): BatchSituation {
  return { batch: ref(region), batchId: id(region), waitingFor: [], sameInputsAsLastSuccess: true, ...fields } as BatchSituation;
}
const succeeded = { lastSucceededFingerprint: 'f', lastRun: { executionName: 'e', fingerprint: 'f', status: 'SUCCEEDED' as const, finishedAt: 'x' } };
const stale = { ran: 'a'.repeat(64), now: 'b'.repeat(64) };

describe("a backfill's plan", () => {
  it('runs the stale, failed and never-run batches, each with why; an up-to-date batch is not run', () => {
    const plan = planBackfill(
      'region_usage',
      [
        situation('north', { state: succeeded, stale }),
        situation('south', { state: { ...succeeded, lastRun: { ...succeeded.lastRun, status: 'FAILED', error: 'StageFailed: Binder Error' } } }),
        situation('east'),
        situation('west', { state: succeeded }),
        situation('central', { state: succeeded, sameInputsAsLastSuccess: false }),
      ],
      BACKFILL_REASONS,
    );
    expect(plan.entries.map((e) => [e.batchId, e.action, e.reason, e.why])).toEqual([
      [id('central'), 'run', 'never', 'inputs newer than its last success never ran'],
      [id('east'), 'run', 'never', 'never run'],
      [id('north'), 'run', 'stale', "stale: last succeeded with code aaaaaaaa, the job's code is now bbbbbbbb"],
      [id('south'), 'run', 'failed', 'last run FAILED: StageFailed: Binder Error'],
    ]);
    expect(plan.upToDate).toEqual([id('west')]);
    expect(plan.notAsked).toEqual([]);
  });

  it('skips an incomplete batch with what it waits for, and a running one; a failure outranks stale code', () => {
    const plan = planBackfill(
      'region_usage',
      [
        situation('north', { state: succeeded, stale, waitingFor: ['1 of 2 parts of readings listed in m.csv (missing 0002)'] }),
        situation('south', { state: { ...succeeded, activeRun: { executionName: 'run-1', fingerprint: 'f', claimedAt: 'x' } }, stale }),
        situation('east', { state: { ...succeeded, lastRun: { ...succeeded.lastRun, status: 'CHECK_FAILED' } }, stale }),
      ],
      BACKFILL_REASONS,
    );
    expect(plan.entries.map((e) => [e.batchId, e.action, e.reason, e.why])).toEqual([
      [id('east'), 'run', 'failed', 'last run CHECK_FAILED'],
      [
        id('north'),
        'skip',
        'stale',
        "stale: last succeeded with code aaaaaaaa, the job's code is now bbbbbbbb; waits for 1 of 2 parts of readings listed in m.csv (missing 0002)",
      ],
      [id('south'), 'skip', 'running', 'running now: run-1'],
    ]);
  });

  it('runs only the reasons asked for and counts the others', () => {
    const plan = planBackfill('region_usage', [situation('north', { state: succeeded, stale }), situation('east')], ['stale']);
    expect(plan.entries.map((e) => e.batchId)).toEqual([id('north')]);
    expect(plan.notAsked).toEqual([{ batchId: id('east'), reason: 'never' }]);
    const lines = planLines({ ...plan, downstream: [] }, { label: 'the local stack', codeHash: 'b'.repeat(64), dryRun: true });
    expect(lines[0]).toBe('backfill of region_usage on the local stack (code bbbbbbbb), dry run: 1 to run, 0 skipped, 0 up to date');
    expect(lines.at(-1)).toBe('1 other batch(es) would run for a reason not asked for (never): --reason all includes them');
  });

  it('lists the downstream batches the cascade re-runs, each once, level by level', () => {
    expect(downstreamOf(pipeline, [ref('north'), ref('south')]).map((d) => [d.batchId, d.after, d.depth])).toEqual([
      [`grid_daily#day=${DAY}`, id('north'), 1],
      [`grid_summary#day=${DAY}`, `grid_daily#day=${DAY}`, 2],
    ]);
    expect(downstreamOf(pipeline, [{ job: 'grid_summary', values: { day: DAY } }])).toEqual([]);
  });

  it("finds a day's batches from its files, a file without the region completing every listed region", () => {
    expect(batchesOfDay(pipeline, 'region_usage', [{ source: 'readings', fields: { region: 'south', day: DAY, part: '0001' } }])).toEqual([ref('south')]);
    expect(batchesOfDay(pipeline, 'region_usage', [{ source: 'tariffs', fields: { day: DAY } }]).map((b) => b.values.region)).toEqual(['north', 'south']);
    // a file of another job's input is not this job's batch
    expect(batchesOfDay(pipeline, 'grid_daily', [{ source: 'readings', fields: { region: 'south', day: DAY, part: '0001' } }])).toEqual([]);
  });
});

describe('the days of a range', () => {
  it('are every day from --from to --to, across months', () => {
    expect(daysBetween('2026-02-27', '2026-03-02')).toEqual(['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02']);
    expect(daysBetween(DAY, DAY)).toEqual([DAY]);
  });

  it('refuse a bad date, a range backwards, or too long a range', () => {
    expect(daysBetween('2026-02-30', '2026-03-01')).toEqual({ problem: '--from must be a date YYYY-MM-DD, got "2026-02-30"' });
    expect(daysBetween(DAY, '20260502')).toEqual({ problem: '--to must be a date YYYY-MM-DD, got "20260502"' });
    expect(daysBetween('2026-05-02', DAY)).toEqual({ problem: `--to ${DAY} is before --from 2026-05-02` });
    expect(daysBetween('2025-01-01', '2026-12-31')).toEqual({ problem: '730 days from 2025-01-01 to 2026-12-31: at most 366 at a time' });
  });
});

describe('the backfill command line', () => {
  const deps = { pipeline };
  it('reads a batch or a range, the reasons, the concurrency and the dry run', () => {
    expect(backfillRequestOf({ job: 'region_usage', batch: `region=north,day=${DAY}`, 'dry-run': true }, deps)).toEqual({
      request: { job: 'region_usage', batches: [ref('north')], reasons: ['stale', 'failed', 'never'], downstream: false },
      maxConcurrency: 4,
      dryRun: true,
    });
    expect(
      backfillRequestOf({ job: 'region_usage', from: DAY, to: '2026-05-02', reason: 'stale,failed', downstream: true, 'max-concurrency': '2' }, deps),
    ).toEqual({
      request: { job: 'region_usage', days: [DAY, '2026-05-02'], reasons: ['stale', 'failed'], downstream: true },
      maxConcurrency: 2,
      dryRun: false,
    });
  });

  it.each([
    [{ batch: `region=north,day=${DAY}` }, 'backfill needs --job J'],
    [{ job: 'region_usage' }, 'backfill needs either --batch field=value,… or --from YYYY-MM-DD --to YYYY-MM-DD'],
    [{ job: 'region_usage', batch: `region=north,day=${DAY}`, from: DAY }, 'backfill needs either --batch'],
    [{ job: 'nope', from: DAY }, 'no job "nope" in the pipeline configuration (jobs: region_usage, grid_daily, grid_summary)'],
    [{ job: 'region_usage', from: DAY, reason: 'old' }, '--reason must be stale, failed, never, all'],
    [{ job: 'region_usage', from: DAY, 'max-concurrency': '0' }, '--max-concurrency must be a whole number ≥ 1, got 0'],
    [{ job: 'region_usage', batch: 'region=north' }, '--batch needs region, day for job region_usage (missing day)'],
  ])('refuses %j', (values, message) => {
    expect(() => backfillRequestOf(values, deps)).toThrow(UsageError);
    expect(() => backfillRequestOf(values, deps)).toThrow(message);
  });

  it('ends 3 when a run failed, 4 when a batch was skipped or waits, else 0', () => {
    const plan = { job: 'region_usage', entries: [], upToDate: [], notAsked: [], downstream: [] };
    const skipped = { ...plan, entries: [{ action: 'skip' as const, batch: ref('north'), batchId: id('north'), reason: 'never' as const, why: 'w' }] };
    expect(backfillExitCode(plan, [])).toBe(0);
    expect(backfillExitCode(plan, [{ batchId: id('north'), reason: 'stale', outcome: 'SUCCEEDED' }])).toBe(0);
    expect(backfillExitCode(skipped, [{ batchId: id('south'), reason: 'stale', outcome: 'SUCCEEDED' }])).toBe(4);
    expect(backfillExitCode(skipped, [{ batchId: id('south'), reason: 'stale', outcome: 'CHECK_FAILED' }])).toBe(3);
    expect(backfillExitCode(plan, [{ batchId: id('south'), reason: 'never', outcome: 'waiting' }])).toBe(4);
  });
});
