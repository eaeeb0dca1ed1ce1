import type { Pipeline } from '../../../shared/core/config/load-config';
import { RETRYABLE_STATUSES, type RunItem, type RunStatus } from '../../../shared/core/runs/job-run-store';
import { checksSummary } from '../../reports/job-run-report';
import type { BatchExplanation } from '../../operations/batch-explanation';
import { batchSpecOf } from '../../operations/batch-ref';
import type { BatchAction } from '../../operations/batch-actions';
import { auditByRun, type LoadAudit } from '../../operations/load-audit';
import type { RunFailure } from '../../operations/run-failure';
import { businessDateOf, cellStatus, dueAt } from '../batch-status';
import { href, html, type Html } from '../html';
import type { PageContext } from '../layout';
import { preconditionChecklist, type Checklist } from '../preconditions';
import { duration, when } from '../time';
import { badge, fileHref } from './common';

function checklistView(list: Checklist): Html {
  if (list.items.length === 0 && list.other.length === 0) return html`<p>The job has no preconditions: any input file makes the batch ready.</p>`;
  return html`<ul class="checklist">${list.items.map(
    (i) =>
      html`<li class="${i.met ? 'ok' : 'missing'}">${i.met ? '✔ met' : '✘ not met'}: ${i.label}${i.detail ? html` — ${i.detail}` : ''}${
        i.have
          ? html`<br><span class="muted">have ${i.have.length > 0 ? i.have.join(', ') : 'none'}${i.missing?.length ? html`; missing <strong>${i.missing.join(', ')}</strong>` : ''}</span>`
          : ''
      }</li>`,
  )}${list.other.map((o) => html`<li class="missing">⧗ ${o}</li>`)}</ul>`;
}

function stagesView(run: RunItem): Html {
  const stages = Object.entries(run.stages ?? {}).sort(([, a], [, b]) => a.at.localeCompare(b.at));
  if (stages.length === 0) return html`<p class="muted">No stage recorded.</p>`;
  let previous = run.startedAt ?? run.claimedAt;
  return html`<table><tr><th>stage</th><th>done at</th><th>took</th><th>rows</th><th>output</th></tr>${stages.map(([name, s]) => {
    const took = duration(previous, s.at);
    previous = s.at;
    const rows = (s.output as { rows?: unknown }).rows;
    return html`<tr><td>${name}</td><td>${s.at}</td><td>${took}</td><td class="num">${rows === undefined ? '' : String(rows)}</td><td><code>${JSON.stringify(s.output).slice(0, 300)}</code></td></tr>`;
  })}</table>`;
}

function checksView(run: RunItem): Html {
  const record = run.checks;
  if (!record || record.results.length === 0) return html``;
  return html`<p>Checks on ${record.stage}: ${checksSummary(run)}</p><table><tr><th>check</th><th>rule</th><th>severity</th><th>result</th><th>failing</th><th>first failing rows</th></tr>${record.results.map(
    (r) =>
      html`<tr><td>${r.name}</td><td>${r.rule}</td><td>${r.severity}</td><td>${
        r.passed
          ? html`<span class="st st-succeeded">passed</span>`
          : html`<span class="st st-${r.severity === 'error' ? 'failed' : 'late'}">${r.severity === 'error' ? 'failed' : 'warned'}</span>`
      }</td><td class="num">${r.detail ?? r.failing}</td><td>${r.sample.slice(0, 3).map((row) => html`<code>${JSON.stringify(row)}</code><br>`)}</td></tr>`,
  )}</table>`;
}

function runView(run: RunItem, context: PageContext): Html {
  const inputs = Object.entries(run.inputs);
  return html`<h3>${run.executionName} <span class="st st-${run.status === 'SUCCEEDED' ? 'succeeded' : run.status === 'RUNNING' || run.status === 'CLAIMED' ? 'running' : run.status === 'RELEASED' ? 'waiting' : run.status === 'CHECK_FAILED' ? 'check-failed' : 'failed'}">${run.status}</span></h3>
<p>claimed ${when(run.claimedAt, context.now)}${run.startedAt ? html`, started ${when(run.startedAt, context.now)}` : ''}${
    run.finishedAt ? html`, finished ${when(run.finishedAt, context.now)} (${duration(run.startedAt ?? run.claimedAt, run.finishedAt)})` : ''
  }${run.engine ? html`; engine ${run.engine}` : ''}${run.sizing ? html`; ${run.sizing.inputBytes} input bytes` : ''}</p>
${run.ranWithout?.length ? html`<p><span class="st st-cutoff">ran at cut-off</span> without ${run.ranWithout.join('; ')}</p>` : ''}
<p>Input generation (every input, key@version):</p>
<ul>${inputs.map(
    ([relation, files]) =>
      html`<li>${relation}: ${files.length === 0 ? html`<span class="muted">none</span>` : files.map((f, i) => html`${i > 0 ? ', ' : ''}<a href="${fileHref(f.key)}">${f.key}</a>@<code>${f.versionId}</code>`)}</li>`,
  )}</ul>
${stagesView(run)}
${checksView(run)}
${run.error ? html`<p><strong>Failure:</strong> ${run.error.error}</p><pre>${run.error.cause}</pre>` : ''}`;
}

/** What the batch view reads besides the explanation: the newest failure with its log tail, the warehouse's load audit. */
export interface BatchExtras {
  failure?: RunFailure;
  /** absent: the job loads nothing into the warehouse */
  audit?: LoadAudit;
}

function failureView(f: RunFailure): Html {
  return html`<section id="failure"><h2>Failure</h2>
<p><span class="st st-failed">failed</span> run <code>${f.execution}</code> at stage <strong>${f.stage}</strong>: <strong>${f.error}</strong></p>
<pre>${f.message}</pre>
${
  f.log
    ? html`<p>Step log <code>${f.log.location}</code>${f.log.lastLines ? html`, its last ${f.log.lastLines.length} lines:` : ''}</p>${
        f.log.lastLines
          ? html`<pre class="log-tail">${f.log.lastLines.join('\n')}</pre>`
          : html`<p class="missing">The log could not be read: ${f.log.unreadable ?? ''}</p>`
      }`
    : ''
}
${f.trace ? html`<p>The Lambda's trace:</p><pre class="trace">${f.trace.join('\n')}</pre>` : ''}
${!f.log && !f.trace ? html`<p class="muted">The error names no step log and carries no trace.</p>` : ''}</section>`;
}

function loadAuditView(audit: LoadAudit, context: PageContext): Html {
  const body =
    'unavailable' in audit
      ? html`<p class="missing">The warehouse's audit could not be read: ${audit.unavailable}</p>`
      : audit.rows.length === 0
        ? html`<p class="muted">No load of this batch is recorded in the warehouse.</p>`
        : [...auditByRun(audit.rows)]
            .reverse()
            .map(
              ([execution, rows]) =>
                html`<p>Run <code>${execution}</code>, loaded ${when(rows[0]!.loadedAt, context.now)}:</p><table><tr><th>warehouse table</th><th>mode</th><th>rows</th><th>from</th></tr>${rows.map(
                  (r) =>
                    html`<tr><td>${r.table}</td><td>${r.mode === 'replace' ? "replaced the batch's rows" : r.mode === 'merge' ? 'merged on the key' : r.mode}</td><td class="num">${r.rows}</td><td><code>${r.source}</code></td></tr>`,
                )}</table>`,
            );
  return html`<section id="load-audit"><h2>Warehouse load audit</h2>
<p class="muted">What each load committed, as the warehouse recorded it in the same transaction.</p>${body}</section>`;
}

function actionForms(e: BatchExplanation, context: PageContext): Html {
  if (context.readOnly) return html`<p class="muted">Read-only console: actions are off.</p>`;
  const spec = batchSpecOf(e.batch.values);
  const link = (action: BatchAction, words: string) => html`<a href="${href('/confirm', { action, job: e.batch.job, batch: spec })}">${words}</a>`;
  // offered only where the action can do something: retry after a failed run (or to free a claim
  // that may be stuck), replay once a run read files; otherwise say why not
  const status = e.state?.status as RunStatus | undefined;
  const retry =
    (status && RETRYABLE_STATUSES.includes(status)) || e.state?.activeRun
      ? link('retry', 'Retry the failed run…')
      : html`<span class="muted">Retry: no failed run to retry</span>`;
  const replay = e.runs.length > 0 ? link('replay', "Replay this batch's input files…") : html`<span class="muted">Replay: no run has read files yet</span>`;
  return html`<p>${retry} · ${replay} <span class="muted">(each asks for confirmation)</span></p>`;
}

/** A batch: its preconditions as a checklist, its deadline, every run with what it read, its stages and checks, the failure, the actions. */
export function batchView(e: BatchExplanation, pipeline: Pipeline, context: PageContext, extras: BatchExtras = {}): Html {
  const { now } = context;
  const date = businessDateOf(e.batch, e.job);
  const due = dueAt(e.job, date);
  const cutoff = new Set(e.runs.filter((r) => r.ranWithout?.length).map((r) => `${r.batchId}\n${r.executionName}`));
  const status = e.state ? badge(cellStatus(e.state, pipeline, now, cutoff)) : html`<span class="st st-none">never evaluated</span>`;
  const checklist = preconditionChecklist(pipeline.config, e.job, e.batch.values, e.waitingFor);
  return html`<p>${status} job <strong>${e.job.name}</strong>, ${Object.entries(e.batch.values).map(([k, v]) => html`${k} <strong>${v}</strong> `)}<span class="muted">(${e.id})</span></p>
${e.state?.activeRun ? html`<p>Claimed by ${e.state.activeRun.executionName} ${when(e.state.activeRun.claimedAt, now)}${e.state.activeRun.executionArn ? html` (execution ${e.state.activeRun.executionArn})` : ' (no execution recorded yet)'}</p>` : ''}
${e.state?.lastRun?.error ? html`<p><strong>Last run ${e.state.lastRun.status}:</strong></p><pre>${e.state.lastRun.error}</pre>` : ''}
<p><a href="${href('/lineage', { job: e.batch.job, batch: batchSpecOf(e.batch.values) })}">Lineage: what it read, what re-runs after it</a></p>
${extras.failure ? failureView(extras.failure) : ''}
<h2>Preconditions ${e.live ? '(now)' : html`(as recorded: the batch is ${e.state?.status ?? ''}; a newer input re-evaluates it)`}</h2>
${checklistView(checklist)}
<h2>Freshness</h2>
${
  due
    ? html`<p>Due ${when(due.toISOString(), now)}${e.state?.status === 'SUCCEEDED' ? ' — done' : due.getTime() <= now.getTime() ? html` — <span class="st st-late">missed</span>` : ''}${
        e.state?.deadlineAlerted ? html`; alerted as late (deadline ${e.state.deadlineAlerted})` : ''
      }</p>`
    : html`<p class="muted">The job has no freshness deadline or cut-off.</p>`
}
<h2>Actions</h2>
${actionForms(e, context)}
<h2>Runs (${e.runs.length})</h2>
${e.runs.length === 0 ? html`<p>No run yet.</p>` : [...e.runs].reverse().map((r) => runView(r, context))}
${extras.audit ? loadAuditView(extras.audit, context) : ''}
<h2>History of actions</h2>
${
  e.actions.length === 0
    ? html`<p class="muted">No action taken on this batch (from the console or <code>landfall retry</code>).</p>`
    : html`<table><tr><th>when</th><th>who</th><th>action</th><th>outcome</th><th>detail</th></tr>${[...e.actions]
        .reverse()
        .map(
          (a) =>
            html`<tr><td>${when(a.at, now)}</td><td>${a.who}</td><td>${a.action} <span class="muted">(${a.via})</span></td><td>${a.outcome}</td><td>${a.detail}</td></tr>`,
        )}</table>`
}`;
}

const WHAT: Record<BatchAction, string> = {
  retry:
    'starts a new attempt of the last failed run, with the same inputs (a stuck claim is freed first); refused when the batch has no failed run or a run is live',
  replay: "re-puts every landed file the batch's last run read, marked as a replay: each file is validated and converted again, and the batch runs again",
};

/** The confirmation step of an action: what it does, and the POST that does it (with the session token). */
export function confirmView(e: BatchExplanation, action: BatchAction, context: PageContext): Html {
  if (context.readOnly || !context.token) return html`<p>Read-only console: actions are off.</p>`;
  const spec = batchSpecOf(e.batch.values);
  return html`<p>${action} batch <strong>${e.id}</strong>: ${WHAT[action]}.</p>
<form class="action" method="post" action="/actions/${action}">
<input type="hidden" name="token" value="${context.token}"><input type="hidden" name="job" value="${e.batch.job}"><input type="hidden" name="batch" value="${spec}">
<button>Yes, ${action} ${e.id}</button></form>
<p><a href="${href('/batch', { job: e.batch.job, batch: spec })}">No, back to the batch</a></p>`;
}
