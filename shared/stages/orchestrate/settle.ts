import type { RunInput } from '../../core/runs/run-input';
import type { JobRunStore } from '../../core/runs/job-run-store';
import { currentGeneration, type ResolverDeps } from '../resolve';

/** Waits a settling run takes at most: a burst that keeps landing past them runs on what has come by then. */
export const MAX_SETTLE_ROUNDS = 5;

/** The run without its settle window: it runs its stages on its inputs now. */
function settled(run: RunInput): RunInput {
  const { settle: _, ...rest } = run;
  return rest;
}

/**
 * A run's settle step (after its first wait): it takes the batch's newest inputs, so that a burst
 * of landings (a forced replay, a partner dropping many files) ends in one run instead of a run per
 * generation. While the inputs keep changing it waits again (the state machine's Wait, no polling
 * Lambda), at most MAX_SETTLE_ROUNDS times; once they hold still it runs them. While the batch
 * cannot run (a file of it in flight, or an object of its bounded listing that validate has not
 * recorded yet: currentGeneration lists it again each round) it waits too, and past its rounds
 * runs what it has claimed (the file's own settling then opens the next generation). Idempotent: run twice, it takes the same
 * generation. A run whose claim is gone (released) comes back `released`, and does nothing.
 */
export async function settleRun(run: RunInput, deps: { runs: JobRunStore; resolver: ResolverDeps }, now = new Date()): Promise<RunInput & { released?: true }> {
  if (!run.settle) return run;
  const again = run.settle.round + 1 < MAX_SETTLE_ROUNDS;
  const wait = (next: RunInput): RunInput => (again ? { ...next, settle: { seconds: run.settle!.seconds, round: run.settle!.round + 1 } } : settled(next));
  const generation = await currentGeneration(deps.resolver, { job: run.job, values: run.values }, now);
  // a file of the batch in flight (or a precondition lost): wait for it, or run on the claimed inputs
  if (!generation.ready) return wait(run);
  if (generation.fingerprint === run.fingerprint) return settled(run);
  if (!(await deps.runs.adoptInputs(run.batchId, run.executionName, generation.fingerprint, generation.inputs))) return { ...settled(run), released: true };
  return wait({ ...run, fingerprint: generation.fingerprint, inputs: generation.inputs });
}
