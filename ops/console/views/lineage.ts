import type { Pipeline } from '../../../shared/core/config/load-config';
import { href, html, type Html } from '../html';

/** The pipeline as a table of edges: what each job reads (datasets, other jobs' tables) and the table it writes. */
export function lineageView(pipeline: Pipeline): Html {
  const { jobs, datasets } = pipeline.config;
  return html`<p>${datasets.length} datasets → ${jobs.length} jobs → ${jobs.length} tables.</p>
<table><tr><th>reads</th><th>job</th><th>writes</th><th>engine</th><th>batch key</th></tr>${jobs.map(
    (j) =>
      html`<tr><td>${j.inputs.map((i, n) => html`${n > 0 ? html`<br>` : ''}${i.job ? 'job ' : 'dataset '}<strong>${i.source}</strong> as ${i.relation}`)}</td><td><a href="${href('/batches', { job: j.name })}">${j.name}</a></td><td>${j.output.table}${
        (j as { load?: unknown }).load ? ' → warehouse' : ''
      }</td><td>${j.engine}</td><td>${j.batchKey.join(', ')}</td></tr>`,
  )}</table>`;
}
