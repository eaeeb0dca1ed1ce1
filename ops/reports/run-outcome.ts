import type { BatchItem } from '../../shared/core/runs/job-run-store';

/**
 * How `landfall run` ends, from the batches it leaves behind: a scripted run (CI, a cron, a
 * backfill of local files) must be able to tell "every batch published" from "files landed but a
 * batch still waits for a store's file" or "a job failed", without reading the tables.
 */
export interface RunOutcome {
  /** 0: every batch ended SUCCEEDED; 3: some batch FAILED (or CHECK_FAILED); 4: none failed, some still waits or runs */
  exitCode: 0 | 3 | 4;
  /** one line per batch not SUCCEEDED, for stderr (empty when exitCode is 0) */
  lines: string[];
}

export const EXIT_BATCH_FAILED = 3;
export const EXIT_BATCH_INCOMPLETE = 4;

export function runOutcome(batches: BatchItem[]): RunOutcome {
  const failed = batches.filter((b) => b.status === 'FAILED' || b.status === 'CHECK_FAILED');
  const waiting = batches.filter((b) => b.status === 'WAITING');
  const running = batches.filter((b) => b.status === 'RUNNING');
  const lines = [
    ...failed.map(
      (b) =>
        `batch ${b.batchId} ${b.status}: ${b.lastRun?.error ?? 'no error recorded'} (landfall explain --job ${b.job} --batch ${valuesOf(b)}; then landfall retry with the same options)`,
    ),
    ...waiting.map((b) => `batch ${b.batchId} is WAITING for ${b.waitingFor.length > 0 ? b.waitingFor.join('; ') : 'its inputs'}`),
    ...running.map((b) => `batch ${b.batchId} is still RUNNING (execution ${b.activeRun?.executionName ?? '?'})`),
  ];
  const exitCode = failed.length > 0 ? EXIT_BATCH_FAILED : waiting.length + running.length > 0 ? EXIT_BATCH_INCOMPLETE : 0;
  return { exitCode, lines };
}

function valuesOf(b: BatchItem): string {
  return Object.entries(b.values)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
