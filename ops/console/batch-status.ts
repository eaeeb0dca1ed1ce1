import type { Pipeline } from '../../shared/core/config/load-config';
import type { JobConfig } from '../../shared/core/config/types';
import { cutoffAsDeadline, deadlineOf } from '../../shared/core/runs/deadlines';
import type { BatchItem } from '../../shared/core/runs/job-run-store';

/** A batch as the grid colours it; each has its words too (colour is never the only sign). */
export const CELL_STATUSES = ['waiting', 'running', 'succeeded', 'failed', 'check-failed', 'late', 'cutoff'] as const;
export type CellStatus = (typeof CELL_STATUSES)[number];

export const CELL_LABELS: Record<CellStatus, string> = {
  waiting: 'waiting',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  'check-failed': 'check failed',
  late: 'late',
  cutoff: 'ran at cut-off',
};

/** The business date of a batch: its job's date field (a job no longer configured: its `date`). */
export function businessDateOf(batch: Pick<BatchItem, 'values'>, job: JobConfig | undefined): string {
  return batch.values[job?.dateField ?? 'date'] ?? '';
}

/** When a batch of this job and date is due: its freshness deadline, else its cut-off; undefined when it has neither. */
export function dueAt(job: JobConfig | undefined, businessDate: string): Date | undefined {
  if (!job || !businessDate) return undefined;
  const freshness = job.freshness ?? (job.cutoff ? cutoffAsDeadline(job.cutoff) : undefined);
  return freshness ? deadlineOf(freshness, businessDate) : undefined;
}

/**
 * The grid's status of a batch: its own status, except that a SUCCEEDED batch whose last run ran at
 * its cut-off without some preconditions is `cutoff`, and a WAITING batch past its deadline (or
 * alerted as such) is `late`.
 */
export function cellStatus(batch: BatchItem, pipeline: Pipeline, now: Date, ranAtCutoff: ReadonlySet<string>): CellStatus {
  switch (batch.status) {
    case 'SUCCEEDED':
      return batch.lastRun && ranAtCutoff.has(`${batch.batchId}\n${batch.lastRun.executionName}`) ? 'cutoff' : 'succeeded';
    case 'RUNNING':
      return 'running';
    case 'FAILED':
      return 'failed';
    case 'CHECK_FAILED':
      return 'check-failed';
    default: {
      const job = pipeline.jobsByName.get(batch.job);
      const due = dueAt(job, businessDateOf(batch, job));
      return batch.deadlineAlerted || (due && due.getTime() <= now.getTime()) ? 'late' : 'waiting';
    }
  }
}
