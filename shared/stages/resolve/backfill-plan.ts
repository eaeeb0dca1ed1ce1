import type { Pipeline } from '../../core/config/load-config';
import { batchId as batchIdOf, batchesForFile, type BatchRef } from '../../core/runs/batches';
import { RETRYABLE_STATUSES, type BatchItem } from '../../core/runs/job-run-store';
import { jobNamed } from '../../core/config/load-config';
import { describeStaleCode, type StaleCode } from './stale-code';

/**
 * Why a backfill runs a batch (docs/backfill.md):
 * - `stale`: its last success ran older code, on the inputs it has now;
 * - `failed`: its last run FAILED or CHECK_FAILED (it runs again as `landfall retry` would);
 * - `never`: no run of its inputs now ever succeeded (it never ran, or newer inputs never ran).
 */
export type BackfillReason = 'stale' | 'failed' | 'never';
export const BACKFILL_REASONS: readonly BackfillReason[] = ['stale', 'failed', 'never'];

/** What the planner needs of a batch (a BatchAssessment, resolver.ts). */
export interface BatchSituation {
  batch: BatchRef;
  batchId: string;
  state?: Pick<BatchItem, 'activeRun' | 'lastRun' | 'lastSucceededFingerprint'>;
  waitingFor: string[];
  sameInputsAsLastSuccess: boolean;
  stale?: StaleCode;
}

export type PlanEntry =
  /** started by the backfill */
  | { action: 'run'; batch: BatchRef; batchId: string; reason: BackfillReason; why: string }
  /** asked for, but it cannot run now: what it waits for, or the run it has */
  | { action: 'skip'; batch: BatchRef; batchId: string; reason: BackfillReason | 'running'; why: string };

/** A batch of a downstream job that re-runs once the batch it reads has run (the jobs-on-jobs cascade). */
export interface DownstreamEntry {
  batch: BatchRef;
  batchId: string;
  /** the batch whose new partition it reads */
  after: string;
  /** 1: reads the backfilled job; 2: reads a job reading it; … */
  depth: number;
}

export interface BackfillPlan {
  job: string;
  entries: PlanEntry[];
  /** batches found that need nothing: their inputs and code ran already */
  upToDate: string[];
  /** batches that would run for a reason not asked for (--reason) */
  notAsked: Array<{ batchId: string; reason: BackfillReason }>;
  downstream: DownstreamEntry[];
}

/** Why the batch would run, or undefined when it is up to date (its inputs and code already succeeded). */
export function reasonOf(s: BatchSituation): { reason: BackfillReason; why: string } | undefined {
  const last = s.state?.lastRun;
  if (last && RETRYABLE_STATUSES.includes(last.status)) return { reason: 'failed', why: `last run ${last.status}${last.error ? `: ${last.error}` : ''}` };
  if (!s.state?.lastSucceededFingerprint) return { reason: 'never', why: last ? `never succeeded (last run ${last.status})` : 'never run' };
  if (!s.sameInputsAsLastSuccess) return { reason: 'never', why: 'inputs newer than its last success never ran' };
  if (s.stale) return { reason: 'stale', why: describeStaleCode(s.stale) };
  return undefined;
}

/**
 * The backfill's plan from each batch's situation: which run and why, which are skipped (an
 * incomplete batch, with what it waits for; a batch running now), which are up to date. Pure.
 */
export function planBackfill(job: string, situations: BatchSituation[], reasons: readonly BackfillReason[]): Omit<BackfillPlan, 'downstream'> {
  const plan: Omit<BackfillPlan, 'downstream'> = { job, entries: [], upToDate: [], notAsked: [] };
  for (const s of [...situations].sort((a, b) => a.batchId.localeCompare(b.batchId))) {
    const found = reasonOf(s);
    if (!found) {
      plan.upToDate.push(s.batchId);
      continue;
    }
    if (!reasons.includes(found.reason)) {
      plan.notAsked.push({ batchId: s.batchId, reason: found.reason });
      continue;
    }
    const base = { batch: s.batch, batchId: s.batchId };
    if (s.state?.activeRun) plan.entries.push({ ...base, action: 'skip', reason: 'running', why: `running now: ${s.state.activeRun.executionName}` });
    else if (s.waitingFor.length > 0)
      plan.entries.push({ ...base, action: 'skip', reason: found.reason, why: `${found.why}; waits for ${s.waitingFor.join('; ')}` });
    else plan.entries.push({ ...base, action: 'run', ...found });
  }
  return plan;
}

/**
 * The batches of downstream jobs that read these batches' partitions, transitively, in the order
 * they cascade (depth 1 first): each re-runs once when the partition it reads changes.
 */
export function downstreamOf(pipeline: Pipeline, batches: BatchRef[]): DownstreamEntry[] {
  const seen = new Set(batches.map((b) => batchIdOf(b, jobNamed(pipeline, b.job))));
  const found: DownstreamEntry[] = [];
  let level = batches.map((b) => ({ batch: b, id: batchIdOf(b, jobNamed(pipeline, b.job)) }));
  for (let depth = 1; level.length > 0; depth += 1) {
    const next: typeof level = [];
    for (const { batch, id } of level) {
      // a job's partition is tracked like a file of a dataset named after the job, its fields the batch's values
      for (const reader of batchesForFile(pipeline, batch.job, batch.values)) {
        const readerId = batchIdOf(reader, jobNamed(pipeline, reader.job));
        if (seen.has(readerId)) continue;
        seen.add(readerId);
        found.push({ batch: reader, batchId: readerId, after: id, depth });
        next.push({ batch: reader, id: readerId });
      }
    }
    level = next;
  }
  return found;
}

/** The batches of `job` a day's files can complete: from the files' key fields and the listed values (batchesForFile). */
export function batchesOfDay(pipeline: Pipeline, job: string, files: Array<{ source: string; fields: Record<string, string> }>): BatchRef[] {
  const batches = new Map<string, BatchRef>();
  const config = jobNamed(pipeline, job);
  for (const file of files) {
    for (const batch of batchesForFile(pipeline, file.source, file.fields)) {
      if (batch.job === job) batches.set(batchIdOf(batch, config), batch);
    }
  }
  return [...batches.values()];
}

/** Each day from `from` to `to` (YYYY-MM-DD, both included), or a problem in words. */
export function daysBetween(from: string, to: string, maxDays = 366): string[] | { problem: string } {
  const day = /^\d{4}-\d{2}-\d{2}$/;
  const parse = (d: string) => (day.test(d) ? Date.parse(`${d}T00:00:00Z`) : Number.NaN);
  const start = parse(from);
  const end = parse(to);
  if (Number.isNaN(start) || new Date(start).toISOString().slice(0, 10) !== from) return { problem: `--from must be a date YYYY-MM-DD, got "${from}"` };
  if (Number.isNaN(end) || new Date(end).toISOString().slice(0, 10) !== to) return { problem: `--to must be a date YYYY-MM-DD, got "${to}"` };
  if (end < start) return { problem: `--to ${to} is before --from ${from}` };
  const count = Math.round((end - start) / 86_400_000) + 1;
  if (count > maxDays) return { problem: `${count} days from ${from} to ${to}: at most ${maxDays} at a time` };
  return Array.from({ length: count }, (_, i) => new Date(start + i * 86_400_000).toISOString().slice(0, 10));
}
