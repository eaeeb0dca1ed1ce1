import type { RunItem } from '../../../shared/core/runs/job-run-store';
import type { FileStateItem } from '../../../shared/core/state/file-state-store';
import type { FileHistory } from '../../operations/file-history';
import { html, type Html } from '../html';
import type { PageContext } from '../layout';
import { when } from '../time';
import { batchHref, fileStateBadge } from './common';

/** What the file view shows of each version besides its item: its rejects preview and the runs that read it. */
export interface VersionExtras {
  rejects?: { key: string; lines: string[] };
  runs: RunItem[];
}

const HELD_OUT = new Set(['REJECTED', 'QUARANTINED', 'SUPERSEDED', 'FAILED', 'UNRECOGNISED']);

function versionView(v: FileStateItem, extras: VersionExtras, latest: boolean, context: PageContext): Html {
  const rows = v.rows;
  return html`<h2>Version <code>${v.versionId}</code> ${fileStateBadge(v.state)}${latest ? html` <span class="muted">(newest)</span>` : ''}</h2>
<p>landed ${when(v.landedAt, context.now)}, ${v.size} bytes${v.dataset ? html`, dataset <strong>${v.dataset}</strong>` : ''}${
    v.fields
      ? html` (${Object.entries(v.fields)
          .map(([k, val]) => `${k}=${val}`)
          .join(', ')})`
      : ''
  }</p>
${v.reason ? html`<p class="${HELD_OUT.has(v.state) ? 'missing' : ''}"><strong>Reason:</strong> ${v.reason}</p>` : ''}
${v.lastError ? html`<p><strong>Last error</strong> (${v.redrives ?? 0} re-drive(s)):</p><pre>${v.lastError}</pre>` : ''}
${
  rows
    ? html`<table><tr><th>rows in</th><th>out</th><th>rejected</th><th>junk</th><th>cut</th><th>Parquet rows</th></tr><tr><td class="num">${rows.in}</td><td class="num">${rows.out}</td><td class="num">${rows.rejected}</td><td class="num">${rows.junk}</td><td class="num">${rows.truncated ?? 0}</td><td class="num">${v.parquetRows ?? ''}</td></tr></table>`
    : ''
}
<table><tr><th>state</th><th>at</th><th>reason</th></tr>${v.history.map((h) => html`<tr><td>${fileStateBadge(h.state)}</td><td>${h.at}</td><td>${h.reason ?? ''}</td></tr>`)}</table>
${
  extras.rejects
    ? html`<p>Rejects report <code>${extras.rejects.key}</code> (first ${extras.rejects.lines.length} lines):</p><pre>${extras.rejects.lines.join('\n')}</pre>`
    : ''
}
${
  extras.runs.length > 0
    ? html`<p>Read by ${extras.runs.length} run(s):</p><ul>${extras.runs.map(
        (r) => html`<li><a href="${batchHref(r.job, r.values)}">${r.batchId}</a>: ${r.executionName} (${r.status})</li>`,
      )}</ul>`
    : html`<p class="muted">No run read this version.</p>`
}`;
}

/** A key: every version with its states, rows, reason, rejects preview and the runs that read it. */
export function fileView(history: FileHistory, extras: Map<string, VersionExtras>, context: PageContext): Html {
  if (history.versions.length === 0) return html`<p>No version of <code>${history.key}</code> is recorded.</p>`;
  return html`<p><code>${history.key}</code>: ${history.versions.length} version(s), newest first.</p>
${history.versions.map((v) => versionView(v, extras.get(v.versionId) ?? { runs: [] }, v.versionId === history.latestVersionId, context))}`;
}
