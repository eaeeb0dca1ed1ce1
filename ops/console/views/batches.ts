import type { Pipeline } from '../../../shared/core/config/load-config';
import { CELL_LABELS, CELL_STATUSES } from '../batch-status';
import { ROWS_PER_PAGE, type Grid, type GridFilters } from '../batch-grid';
import { href, html, type Html } from '../html';
import { badge, batchHref } from './common';

/** The filters as query parameters (to keep them across pages). */
const filterQuery = (f: GridFilters) => ({ job: f.job, from: f.from, to: f.to, status: f.status });

/** The batch grid: job × batch key × business date, each cell its status in colour and words, like Airflow's grid. */
export function batchGridView(grid: Grid, filters: GridFilters, pipeline: Pipeline): Html {
  const jobs = pipeline.config.jobs.map((j) => j.name);
  const form = html`<form class="filters" method="get" action="/batches">
  job <select name="job"><option value="">every job</option>${jobs.map((j) => html`<option${j === filters.job ? html` selected` : ''}>${j}</option>`)}</select>
  from <input type="date" name="from" value="${filters.from ?? ''}"> to <input type="date" name="to" value="${filters.to ?? ''}">
  status <select name="status"><option value="">any</option>${CELL_STATUSES.map(
    (s) => html`<option value="${s}"${s === filters.status ? html` selected` : ''}>${CELL_LABELS[s]}</option>`,
  )}</select>
  <button>show</button> <a href="/batches">clear</a></form>`;
  const legend = html`<p class="muted">${CELL_STATUSES.map((s) => html`${badge(s)} `)}</p>`;
  if (grid.rows.length === 0) return html`${form}${legend}<p>No batch matches.</p>`;
  const header = html`<tr><th>job</th><th>batch key</th>${grid.dates.map((d) => html`<th>${d}</th>`)}</tr>`;
  const rows = grid.rows.map(
    (row) =>
      html`<tr><td>${row.job}</td><td>${row.key || html`<span class="muted">(date only)</span>`}</td>${grid.dates.map((d) => {
        const cell = row.cells.get(d);
        return cell
          ? html`<td class="cell"><a href="${batchHref(cell.batch.job, cell.batch.values)}" title="${cell.batch.batchId}">${badge(cell.status)}</a></td>`
          : html`<td class="cell"><span class="st st-none">·</span></td>`;
      })}</tr>`,
  );
  const pager = grid.paging ? tokenPager(grid, filters) : pageNumbers(grid, filters);
  return html`${form}${legend}<table class="grid">${header}${rows}</table>${pager}`;
}

/** The pager of a grid read a page at a time: the first page and the next (a token: the rows' count is not known ahead). */
function tokenPager(grid: Grid, filters: GridFilters): Html {
  const { paging } = grid;
  return html`<p>${grid.totalRows} rows${paging?.first ? '' : ' (not the first page)'}, ${grid.totalBatches} batches${
    grid.dates.length > 0 ? html`, dates ${grid.dates[0]} to ${grid.dates.at(-1)}` : ''
  }
  ${paging?.first ? '' : html`<a rel="first" href="${href('/batches', filterQuery(filters))}">← first page</a>`}
  ${paging?.next ? html`<a rel="next" href="${href('/batches', { ...filterQuery(filters), after: paging.next })}">next ${ROWS_PER_PAGE} rows →</a>` : ''}</p>`;
}

/** The pager of a grid whose rows were all in hand: page numbers. */
function pageNumbers(grid: Grid, filters: GridFilters): Html {
  return html`<p>page ${grid.page} of ${grid.pages} (${grid.totalRows} rows, ${grid.totalBatches} batches${
    grid.dates.length > 0 ? html`, dates ${grid.dates[0]} to ${grid.dates.at(-1)}` : ''
  })
  ${grid.page > 1 ? html`<a rel="prev" href="${href('/batches', { ...filterQuery(filters), page: grid.page - 1 })}">← previous</a>` : ''}
  ${grid.page < grid.pages ? html`<a rel="next" href="${href('/batches', { ...filterQuery(filters), page: grid.page + 1 })}">next →</a>` : ''}</p>`;
}
