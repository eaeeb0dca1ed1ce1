import { codeLines } from '../../shared/stages/resolve';
import type { Pipeline } from '../../shared/core/config/load-config';
import type { JobConfig } from '../../shared/core/config/types';
import { batchId as batchIdOf, type BatchRef } from '../../shared/core/runs/batches';
import type { ActionRecord, BatchItem, RunItem } from '../../shared/core/runs/job-run-store';
import { explainBatch } from '../../shared/stages/resolve';
import { runCheckLines } from '../reports/job-run-report';
import type { Target } from '../targets';

/** Everything known about one batch now: its item, what it waits for (live), its runs and the actions taken on it. */
export interface BatchExplanation {
  id: string;
  job: JobConfig;
  batch: BatchRef;
  state?: BatchItem;
  waitingFor: string[];
  /** waitingFor is the resolver's live evaluation (else: as recorded on the batch item) */
  live: boolean;
  runs: RunItem[];
  actions: ActionRecord[];
}

/**
 * "Why hasn't batch X run?" (or what did it run): the batch item, what it waits for, and its runs
 * and actions (Queries on its partition). What it waits for is evaluated live (the resolver's
 * explainBatch, as `landfall explain` does), or with `liveOnlyWhileWaiting` only for a batch that
 * waits or was never evaluated: a batch that ran waits for nothing until a newer input lands, and
 * the live evaluation reads every file of its inputs' days.
 */
export async function explainBatchNow(
  where: Pick<Target, 'files' | 'runs'>,
  pipeline: Pipeline,
  job: JobConfig,
  batch: BatchRef,
  options: { liveOnlyWhileWaiting?: boolean } = {},
): Promise<BatchExplanation> {
  const id = batchIdOf(batch, job);
  const [state, runs, actions] = await Promise.all([where.runs.getBatch(id), where.runs.runsOf(id), where.runs.actionsOf(id)]);
  const live = !options.liveOnlyWhileWaiting || !state || state.status === 'WAITING';
  const waitingFor = live ? await explainBatch({ pipeline, files: where.files, runs: where.runs }, batch) : state.waitingFor;
  return { id, job, batch, ...(state ? { state } : {}), waitingFor, live, runs, actions };
}

/** A run's inputs as `relation: key@version, …; …`. */
export function inputGeneration(run: Pick<RunItem, 'inputs'>): string {
  return Object.entries(run.inputs)
    .map(([relation, files]) => `${relation}: ${files.map((f) => `${f.key}@${f.versionId}`).join(', ')}`)
    .join('; ');
}

/** `landfall explain`'s text. */
export function explanationLines(e: BatchExplanation, label: string): string[] {
  const { state } = e;
  const lines = [`${e.id} (${label})`, `status: ${state?.status ?? 'never evaluated'}`];
  if (state?.activeRun)
    lines.push(
      `claimed: ${state.activeRun.executionName} at ${state.activeRun.claimedAt}${state.activeRun.executionArn ? ` (execution ${state.activeRun.executionArn})` : ' (no execution recorded yet)'}`,
    );
  if (state?.lastRun)
    lines.push(
      `last run: ${state.lastRun.executionName} ${state.lastRun.status} at ${state.lastRun.finishedAt}${state.lastRun.error ? `: ${state.lastRun.error}` : ''}`,
    );
  lines.push(...codeLines(state, e.job));
  if (state?.deadlineAlerted) lines.push(`deadline ${state.deadlineAlerted} missed (alerted)`);
  lines.push(e.waitingFor.length > 0 ? `waits for: ${e.waitingFor.join('; ')}` : 'waits for nothing: its inputs are complete');
  for (const run of e.runs) {
    lines.push(`run ${run.executionName}: ${run.status}, claimed ${run.claimedAt}; read ${inputGeneration(run)}`);
    lines.push(...runCheckLines(run));
  }
  for (const a of e.actions) lines.push(`action ${a.action} by ${a.who} at ${a.at} (${a.via}): ${a.outcome}: ${a.detail}`);
  return lines;
}

/** How many batches' runs are read at once (one Query each). */
const RUN_READS_AT_ONCE = 16;

/**
 * Every batch of the pipeline's jobs, a waiting one with what it waits for now (the recorded detail
 * is from when the wait started), and their runs: the grid index (gsi2), one Query per job, then
 * each batch's runs (a Query on its partition), never a Scan of the table.
 */
export async function liveBatches(where: Pick<Target, 'files' | 'runs'>, pipeline: Pipeline): Promise<{ batches: BatchItem[]; runs: RunItem[] }> {
  const perJob = await Promise.all(pipeline.config.jobs.map((job) => where.runs.allIndexedBatches({ job: job.name })));
  const batches = perJob.flat().sort((a, b) => a.batchId.localeCompare(b.batchId));
  const deps = { pipeline, files: where.files, runs: where.runs };
  const live: BatchItem[] = [];
  const runs: RunItem[] = [];
  for (let i = 0; i < batches.length; i += RUN_READS_AT_ONCE) {
    const slice = batches.slice(i, i + RUN_READS_AT_ONCE);
    const read = await Promise.all(
      slice.map(async (b) => ({
        batch: b.status === 'WAITING' ? { ...b, waitingFor: await explainBatch(deps, { job: b.job, values: b.values }) } : b,
        runs: await where.runs.runsOf(b.batchId),
      })),
    );
    for (const r of read) {
      live.push(r.batch);
      runs.push(...r.runs);
    }
  }
  return { batches: live, runs };
}
