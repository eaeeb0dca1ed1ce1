import { html, trusted, type Html } from './html';

/** What every page knows of the console it is served by. */
export interface PageContext {
  /** "the local stack", "stage prod (eu-west-1)" */
  label: string;
  readOnly: boolean;
  /** the session token actions carry (absent when read-only) */
  token?: string;
  now: Date;
}

const STYLE = trusted(`
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d232a;background:#f7f8fa}
header{background:#1d3557;color:#fff;padding:.6em 1.2em;display:flex;gap:1.4em;align-items:baseline;flex-wrap:wrap}
header a{color:#fff;text-decoration:none}header a:hover{text-decoration:underline}
header .where{margin-left:auto;opacity:.85}
main{padding:1em 1.2em;max-width:1400px}
h1{font-size:1.3em;margin:.2em 0 .6em}h2{font-size:1.1em;margin:1.4em 0 .4em}
table{border-collapse:collapse;background:#fff;margin:.4em 0 1em}
th,td{border:1px solid #d9dde3;padding:.25em .55em;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#6b7480;font-size:.92em}
code,pre{font:12.5px/1.4 ui-monospace,monospace}
pre{background:#fff;border:1px solid #d9dde3;padding:.6em;overflow:auto;max-height:28em}
.st{display:inline-block;padding:0 .45em;border-radius:3px;font-size:.85em;font-weight:600;white-space:nowrap}
.st-succeeded{background:#d3f2dc;color:#14532d}.st-running{background:#d6e6ff;color:#1e3a8a}
.st-waiting{background:#eceff3;color:#374151}.st-failed{background:#fbd5d5;color:#7f1d1d}
.st-check-failed{background:#fde2c8;color:#7c2d12}.st-late{background:#fff1b8;color:#713f12}
.st-cutoff{background:#e9d8fd;color:#4c1d95}.st-none{background:transparent;color:#9aa3ad}
.grid td.cell{text-align:center;padding:.15em .3em}.grid td.cell a{text-decoration:none}
.checklist li{list-style:none;margin:.2em 0}.ok{color:#14532d}.missing{color:#7f1d1d}
form.action{display:inline-block;margin:.2em .6em .2em 0;padding:.5em .7em;background:#fff;border:1px solid #d9dde3}
button{font:inherit;padding:.2em .8em;cursor:pointer}
.filters input,.filters select{font:inherit;margin-right:.6em}
.cards{display:flex;gap:1em;flex-wrap:wrap}.card{background:#fff;border:1px solid #d9dde3;padding:.6em 1em;min-width:10em}
.card b{font-size:1.6em;display:block}
`);

const NAV: Array<[string, string]> = [
  ['/', 'Overview'],
  ['/batches', 'Batch grid'],
  ['/recovery', 'Recovery'],
  ['/lineage', 'Lineage'],
  ['/quality', 'Freshness and quality'],
];

/**
 * A whole page: the navigation, where the console points, the body. A read view refreshes itself
 * every `refreshSeconds` (a page with a form to fill does not).
 */
export function page(title: string, body: Html, context: PageContext, refreshSeconds?: number): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
${refreshSeconds ? html`<meta http-equiv="refresh" content="${refreshSeconds}">` : ''}
<title>${title} · landfall console</title><style>${STYLE}</style></head>
<body><header><strong>landfall console</strong>${NAV.map(([path, name]) => html`<a href="${path}">${name}</a>`)}
<span class="where">${context.label}${context.readOnly ? ' · read-only' : ''} · ${context.now.toISOString().slice(0, 19)} UTC</span></header>
<main><h1>${title}</h1>
${body}</main></body></html>
`.text;
}
