import { describe, expect, it } from 'vitest';
import { ROWS_PER_PAGE, gridFilters, pageToken, pagedGrid, readGridPage } from '../../ops/console/batch-grid';
import { ConsoleRequestError } from '../../ops/console/errors';
import { batchGridView } from '../../ops/console/views/batches';
import {
  batchIdOnDate,
  batchSortKey,
  businessDateOfBatchId,
  indexAttributes,
  indexUpdate,
  jobOfBatchId,
  rowOfBatchId,
} from '../../shared/core/runs/batch-index';
import type { BatchItem, IndexedBatchQuery, JobRunStore } from '../../shared/core/runs/job-run-store';
import { NOW, batchItem, retailPipeline } from './console-fixtures';

const pipeline = retailPipeline();

describe("the batch indexes' keys", () => {
  it('take the job and the business date from the batch id, wherever the date is in the batch key', () => {
    expect(jobOfBatchId('pos_daily_sales#province=ON#date=2026-08-01')).toBe('pos_daily_sales');
    expect(businessDateOfBatchId('pos_daily_sales#province=ON#date=2026-08-01')).toBe('2026-08-01');
    expect(businessDateOfBatchId('meters#day=2026-08-01#meter=M7')).toBe('2026-08-01');
    expect(businessDateOfBatchId('odd#name=x')).toBe('');
    expect(batchSortKey('clickstream_daily#date=2026-08-02')).toBe('2026-08-02#clickstream_daily#date=2026-08-02');
    expect(batchIdOnDate('meters#day=2026-08-01#meter=M7', '2026-09-30')).toBe('meters#day=2026-09-30#meter=M7');
    expect(rowOfBatchId('meters#day=2026-08-01#meter=M7')).toBe(rowOfBatchId('meters#day=2026-12-24#meter=M7'));
  });

  it("sort a date's batches as their rows sort on every other date (one cursor pages every date)", () => {
    const rows = ['ON', 'ONT', 'O', 'QC', 'BC-1', 'BC#'].map((p) => `pos_daily_sales#province=${p}#date=2026-08-01`);
    const order = (date: string) => rows.map((id) => batchIdOnDate(id, date)).sort();
    const asRows = (ids: string[]) => ids.map(rowOfBatchId);
    expect(asRows(order('2026-08-01'))).toEqual(asRows(order('2031-12-31')));
    expect(asRows(order('2026-08-01'))).toEqual([...asRows(rows)].sort());
  });

  it('are open while the batch is not done, removed when it succeeds, the grid keys always', () => {
    const id = 'pos_daily_sales#province=ON#date=2026-08-01';
    expect(indexAttributes(id, 'FAILED')).toEqual({
      gridPk: 'GRID#pos_daily_sales',
      gridSk: `2026-08-01#${id}`,
      openPk: 'OPEN#pos_daily_sales#FAILED',
      openSk: `2026-08-01#${id}`,
    });
    expect(indexAttributes(id, 'SUCCEEDED')).toEqual({ gridPk: 'GRID#pos_daily_sales', gridSk: `2026-08-01#${id}` });
    expect(indexUpdate(id, 'SUCCEEDED').remove).toEqual(['openPk', 'openSk']);
    // a write that keeps the status touches only the grid's keys
    expect(indexUpdate(id)).toEqual({
      set: ['gridPk = :gridPk', 'gridSk = :gridSk'],
      remove: [],
      values: { ':gridPk': 'GRID#pos_daily_sales', ':gridSk': `2026-08-01#${id}` },
    });
  });
});

/**
 * The two indexes as DynamoDB answers a Query on them (sort-key order, bounds, Limit before the
 * filter, LastEvaluatedKey), over batch items in memory: the paging logic's edge cases, fast. The
 * same reads against DynamoDB Local are in test/console-index.test.ts.
 */
function indexOver(items: BatchItem[]): Pick<JobRunStore, 'indexedBatches'> & { queries: number } {
  const keyed = items.map((b) => ({ ...b, ...indexAttributes(b.batchId, b.status) }) as BatchItem & Record<string, string>);
  const reader = {
    queries: 0,
    async indexedBatches(q: IndexedBatchQuery) {
      reader.queries += 1;
      const [pk, sk] = q.open ? ['openPk', 'openSk'] : ['gridPk', 'gridSk'];
      const partition = q.open ? `OPEN#${q.job}#${q.open}` : `GRID#${q.job}`;
      const to = q.to === undefined ? undefined : q.to.includes('#') ? q.to : `${q.to}#\uffff`;
      let range = keyed
        .filter((b) => b[pk] === partition && (q.from === undefined || b[sk]! >= q.from) && (to === undefined || b[sk]! <= to))
        .sort((a, b) => (a[sk]! < b[sk]! ? -1 : 1));
      if (q.descending) range.reverse();
      const start = q.next ? range.findIndex((b) => b[sk] === q.next![sk]) + 1 : 0;
      range = range.slice(start);
      const read = q.limit ? range.slice(0, q.limit) : range;
      const more = read.length < range.length;
      return {
        batches: read.filter((b) => !q.status || b.status === q.status),
        ...(more ? { next: { [sk]: read.at(-1)![sk] } } : {}),
      };
    },
  };
  return reader;
}

/** Every page of the grid, following its next tokens: each page's rows (job, key) and cells (date: status). */
async function allPages(items: BatchItem[], query: string) {
  const index = indexOver(items);
  const pages: Array<Array<[string, string, Record<string, string>]>> = [];
  let after: string | undefined;
  do {
    const filters = gridFilters(new URLSearchParams(`${query}${after ? `&after=${after}` : ''}`));
    const grid = pagedGrid(await readGridPage(index, pipeline, filters, NOW), pipeline, filters, NOW);
    pages.push(grid.rows.map((r) => [r.job, r.key, Object.fromEntries([...r.cells].map(([d, c]) => [d, c.status]))]));
    after = grid.paging?.next;
  } while (after && pages.length < 20);
  return { pages, queries: index.queries };
}

describe('the grid read a page at a time from the indexes', () => {
  const provinces = Array.from({ length: 2 * ROWS_PER_PAGE + 7 }, (_, i) => `P${String(i).padStart(3, '0')}`);
  const statusOf = (i: number) => (i % 9 === 0 ? 'FAILED' : i % 7 === 0 ? 'WAITING' : 'SUCCEEDED') as BatchItem['status'];
  const items = [
    ...provinces.flatMap((p, i) => ['2026-08-01', '2026-08-02'].map((d) => batchItem(p, d, statusOf(i)))),
    { ...batchItem('ON', '2026-08-02', 'RUNNING'), job: 'clickstream_daily', batchId: 'clickstream_daily#date=2026-08-02', values: { date: '2026-08-02' } },
  ];

  it('pages every row once, in order, 50 a page, the next page behind a token', async () => {
    const { pages } = await allPages(items, '');
    expect(pages.map((p) => p.length)).toEqual([ROWS_PER_PAGE, ROWS_PER_PAGE, 8]);
    const rows = pages.flat().map(([job, key]) => `${job} ${key}`);
    expect(new Set(rows).size).toBe(provinces.length + 1);
    expect(rows[0]).toBe('clickstream_daily ');
    expect(rows.at(-1)).toBe(`pos_daily_sales province=${provinces.at(-1)}`);
    // each row holds its batches of every date
    expect(pages[1]![0]![2]).toEqual({ '2026-08-01': expect.any(String), '2026-08-02': expect.any(String) });
  });

  it('keeps the status filter across pages: failed batches come from the open index alone', async () => {
    const { pages } = await allPages(items, 'status=failed');
    const failed = provinces.filter((_, i) => statusOf(i) === 'FAILED').map((p) => `province=${p}`);
    expect(pages.flat().map(([, key]) => key)).toEqual(failed);
    expect(pages.flat().every(([, , cells]) => Object.values(cells).every((s) => s === 'failed'))).toBe(true);
  });

  it('tells late from waiting by the deadline, both read from the open WAITING partition', async () => {
    // 2026-08-01 and 2026-08-02 are past their 18:00 Toronto deadline at NOW (2026-08-03 12:00 UTC)
    const waiting = [...items, batchItem('ZZ', '2026-08-03', 'WAITING')];
    const late = (await allPages(waiting, 'status=late')).pages.flat();
    expect(late.map(([, key]) => key)).toEqual(provinces.filter((_, i) => statusOf(i) === 'WAITING').map((p) => `province=${p}`));
    expect((await allPages(waiting, 'status=waiting')).pages.flat().map(([, key, cells]) => [key, cells])).toEqual([
      ['province=ZZ', { '2026-08-03': 'waiting' }],
    ]);
  });

  it('shows the most recent dates of the range, at most 14 columns', async () => {
    const days = Array.from({ length: 20 }, (_, i) => batchItem('ON', `2026-07-${String(i + 1).padStart(2, '0')}`, 'SUCCEEDED'));
    const index = indexOver(days);
    const page = await readGridPage(index, pipeline, gridFilters(new URLSearchParams('job=pos_daily_sales')), NOW);
    expect(page.dates).toEqual(days.slice(-14).map((b) => b.values.date));
    const ranged = await readGridPage(index, pipeline, gridFilters(new URLSearchParams('from=2026-07-03&to=2026-07-05')), NOW);
    expect(ranged.dates).toEqual(['2026-07-03', '2026-07-04', '2026-07-05']);
    expect(ranged.batches.map((b) => b.values.date)).toEqual(['2026-07-03', '2026-07-04', '2026-07-05']);
  });

  it('links the next page with a token that keeps the filters, and refuses a forged token', async () => {
    const filters = gridFilters(new URLSearchParams('job=pos_daily_sales&status=succeeded'));
    const grid = pagedGrid(await readGridPage(indexOver(items), pipeline, filters, NOW), pipeline, filters, NOW);
    const body = batchGridView(grid, filters, pipeline).text;
    expect(grid.paging?.next).toBeDefined();
    expect(body).toContain(`rel="next" href="/batches?job=pos_daily_sales&amp;status=succeeded&amp;after=${grid.paging!.next}"`);
    expect(body).not.toContain('rel="first"');
    const second = gridFilters(new URLSearchParams(`job=pos_daily_sales&status=succeeded&after=${grid.paging!.next}`));
    expect(second.after).toMatch(/^pos_daily_sales#province=P\d{3}#date=2026-08-0[12]$/);
    const nextGrid = pagedGrid(await readGridPage(indexOver(items), pipeline, second, NOW), pipeline, second, NOW);
    // the next page starts at the row the token names, right after the last row shown
    expect(`pos_daily_sales#${nextGrid.rows[0]!.key}`).toBe(second.after!.replace(/#date=.*$/, ''));
    expect(nextGrid.rows[0]!.key > grid.rows.at(-1)!.key).toBe(true);
    const next = batchGridView(nextGrid, second, pipeline).text;
    expect(next).toContain('rel="first" href="/batches?job=pos_daily_sales&amp;status=succeeded"');
    expect(() => gridFilters(new URLSearchParams('after=not-a-token'))).toThrow(ConsoleRequestError);
    expect(() => gridFilters(new URLSearchParams(`after=${pageToken('x')}`))).toThrow(/after must be the token of a "next" link/);
  });
});
