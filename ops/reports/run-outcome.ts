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

/** A landed file as the outcome needs it: the dataset it belongs to and its key fields. */
export interface LandedFile {
  dataset?: string | null;
  fields?: Record<string, string> | null;
}

export const EXIT_BATCH_FAILED = 3;
export const EXIT_BATCH_INCOMPLETE = 4;

/**
 * A waiting batch counts only when a file of its own landed (one of its job's datasets, with every
 * field of the batch key equal to the batch's): a day's item master fans out to a batch for every
 * listed province, and a province none of whose files landed is not work left undone.
 * `sourcesOf` gives the datasets a job reads.
 */
export function runOutcome(batches: BatchItem[], files: LandedFile[] = [], sourcesOf: (job: string) => ReadonlySet<string> = () => new Set()): RunOutcome {
  const failed = batches.filter((b) => b.status === 'FAILED' || b.status === 'CHECK_FAILED');
  const ownFileLanded = (b: BatchItem) => {
    const sources = sourcesOf(b.job);
    return files.some((f) => !!f.dataset && sources.has(f.dataset) && Object.entries(b.values).every(([k, v]) => f.fields?.[k] === v));
  };
  const waiting = batches.filter((b) => b.status === 'WAITING' && ownFileLanded(b));
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
