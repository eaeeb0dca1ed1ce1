import { batchSpecOf } from '../../operations/batch-ref';
import { CELL_LABELS, type CellStatus } from '../batch-status';
import { href, html, type Html } from '../html';

/** A status badge: its colour and its words. */
export const badge = (status: CellStatus) => html`<span class="st st-${status}">${CELL_LABELS[status]}</span>`;

/** The batch view's URL. */
export const batchHref = (job: string, values: Record<string, string>) => href('/batch', { job, batch: batchSpecOf(values) });

/** The file view's URL. */
export const fileHref = (key: string) => href('/file', { key });

/** A file-state badge: in flight, converted or held out. */
export function fileStateBadge(state: string): Html {
  const tone = state === 'CONVERTED' ? 'succeeded' : state === 'RECEIVED' || state === 'VALIDATED' ? 'running' : state === 'UNPACKED' ? 'waiting' : 'failed';
  return html`<span class="st st-${tone}">${state}</span>`;
}
