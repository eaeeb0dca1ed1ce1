import { describe, expect, it } from 'vitest';
import { MAX_DATES, ROWS_PER_PAGE, buildGrid, gridFilters } from '../../ops/console/batch-grid';
import { cellStatus } from '../../ops/console/batch-status';
import { ConsoleRequestError } from '../../ops/console/errors';
import { batchGridView } from '../../ops/console/views/batches';
import { compilePipeline } from '../../shared/core/config/load-config';
import { retailConfig } from '../../examples/retail/config';
import { NOW, batchItem, retailPipeline } from './console-fixtures';

const pipeline = retailPipeline();
const none = new Set<string>();

describe('the grid colours each batch by its status', () => {
  it('takes the batch status, with ran-at-cut-off and late told apart', () => {
    // 2026-08-03 is due at 18:00 Toronto (22:00 UTC): not yet at noon UTC; 2026-08-01 is past due
    expect(cellStatus(batchItem('ON', '2026-08-03', 'WAITING'), pipeline, NOW, none)).toBe('waiting');
    expect(cellStatus(batchItem('ON', '2026-08-01', 'WAITING'), pipeline, NOW, none)).toBe('late');
    expect(cellStatus(batchItem('ON', '2026-08-03', 'WAITING', { deadlineAlerted: '2026-08-03T22:00:00.000Z' }), pipeline, NOW, none)).toBe('late');
    expect(cellStatus(batchItem('ON', '2026-08-01', 'RUNNING'), pipeline, NOW, none)).toBe('running');
    expect(cellStatus(batchItem('ON', '2026-08-01', 'FAILED'), pipeline, NOW, none)).toBe('failed');
    expect(cellStatus(batchItem('ON', '2026-08-01', 'CHECK_FAILED'), pipeline, NOW, none)).toBe('check-failed');
    const done = batchItem('ON', '2026-08-01', 'SUCCEEDED', {
      lastRun: { executionName: 'e2', fingerprint: 'f', status: 'SUCCEEDED', finishedAt: '2026-08-02T00:00:00.000Z' },
    });
    expect(cellStatus(done, pipeline, NOW, none)).toBe('succeeded');
    expect(cellStatus(done, pipeline, NOW, new Set([`${done.batchId}\ne2`]))).toBe('cutoff');
    expect(cellStatus(done, pipeline, NOW, new Set([`${done.batchId}\ne1`]))).toBe('succeeded');
  });

  it('a job without a deadline or cut-off is never late', () => {
    const config = retailConfig();
    delete (config.jobs[0] as { freshness?: unknown }).freshness;
    expect(cellStatus(batchItem('ON', '2020-01-01', 'WAITING'), compilePipeline(config), NOW, none)).toBe('waiting');
  });
});

describe('the batch grid', () => {
  const batches = [
    batchItem('ON', '2026-08-01', 'SUCCEEDED'),
    batchItem('ON', '2026-08-02', 'FAILED'),
    batchItem('QC', '2026-08-01', 'CHECK_FAILED'),
    batchItem('QC', '2026-08-03', 'WAITING'),
    { ...batchItem('ON', '2026-08-02', 'RUNNING'), job: 'clickstream_daily', batchId: 'clickstream_daily#date=2026-08-02', values: { date: '2026-08-02' } },
  ];

  it('puts one row per job and batch key, one column per business date, each cell its batch', () => {
    const grid = buildGrid(batches, pipeline, { page: 1 }, NOW);
    expect(grid.dates).toEqual(['2026-08-01', '2026-08-02', '2026-08-03']);
    expect(grid.rows.map((r) => [r.job, r.key])).toEqual([
      ['clickstream_daily', ''],
      ['pos_daily_sales', 'province=ON'],
      ['pos_daily_sales', 'province=QC'],
    ]);
    const on = grid.rows[1]!;
    expect([...on.cells.entries()].map(([d, c]) => [d, c.status])).toEqual([
      ['2026-08-01', 'succeeded'],
      ['2026-08-02', 'failed'],
    ]);
    expect(grid.totalBatches).toBe(5);
  });

  it('filters by job, date range and status', () => {
    expect(buildGrid(batches, pipeline, { page: 1, job: 'clickstream_daily' }, NOW).totalBatches).toBe(1);
    const ranged = buildGrid(batches, pipeline, { page: 1, from: '2026-08-02', to: '2026-08-02' }, NOW);
    expect(ranged.dates).toEqual(['2026-08-02']);
    expect(ranged.totalBatches).toBe(2);
    const failed = buildGrid(batches, pipeline, { page: 1, status: 'check-failed' }, NOW);
    expect(failed.rows.map((r) => r.key)).toEqual(['province=QC']);
  });

  it('pages its rows and shows the most recent dates', () => {
    const many = Array.from({ length: 120 }, (_, i) => batchItem(`P${String(i).padStart(3, '0')}`, '2026-08-01', 'SUCCEEDED'));
    const days = Array.from({ length: MAX_DATES + 3 }, (_, i) => batchItem('ON', `2026-07-${String(i + 1).padStart(2, '0')}`, 'SUCCEEDED'));
    const first = buildGrid([...many, ...days], pipeline, { page: 1 }, NOW);
    expect(first.pages).toBe(Math.ceil(121 / ROWS_PER_PAGE));
    expect(first.rows).toHaveLength(ROWS_PER_PAGE);
    const last = buildGrid([...many, ...days], pipeline, { page: 99 }, NOW);
    expect(last.page).toBe(3);
    expect(last.rows).toHaveLength(121 - 2 * ROWS_PER_PAGE);
    const recent = buildGrid(days, pipeline, { page: 1 }, NOW);
    expect(recent.dates).toHaveLength(MAX_DATES);
    expect(recent.dates.at(-1)).toBe(`2026-07-${MAX_DATES + 3}`);
    expect(recent.dates[0]).toBe('2026-07-04');
  });

  it('renders each cell with its colour and its words, linking to the batch; the pager keeps the filters', () => {
    const many = Array.from({ length: 60 }, (_, i) => batchItem(`P${String(i).padStart(3, '0')}`, '2026-08-02', 'FAILED'));
    const filters = { page: 1, status: 'failed' as const, from: '2026-08-01' };
    const body = batchGridView(buildGrid(many, pipeline, filters, NOW), filters, pipeline).text;
    expect(body).toContain('<span class="st st-failed">failed</span>');
    expect(body).toContain('href="/batch?job=pos_daily_sales&amp;batch=province%3DP000%2Cdate%3D2026-08-02"');
    expect(body).toContain('rel="next" href="/batches?from=2026-08-01&amp;status=failed&amp;page=2"');
    expect(body).not.toContain('rel="prev"');
    expect(body).toContain('page 1 of 2 (60 rows, 60 batches');
  });

  it('refuses malformed filters with a clear error', () => {
    expect(gridFilters(new URLSearchParams('job=pos_daily_sales&from=2026-08-01&status=late&page=2'))).toEqual({
      job: 'pos_daily_sales',
      from: '2026-08-01',
      status: 'late',
      page: 2,
    });
    expect(() => gridFilters(new URLSearchParams('from=yesterday'))).toThrow(new ConsoleRequestError('from must be a date YYYY-MM-DD, got "yesterday"'));
    expect(() => gridFilters(new URLSearchParams('status=broken'))).toThrow(/status must be one of waiting, running/);
    expect(() => gridFilters(new URLSearchParams('page=0'))).toThrow(/page must be a whole number/);
  });
});
