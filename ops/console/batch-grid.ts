import type { Pipeline } from '../../shared/core/config/load-config';
import type { BatchItem } from '../../shared/core/runs/job-run-store';
import { CELL_STATUSES, businessDateOf, cellStatus, type CellStatus } from './batch-status';
import { ConsoleRequestError } from './errors';

/** The grid's filters, from the query string: /batches?job=J&from=D&to=D&status=S&page=N. */
export interface GridFilters {
  job?: string;
  from?: string;
  to?: string;
  status?: CellStatus;
  /** 1-based page of rows */
  page: number;
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
