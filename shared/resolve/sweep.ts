import { addDays } from '../sample/dates';
import { batchId, batchesForFile, type BatchRef } from './batches';
import { candidateOf, resolveBatch, type ResolveOutcome, type ResolverDeps } from './resolver';

/**
 * The scheduled safety net behind the stream: re-evaluates every batch that may be due — batches
 * recorded as waiting, runs claimed but never started (a resolver that died in between), and every
 * batch a converted file of the last `days` days can complete (a lost stream record). It also
 * refreshes what each waiting batch waits for.
 */
export async function sweep(deps: ResolverDeps, now = new Date(), days = 2): Promise<ResolveOutcome[]> {
  const due = new Map<string, BatchRef>();
  const add = (batch: BatchRef) => {
    const job = deps.pipeline.config.jobs.find((j) => j.name === batch.job);
    if (job) due.set(batchId(batch, job), batch);
  };
  const { batches } = await deps.runs.listAll();
  for (const b of batches) {
    const stuck = b.activeRun && !b.activeRun.executionArn && now.getTime() - Date.parse(b.activeRun.claimedAt) > 60_000;
    if (b.status === 'WAITING' || stuck) add({ job: b.job, values: b.values });
  }
  const today = now.toISOString().slice(0, 10);
  const datasets = new Set(deps.pipeline.config.jobs.flatMap((j) => j.inputs.map((i) => i.dataset)));
  for (const dataset of datasets) {
    for (let d = 0; d < days; d += 1) {
      for (const item of await deps.files.filesOf(dataset, addDays(today, -d))) {
        const file = candidateOf(item);
        if (file?.state === 'CONVERTED') batchesForFile(deps.pipeline.config, file.dataset, file.fields).forEach(add);
      }
    }
  }
  const outcomes: ResolveOutcome[] = [];
  for (const batch of due.values()) outcomes.push(await resolveBatch(deps, batch, [], { refreshWaiting: true }));
  return outcomes;
}
