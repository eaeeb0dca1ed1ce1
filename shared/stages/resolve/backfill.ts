import { jobNamed } from '../../core/config/load-config';
import type { BatchRef } from '../../core/runs/batches';
import { batchesOfDay, downstreamOf, planBackfill, type BackfillPlan, type BackfillReason, type PlanEntry } from './backfill-plan';
import type { ResolverDeps } from './deps';
import { BatchBusyError, NoFailedRunError, assessBatch, resolveBatch, retryBatch, type ResolveOutcome } from './resolver';

/** What an operator asks a backfill for: a job's batches, by name or by the days of a range. */
export interface BackfillRequest {
  job: string;
  /** the batches named (`--batch`) */
  batches?: BatchRef[];
  /** or every batch of these days (`--from … --to …`) */
  days?: string[];
  reasons: readonly BackfillReason[];
  /** also list the downstream jobs' batches that re-run by the cascade */
  downstream?: boolean;
}

/**
 * The batches of the job on these days: the day's files of each input (one gsi1 Query per input
 * source and day, no Scan) give the batches they complete, with the listed values of the key fields
 * they do not carry (a day's item master → every listed province).
 */
async function batchesOfDays(deps: Pick<ResolverDeps, 'pipeline' | 'files'>, job: string, days: string[]): Promise<BatchRef[]> {
  const config = jobNamed(deps.pipeline, job);
  const batches: BatchRef[] = [];
  for (const day of days) {
    const files: Array<{ source: string; fields: Record<string, string> }> = [];
    for (const source of new Set(config.inputs.map((i) => i.source))) {
      for (const item of await deps.files.filesOf(source, day)) if (item.fields) files.push({ source, fields: item.fields });
    }
    batches.push(...batchesOfDay(deps.pipeline, job, files));
  }
  return batches;
}

/** The plan of a backfill (what `--dry-run` prints, what the run starts): reads only, writes nothing. */
export async function backfillPlan(
  deps: Pick<ResolverDeps, 'pipeline' | 'files' | 'runs' | 'landing'>,
  request: BackfillRequest,
  now = new Date(),
): Promise<BackfillPlan> {
  jobNamed(deps.pipeline, request.job);
  const batches = request.batches ?? (await batchesOfDays(deps, request.job, request.days ?? []));
  const situations = [];
  for (const batch of batches) situations.push(await assessBatch(deps, batch, now));
  const plan = planBackfill(request.job, situations, request.reasons);
  const running = plan.entries.filter((e) => e.action === 'run').map((e) => e.batch);
  return { ...plan, downstream: request.downstream ? downstreamOf(deps.pipeline, running) : [] };
}

/**
 * Starts one planned batch: a failed one as `landfall retry` does (a new attempt of its generation,
 * a stuck claim freed first), any other through resolveBatch with `force: 'backfill'` (stale code
 * runs its unchanged inputs). Never twice for the same inputs and code: a batch some other pass ran
 * meanwhile comes back `up-to-date`, one running comes back `busy`.
 */
export async function startBackfillRun(deps: ResolverDeps, entry: Extract<PlanEntry, { action: 'run' }>, now = new Date()): Promise<ResolveOutcome> {
  if (entry.reason !== 'failed') return resolveBatch(deps, entry.batch, [], { force: 'backfill', now });
  try {
    return await retryBatch(deps, entry.batch, now);
  } catch (err) {
    if (err instanceof BatchBusyError) return { kind: 'busy', batchId: entry.batchId, activeRun: err.message };
    // it is no longer failed: a run of it ended since the plan was made
    if (err instanceof NoFailedRunError) return { kind: 'up-to-date', batchId: entry.batchId };
    throw err;
  }
}
