import { html, type Html } from './html';

/** "3 min ago", "in 2 h": how far an instant is from now, in the largest whole unit. */
export function relativeTime(iso: string, now: Date): string {
  const ms = Date.parse(iso) - now.getTime();
  if (Number.isNaN(ms)) return iso;
  const abs = Math.abs(ms);
  const units: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['min', 60_000],
    ['s', 1000],
  ];
  const [unit, size] = units.find(([, size]) => abs >= size) ?? ['s', 1000];
  const n = Math.floor(abs / size);
  return ms < 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`;
}

/** An instant as the console shows it: relative, with the absolute UTC time beside it. */
export function when(iso: string | undefined, now: Date): Html {
  if (!iso) return html`<span class="muted">–</span>`;
  return html`<time datetime="${iso}" title="${iso}">${relativeTime(iso, now)}</time> <span class="muted">(${iso.replace('T', ' ').slice(0, 19)} UTC)</span>`;
}

/** Milliseconds between two instants as "1.2 s", "3 min 4 s". */
export function duration(fromIso: string | undefined, toIso: string | undefined): string {
  if (!fromIso || !toIso) return '';
  const ms = Date.parse(toIso) - Date.parse(fromIso);
  if (Number.isNaN(ms) || ms < 0) return '';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
