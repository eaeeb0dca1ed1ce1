import type { LineageGraph, LineageNode } from '../operations/lineage';
import { href, html, type Html } from './html';

/** The box of a node and the grid it sits on (px). */
export const NODE = { width: 220, height: 30, columnGap: 64, rowGap: 14, margin: 12, header: 22 } as const;
const LABEL_CHARS = 30;

/** Each kind's fill and its word: the legend says which is which (colour is never the only sign). */
export const KIND_STYLE: Record<LineageNode['kind'], { fill: string; stroke: string; word: string; heading: string }> = {
  dataset: { fill: '#eef4ff', stroke: '#3b5bdb', word: 'dataset', heading: 'datasets' },
  job: { fill: '#fff4e0', stroke: '#c2410c', word: 'job', heading: 'jobs' },
  table: { fill: '#e8f7ee', stroke: '#15803d', word: 'curated table', heading: 'curated tables' },
  warehouse: { fill: '#f3e8ff', stroke: '#6d28d9', word: 'warehouse table', heading: 'warehouse' },
};

const x = (n: Pick<LineageNode, 'column'>) => NODE.margin + n.column * (NODE.width + NODE.columnGap);
const y = (n: Pick<LineageNode, 'row'>) => NODE.margin + NODE.header + n.row * (NODE.height + NODE.rowGap);
const short = (label: string) => (label.length > LABEL_CHARS ? `${label.slice(0, LABEL_CHARS - 1)}…` : label);

/** Where a node links: a job to its batches. */
const linkOf = (n: LineageNode) => (n.kind === 'job' ? href('/batches', { job: n.label }) : undefined);

/**
 * The graph as inline SVG, drawn on the server (no script): boxes in columns, each named (its full
 * name in its tooltip), edges as curves from right to left. Every name is escaped like any text.
 */
export function lineageSvg(graph: LineageGraph): Html {
  const width = NODE.margin * 2 + graph.columns * NODE.width + Math.max(0, graph.columns - 1) * NODE.columnGap;
  const height = NODE.margin * 2 + NODE.header + graph.rows * NODE.height + Math.max(0, graph.rows - 1) * NODE.rowGap;
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const edges = graph.edges.flatMap((e) => {
    const a = byId.get(e.from);
    const b = byId.get(e.to);
    if (!a || !b) return [];
    const x1 = x(a) + NODE.width;
    const y1 = y(a) + NODE.height / 2;
    const x2 = x(b);
    const y2 = y(b) + NODE.height / 2;
    const bend = (x2 - x1) / 2;
    return [
      html`<path d="M${x1} ${y1} C${x1 + bend} ${y1} ${x2 - bend} ${y2} ${x2} ${y2}" fill="none" stroke="#9aa3ad" stroke-width="1.2" marker-end="url(#arrow)"/>`,
    ];
  });
  // each column holds one kind of node: its heading names it
  const headings = Array.from({ length: graph.columns }, (_, column) => {
    const kind = graph.nodes.find((n) => n.column === column)?.kind;
    return kind
      ? html`<text x="${x({ column })}" y="${NODE.margin + 12}" font-size="12" font-weight="600" font-family="system-ui,sans-serif" fill="#6b7480">${KIND_STYLE[kind].heading}</text>`
      : '';
  });
  const nodes = graph.nodes.map((n) => {
    const style = KIND_STYLE[n.kind];
    const box = html`<g class="node node-${n.kind}"><title>${style.word} ${n.label}</title><rect x="${x(n)}" y="${y(n)}" width="${NODE.width}" height="${NODE.height}" rx="4" fill="${style.fill}" stroke="${style.stroke}"/><text x="${x(n) + 8}" y="${y(n) + NODE.height / 2 + 4}" font-size="12" font-family="system-ui,sans-serif" fill="#1d232a">${short(n.label)}</text></g>`;
    const link = linkOf(n);
    return link ? html`<a href="${link}">${box}</a>` : box;
  });
  return html`<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="the pipeline: datasets, jobs, tables, warehouse" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L8 4 L0 8 z" fill="#9aa3ad"/></marker></defs>
${headings}${edges}${nodes}</svg>`;
}

/** The legend: each kind's colour with its word. */
export function lineageLegend(): Html {
  return html`<p class="muted">${Object.values(KIND_STYLE).map(
    (s) => html`<span class="st" style="background:${s.fill};color:#1d232a;border:1px solid ${s.stroke}">${s.word}</span> `,
  )}→ reads / writes / loads</p>`;
}
