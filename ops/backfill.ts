import { codeHashOf } from '../shared/core/config/code-hash';
import type { BatchRef } from '../shared/core/runs/batches';
import type { BatchItem, RunStatus } from '../shared/core/runs/job-run-store';
import {
  BACKFILL_REASONS,
  backfillPlan,
  daysBetween,
  resolveBatch,
  startBackfillRun,
  type BackfillPlan,
  type BackfillReason,
  type PlanEntry,
  type ResolveOutcome,
  type ResolverDeps,
} from '../shared/stages/resolve';
import { UsageError, type Values } from './commands';
import { batchRefOf } from './operations/batch-ref';
import { planLines, summaryLines, type BackfillResult } from './reports/backfill-report';
import { EXIT_BATCH_FAILED, EXIT_BATCH_INCOMPLETE } from './reports/run-outcome';
import type { Target } from './targets';
import { progress } from './terminal';
import { pooled } from './operations/pooled';

/*
 * `landfall backfill`: re-runs a job's batches that are stale (their last success ran older code),
 * failed or never ran, by name (--batch) or over a range of days (--from/--to), at most N at a time,
 * waiting for each; --dry-run prints the plan only (docs/backfill.md).
 */

export const DEFAULT_MAX_CONCURRENCY = 4;
const ENDED: readonly RunStatus[] = ['SUCCEEDED', 'FAILED', 'CHECK_FAILED', 'RELEASED'];

export interface BackfillOptions {
  /** where the plan and the summary go */
  out?: { write(text: string): unknown };
  /** how often a started run's end is looked for */
  pollMs?: number;
}

/** The backfill's request from the command line; a bad option is a UsageError (exit 2). */
export function backfillRequestOf(values: Values, deps: Pick<ResolverDeps, 'pipeline'>) {
  const job = values.job as string | undefined;
  if (!job) throw new UsageError('backfill needs --job J');
  const byBatch = values.batch !== undefined;
  const byDays = values.from !== undefined || values.to !== undefined;
  if (byBatch === byDays) throw new UsageError('backfill needs either --batch field=value,… or --from YYYY-MM-DD --to YYYY-MM-DD');
  let batches: BatchRef[] | undefined;
  let days: string[] | undefined;
  if (byBatch) batches = [batchRefOf(deps.pipeline, job, values.batch as string, 'backfill').batch];
  else {
    if (!deps.pipeline.jobsByName.has(job))
      throw new UsageError(`no job "${job}" in the pipeline configuration (jobs: ${deps.pipeline.config.jobs.map((j) => j.name).join(', ')})`);
    const from = (values.from ?? values.to) as string;
    const range = daysBetween(from, (values.to ?? from) as string);
    if ('problem' in range) throw new UsageError(range.problem);
    days = range;
  }
  const reason = (values.reason as string | undefined) ?? 'all';
  const reasons: BackfillReason[] = [];
  for (const r of reason.split(',')) {
    if (r === 'all') reasons.push(...BACKFILL_REASONS);
    else if ((BACKFILL_REASONS as readonly string[]).includes(r)) reasons.push(r as BackfillReason);
    else throw new UsageError(`--reason must be ${[...BACKFILL_REASONS, 'all'].join(', ')} (or several, separated by commas), got "${r}"`);
  }
  const limit = values['max-concurrency'] === undefined ? DEFAULT_MAX_CONCURRENCY : Number(values['max-concurrency']);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--max-concurrency must be a whole number ≥ 1, got ${String(values['max-concurrency'])}`);
  return {
    request: { job, ...(batches ? { batches } : {}), ...(days ? { days } : {}), reasons: [...new Set(reasons)], downstream: values.downstream === true },
    maxConcurrency: limit,
    dryRun: values['dry-run'] === true,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for a started run to end; its status. */
async function runEnd(deps: ResolverDeps, batchId: string, executionName: string, pollMs: number): Promise<{ status: RunStatus; error?: string }> {
  for (;;) {
    const run = await deps.runs.getRun(batchId, executionName);
    if (run && ENDED.includes(run.status)) return { status: run.status, ...(run.error ? { error: `${run.error.error}: ${run.error.cause}` } : {}) };
    await sleep(pollMs);
  }
}

/** Waits until the batch has no active run (someone else's run, or the cascade's); its item then. */
async function batchAtRest(deps: ResolverDeps, batchId: string, pollMs: number): Promise<BatchItem | undefined> {
  for (;;) {
    const batch = await deps.runs.getBatch(batchId);
    if (!batch?.activeRun) return batch;
    await sleep(pollMs);
  }
}

/** One batch's result from what starting it gave, once its run (if any) ended. */
async function resultOf(deps: ResolverDeps, outcome: ResolveOutcome, reason: string, since: string, pollMs: number): Promise<BackfillResult> {
  const base = { batchId: outcome.batchId, reason };
  switch (outcome.kind) {
    case 'started': {
      const end = await runEnd(deps, outcome.batchId, outcome.executionName, pollMs);
      return { ...base, outcome: end.status, executionName: outcome.executionName, ...(end.error ? { detail: end.error } : {}) };
    }
    case 'waiting':
      return { ...base, outcome: 'waiting', detail: outcome.waitingFor.join('; ') };
    case 'busy':
    case 'up-to-date': {
      // another pass (the stream, the cascade, another backfill) runs it or ran it: report that run,
      // once it ended (up to date also when this very generation is claimed and still running)
      const batch = await batchAtRest(deps, outcome.batchId, pollMs);
      const last = batch?.lastRun;
      if (last && last.finishedAt >= since)
        return { ...base, outcome: last.status, executionName: last.executionName, ...(last.error ? { detail: last.error } : {}) };
      return { ...base, outcome: 'up to date' };
    }
  }
}

/** The exit code of a backfill: 3 when a run failed, 4 when a batch was skipped or still waits, else 0 (like `landfall run`). */
export function backfillExitCode(plan: BackfillPlan, results: BackfillResult[]): 0 | 3 | 4 {
  if (results.some((r) => r.outcome === 'FAILED' || r.outcome === 'CHECK_FAILED')) return EXIT_BATCH_FAILED;
  const incomplete = plan.entries.some((e) => e.action === 'skip') || results.some((r) => r.outcome === 'waiting' || r.outcome === 'RELEASED');
  return incomplete ? EXIT_BATCH_INCOMPLETE : 0;
}

/**
 * The `landfall backfill` command on a target (the local stack or a deployed stage): prints the
 * plan; unless --dry-run, starts its batches at most --max-concurrency at a time, waits for each
 * (with --downstream, then for the batches the cascade re-runs, level by level), prints a summary.
 * Exit 0 when every run succeeded (or nothing needed one), 3 when one failed, 4 when a batch was
 * skipped or still waits.
 */
export async function backfillCommand(values: Values, where: Target, options: BackfillOptions = {}): Promise<number> {
  const out = options.out ?? process.stdout;
  const pollMs = options.pollMs ?? 1000;
  const deps = await where.resolverDeps();
  const { request, maxConcurrency, dryRun } = backfillRequestOf(values, deps);
  const job = deps.pipeline.jobsByName.get(request.job)!;
  const since = new Date().toISOString();
  const plan = await backfillPlan(deps, request);
  out.write(`${planLines(plan, { label: where.label, codeHash: codeHashOf(job), dryRun }).join('\n')}\n`);
  if (dryRun) return 0;

  const toRun = plan.entries.filter((e): e is Extract<PlanEntry, { action: 'run' }> => e.action === 'run');
  const total = toRun.length + plan.downstream.length;
  let done = 0;
  const shown = progress('backfill');
  const tick = (result: BackfillResult) => {
    done += 1;
    shown.update(`${done}/${total} ended (last: ${result.batchId} ${result.outcome})`);
    return result;
  };
  const results = await pooled(toRun, maxConcurrency, async (entry) =>
    tick(await resultOf(deps, await startBackfillRun(deps, entry), entry.reason, since, pollMs)),
  );
  // the cascade: each level's batches read partitions the level before rewrote; resolving them is
  // what the stream does too (one run per input generation, whoever gets there first)
  const depths = [...new Set(plan.downstream.map((d) => d.depth))].sort((a, b) => a - b);
  for (const depth of depths) {
    const level = plan.downstream.filter((d) => d.depth === depth);
    results.push(
      ...(await pooled(level, maxConcurrency, async (d) =>
        tick(await resultOf(deps, await resolveBatch(deps, d.batch), `downstream of ${d.after}`, since, pollMs)),
      )),
    );
  }
  if (total > 0) shown.done(`${done}/${total} ended`);
  out.write(`\n${summaryLines(results).join('\n')}\n`);
  return backfillExitCode(plan, results);
}
