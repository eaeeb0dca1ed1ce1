/** `YYYY-MM-DD` → `YYYYMMDD`, as dates appear in landing keys. */
export const compactDate = (date: string) => date.replaceAll('-', '');

/** `YYYY-MM-DD` plus `days` (negative for earlier), in UTC. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
