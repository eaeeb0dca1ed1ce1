import { DescribeExecutionCommand, ExecutionDoesNotExist } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { jobNamed } from '../../core/config/load-config';
import { attemptOf, batchId, batchesForFile, type BatchRef } from '../../core/runs/batches';
import { checkActiveRun, explainBatch, resolveBatch, retryBatch, type ResolverDeps } from '../resolve';
import { recordPartition } from '../orchestrate';
import type { JobConfig } from '../../core/config/types';
import { CLAIM_GRACE_MS, type BatchItem } from '../../core/runs/job-run-store';
import { publishAlert, type Alert } from '../../core/alerts';
import { cutoffAsDeadline, datesPastDeadline, expectedBatches } from '../../core/runs/deadlines';
import { drainFailedEvents } from './failed-events';
import { redriveUnrecorded, repairStuckFile, type FileRepair, type StuckFileDeps } from './stuck-files';

export interface ReconcileDeps extends ResolverDeps, Omit<StuckFileDeps, 'files' | 'pipeline'> {
  sns: SNSClient;
  alertsTopicArn: string;
  /** the failed-events queue (absent: not drained) */
  sqs?: SQSClient;
  failedEventsQueueUrl?: string;
}

export interface ReconcileOptions {
  now?: Date;
  /** a file version in flight this long without progress is re-driven (default 20 min: convert's timeout is 15) */
  fileGraceMs?: number;
  /** how far back the first pass looks for settled files (later passes start at the watermark) */
  firstLookbackMs?: number;
  /** a claim without an execution this old is abandoned (default CLAIM_GRACE_MS, 5 min: resolve's timeout is 2) */
  claimGraceMs?: number;
}

/**
 * An execution stopped or timed out (it never reached its own failure handling), or failed on
 * infrastructure (INFRASTRUCTURE_ERRORS), is started again automatically, up to this many attempts
 * in all: an interruption is not a verdict on the data. A run that failed on its own error is not:
 * it waits for `landfall retry` after its alert.
 */
const INTERRUPTED = ['ABORTED', 'TIMED_OUT'];
const MAX_AUTOMATIC_ATTEMPTS = 3;

/** One thing the reconciler repaired. */
export type Repair =
  | FileRepair
  | { kind: 'claim-released'; batchId: string; executionName: string }
  | { kind: 'run-recorded'; batchId: string; executionName: string; status: 'SUCCEEDED' | 'FAILED' | 'CHECK_FAILED'; executionStatus: string; error?: string }
  | { kind: 'batch-started'; batchId: string; executionName: string }
  | { kind: 'run-restarted'; batchId: string; executionName: string; after: string };

export interface ReconcileReport {
  at: string;
  repairs: Repair[];
  /** batches past their job's freshness deadline, not done (alerted once each) */
  pastDeadline: Array<{ batchId: string; deadline: string; waitingFor: string[] }>;
  /** batches started at their job's cut-off with what had arrived */
  startedAtCutoff: string[];
  /** settled files looked at, batches re-resolved, active claims checked, failed events read */
  looked: { openFiles: number; settledFiles: number; batches: number; activeClaims: number; failedEvents: number };
  window: { from: string; to: string };
}

/**
 * An execution that did its work ends SUCCEEDED even when its last step could not record the run
 * (MarkSucceeded past its retries); checkActiveRun then records the run from the execution. A job
 * other jobs read records its partition before its run, as that step does: a pass that stops
 * between the two records the partition again on the next pass (idempotent), never skips it.
 */
async function recordPartitionOfUnrecordedRun(deps: ReconcileDeps, job: JobConfig, batch: BatchItem): Promise<void> {
  const claim = batch.activeRun;
  if (!claim?.executionArn || !deps.pipeline.readersOf.has(job.name)) return;
  const execution = await deps.sfn.send(new DescribeExecutionCommand({ executionArn: claim.executionArn })).catch((err: unknown) => {
    if (err instanceof ExecutionDoesNotExist || (err as Error).name === 'ExecutionDoesNotExist') return undefined;
    throw err;
  });
  if (execution?.status !== 'SUCCEEDED') return;
  await recordPartition({ values: batch.values, executionName: claim.executionName }, job, { s3: deps.s3, files: deps.files, lakeBucket: deps.lakeBucket });
}

/** The settled window starts this much before the watermark: the index is eventually consistent. */
const INDEX_LAG_MS = 2 * 60_000;

/**
 * One pass of the reconciler: finds everything stuck and repairs it, idempotently.
 *  1. the failed-events queue: each parked failure's error is noted on its file version (and a
 *     version validate never recorded is validated again);
 *  2. file versions in flight past the grace period: re-driven through the stage that is due, or
 *     SUPERSEDED / FAILED (see repairStuckFile);
 *  3. active claims: a claim never started is released (a resolver or a run's StartNextGeneration
 *     that could not start it), an execution that ended unrecorded is recorded (see checkActiveRun;
 *     a succeeded one's partition first), and the batch resolved again (its next generation opens);
 *  4. every batch a file settled into since the last pass, whatever its data date, is resolved
 *     (a lost stream record cannot leave a batch unevaluated);
 *  5. batches past their freshness deadline are alerted, once each.
 * Each pass reads indexes bounded by recent activity, never the whole history.
 */
export async function reconcile(deps: ReconcileDeps, options: ReconcileOptions = {}): Promise<ReconcileReport> {
  const now = options.now ?? new Date();
  const repairs: Repair[] = [];
  const alerts: Alert[] = [];
  const stuckDeps: StuckFileDeps = { ...deps, files: deps.files, pipeline: deps.pipeline };

  // 1. parked failures
  const parked =
    deps.sqs && deps.failedEventsQueueUrl
      ? await drainFailedEvents({ sqs: deps.sqs, queueUrl: deps.failedEventsQueueUrl, s3: deps.s3, rawBucket: deps.rawBucket, files: deps.files })
      : { failedFiles: [], messages: 0 };
  for (const { source } of parked.failedFiles) {
    if (source.sequencer && !(await deps.files.get(source.key, source.versionId))) repairs.push(await redriveUnrecorded(stuckDeps, source, now));
  }

  // 2. files in flight past the grace period
  const open = await deps.files.openSince(new Date(now.getTime() - (options.fileGraceMs ?? 20 * 60_000)).toISOString());
  for (const work of open) {
    const repair = await repairStuckFile(stuckDeps, work, now);
    if (repair) repairs.push(repair);
  }

  // 3. active claims due for a look (a claim is due its grace period after it was made)
  const resolveAgain = new Map<string, BatchRef>();
  // a new attempt of a batch's failed generation, as `landfall retry` starts it
  const restart = async (batch: BatchItem, after: string) => {
    const again = await retryBatch(deps, { job: batch.job, values: batch.values }, now);
    if (again.kind === 'started') repairs.push({ kind: 'run-restarted', batchId: batch.batchId, executionName: again.executionName, after });
  };
  const claimGraceMs = options.claimGraceMs ?? CLAIM_GRACE_MS;
  const active = await deps.runs.activeDue(new Date(now.getTime() + CLAIM_GRACE_MS - claimGraceMs));
  for (const batch of active) {
    const job = deps.pipeline.jobsByName.get(batch.job);
    if (!job) continue;
    await recordPartitionOfUnrecordedRun(deps, job, batch);
    const check = await checkActiveRun(deps, job, batch, now, claimGraceMs);
    if (check.kind === 'live') await deps.runs.deferDue(batch.batchId, check.executionName, new Date(now.getTime() + 10 * 60_000));
    else if (check.kind === 'young')
      await deps.runs.deferDue(batch.batchId, check.executionName, new Date(Date.parse(batch.activeRun!.claimedAt) + CLAIM_GRACE_MS));
    else if (check.kind === 'released') {
      repairs.push({ kind: 'claim-released', batchId: batch.batchId, executionName: check.executionName });
      resolveAgain.set(batch.batchId, { job: batch.job, values: batch.values });
    } else {
      repairs.push({
        kind: 'run-recorded',
        batchId: batch.batchId,
        executionName: check.executionName,
        status: check.status,
        executionStatus: check.executionStatus,
        ...(check.error ? { error: `${check.error.error}: ${check.error.cause}` } : {}),
      });
      const interrupted = check.status === 'FAILED' && INTERRUPTED.includes(check.executionStatus) && attemptOf(check.executionName) < MAX_AUTOMATIC_ATTEMPTS;
      if (check.status !== 'SUCCEEDED') {
        const subject = `landfall: ${batch.job} ${Object.values(batch.values).join(' ')} ${check.executionStatus}${interrupted ? ', started again' : ''}`;
        alerts.push({
          kind: 'job-failed',
          subject,
          detail: { job: batch.job, batch: batch.values, execution: check.executionArn, status: check.executionStatus, error: check.error },
        });
      }
      if (interrupted) await restart(batch, check.executionName);
      else resolveAgain.set(batch.batchId, { job: batch.job, values: batch.values });
    }
  }

  // 3b. runs that failed on infrastructure after their retries (a crashed function, a timeout)
  const restarts = await deps.runs.restartsDue(now);
  for (const batch of restarts) {
    const last = batch.lastRun;
    if (batch.status === 'FAILED' && last && attemptOf(last.executionName) < MAX_AUTOMATIC_ATTEMPTS) await restart(batch, last.executionName);
    await deps.runs.clearRestart(batch.batchId);
  }

  // 4. batches of files settled since the last pass
  const watermark = await deps.runs.reconcilerWatermark();
  let from = watermark
    ? new Date(Date.parse(watermark) - INDEX_LAG_MS).toISOString()
    : new Date(now.getTime() - (options.firstLookbackMs ?? 60 * 60_000)).toISOString();
  if (parked.lostStreamSince && parked.lostStreamSince < from) from = parked.lostStreamSince;
  const to = now.toISOString();
  const settled = await deps.files.settledBetween(from, to);
  for (const file of settled) {
    if (!file.dataset || !file.fields) continue;
    for (const batch of batchesForFile(deps.pipeline, file.dataset, file.fields)) {
      const job = jobNamed(deps.pipeline, batch.job);
      resolveAgain.set(batchId(batch, job), batch);
    }
  }
  for (const batch of resolveAgain.values()) {
    const outcome = await resolveBatch(deps, batch, [], { refreshWaiting: true });
    // The stream (or the run's end) starts a batch within seconds; one started here was missed.
    if (outcome.kind === 'started') repairs.push({ kind: 'batch-started', batchId: outcome.batchId, executionName: outcome.executionName });
  }

  // 5. freshness deadlines
  const pastDeadline: ReconcileReport['pastDeadline'] = [];
  for (const job of deps.pipeline.config.jobs.filter((j) => j.freshness)) {
    for (const { date, deadline } of datesPastDeadline(job.freshness!, now)) {
      for (const batch of expectedBatches(deps.pipeline, job, date)) {
        const id = batchId(batch, job);
        const state = await deps.runs.getBatch(id);
        if (state?.status === 'SUCCEEDED') continue;
        const waitingFor = state?.activeRun ? [`its run ${state.activeRun.executionName} is still running`] : await explainBatch(deps, batch);
        pastDeadline.push({ batchId: id, deadline: deadline.toISOString(), waitingFor });
        if (await deps.runs.markDeadlineAlerted(job.name, id, batch.values, deadline.toISOString(), now)) {
          const local = `${job.freshness!.deadline} ${job.freshness!.timeZone}`;
          alerts.push({
            kind: 'past-deadline',
            subject: `landfall: ${job.name} ${Object.values(batch.values).join(' ')} not done at ${local}`,
            detail: {
              job: job.name,
              batch: batch.values,
              deadline: deadline.toISOString(),
              waitingFor,
              summary: `${Object.values(batch.values).join(' ')}: ${waitingFor.join('; ') || 'not run'} at ${local}`,
            },
          });
        }
      }
    }
  }

  // 6. cut-offs: a batch still incomplete at its job's cut-off runs with what has arrived (the
  // clock is the event here; a file landing later runs it again with the file)
  const startedAtCutoff: string[] = [];
  for (const job of deps.pipeline.config.jobs.filter((j) => j.cutoff)) {
    for (const { date } of datesPastDeadline(cutoffAsDeadline(job.cutoff!), now)) {
      for (const batch of expectedBatches(deps.pipeline, job, date)) {
        const state = await deps.runs.getBatch(batchId(batch, job));
        if (state?.status === 'SUCCEEDED' || state?.activeRun) continue;
        const outcome = await resolveBatch(deps, batch, [], { refreshWaiting: true, now });
        if (outcome.kind === 'started') startedAtCutoff.push(outcome.batchId);
      }
    }
  }

  if (repairs.length > 0) {
    alerts.push({ kind: 'repaired', subject: `landfall: the reconciler repaired ${repairs.length} thing(s)`, detail: { repairs } });
  }
  for (const alert of alerts) await publishAlert(deps.sns, deps.alertsTopicArn, alert);
  const report: ReconcileReport = {
    at: to,
    repairs,
    pastDeadline,
    startedAtCutoff,
    looked: { openFiles: open.length, settledFiles: settled.length, batches: resolveAgain.size, activeClaims: active.length, failedEvents: parked.messages },
    window: { from, to },
  };
  await deps.runs.setReconcilerWatermark(to, { at: to, repairs: repairs.length, pastDeadline: pastDeadline.length });
  return report;
}

/** A repair in one line, for logs and the CLI. */
export function describeRepair(r: Repair): string {
  switch (r.kind) {
    case 'redrive':
      return `re-drove ${r.stage} (attempt ${r.attempt}) for ${r.key}@${r.versionId}: ${r.object}`;
    case 'superseded':
    case 'failed':
      return `${r.kind.toUpperCase()} ${r.key}@${r.versionId}: ${r.reason}`;
    case 'claim-released':
      return `released the abandoned claim ${r.executionName} of ${r.batchId}`;
    case 'run-recorded':
      return `recorded ${r.executionName} of ${r.batchId} as ${r.status} (execution ${r.executionStatus})${r.error ? `: ${r.error}` : ''}`;
    case 'batch-started':
      return `started ${r.batchId} (${r.executionName}): its settled file's event was lost or late`;
    case 'run-restarted':
      return `started ${r.batchId} again as ${r.executionName} after ${r.after} was interrupted`;
  }
}
