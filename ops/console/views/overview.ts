import type { Pipeline } from '../../../shared/core/config/load-config';
import { FILE_STATES } from '../../../shared/core/state/file-state';
import type { OverviewData } from '../../operations/overview';
import { CELL_LABELS, cellStatus, type CellStatus } from '../batch-status';
import { href, html, type Html } from '../html';
import type { PageContext } from '../layout';
import { when } from '../time';
import { badge, batchHref, fileHref, fileStateBadge } from './common';

const BATCHES_LISTED = 20;

/** The overview: what happened in the last 24 h and what needs an operator now. */
export function overviewView(data: OverviewData, pipeline: Pipeline, context: PageContext): Html {
  const { now } = context;
  // no open batch succeeded: none ran at a cut-off
  const cutoff = new Set<string>();
  const byStatus = new Map<CellStatus, typeof data.unsettledBatches>();
  for (const b of data.unsettledBatches) {
    const s = cellStatus(b, pipeline, now, cutoff);
    byStatus.set(s, [...(byStatus.get(s) ?? []), b]);
  }
  const groups: Array<[CellStatus, string]> = [
    ['failed', 'failed'],
    ['check-failed', 'check failed'],
    ['late', 'late (past their deadline, not done)'],
    ['running', 'running'],
    ['waiting', 'waiting'],
  ];
  const count = (s: CellStatus) => byStatus.get(s)?.length ?? 0;
  const fileRows = FILE_STATES.filter((s) => data.settled[s] || data.inFlight[s]).map(
    (s) => html`<tr><td>${fileStateBadge(s)}</td><td class="num">${data.settled[s] ?? 0}</td><td class="num">${data.inFlight[s] ?? 0}</td></tr>`,
  );
  const queue =
    'messages' in data.failedEvents
      ? html`<b>${data.failedEvents.messages}</b>failed events queued${data.failedEvents.inFlight ? html` (${data.failedEvents.inFlight} being read)` : ''}`
      : html`<b>?</b>failed events: ${data.failedEvents.unavailable}`;
  const report = data.reconciler?.lastReport ?? {};
  return html`
<div class="cards">
  ${groups.map(([s, words]) => html`<div class="card"><b>${count(s)}</b>${badge(s)} <a href="${href('/batches', { status: s })}">${words}</a></div>`)}
  <div class="card">${queue}</div>
</div>
<h2>Files, last 24 hours</h2>
<p class="muted">settled ${when(data.window.from, now)} – now, and in flight now</p>
${fileRows.length > 0 ? html`<table><tr><th>state</th><th>settled</th><th>in flight</th></tr>${fileRows}</table>` : html`<p>No file landed in the last 24 hours.</p>`}
${
  data.problems.length > 0
    ? html`<h2>Files held out, last 24 hours</h2><table><tr><th>file</th><th>state</th><th>when</th></tr>${data.problems.map(
        (p) => html`<tr><td><a href="${fileHref(p.key)}">${p.key}</a></td><td>${fileStateBadge(p.state)}</td><td>${when(p.updatedAt, now)}</td></tr>`,
      )}</table>`
    : ''
}
<h2>Batches that need a look</h2>
${groups
  .filter(([s]) => s !== 'waiting' && count(s) > 0)
  .map(
    ([s]) =>
      html`<table><tr><th>batch</th><th>status</th><th>since</th><th>error / waiting for</th></tr>${(byStatus.get(s) ?? [])
        .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
        .slice(0, BATCHES_LISTED)
        .map(
          (b) =>
            html`<tr><td><a href="${batchHref(b.job, b.values)}">${b.batchId}</a></td><td>${badge(s)}</td><td>${when(b.updatedAt, now)}</td><td>${
              b.lastRun?.error ?? b.waitingFor.join('; ')
            }</td></tr>`,
        )}</table>${
        count(s) > BATCHES_LISTED
          ? html`<p class="muted">the ${BATCHES_LISTED} changed last of ${count(s)}: <a href="${href('/batches', { status: s })}">every ${CELL_LABELS[s]} batch in the grid</a>, 50 rows a page</p>`
          : ''
      }`,
  )}
${count('failed') + count('check-failed') + count('late') + count('running') === 0 ? html`<p>None failed, late or running.</p>` : ''}
<h2>Reconciler</h2>
${
  data.reconciler
    ? html`<p>Last pass looked at files settled until ${when(data.reconciler.settledUntil, now)}: ${String(report.repairs ?? 0)} repair(s), ${String(
        report.pastDeadline ?? 0,
      )} batch(es) past their deadline.</p>`
    : html`<p>No reconciler pass recorded yet.</p>`
}
<h2>Cells</h2>
${
  data.lastFailover
    ? html`<p>Active cell: <strong>${data.lastFailover.to}</strong>, since the failover from ${data.lastFailover.from} ${when(data.lastFailover.at, now)}: ${data.lastFailover.reason}. <a href="/recovery">Every failover</a></p>`
    : html`<p>Active cell: the configured one (no failover recorded; the console does not read ARC itself).</p>`
}`;
}
