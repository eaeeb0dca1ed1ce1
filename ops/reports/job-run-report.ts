import type { BatchItem, OutputCheckResult, RunItem } from '../../shared/core/runs/job-run-store';
import { formatTable } from '../terminal';
import type { Pipeline } from '../../shared/core/config/load-config';
import { shortCodeHash } from '../../shared/core/config/code-hash';
import { staleCodeOf } from '../../shared/stages/resolve';

/** A run's checks in a few words: `3/4 passed; failed: unique store_id, item_id (error)`; empty when it has none. */
export function checksSummary(run: RunItem | undefined): string {
  const results = run?.checks?.results ?? [];
  if (results.length === 0) return '';
  const failed = results.filter((r) => !r.passed);
  const passed = `${results.length - failed.length}/${results.length} passed`;
  return failed.length === 0 ? passed : `${passed}; failed: ${failed.map((r) => `${r.name} (${r.severity})`).join(', ')}`;
}

/**
 * `stale 1a2b3c4d → 5e6f7a8b` for a batch whose last success ran older code than its job's now
 * (docs/backfill.md); empty otherwise, and for a job the pipeline no longer has.
 */
export function codeCell(batch: BatchItem, pipeline: Pipeline): string {
  const job = pipeline.jobsByName.get(batch.job);
  const stale = job ? staleCodeOf(batch, job) : undefined;
  return stale ? `stale ${shortCodeHash(stale.ran)} → ${shortCodeHash(stale.now)}` : '';
}

/** The batches with their runs; given the pipeline, a `code` column shows the stale ones. */
export function batchTable(batches: BatchItem[], runs: RunItem[], pipeline?: Pipeline): string {
  const rows = batches.map((b) => {
    const mine = runs.filter((r) => r.batchId === b.batchId);
    const last = mine[mine.length - 1];
    const rowsOut = Object.values(last?.stages ?? {})
      .map((s) => (s.output as { rows?: number }).rows)
      .filter((n) => n !== undefined)
      .join('+');
    return [
      b.batchId,
      b.status,
      String(mine.length),
      last?.status ?? '',
      rowsOut,
      checksSummary(last).slice(0, 60),
      ...(pipeline ? [codeCell(b, pipeline)] : []),
      (b.waitingFor ?? []).join('; ').slice(0, 90) || (b.lastRun?.error ?? '').slice(0, 90),
    ];
  });
  const header = ['batch', 'status', 'runs', 'last run', 'rows', 'checks', ...(pipeline ? ['code'] : []), 'waiting for / error'];
  return formatTable([header, ...rows]);
}

const SHOWN_ROWS = 3;

/** One check's line, and for a failed one its first failing rows. */
function checkLines(result: OutputCheckResult): string[] {
  const head = `  ${result.passed ? 'passed' : result.severity === 'error' ? 'FAILED' : 'warned'} ${result.name} (${result.rule}, ${result.severity}): ${
    result.detail ?? `${result.failing} failing`
  }`;
  if (result.passed) return [head];
  const rows = result.sample.slice(0, SHOWN_ROWS).map((row) => `    ${JSON.stringify(row)}`);
  const more =
    result.failing > rows.length && result.sample.length > 0 ? [`    … ${result.failing - rows.length} more (the run item keeps ${result.sample.length})`] : [];
  return [head, ...rows, ...more];
}

/** `explain`'s lines about a run's output checks: each check, passed or not, and failing rows. */
export function runCheckLines(run: RunItem): string[] {
  const record = run.checks;
  if (!record || record.results.length === 0) return [];
  return [`  checks on ${record.stage} at ${record.at}: ${checksSummary(run)}`, ...record.results.flatMap(checkLines)];
}

/** Run items without table keys, for OUT/job-runs.jsonl. */
export function runLines(runs: RunItem[]): string[] {
  return runs.map(({ pk: _pk, sk: _sk, ...run }) => JSON.stringify(run));
}
