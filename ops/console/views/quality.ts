import type { DeadlineOutcome, JobFreshness, QualityData, RejectRate } from '../../operations/quality';
import { href, html, type Html } from '../html';
import type { PageContext } from '../layout';
import { when } from '../time';
import { batchHref } from './common';

const OUTCOME: Record<DeadlineOutcome, { tone: string; word: string }> = {
  met: { tone: 'succeeded', word: 'met' },
  late: { tone: 'late', word: 'done late' },
  missed: { tone: 'failed', word: 'missed' },
};

const outcomeBadge = (o: DeadlineOutcome) => html`<span class="st st-${OUTCOME[o].tone}">${OUTCOME[o].word}</span>`;

/** A rate as a percentage with its counts; over 5 % is marked (with the word, not colour alone). */
export function rateText(r: RejectRate): Html {
  if (r.rate === undefined) return html`<span class="muted">no rows${r.filesRejected ? html`; ${r.filesRejected} file(s) rejected whole` : ''}</span>`;
  const pct = r.rate * 100;
  const shown = pct === 0 ? '0 %' : pct < 0.01 ? '< 0.01 %' : `${pct.toFixed(2)} %`;
  return html`${pct > 5 ? html`<span class="st st-failed">high</span> ` : ''}<strong>${shown}</strong> <span class="muted">(${r.rowsRejected} of ${r.rowsIn} rows, ${r.versions} version(s)${
    r.filesRejected ? html`; ${r.filesRejected} file(s) rejected whole` : ''
  })</span>`;
}

/** When the rejected-row figures were read: in full once, then kept up to date with what changed at each load. */
export function ratesReadText(data: QualityData, context: PageContext): Html {
  return data.read.ratesSince === data.read.at
    ? html`Read at this page load.`
    : html`Each dataset's files of each date read in full ${when(data.read.ratesSince, context.now)} at the oldest, and the files that changed since applied at this page load.`;
}

/** When the batch items were read: the last two dates at this load, the earlier ones kept between loads. */
export function batchesReadText(data: QualityData, context: PageContext): Html {
  return data.read.batchesSince === data.read.at
    ? html`Read at this page load.`
    : html`The last two dates read at this page load; the earlier ones kept between loads, read ${when(data.read.batchesSince, context.now)} at the oldest.`;
}

/** Batches not met listed per job (newest deadline first): a page stays small however many are late. */
export const LATE_ROWS_SHOWN = 50;

function jobView(j: JobFreshness, context: PageContext): Html {
  if (j.noDeadline) return html`<h3>${j.job}</h3><p class="muted">No freshness deadline or cut-off: nothing to meet.</p>`;
  const late = j.batches.filter((b) => b.outcome !== 'met');
  return html`<h3><a href="${href('/batches', { job: j.job })}">${j.job}</a></h3>
<p>${outcomeBadge('met')} <strong>${j.met}</strong> · ${outcomeBadge('late')} <strong>${j.late}</strong> · ${outcomeBadge('missed')} <strong>${j.missed}</strong> of ${j.batches.length} batch(es) due${
    j.notEnumerable ? html` <span class="muted">(a batch key field lists no values: only the batches it can name are counted)</span>` : ''
  }</p>
${
  late.length > 0
    ? html`<table><tr><th>batch</th><th>due</th><th>outcome</th><th>done</th></tr>${late
        .slice(0, LATE_ROWS_SHOWN)
        .map(
          (b) =>
            html`<tr><td><a href="${batchHref(b.batch.job, b.batch.values)}">${b.batchId}</a></td><td>${when(b.deadline, context.now)}</td><td>${outcomeBadge(b.outcome)}</td><td>${when(b.doneAt, context.now)}</td></tr>`,
        )}</table>${
        late.length > LATE_ROWS_SHOWN
          ? html`<p class="muted">The ${LATE_ROWS_SHOWN} due most recently of ${late.length} not met; <a href="${href('/batches', { job: j.job })}">the batch grid</a> shows every batch of the job by date.</p>`
          : ''
      }`
    : ''
}`;
}

/** Freshness (deadlines met, done late, missed) per job and the rejected-row rate per dataset. */
export function qualityView(data: QualityData, context: PageContext): Html {
  return html`<form class="filters" method="get" action="/quality">over the last <input type="number" name="days" min="1" max="31" value="${data.days}"> days <button>show</button></form>
<h2>Freshness: deadlines of the last ${data.days} days</h2>
<p class="muted">Each batch the configuration expects, whose deadline (or cut-off) fell in the window: met when its first successful run finished by then. ${batchesReadText(data, context)}</p>
${data.jobs.map((j) => jobView(j, context))}
<h2>Quality: rejected rows per dataset</h2>
<p class="muted">Rows rejected over rows in, of the file versions validated, by the data date of their key: the last day (${data.window.day[0]} – ${data.window.day.at(-1)}) and the last ${data.days} days (${data.window.week[0]} – ${data.window.week.at(-1)}).</p>
<p class="muted">${ratesReadText(data, context)}</p>
<table><tr><th>dataset</th><th>last day</th><th>last ${data.days} days</th></tr>${data.datasets.map(
    (d) => html`<tr><td>${d.dataset}</td><td>${rateText(d.day)}</td><td>${rateText(d.week)}</td></tr>`,
  )}</table>`;
}
