/** Summaries of repeated measurements: the figure is the median, with the range it came from. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function summarize(samples: number[]): Summary {
  if (samples.length === 0) throw new Error('no samples to summarize');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)!, runs: sorted.length };
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) throw new Error('no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Per-run ratios a/b of paired runs (measured side by side), summarized. */
export function pairedRatios(a: number[], b: number[]): Summary {
  if (a.length !== b.length) throw new Error(`paired runs differ in number: ${a.length} and ${b.length}`);
  return summarize(a.map((x, i) => x / b[i]!));
}

/** "12.3 (11.9–13.0)": a median with its range, at a fixed number of decimals. */
export function formatSummary(s: Summary, decimals = 1): string {
  const f = (n: number) => n.toFixed(decimals);
  return s.runs === 1 ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

/** Least-squares line y = intercept + slope·x. */
export function fitLine(points: Array<[number, number]>): { intercept: number; slope: number } {
  if (points.length < 2) throw new Error('a line needs two points');
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  if (sxx === 0) throw new Error('a line needs two distinct x values');
  const slope = sxy / sxx;
  return { intercept: my - slope * mx, slope };
}
