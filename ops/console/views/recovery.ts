import type { ClusterView, FailoverView, RecoveryData, Resume } from '../../operations/recovery';
import { html, type Html } from '../html';
import type { PageContext } from '../layout';
import { duration, when } from '../time';

/** A cluster's or a step's state as a badge with its word: live blue, done green, ended in error red, otherwise grey. */
function stateBadge(state: string): Html {
  const tone = ['RUNNING', 'STARTING', 'BOOTSTRAPPING', 'PENDING'].includes(state)
    ? 'running'
    : ['COMPLETED', 'WAITING'].includes(state)
      ? 'succeeded'
      : ['FAILED', 'TERMINATED_WITH_ERRORS', 'INTERRUPTED'].includes(state)
        ? 'failed'
        : 'waiting';
  return html`<span class="st st-${tone}">${state}</span>`;
}

function clustersOf(cell: string, clusters: ClusterView[], context: PageContext): Html {
  const here = clusters.filter((c) => c.cell === cell);
  if (here.length === 0) return html`<p class="muted">No cluster of this cell in the last days.</p>`;
  return html`${here.map(
    (c) =>
      html`<p><code>${c.id}</code> ${c.name} ${stateBadge(c.state)} created ${when(c.createdAt, context.now)}${c.endedAt ? html`, ended ${when(c.endedAt, context.now)}` : ''}${
        c.reason ? html` — ${c.reason}` : ''
      }</p>${
        c.steps.length === 0
          ? html`<p class="muted">No step.</p>`
          : html`<table><tr><th>step</th><th>state</th><th>started</th><th>took</th><th>reason</th></tr>${c.steps.map(
              (s) =>
                html`<tr><td><code>${s.name}</code></td><td>${stateBadge(s.state)}</td><td>${when(s.startedAt, context.now)}</td><td>${duration(s.startedAt, s.endedAt)}</td><td>${s.reason ?? ''}</td></tr>`,
            )}</table>`
      }`,
  )}`;
}

function resumeCell(resume: Resume | undefined, context: PageContext): Html {
  if (!resume) return html`<span class="muted">unknown (the run is gone or names no stage left)</span>`;
  const from = resume.fromCheckpoint
    ? html`from the checkpoint of <strong>${resume.fromCheckpoint}</strong>`
    : html`from its inputs (no stage was checkpointed)`;
  const resumed = resume.resumedAt
    ? html`${resume.resumedByCheckpoint ? 'done by' : 'resumed'} ${when(resume.resumedAt, context.now)}; <strong>${duration(resume.lostAt, resume.resumedAt) || '0.0 s'}</strong> from the loss${
        resume.resumedByCheckpoint ? ' (at most: its step is no longer listed)' : ''
      }`
    : html`<span class="st st-running">not resumed yet</span>`;
  return html`stage <strong>${resume.stage}</strong> ran again ${from}; lost ${when(resume.lostAt, context.now)}, ${resumed}${
    resume.checkpointedAt && !resume.resumedByCheckpoint ? html`; checkpointed ${when(resume.checkpointedAt, context.now)}` : ''
  }`;
}

function failoversView(failovers: FailoverView[], context: PageContext): Html {
  if (failovers.length === 0) return html`<p>No failover recorded: every EMR run stayed in its cell.</p>`;
  return html`<table><tr><th>when</th><th>from</th><th>to</th><th>confirmed</th><th>execution</th><th>reason</th><th>resume</th></tr>${[...failovers]
    .reverse()
    .map(
      (f) =>
        html`<tr><td>${when(f.at, context.now)}</td><td>${f.from}</td><td>${f.to}</td><td>${f.confirmed ? 'yes' : html`<span class="st st-late">no</span>`}</td><td><code>${f.execution}</code></td><td>${f.reason}</td><td>${resumeCell(f.resume, context)}</td></tr>`,
    )}</table>`;
}

/** Both cells with their clusters and steps, every failover with its reason, and how each run resumed. */
export function recoveryView(data: RecoveryData, context: PageContext): Html {
  const clusters = Array.isArray(data.clusters) ? data.clusters : [];
  return html`<p>Active cell: ${data.activeCell ? html`<strong>${data.activeCell}</strong> (as the last failover left it)` : 'the configured one (no failover recorded)'}.</p>
<h2>Cells and their clusters</h2>
${'unavailable' in data.clusters ? html`<p class="missing">EMR could not be read: ${data.clusters.unavailable}</p>` : ''}
${data.cells.length === 0 ? html`<p class="muted">No EMR cluster and no failover seen.</p>` : data.cells.map((cell) => html`<h3>Cell ${cell}${cell === data.activeCell ? html` <span class="st st-succeeded">active</span>` : ''}</h3>${clustersOf(cell, clusters, context)}`)}
<h2>Failovers (${data.failovers.length})</h2>
${failoversView(data.failovers, context)}`;
}
