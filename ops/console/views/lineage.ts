import type { Pipeline } from '../../../shared/core/config/load-config';
import type { RunItem } from '../../../shared/core/runs/job-run-store';
import { lineageGraph, tablesOf, type DependentBatch } from '../../operations/lineage';
import { href, html, type Html } from '../html';
import { lineageLegend, lineageSvg } from '../lineage-svg';
import type { PageContext } from '../layout';
import { when } from '../time';
import { batchHref, fileHref } from './common';

/** One batch's lineage: what its newest run read, and what re-runs if one of its inputs is replayed. */
export interface BatchLineage {
  id: string;
  job: string;
  values: Record<string, string>;
  /** its newest run (undefined: it never ran) */
  run?: RunItem;
  dependents: DependentBatch[];
}

function batchLineageView(b: BatchLineage, context: PageContext): Html {
  const read = b.run
    ? html`<p>Its newest run <code>${b.run.executionName}</code> (${b.run.status}, claimed ${when(b.run.claimedAt, context.now)}) read:</p>
<table><tr><th>input</th><th>file (key@version)</th></tr>${Object.entries(b.run.inputs).flatMap(([relation, files]) =>
        files.length === 0
          ? [html`<tr><td>${relation}</td><td class="muted">none</td></tr>`]
          : files.map((f) => html`<tr><td>${relation}</td><td><a href="${fileHref(f.key)}">${f.key}</a>@<code>${f.versionId}</code></td></tr>`),
      )}</table>`
    : html`<p>The batch never ran: it read nothing yet.</p>`;
  const reruns =
    b.dependents.length === 0
      ? html`<p>Replaying one of its inputs re-runs this batch only: no job reads ${b.job}'s output.</p>`
      : html`<p>Replaying one of its inputs re-runs this batch, then (once its output changes) ${b.dependents.length} batch(es) of the jobs reading it:</p>
<table><tr><th>batch</th><th>reads the output of</th></tr>${b.dependents.map(
          (d) => html`<tr><td><a href="${batchHref(d.batch.job, d.batch.values)}">${d.batchId}</a></td><td>${d.reads}</td></tr>`,
        )}</table>`;
  return html`<h2>Batch <a href="${batchHref(b.job, b.values)}">${b.id}</a></h2>
<h3>What it read</h3>${read}
<h3>What re-runs if one of its inputs is replayed</h3>${reruns}`;
}

/**
 * The pipeline from its configuration: a graph (datasets → jobs → tables → warehouse) and the same
 * as a table; with a batch, what that batch read and what depends on it.
 */
export function lineageView(pipeline: Pipeline, context: PageContext, batch?: BatchLineage): Html {
  const { jobs, datasets } = pipeline.config;
  const tables = jobs.flatMap(tablesOf);
  const loaded = jobs.flatMap((j) => j.load ?? []);
  return html`${batch ? batchLineageView(batch, context) : ''}
<h2>The pipeline</h2>
<p>${datasets.length} datasets → ${jobs.length} jobs → ${tables.length} tables → ${loaded.length} warehouse tables.</p>
${lineageLegend()}
<div class="lineage">${lineageSvg(lineageGraph(pipeline))}</div>
<table><tr><th>reads</th><th>job</th><th>writes</th><th>loads into the warehouse</th><th>engine</th><th>batch key</th></tr>${jobs.map(
    (j) =>
      html`<tr><td>${j.inputs.map((i, n) => html`${n > 0 ? html`<br>` : ''}${i.job ? 'job ' : 'dataset '}<strong>${i.source}</strong> as ${i.relation}`)}</td><td><a href="${href('/batches', { job: j.name })}">${j.name}</a></td><td>${tablesOf(j).join(', ')}</td><td>${
        j.load?.length ? j.load.map((l) => `${l.into} (${l.mode})`).join(', ') : html`<span class="muted">none</span>`
      }</td><td>${j.engine}</td><td>${j.batchKey.join(', ')}</td></tr>`,
  )}</table>`;
}
