import { codeHashOf, shortCodeHash } from '../../core/config/code-hash';
import type { JobConfig } from '../../core/config/types';
import type { BatchItem } from '../../core/runs/job-run-store';

/** A batch whose last success ran older code than the job's now: both code hashes. */
export interface StaleCode {
  /** the code hash the last successful run ran with */
  ran: string;
  /** the job's code hash now */
  now: string;
}

/**
 * Whether the batch's last success ran code other than the job's now. A batch that never succeeded
 * is not stale (it has nothing to refresh), nor one that succeeded before code hashes were recorded:
 * its code is unknown, and an upgrade re-runs nothing.
 */
export function staleCodeOf(state: Pick<BatchItem, 'lastSucceededCodeHash'> | undefined, job: JobConfig, codeHash = codeHashOf(job)): StaleCode | undefined {
  const ran = state?.lastSucceededCodeHash;
  return ran !== undefined && ran !== codeHash ? { ran, now: codeHash } : undefined;
}

/** `stale: last succeeded with code 1a2b3c4d, the job's code is now 5e6f7a8b` (status, explain, backfill). */
export function describeStaleCode(stale: StaleCode): string {
  return `stale: last succeeded with code ${shortCodeHash(stale.ran)}, the job's code is now ${shortCodeHash(stale.now)}`;
}

/**
 * The lines `landfall explain` shows about a batch's code: the job's code hash now and, for a
 * stale batch, which code its last success ran and what re-runs it.
 */
export function codeLines(state: BatchItem | undefined, job: JobConfig): string[] {
  const now = codeHashOf(job);
  const stale = staleCodeOf(state, job, now);
  if (!stale) {
    const ran = state?.lastSucceededCodeHash;
    return [
      `code: ${shortCodeHash(now)}${ran ? ' (the last success ran it)' : state?.lastSucceededFingerprint ? ' (the last success ran before code hashes were recorded: not stale)' : ''}`,
    ];
  }
  const what =
    job.onCodeChange === 'rerun'
      ? 'onCodeChange rerun: the next resolver pass over the batch (a landing, the reconciler, a backfill) runs it once with the new code'
      : `onCodeChange manual: it runs again when new inputs land, or with \`landfall backfill --job ${job.name} --batch ${Object.entries(state!.values)
          .map(([k, v]) => `${k}=${v}`)
          .join(',')}\``;
  return [`code: ${describeStaleCode(stale)}; ${what}`];
}
