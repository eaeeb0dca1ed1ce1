import { CopyObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { EMRClient } from '@aws-sdk/client-emr';
import type { ArcRouter } from '../../core/failover/arc-client';
import { ClusterUnhealthyError, pollStep, submitStep } from '../../core/emr/emr-steps';
import { acquireCellCluster, checkProvisioning, standingCellCluster } from '../../core/emr/cell-clusters';
import type { CellClaims } from '../../core/emr/cell-claims';
import type { EmrCell, EmrSettings } from '../../core/emr/cluster-spec';
import { sparkResourceArgs } from '../../core/emr/spark-resources';
import type { JobRunStore } from '../../core/runs/job-run-store';
import type { RunInput } from '../../core/runs/run-input';
import type { TaskError } from './job-steps';
import type { JobConfig } from '../../core/config/types';
import { jobNamed, type Pipeline } from '../../core/config/load-config';
import { sparkModuleName, sparkPackageRoot } from '../../core/config/spark-package';
import { LandfallError } from '../../core/errors';
import type { OutputCheckResult } from '../../core/runs/job-run-store';
import { type SparkChecksReport, checksOfStage, checksPlanKey, checksReportKey, sparkCheckResults, sparkChecksPlan } from './spark-checks';
import { checkFailureMessage } from '../../core/runs/job-run-store';
import { checkFailureSummary } from '../../core/checks/check-queries';
import { checkMetricsLine } from '../../core/alerts';
import { readObjectText } from '../../core/s3/object-io';
import { OutputCheckFailedError } from '../../core/checks/check-failed';

export interface EmrFlowDeps {
  emr: EMRClient;
  /** which cell ARC routes to */
  arc: Pick<ArcRouter, 'activeCell' | 'failover'>;
  s3: S3Client;
  runs: JobRunStore;
  /** who may create a cell's cluster (transient mode) */
  claims: CellClaims;
  lakeBucket: string;
  /** the mode, the two cells and (transient) how a cluster is made */
  settings: EmrSettings;
  /** s3:// URI of the Spark job's entry point (spark/landfall_jobs/main.py, uploaded with the deploy) */
  sparkEntryPoint: string;
  /** extra spark-submit arguments before the entry point (e.g. --py-files); a job's own resources come after them and win */
  sparkSubmitArgs?: string[];
  /** step failures on one cluster before failing over (default 3) */
  maxStepFailures?: number;
  /** failovers in one run before giving up (default 2) */
  maxFailovers?: number;
  /** clusters of one cell that ended under a run (idle timeout, an operator) before it fails over instead (default 3) */
  maxClusterEnds?: number;
  /** seconds between looks while another run creates the cell's cluster (default 30) */
  clusterWaitSeconds?: number;
  backoffBaseSeconds?: number;
  random?: () => number;
  now?: () => Date;
  /** the deployment's stage, the Stage dimension of the output checks' metrics */
  deploymentStage?: string;
  /** where the output checks' metric line goes (an EMF document: CloudWatch Logs turns it into metrics) */
  emitMetrics?: (line: string) => void;
}

/** A job as the EMR flow runs it: its configuration and each stage's Spark module (an import name). */
export interface EmrJob {
  config: JobConfig;
  modules: Record<string, string>;
}

/** The job a run names, with the import name of each stage's Spark module. */
export function emrJobOf(pipeline: Pipeline, name: string): EmrJob {
  const config = jobNamed(pipeline, name);
  const root = sparkPackageRoot(pipeline.config);
  return { config, modules: Object.fromEntries(config.stages.flatMap((s) => (s.spark && root ? [[s.name, sparkModuleName(root, s.spark)]] : []))) };
}

/** The state the EMR state machine carries from task to task. */
export interface EmrRunState {
  run: RunInput;
  /** the cell (by name) the current stage runs in */
  cell: string;
  /** the cell's cluster the current stage runs on, once acquired */
  clusterId?: string;
  /** acquire: another run is creating the cell's cluster; look again after waitSeconds */
  waiting?: boolean;
  waitSeconds?: number;
  /** clusters that ended under this run in its current cell (idle timeout, an operator) */
  clusterEnds?: number;
  stage?: string;
  done?: boolean;
  /** submissions of this run so far: part of each step's name, so a new attempt is a new step */
  attempt: number;
  /** step failures of the current stage on the current cluster */
  failures: number;
  failovers: number;
  stepId?: string;
  stepState?: string;
  next?: 'retry' | 'failover';
  backoffSeconds?: number;
  error?: TaskError;
  /** the output checks' results once the current stage's step completed (null: the stage has none); the checkpoint records them */
  checks?: OutputCheckResult[] | null;
}

export class FailoverExhaustedError extends LandfallError {
  override readonly name = 'FailoverExhaustedError';
  readonly code = 'FAILOVER_EXHAUSTED';
}

const DONE_MARKER = '_landfall_done';

/** Where a run's Spark job reads, resumes and writes. Checkpoints belong to the input generation, so a retry resumes them. */
export function emrPaths(run: RunInput, bucket: string, outputTable: string) {
  const batch = Object.values(run.values).join('-');
  const checkpointPrefix = `checkpoints/${run.job}/${batch}/${run.fingerprint.slice(0, 16)}/`;
  return {
    inputPrefix: `runs/${run.executionName}/input/`,
    checkpointPrefix,
    input: `s3://${bucket}/runs/${run.executionName}/input`,
    checkpoint: `s3://${bucket}/${checkpointPrefix.slice(0, -1)}`,
    output: `s3://${bucket}/curated/${outputTable}`,
    doneMarker: (stage: string) => `${checkpointPrefix}${stage}/${DONE_MARKER}`,
  };
}

function cellNamed(deps: EmrFlowDeps, name: string): EmrCell {
  const cell = deps.settings.cells.find((c) => c.name === name);
  if (!cell) throw new Error(`ARC names cell "${name}", which is not configured (${deps.settings.cells.map((c) => c.name).join(', ')})`);
  return cell;
}

async function exists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (err) {
    if ((err as Error).name === 'NotFound' || (err as Error).name === 'NoSuchKey') return false;
    throw err;
  }
}

/**
 * Stages exactly the Parquet versions the run claimed under runs/<execution>/input/<relation>/
 * (server-side copies; idempotent) and picks the cell ARC says is active.
 */
export async function prepareEmrRun(run: RunInput, outputTable: string, deps: EmrFlowDeps): Promise<EmrRunState> {
  const paths = emrPaths(run, deps.lakeBucket, outputTable);
  for (const [relation, files] of Object.entries(run.inputs)) {
    for (const [i, file] of files.entries()) {
      const source = `${deps.lakeBucket}/${encodeURIComponent(file.processedKey).replace(/%2F/g, '/')}${file.processedVersionId ? `?versionId=${file.processedVersionId}` : ''}`;
      await deps.s3.send(
        new CopyObjectCommand({ Bucket: deps.lakeBucket, Key: `${paths.inputPrefix}${relation}/${String(i).padStart(5, '0')}.parquet`, CopySource: source }),
      );
    }
  }
  return { run, cell: await deps.arc.activeCell(), attempt: 0, failures: 0, failovers: 0 };
}

/** The first stage whose checkpoint is not complete (a completed stage is never run again), or done. */
export async function nextEmrStage(state: EmrRunState, outputTable: string, deps: EmrFlowDeps): Promise<EmrRunState> {
  const paths = emrPaths(state.run, deps.lakeBucket, outputTable);
  for (const stage of state.run.stages) {
    if (!(await exists(deps.s3, deps.lakeBucket, paths.doneMarker(stage.name)))) return { ...clean(state), stage: stage.name, done: false };
  }
  return { ...clean(state), done: true };
}

/** Drops the per-step fields of the previous stage. */
function clean(state: EmrRunState): EmrRunState {
  const { stepId: _s, stepState: _t, next: _n, backoffSeconds: _b, error: _e, stage: _g, done: _d, waiting: _w, waitSeconds: _ws, checks: _k, ...rest } = state;
  return rest;
}

/**
 * The cluster the next step runs on, in the cell ARC says is active (another run may have failed
 * over since): standing mode's configured cluster, or transient mode's shared cluster of the
 * cell, created when none is up. While another run creates it, `waiting` says to look again.
 */
export async function acquireEmrCluster(state: EmrRunState, deps: EmrFlowDeps): Promise<EmrRunState> {
  const cell = cellNamed(deps, await deps.arc.activeCell());
  const moved = cell.name !== state.cell;
  const base = { ...state, cell: cell.name, ...(moved ? { clusterEnds: 0 } : {}) };
  const acquired =
    deps.settings.mode === 'standing'
      ? await standingCellCluster(deps.emr, cell)
      : await acquireCellCluster(
          {
            emr: deps.emr,
            claims: deps.claims,
            spec: deps.settings.cluster!,
            ...(deps.now ? { now: deps.now } : {}),
            ...(deps.clusterWaitSeconds ? { waitSeconds: deps.clusterWaitSeconds } : {}),
          },
          cell,
          state.run.executionName,
        );
  if ('waitSeconds' in acquired) {
    const { clusterId: _c, ...rest } = base;
    return { ...rest, waiting: true, waitSeconds: acquired.waitSeconds };
  }
  const { waitSeconds: _w, ...rest } = base;
  return { ...rest, clusterId: acquired.clusterId, waiting: false };
}

/**
 * The cluster ended under the run (idle timeout between stages, an operator terminated it): its
 * cell is fine, so acquire again there — unless that keeps happening, then fail over.
 */
export function afterClusterEnded(state: EmrRunState, deps: EmrFlowDeps): EmrRunState {
  const clusterEnds = (state.clusterEnds ?? 0) + 1;
  if (deps.settings.mode === 'standing' || clusterEnds >= (deps.maxClusterEnds ?? 3)) {
    throw new ClusterUnhealthyError('CLUSTER_ENDED', {
      clusterId: state.clusterId ?? '(none)',
      detail: `${clusterEnds} cluster(s) of cell ${state.cell} ended under this run: ${state.error?.Cause?.slice(0, 300) ?? ''}`,
    });
  }
  const { clusterId: _c, stepId: _s, stepState: _t, ...rest } = state;
  return { ...rest, clusterEnds, attempt: state.attempt + 1 };
}

/** Adds the stage as a spark-submit step to the acquired cluster; a retried call finds the step it added. */
export async function submitEmrStage(state: EmrRunState, job: EmrJob, deps: EmrFlowDeps): Promise<EmrRunState> {
  if (!state.stage) throw new Error('no stage to submit');
  if (!state.clusterId) throw new Error('no cluster acquired for the stage');
  const module = job.modules[state.stage];
  if (!module) throw new Error(`job ${job.config.name} has no Spark module for stage "${state.stage}"`);
  const paths = emrPaths(state.run, deps.lakeBucket, job.config.output.table);
  const { batchKey, dateField, output } = job.config;
  const args = [
    'spark-submit',
    ...(deps.sparkSubmitArgs ?? []),
    ...sparkResourceArgs(job.config.spark),
    deps.sparkEntryPoint,
    '--stage',
    state.stage,
    '--module',
    module,
    '--input-root',
    paths.input,
    '--checkpoint-root',
    paths.checkpoint,
    '--output-root',
    paths.output,
    ...batchKey.flatMap((k) => ['--batch', `${k}=${state.run.values[k] ?? ''}`]),
    '--date-field',
    dateField,
    ...(output.partitionBy.length > 0 ? ['--partition-by', output.partitionBy.join(',')] : []),
  ];
  // the job's checks, on its last stage: the queries as Spark SQL beside the run's inputs (rewritten by a retry: the same plan)
  const plan = sparkChecksPlan(job.config, state.stage);
  if (plan) {
    const key = checksPlanKey(state.run, state.stage);
    await deps.s3.send(new PutObjectCommand({ Bucket: deps.lakeBucket, Key: key, Body: JSON.stringify(plan), ContentType: 'application/json' }));
    args.push('--checks', `s3://${deps.lakeBucket}/${key}`);
  }
  const name = `${state.run.executionName}-${state.stage}-${state.cell}-a${state.attempt}`;
  const { stepId } = await submitStep(deps.emr, state.clusterId, { name, args });
  return { ...state, stepId };
}

/**
 * A step still PENDING on a transient cluster may be waiting for a cluster that will not come up in
 * time. A step COMPLETED: the job's output checks' results when it ran them (checkEmrStage; given
 * the job), which may end the run CHECK_FAILED.
 */
export async function pollEmrStage(state: EmrRunState, deps: EmrFlowDeps, job?: EmrJob): Promise<EmrRunState> {
  const progress = await pollStep(deps.emr, state.clusterId!, state.stepId!);
  if (progress.state === 'PENDING' && deps.settings.mode === 'transient') {
    await checkProvisioning(deps.emr, state.clusterId!, deps.settings.cluster!.provisionTimeoutMinutes, (deps.now ?? (() => new Date()))());
  }
  const polled = { ...state, stepState: progress.state };
  return progress.state === 'COMPLETED' && job ? checkEmrStage(polled, job, deps) : polled;
}

/** A step failed on a healthy cluster: retry there with exponential backoff and jitter, or fail over after too many. */
export function afterStepFailure(state: EmrRunState, deps: EmrFlowDeps): EmrRunState {
  const failures = state.failures + 1;
  if (failures >= (deps.maxStepFailures ?? 3)) return { ...state, failures, next: 'failover' };
  const base = (deps.backoffBaseSeconds ?? 30) * 2 ** (failures - 1);
  const backoffSeconds = Math.max(1, Math.round(Math.min(600, base) * (0.5 + (deps.random ?? Math.random)() / 2)));
  return { ...state, failures, attempt: state.attempt + 1, next: 'retry', backoffSeconds };
}

/** Flips ARC to the other cell (recorded with its reason) and carries on there from the same stage. */
export async function failoverEmr(state: EmrRunState, deps: EmrFlowDeps): Promise<EmrRunState> {
  if (state.failovers >= (deps.maxFailovers ?? 2)) {
    throw new FailoverExhaustedError(`gave up after ${state.failovers} failovers; last error: ${state.error?.Error ?? 'unknown'}: ${state.error?.Cause ?? ''}`);
  }
  const where = state.clusterId ? `${state.cell} (${state.clusterId})` : state.cell;
  const reason = `${state.run.executionName} stage ${state.stage ?? '?'} in ${where}: ${state.error?.Error ?? 'step failures'}${state.error?.Cause ? ` (${state.error.Cause.slice(0, 300)})` : ''}`;
  const result = await deps.arc.failover(state.cell, reason);
  const cell = result.flipped ? result.to : result.active;
  if (result.flipped) await deps.runs.recordFailover({ ...result, execution: state.run.executionName, batchId: state.run.batchId });
  const { clusterId: _c, ...rest } = clean(state);
  return { ...rest, stage: state.stage!, done: false, cell, clusterEnds: 0, failures: 0, failovers: state.failovers + 1, attempt: state.attempt + 1 };
}

/** A check Spark could not run as written (a column the output lacks, SQL it cannot bind): a FAILED run, nothing published. */
export class OutputCheckInvalidError extends LandfallError {
  override readonly name = 'OutputCheckInvalidError';
  readonly code = 'OUTPUT_CHECK_INVALID';
}

/**
 * After the stage's step completed: the results of the job's checks when this stage ran them (its
 * last), from the report Spark left beside the checkpoint; `checks` is null for any other stage.
 * A failed `error` check throws OutputCheckFailedError (Spark published nothing); a check that
 * could not run throws OutputCheckInvalidError. Reading the same report again gives the same results.
 */
export async function checkEmrStage(state: EmrRunState, job: EmrJob, deps: EmrFlowDeps): Promise<EmrRunState> {
  if (!state.stage) throw new Error('no stage to check');
  const checks = checksOfStage(job.config, state.stage);
  if (!checks) return { ...state, checks: null };
  const paths = emrPaths(state.run, deps.lakeBucket, job.config.output.table);
  const report = JSON.parse(await readObjectText(deps.s3, deps.lakeBucket, checksReportKey(paths.checkpointPrefix, state.stage))) as SparkChecksReport;
  const found = sparkCheckResults(checks, report);
  if ('invalid' in found)
    throw new OutputCheckInvalidError(
      `job ${job.config.name}, stage ${state.stage}: ${found.invalid}; nothing was published (a configuration mistake: fix the check or the stage, then retry)`,
    );
  const { results } = found;
  (deps.emitMetrics ?? console.log)(checkMetricsLine(deps.deploymentStage ?? 'unknown', job.config.name, results));
  const errors = results.filter((r) => !r.passed && r.severity === 'error');
  if (errors.length > 0)
    throw new OutputCheckFailedError(checkFailureMessage(checkFailureSummary(job.config.name, state.run.values, state.stage, errors), results));
  if (!report.published) throw new Error(`job ${job.config.name}, stage ${state.stage}: the step published nothing though every error check passed`);
  return { ...state, checks: results };
}
