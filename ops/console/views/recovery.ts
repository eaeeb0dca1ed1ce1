import { html, type Html } from '../html';
import type { PageContext } from '../layout';
import { when } from '../time';

export interface FailoverRecord {
  from: string;
  to: string;
  at: string;
  reason: string;
  execution: string;
  confirmed: boolean;
}

/** Every ARC flip the runs recorded, newest first: from which cell to which, why, and for which execution. */
export function recoveryView(failovers: FailoverRecord[], context: PageContext): Html {
  if (failovers.length === 0) return html`<p>No failover recorded: every EMR run stayed in its cell.</p>`;
  return html`<p>Active cell as last flipped: <strong>${failovers.at(-1)!.to}</strong>.</p>
<table><tr><th>when</th><th>from</th><th>to</th><th>confirmed</th><th>execution</th><th>reason</th></tr>${[...failovers]
    .reverse()
    .map(
      (f) =>
        html`<tr><td>${when(f.at, context.now)}</td><td>${f.from}</td><td>${f.to}</td><td>${f.confirmed ? 'yes' : 'no'}</td><td><code>${f.execution}</code></td><td>${f.reason}</td></tr>`,
    )}</table>`;
}
