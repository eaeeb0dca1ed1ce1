import type { S3Client } from '@aws-sdk/client-s3';
import type { CreationFaultKind, LocalClusterRecord, LocalStepRecord } from './model';

export interface StepRunContext {
  clusterId: string;
  stepId: string;
  name: string;
  /** the step's HadoopJarStep.Args as submitted */
  args: string[];
  /** args with every s3://bucket/key replaced by its local mirror (a directory, or a file for a single object) */
  localArgs: string[];
  /** the step's own directory: its logs (stdout, stderr) and the S3 mirror (s3/<bucket>/<key>) */
  workDir: string;
  /** aborted when the step is cancelled or its cluster goes away; a runner should stop then */
  signal: AbortSignal;
}

export interface LocalEmrOptions {
  /** standing clusters: there from the start, WAITING, never auto-terminated (default none) */
  clusters?: Array<{ id: string; name: string; availabilityZone?: string; tags?: Record<string, string> }>;
  /**
   * Mirrors every s3://bucket/prefix argument to a local directory: downloaded before the step,
   * everything new or changed uploaded back (and what the step deleted, deleted) after it succeeds.
   */
  s3: S3Client;
  /**
   * Runs the command. Default: spawn localArgs[0] (`spark-submit` resolved through `sparkSubmit`,
   * run with `--master <sparkMaster>` instead of the cluster's YARN and deploy mode) with the rest,
   * stdout/stderr to workDir; resolves on exit 0, rejects with the exit code and the log's tail.
   */
  runStep?: (ctx: StepRunContext) => Promise<void>;
  /** path of the spark-submit to use for 'spark-submit' (default: spark-submit on PATH) */
  sparkSubmit?: string;
  /** the master the default runner gives spark-submit (default local[*]) */
  sparkMaster?: string;
  region?: string;
  accountId?: string;
  /** where step directories go (default: a new temporary directory, removed by stop()) */
  workDir?: string;
  /** ListSteps/ListClusters page size (AWS: 50) */
  pageSize?: number;
  /**
   * The clusters' LogUri (s3://bucket/prefix/): as on EMR, a failed step's stderr is put, gzipped,
   * at <logUri><cluster>/steps/<step>/stderr.gz and FailureDetails.LogFile names it. Without
   * it, LogFile is the step's local stderr file. A cluster made by RunJobFlow with a LogUri uses its own.
   */
  logUri?: string;
  /**
   * The subnets RunJobFlow may use, with their Availability Zones; another subnet is a
   * ValidationException. Without it any subnet is accepted, in AZ <region>a.
   */
  subnets?: Record<string, string>;
  /** STARTING → BOOTSTRAPPING after this long (default 0) */
  provisioningDelayMs?: number;
  /** BOOTSTRAPPING → WAITING after this long (default 0) */
  bootstrapDelayMs?: number;
  /** TERMINATING → TERMINATED(_WITH_ERRORS) after this long (default 0) */
  terminationDelayMs?: number;
  /** milliseconds per second of AutoTerminationPolicy.IdleTimeout (default 1000; e.g. 50 makes 60 s last 3 s) */
  idleTimeoutScaleMs?: number;
}

export interface LocalEmr {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** steps in submission order, of one cluster or all */
  steps(clusterId?: string): LocalStepRecord[];
  /** every cluster, standing and created, in creation order */
  clusters(): LocalClusterRecord[];
  /** the next step that starts on the cluster ends FAILED with FailureDetails (message, log file) */
  failNextStep(clusterId: string, message?: string): void;
  /**
   * The cluster goes TERMINATED_WITH_ERRORS at once (INSTANCE_FAILURE; the message names an impaired AZ for
   * 'az-impaired'); its running step becomes INTERRUPTED, pending ones CANCELLED; AddJobFlowSteps is refused.
   */
  makeUnhealthy(clusterId: string, how: 'terminated' | 'az-impaired'): void;
  /** back to WAITING (as if replaced by a new cluster under the same id) */
  makeHealthy(clusterId: string): void;
  /**
   * The next `times` clusters (default 1; Infinity allowed) RunJobFlow creates in that subnet and/or
   * AZ end TERMINATED_WITH_ERRORS: 'capacity' (INSTANCE_FLEET_TIMEOUT) and 'az-impaired'
   * (INTERNAL_ERROR) after provisioning, 'bootstrap' (BOOTSTRAP_FAILURE) while bootstrapping.
   */
  failCreation(where: { subnetId?: string; availabilityZone?: string }, kind: CreationFaultKind, times?: number): void;
  clearCreationFaults(): void;
  /** called when a step starts (RUNNING, before its inputs are staged), e.g. to fail a cluster mid-stage */
  onStepStart(hook: (ctx: StepRunContext) => void | Promise<void>): void;
  /** the next `count` API calls answer with this error (500 InternalServerError by default) */
  failApiCalls(count: number, errorType?: 'InternalServerError' | 'ThrottlingException'): void;
  /** resolves when no step is pending or running on any cluster (rejects after timeoutMs, default 300 s) */
  idle(timeoutMs?: number): Promise<void>;
  /** resolves when every cluster RunJobFlow made is TERMINATED or TERMINATED_WITH_ERRORS (rejects after timeoutMs, default 300 s) */
  allEnded(timeoutMs?: number): Promise<void>;
  /** cancels what still runs, ends the lifecycle timers and closes the server */
  stop(): Promise<void>;
}
