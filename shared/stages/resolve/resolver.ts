import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { jobNamed } from '../../core/config/load-config';
import type { JobConfig } from '../../core/config/types';
import type { FileStateItem } from '../../core/state/file-state-store';
import { attemptOf, batchId, batchesForFile, executionName, type BatchRef } from '../../core/runs/batches';
import { NOT_NEWER, evaluateBatch, type CandidateFile, type Evaluation, type ManifestSummary } from './evaluate';
import { overDuckdbThreshold, routeEngine } from './engine-router';
import { cutoffAsDeadline, deadlineOf } from '../../core/runs/deadlines';
import { checkActiveRun, executionArnFor } from './active-runs';
import { CLAIM_GRACE_MS, RETRYABLE_STATUSES } from '../../core/runs/job-run-store';
import { keyPrefixOf } from './bounded-listing';
import type { RunInput } from '../../core/runs/run-input';
import type { ResolverDeps } from './deps';
import { LandfallError } from '../../core/errors';
import { unrecordedHold } from './unrecorded-hold';
import { codeHashOf } from '../../core/config/code-hash';
import type { BatchItem } from '../../core/runs/job-run-store';
import { staleCodeOf, type StaleCode } from './stale-code';

export type { ResolverDeps };

export type ResolveOutcome =
  | { kind: 'started'; batchId: string; executionName: string; executionArn: string; unchecked?: string[] }
  | { kind: 'waiting'; batchId: string; waitingFor: string[]; unchecked?: string[] }
  | { kind: 'busy'; batchId: string; activeRun: string }
  /** `stale`: the batch last succeeded with older code and nothing asked for a re-run (onCodeChange manual) */
  | { kind: 'up-to-date'; batchId: string; stale?: StaleCode };

export function candidateOf(
  item: Pick<
    FileStateItem,
    'key' | 'versionId' | 'sequencer' | 'dataset' | 'fields' | 'state' | 'size' | 'processedKey' | 'processedVersionId' | 'rows' | 'parquetRows' | 'manifest'
  >,
): CandidateFile | null {
  if (!item.dataset || !item.fields) return null;
  const rows = item.rows?.in ?? item.parquetRows;
  return {
    key: item.key,
    versionId: item.versionId,
    sequencer: item.sequencer,
    dataset: item.dataset,
    fields: item.fields,
    state: item.state,
    size: item.size,
    ...(item.processedKey ? { processedKey: item.processedKey } : {}),
    ...(item.processedVersionId ? { processedVersionId: item.processedVersionId } : {}),
    ...(rows !== undefined ? { rows } : {}),
    ...(item.manifest ? { manifest: JSON.parse(item.manifest) as ManifestSummary } : {}),
  };
}

/** The candidate files of a batch: one gsi1 Query per input source (dataset or upstream job) and day. */
async function gatherFiles(deps: Pick<ResolverDeps, 'files' | 'pipeline'>, job: JobConfig, batch: BatchRef, known: CandidateFile[]): Promise<CandidateFile[]> {
  const files: CandidateFile[] = [...known];
  const date = batch.values[job.dateField];
  if (!date) throw new Error(`job ${job.name}: the batch has no ${job.dateField}`);
  for (const source of new Set(job.inputs.map((i) => i.source))) {
    for (const item of await deps.files.filesOf(source, date, sourcePrefix(deps.pipeline, job, source, batch))) {
      const candidate = candidateOf(item);
      if (candidate) files.push(candidate);
    }
  }
  return files;
}

/**
 * The key prefix every file of `source` the batch may read starts with (the common prefix of its
 * inputs' key prefixes, when several read the same dataset), or undefined for an upstream job.
 */
function sourcePrefix(pipeline: ResolverDeps['pipeline'], job: JobConfig, source: string, batch: BatchRef): string | undefined {
  const dataset = pipeline.datasetsByName.get(source);
  if (!dataset) return undefined;
  const prefixes = job.inputs.filter((i) => i.source === source).map((i) => keyPrefixOf(dataset, i, batch.values));
  let common = prefixes[0]!;
  for (const p of prefixes) while (!p.startsWith(common)) common = common.slice(0, -1);
  return common;
}

/** "20:00 America/Toronto" once the batch's cut-off has passed, else undefined. */
function pastCutoff(job: JobConfig, batch: BatchRef, now: Date): string | undefined {
  if (!job.cutoff) return undefined;
  const at = deadlineOf(cutoffAsDeadline(job.cutoff), batch.values[job.dateField]!);
  return now.getTime() >= at.getTime() ? `${job.cutoff.at} ${job.cutoff.timeZone}` : undefined;
}

/**
 * How long a run of this batch waits for a burst of landings to end (RunInput.settle): the job's
 * settleSeconds, ending no later than the batch's cut-off or freshness deadline when one is ahead
 * (a batch due in 3 s settles 3 s). A deadline already past shortens nothing: the batch is late
 * either way, and a replay of an old day is a burst like any other.
 */
export function settleSecondsOf(job: JobConfig, batch: BatchRef, now: Date): number {
  const date = batch.values[job.dateField]!;
  const limits = [job.cutoff ? deadlineOf(cutoffAsDeadline(job.cutoff), date) : undefined, job.freshness ? deadlineOf(job.freshness, date) : undefined];
  let seconds = job.settleSeconds;
  for (const limit of limits) {
    const ahead = limit ? Math.floor((limit.getTime() - now.getTime()) / 1000) : -1;
    if (ahead >= 0) seconds = Math.min(seconds, ahead);
  }
  return seconds;
}

/** The batch's newest input generation, if it may run now: what a settling run takes (writes nothing). */
export async function currentGeneration(
  deps: Pick<ResolverDeps, 'pipeline' | 'files' | 'runs' | 'landing'>,
  batch: BatchRef,
  now = new Date(),
): Promise<{ ready: true; fingerprint: string; inputs: RunInput['inputs'] } | { ready: false; waitingFor: string[] }> {
  const job = jobNamed(deps.pipeline, batch.job);
  // judged as a first run: a generation equal to the last succeeded one is still a generation here
  const evaluation = await evaluate(deps, job, batch, [], {}, now);
  return evaluation.ready
    ? { ready: true, fingerprint: evaluation.fingerprint, inputs: evaluation.inputs }
    : { ready: false, waitingFor: evaluation.waitingFor };
}

/**
 * The batch evaluated on its recorded files; a batch that may run is then held back while an object
 * of its bounded listings is not yet recorded by validate (unrecorded-hold.ts). The listing costs a
 * LIST per such input, and is made only when the batch would otherwise run.
 */
async function evaluate(
  deps: Pick<ResolverDeps, 'pipeline' | 'files' | 'landing'>,
  job: JobConfig,
  batch: BatchRef,
  known: CandidateFile[],
  judged: { state?: BatchItem | undefined; rerunSameInputs?: boolean },
  now: Date,
): Promise<Evaluation & { unchecked?: string[] }> {
  const upstreamKeys = Object.fromEntries(job.inputs.filter((i) => i.job).map((i) => [i.job!, jobNamed(deps.pipeline, i.job!).batchKey]));
  const cutoff = pastCutoff(job, batch, now);
  const { state } = judged;
  const options = {
    codeHash: codeHashOf(job),
    ...(state?.lastSucceededFingerprint ? { lastSucceededFingerprint: state.lastSucceededFingerprint } : {}),
    ...(state?.lastSucceededCodeHash ? { lastSucceededCodeHash: state.lastSucceededCodeHash } : {}),
    ...(judged.rerunSameInputs ? { rerunSameInputs: true } : {}),
    ...(cutoff ? { pastCutoff: cutoff } : {}),
  };
  const files = await gatherFiles(deps, job, batch, known);
  const evaluation = evaluateBatch(deps.pipeline.config, job, batch, files, options, upstreamKeys);
  if (!evaluation.ready || !deps.landing) return evaluation;
  const hold = await unrecordedHold({ ...deps.landing, files: deps.files, datasets: deps.pipeline.config.datasets }, job, batch, files, now);
  const unchecked = hold.unchecked.length > 0 ? { unchecked: hold.unchecked } : {};
  if (hold.waitingFor.length === 0) return { ...evaluation, ...unchecked };
  const { ranWithout: _, ...held } = evaluation;
  return { ...held, ...unchecked, ready: false, waitingFor: hold.waitingFor };
}

export interface ResolveOptions {
  /** the run attempt, part of the execution name (a retry of a failed run is a new attempt) */
  attempt?: number;
  /** rewrite what the batch waits for if it changed (the reconciler), not only when a wait starts */
  refreshWaiting?: boolean;
  /** the time the cut-off is judged at */
  now?: Date;
  /**
   * Asked by an operator (`landfall backfill`, `landfall retry`): a batch whose inputs are those of
   * its last success runs again when that success ran older code, even with `onCodeChange: manual`.
   * Never twice for the same inputs and code: an up-to-date batch stays up to date.
   */
  force?: 'backfill' | 'retry';
}

/** What a batch waits for now (empty when it may run), evaluated live; writes nothing. */
export async function explainBatch(deps: Pick<ResolverDeps, 'pipeline' | 'files' | 'runs' | 'landing'>, batch: BatchRef, now = new Date()): Promise<string[]> {
  const job = jobNamed(deps.pipeline, batch.job);
  const state = await deps.runs.getBatch(batchId(batch, job));
  return (await evaluate(deps, job, batch, [], { state }, now)).waitingFor;
}

/** A batch as a backfill judges it: its item, whether it could run now if asked, and its code. Writes nothing. */
export interface BatchAssessment {
  batch: BatchRef;
  batchId: string;
  state?: BatchItem;
  /** what it waits for before it could run (empty: it could run now); never the newerThanLastRun wait */
  waitingFor: string[];
  /** its inputs now are those of its last success */
  sameInputsAsLastSuccess: boolean;
  stale?: StaleCode;
}

export async function assessBatch(
  deps: Pick<ResolverDeps, 'pipeline' | 'files' | 'runs' | 'landing'>,
  batch: BatchRef,
  now = new Date(),
): Promise<BatchAssessment> {
  const job = jobNamed(deps.pipeline, batch.job);
  const id = batchId(batch, job);
  const state = await deps.runs.getBatch(id);
  // judged as if asked to run: the same inputs again are what a backfill may want
  const evaluation = await evaluate(deps, job, batch, [], { state, rerunSameInputs: true }, now);
  const stale = staleCodeOf(state, job);
  return {
    batch,
    batchId: id,
    ...(state ? { state } : {}),
    waitingFor: evaluation.waitingFor,
    sameInputsAsLastSuccess: evaluation.sameInputsAsLastSuccess,
    ...(stale ? { stale } : {}),
  };
}

/**
 * Evaluates one batch and, when its preconditions hold, claims it and starts exactly one execution
 * for its input generation. Safe to call any number of times, concurrently: the claim is a
 * conditional transaction and the execution name is deterministic.
 * `known` carries files the caller has in hand (the stream record), in case the index lags.
 */
export async function resolveBatch(deps: ResolverDeps, batch: BatchRef, known: CandidateFile[] = [], options: ResolveOptions = {}): Promise<ResolveOutcome> {
  const job = jobNamed(deps.pipeline, batch.job);
  const id = batchId(batch, job);
  const state = await deps.runs.getBatch(id);
  // code newer than the last success's runs the same inputs again only when the job or an operator says so
  const stale = staleCodeOf(state, job);
  const rerunSameInputs = stale !== undefined && (job.onCodeChange === 'rerun' || options.force !== undefined);
  const staleNote = stale && !rerunSameInputs ? { stale } : {};
  const evaluation = await evaluate(deps, job, batch, known, { state, rerunSameInputs }, options.now ?? new Date());
  // Held-out files are recorded before anything runs, so `status` says why they are not used.
  for (const { file, reason } of evaluation.quarantine) await deps.files.recordVerdict(file, 'QUARANTINED', reason);
  if (!evaluation.ready) {
    const onlyNotNewer = evaluation.waitingFor.length === 1 && evaluation.waitingFor[0] === NOT_NEWER;
    if (onlyNotNewer) return { kind: 'up-to-date', batchId: id, ...staleNote };
    // The detail changes with nearly every landed file ("3 of 5 stores"): rewriting it each time
    // would cost a write per file. The stream records the start of a wait; the reconciler
    // refreshes the detail of batches it re-resolves; `explainBatch` gives it live.
    const recorded = state?.waitingFor ?? [];
    const changed = JSON.stringify(recorded) !== JSON.stringify(evaluation.waitingFor);
    if (changed && (recorded.length === 0 || options.refreshWaiting)) {
      await deps.runs.recordWaiting(job.name, id, batch.values, evaluation.waitingFor);
    }
    return { kind: 'waiting', batchId: id, waitingFor: evaluation.waitingFor, ...(evaluation.unchecked ? { unchecked: evaluation.unchecked } : {}) };
  }
  // the inputs of the last success, and no reason to run them again (a job without newerThanLastRun, a batch recorded before code hashes)
  if (evaluation.sameInputsAsLastSuccess && !rerunSameInputs) return { kind: 'up-to-date', batchId: id, ...staleNote };
  let attempt = options.attempt ?? 0;
  let name = executionName(batch, job, evaluation.fingerprint, attempt);
  // Recorded with the run: a DuckDB batch above the measured threshold is one to move to Spark.
  const sizing = { inputBytes: evaluation.inputBytes, overThreshold: overDuckdbThreshold(job, evaluation.inputBytes) };
  const engine = routeEngine(job, evaluation.inputBytes);
  const ranWithout = evaluation.ranWithout ? { ranWithout: evaluation.ranWithout } : {};
  const claimIt = () =>
    deps.runs.claimRun(job.name, id, batch.values, {
      executionName: name,
      fingerprint: evaluation.fingerprint,
      codeHash: evaluation.codeHash,
      inputs: evaluation.inputs,
      sizing,
      engine,
      ...ranWithout,
    });
  let claim = await claimIt();
  if (claim.kind === 'active' && claim.run.executionName !== name && !claim.run.executionArn) {
    // Another generation's claim that has no execution: if it was abandoned (its resolver died
    // before StartExecution), release it and claim the current inputs instead.
    const current = await deps.runs.getBatch(id);
    if (current?.activeRun && (await checkActiveRun(deps, job, current)).kind === 'released') claim = await claimIt();
  }
  // Code changed back to a version that ran these inputs before: that run's name is taken, so the
  // re-run is the generation's next attempt (a failed earlier run is left to `landfall retry`).
  for (let bumps = 0; claim.kind === 'up-to-date' && rerunSameInputs && bumps < MAX_NAME_BUMPS; bumps += 1) {
    const [earlier, current] = await Promise.all([deps.runs.getRun(id, name), deps.runs.getBatch(id)]);
    if (earlier?.status !== 'SUCCEEDED' || current?.lastSucceededFingerprint === evaluation.fingerprint || current?.activeRun) break;
    attempt = attemptOf(name);
    name = executionName(batch, job, evaluation.fingerprint, attempt);
    claim = await claimIt();
  }
  if (claim.kind === 'up-to-date') return { kind: 'up-to-date', batchId: id };
  if (claim.kind === 'active' && (claim.run.executionName !== name || claim.run.executionArn)) {
    // Another generation runs (this one starts when it finishes), or this one is started already.
    return claim.run.executionName === name ? { kind: 'up-to-date', batchId: id } : { kind: 'busy', batchId: id, activeRun: claim.run.executionName };
  }
  // Claimed now, or claimed earlier by a resolver that stopped before StartExecution: start it.
  const input: RunInput = {
    job: job.name,
    batchId: id,
    values: batch.values,
    executionName: name,
    fingerprint: evaluation.fingerprint,
    inputs: evaluation.inputs,
    engine,
    stages: job.stages.map((s) => ({ name: s.name })),
    ...(job.load?.length ? { warehouse: true as const } : {}),
  };
  const settle = settleSecondsOf(job, batch, options.now ?? new Date());
  if (settle > 0) input.settle = { seconds: settle, round: 0 };
  const executionArn = await startExecution(deps, deps.stateMachineArns[engine], name, input);
  // (a crash here leaves the claim without its ARN: the reconciler finds the execution by name)
  await deps.runs.markStarted(id, name, executionArn);
  return { kind: 'started', batchId: id, executionName: name, executionArn, ...(evaluation.unchecked ? { unchecked: evaluation.unchecked } : {}) };
}

async function startExecution(deps: ResolverDeps, stateMachineArn: string, name: string, input: RunInput): Promise<string> {
  try {
    const out = await deps.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    return out.executionArn!;
  } catch (err) {
    // The same name already ran: that execution is this run (names are unique per generation).
    if (err instanceof ExecutionAlreadyExists || (err as Error).name === 'ExecutionAlreadyExists') return executionArnFor(stateMachineArn, name);
    throw err;
  }
}

/** Every batch a changed file may complete, resolved one by one. */
export async function resolveFile(deps: ResolverDeps, file: CandidateFile): Promise<ResolveOutcome[]> {
  const outcomes: ResolveOutcome[] = [];
  for (const batch of batchesForFile(deps.pipeline, file.dataset, file.fields)) outcomes.push(await resolveBatch(deps, batch, [file]));
  return outcomes;
}

/** How many times a re-run of stale code looks for a free execution name (code changed back and forth). */
const MAX_NAME_BUMPS = 5;

/** A retry was asked for a batch whose last run did not fail. */
export class NoFailedRunError extends LandfallError {
  override readonly name = 'NoFailedRunError';
  readonly code = 'NO_FAILED_RUN';
}

/** A retry was asked for a batch whose run is still live. */
export class BatchBusyError extends LandfallError {
  override readonly name = 'BatchBusyError';
  readonly code = 'BATCH_BUSY';
}

/**
 * Retries a batch whose last run FAILED, with the same inputs (a new execution name per attempt).
 * A stuck batch is freed first: an abandoned claim is released, an execution that ended without
 * recording it is recorded; then the batch runs again (its current inputs, or the failed ones).
 */
export async function retryBatch(deps: ResolverDeps, batch: BatchRef, now = new Date()): Promise<ResolveOutcome> {
  const job = jobNamed(deps.pipeline, batch.job);
  const id = batchId(batch, job);
  let state = await deps.runs.getBatch(id);
  if (state?.activeRun) {
    const check = await checkActiveRun(deps, job, state, now);
    if (check.kind === 'live') throw new BatchBusyError(`batch ${id} is running: execution ${check.executionArn}`);
    if (check.kind === 'young')
      throw new BatchBusyError(
        `batch ${id} was claimed at ${state.activeRun.claimedAt} by run ${check.executionName}, which may still be starting; retry after ${Math.round(CLAIM_GRACE_MS / 60_000)} minutes`,
      );
    if (check.kind === 'released') return resolveBatch(deps, batch);
    state = await deps.runs.getBatch(id);
  }
  if (!state?.lastRun || !RETRYABLE_STATUSES.includes(state.lastRun.status))
    throw new NoFailedRunError(`batch ${id} has no failed run to retry (last run: ${state?.lastRun?.status ?? 'none'})`);
  // the next attempt of the failed run's generation: -r1, -r2, … (its name stays unique)
  return resolveBatch(deps, batch, [], { attempt: attemptOf(state.lastRun.executionName), force: 'retry' });
}
