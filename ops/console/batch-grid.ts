import type { Pipeline } from '../../shared/core/config/load-config';
import { END_OF_DAY, batchIdOnDate, businessDateOfBatchId, jobOfBatchId, rowOfBatchId, type OpenStatus } from '../../shared/core/runs/batch-index';
import type { BatchItem, IndexedBatchQuery, JobRunStore } from '../../shared/core/runs/job-run-store';
import { CELL_STATUSES, businessDateOf, cellStatus, type CellStatus } from './batch-status';
import { ConsoleRequestError } from './errors';

/** The grid's filters, from the query string: /batches?job=J&from=D&to=D&status=S&after=T. */
export interface GridFilters {
  job?: string;
  from?: string;
  to?: string;
  status?: CellStatus;
  /** 1-based page of rows, when the rows are all in hand (buildGrid alone) */
  page: number;
  /** the page starts at this batch's row (the `after` token of a "next" link: readGridPage) */
  after?: string;
}

/** The `after` token of a page: the batch id of its first row, base64url (opaque, and nothing to escape). */
export const pageToken = (batchId: string) => Buffer.from(batchId, 'utf8').toString('base64url');

function batchIdOfToken(token: string): string {
  const batchId = Buffer.from(token, 'base64url').toString('utf8');
  if (!batchId.includes('#') || pageToken(batchId) !== token) throw new ConsoleRequestError(`after must be the token of a "next" link, got "${token}"`);
  return batchId;
}

export const ROWS_PER_PAGE = 50;
/** The most recent business dates shown side by side (narrow the range to see older ones). */
export const MAX_DATES = 14;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The filters of a grid request; a malformed one is a ConsoleRequestError naming it. */
export function gridFilters(query: URLSearchParams): GridFilters {
  const filters: GridFilters = { page: 1 };
  const job = query.get('job');
  if (job) filters.job = job;
  for (const name of ['from', 'to'] as const) {
    const value = query.get(name);
    if (!value) continue;
    if (!DATE.test(value) || Number.isNaN(Date.parse(value))) throw new ConsoleRequestError(`${name} must be a date YYYY-MM-DD, got "${value}"`);
    filters[name] = value;
  }
  const status = query.get('status');
  if (status) {
    if (!(CELL_STATUSES as readonly string[]).includes(status))
      throw new ConsoleRequestError(`status must be one of ${CELL_STATUSES.join(', ')}, got "${status}"`);
    filters.status = status as CellStatus;
  }
  const page = query.get('page');
  if (page) {
    const n = Number(page);
    if (!Number.isInteger(n) || n < 1) throw new ConsoleRequestError(`page must be a whole number from 1, got "${page}"`);
    filters.page = n;
  }
  const after = query.get('after');
  if (after) filters.after = batchIdOfToken(after);
  return filters;
}

export interface GridCell {
  batch: BatchItem;
  status: CellStatus;
}

/** One row: a job and the values of its batch key other than the date (e.g. province=ON). */
export interface GridRow {
  job: string;
  /** `province=ON`, empty for a job keyed by date alone */
  key: string;
  cells: Map<string, GridCell>;
}

export interface Grid {
  dates: string[];
  rows: GridRow[];
  page: number;
  pages: number;
  /** rows before pagination */
  totalRows: number;
  /** batches that matched the filters */
  totalBatches: number;
  /** read a page at a time from the indexes (readGridPage): where this page started, and the next page's token */
  paging?: { first: boolean; next?: string };
}

/**
 * The grid: one row per job and batch key (the date aside), one column per business date, each
 * cell a batch coloured by its status. Filters narrow the batches; the last MAX_DATES dates are
 * shown; rows are paged. `ranAtCutoff` holds `batchId\nexecutionName` of runs made at a cut-off.
 */
export function buildGrid(batches: BatchItem[], pipeline: Pipeline, filters: GridFilters, now: Date, ranAtCutoff: ReadonlySet<string> = new Set()): Grid {
  const rowsByKey = new Map<string, GridRow>();
  const dates = new Set<string>();
  let totalBatches = 0;
  for (const batch of batches) {
    if (filters.job && batch.job !== filters.job) continue;
    const job = pipeline.jobsByName.get(batch.job);
    const date = businessDateOf(batch, job);
    if ((filters.from && date < filters.from) || (filters.to && date > filters.to)) continue;
    const status = cellStatus(batch, pipeline, now, ranAtCutoff);
    if (filters.status && status !== filters.status) continue;
    totalBatches += 1;
    const key = Object.entries(batch.values)
      .filter(([field]) => field !== (job?.dateField ?? 'date'))
      .map(([field, value]) => `${field}=${value}`)
      .join(',');
    const rowKey = `${batch.job}\n${key}`;
    const row = rowsByKey.get(rowKey) ?? { job: batch.job, key, cells: new Map<string, GridCell>() };
    rowsByKey.set(rowKey, row);
    row.cells.set(date, { batch, status });
    dates.add(date);
  }
  const shownDates = [...dates].sort().slice(-MAX_DATES);
  const rows = [...rowsByKey.values()]
    .filter((r) => shownDates.some((d) => r.cells.has(d)))
    .sort((a, b) => a.job.localeCompare(b.job) || a.key.localeCompare(b.key));
  const pages = Math.max(1, Math.ceil(rows.length / ROWS_PER_PAGE));
  const page = Math.min(filters.page, pages);
  return {
    dates: shownDates,
    rows: rows.slice((page - 1) * ROWS_PER_PAGE, page * ROWS_PER_PAGE),
    page,
    pages,
    totalRows: rows.length,
    totalBatches,
  };
}

/** The runs made at a cut-off, as cellStatus takes them, from the batches' last runs. */
export function ranAtCutoffOf(batches: BatchItem[]): Set<string> {
  return new Set(batches.filter((b) => b.lastRun?.ranWithout).map((b) => `${b.batchId}\n${b.lastRun!.executionName}`));
}

/** Where batches of a grid status are read: the open index's partition of their status, or the grid's (every batch) with a status filter. */
function sourceOf(status: CellStatus | undefined): Pick<IndexedBatchQuery, 'open' | 'status'> {
  const open: Partial<Record<CellStatus, OpenStatus>> = {
    waiting: 'WAITING',
    late: 'WAITING',
    running: 'RUNNING',
    failed: 'FAILED',
    'check-failed': 'CHECK_FAILED',
  };
  if (!status) return {};
  return open[status] ? { open: open[status] } : { status: 'SUCCEEDED' };
}

type Runs = Pick<JobRunStore, 'indexedBatches'>;

/** The first `want` batches of an index range that `keep` keeps, in the range's order (reading on while a filter leaves pages short). */
async function collect(runs: Runs, query: IndexedBatchQuery, keep: (b: BatchItem) => boolean, want: number, filtered: boolean): Promise<BatchItem[]> {
  const kept: BatchItem[] = [];
  let next: Record<string, unknown> | undefined;
  do {
    const page = await runs.indexedBatches({ ...query, limit: filtered ? 200 : want - kept.length, ...(next ? { next } : {}) });
    kept.push(...page.batches.filter(keep));
    next = page.next;
  } while (next && kept.length < want);
  return kept.slice(0, want);
}

/** A job's most recent business dates (at most MAX_DATES, within the filters' range) that hold a batch the filters keep, newest first. */
async function recentDates(runs: Runs, job: string, filters: GridFilters, keep: (b: BatchItem) => boolean, filtered: boolean): Promise<string[]> {
  const dates: string[] = [];
  let to = filters.to;
  while (dates.length < MAX_DATES) {
    const range = { ...(filters.from ? { from: filters.from } : {}), ...(to !== undefined ? { to } : {}) };
    const [latest] = await collect(runs, { job, ...sourceOf(filters.status), ...range, descending: true }, keep, 1, filtered);
    if (!latest) break;
    const date = businessDateOfBatchId(latest.batchId);
    dates.push(date);
    // every sort key of an earlier day sorts below `<date>#` (no batch's key is `<date>#` itself)
    to = `${date}#`;
  }
  return dates;
}

export interface GridPage {
  /** the page's batches: up to ROWS_PER_PAGE rows, each with its cells on `dates` */
  batches: BatchItem[];
  /** the most recent dates with a batch the filters keep (at most MAX_DATES), oldest first */
  dates: string[];
  /** the batch id the next page starts at */
  next?: string;
}

/**
 * One page of the grid, read from the indexes (batch-index.ts), never a Scan: the dates are the
 * most recent ones holding a batch the filters keep (a few one-item Queries per job, walking back
 * a day at a time); the rows are the first ROWS_PER_PAGE (job, then batch key) from `filters.after`,
 * read per job and shown date (one Query each, at most ROWS_PER_PAGE + 1 batches). A status reads
 * the open index's partition when it is an open one, so the failed batches of a long history are
 * found without reading the succeeded ones.
 */
export async function readGridPage(runs: Runs, pipeline: Pipeline, filters: GridFilters, now: Date): Promise<GridPage> {
  const jobs = (filters.job ? [filters.job] : pipeline.config.jobs.map((j) => j.name)).sort();
  const filtered = filters.status !== undefined;
  const keep = (b: BatchItem) => !filters.status || cellStatus(b, pipeline, now, ranAtCutoffOf([b])) === filters.status;
  const perJob = await Promise.all(jobs.map((job) => recentDates(runs, job, filters, keep, filtered)));
  const dates = [...new Set(perJob.flat())].sort().slice(-MAX_DATES);
  const batches: BatchItem[] = [];
  let rows = 0;
  for (const job of jobs) {
    if (dates.length === 0 || (filters.after && job < jobOfBatchId(filters.after))) continue;
    const start = filters.after && jobOfBatchId(filters.after) === job ? filters.after : undefined;
    const need = ROWS_PER_PAGE - rows;
    // per date, the first need + 1 rows from the start: together they hold the first need + 1 rows of the job
    const found = (
      await Promise.all(
        dates.map((d) =>
          collect(
            runs,
            { job, ...sourceOf(filters.status), from: `${d}#${start ? batchIdOnDate(start, d) : ''}`, to: `${d}#${END_OF_DAY}` },
            keep,
            need + 1,
            filtered,
          ),
        ),
      )
    ).flat();
    const jobRows = [...new Set(found.map((b) => rowOfBatchId(b.batchId)))].sort();
    const shown = new Set(jobRows.slice(0, need));
    batches.push(...found.filter((b) => shown.has(rowOfBatchId(b.batchId))));
    rows += shown.size;
    if (jobRows.length > need) {
      const next = found.find((b) => rowOfBatchId(b.batchId) === jobRows[need])!;
      return { batches, dates, next: next.batchId };
    }
  }
  return { batches, dates };
}

/** The grid of one page read by readGridPage: its rows, the page's dates as columns, and where the next page starts. */
export function pagedGrid(page: GridPage, pipeline: Pipeline, filters: GridFilters, now: Date): Grid {
  const grid = buildGrid(page.batches, pipeline, { ...filters, page: 1 }, now, ranAtCutoffOf(page.batches));
  return { ...grid, dates: page.dates, paging: { first: !filters.after, ...(page.next ? { next: pageToken(page.next) } : {}) } };
}
