import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Lifecycle } from './clusters';
import { accepting, canRunSteps, settle, type ClusterRecord, type StepRecord, type StepState } from './model';
import { mirrorArgs, stageIn, stageOut } from './s3-mirror';
import type { StepRunContext } from './types';

/**
 * Step execution: each cluster runs its PENDING steps in submission order, up to its
 * StepConcurrencyLevel at a time (EMR's default 1: one after another), once it is WAITING or
 * RUNNING. A step's state may change under its executor (CancelSteps, the cluster ending).
 */

export const COMMAND_RUNNER = 'command-runner.jar';

export interface StepEngineOptions {
  s3: S3Client;
  /** step directories go to <root>/<cluster>/<step> */
  root: string;
  runStep: (ctx: StepRunContext) => Promise<void>;
  /** a runner was injected: it takes any jar, not just command-runner.jar */
  customRunner: boolean;
  hooks: Array<(ctx: StepRunContext) => void | Promise<void>>;
  /** options.logUri: where failed steps' logs go unless the cluster has its own LogUri */
  logUri?: string;
  lifecycle: Pick<Lifecycle, 'stepStarted' | 'stepsDone' | 'terminate'>;
  changed(): void;
  isStopped(): boolean;
}

export function stepEngine(options: StepEngineOptions) {
  /** Where a failed step's stderr is for the caller: under the LogUri in S3 (as EMR puts it), or the local file. */
  const publishedLog = async (cluster: ClusterRecord, stepId: string, logFile: string): Promise<string> => {
    const logUri = cluster.config.logUri ?? options.logUri;
    const m = logUri ? /^s3:\/\/([^/]+)\/?(.*)$/.exec(logUri) : null;
    if (!m) return logFile;
    const key = `${m[2] ? `${m[2].replace(/\/?$/, '/')}` : ''}${cluster.id}/steps/${stepId}/stderr.gz`;
    try {
      await options.s3.send(
        new PutObjectCommand({ Bucket: m[1]!, Key: key, Body: gzipSync(await readFile(logFile)), ContentType: 'text/plain', ContentEncoding: 'gzip' }),
      );
      return `s3://${m[1]}/${key}`;
    } catch {
      return logFile;
    }
  };

  /** One step, start to end; its state may be changed under it (cancel, cluster failure). */
  const execute = async (cluster: ClusterRecord, step: StepRecord): Promise<void> => {
    const abort = new AbortController();
    step.abort = abort;
    step.state = 'RUNNING';
    step.startedAt = new Date();
    options.lifecycle.stepStarted(cluster);
    const workDir = join(options.root, cluster.id, step.id);
    step.workDir = workDir;
    const logFile = join(workDir, 'stderr');
    // read through a function: the state changes under this code (cancel, cluster failure)
    const stateNow = (): StepState => step.state;
    const running = () => stateNow() === 'RUNNING';
    const fail = async (reason: string, message: string) => {
      await appendFile(logFile, `${message}\n`).catch(() => undefined);
      if (running())
        settle(step, 'FAILED', { failure: { Reason: reason, Message: message.slice(0, 10_000), LogFile: await publishedLog(cluster, step.id, logFile) } });
    };
    let keepMirror = true;
    try {
      await mkdir(workDir, { recursive: true });
      await Promise.all([writeFile(join(workDir, 'stdout'), ''), writeFile(logFile, '')]);
      const { localArgs, roots } = mirrorArgs(step.args, join(workDir, 's3'));
      const ctx: StepRunContext = { clusterId: cluster.id, stepId: step.id, name: step.name, args: [...step.args], localArgs, workDir, signal: abort.signal };
      for (const hook of options.hooks) await hook(ctx);
      if (!running()) return;
      const injected = cluster.failNext.shift();
      if (injected !== undefined) return await fail('Unknown Error.', injected);
      if (step.jar !== COMMAND_RUNNER && !options.customRunner) {
        return await fail('Unknown Error.', `the local EMR runs only ${COMMAND_RUNNER} steps, not ${step.jar}`);
      }
      const staged = await stageIn(options.s3, roots);
      if (!running()) return;
      await options.runStep(ctx);
      if (!running()) return;
      const { uploaded, deleted } = await stageOut(options.s3, staged);
      step.uploaded = uploaded;
      step.deleted = deleted;
      if (!running()) return;
      settle(step, 'COMPLETED');
      keepMirror = false;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await fail('Unknown Error.', message);
    } finally {
      if (stateNow() === 'CANCEL_PENDING') settle(step, 'CANCELLED');
      if (stateNow() === 'RUNNING')
        settle(step, 'FAILED', { failure: { Reason: 'Unknown Error.', Message: 'the step ended without an outcome', LogFile: logFile } });
      step.abort = undefined;
      // A failed step's mirror stays for a look; a completed one's data is in S3.
      if (!keepMirror || stateNow() === 'CANCELLED' || stateNow() === 'INTERRUPTED')
        await rm(join(workDir, 's3'), { recursive: true, force: true }).catch(() => undefined);
      if (stateNow() === 'FAILED' && accepting(cluster)) {
        if (step.actionOnFailure === 'CANCEL_AND_WAIT') {
          for (const s of cluster.steps)
            if (s.state === 'PENDING') settle(s, 'CANCELLED', { reason: `Cancelled: step ${step.id} failed with ActionOnFailure CANCEL_AND_WAIT` });
        } else if (step.actionOnFailure === 'TERMINATE_CLUSTER' || step.actionOnFailure === 'TERMINATE_JOB_FLOW') {
          options.lifecycle.terminate(cluster, 'STEP_FAILURE', 'Shut down as step failed');
        }
      }
    }
  };

  /** Starts the cluster's next PENDING steps while it has room for them; with none left, the cluster is idle. */
  const pump = (cluster: ClusterRecord): void => {
    if (options.isStopped() || !canRunSteps(cluster)) return;
    while (cluster.active.size < cluster.config.stepConcurrencyLevel) {
      const next = cluster.steps.find((s) => s.state === 'PENDING');
      if (!next) break;
      const executor: Promise<void> = execute(cluster, next) // marks the step RUNNING before it yields
        .catch(() => undefined) // execute records every failure on the step itself
        .finally(() => {
          cluster.active.delete(executor);
          pump(cluster);
          options.changed();
        });
      cluster.active.add(executor);
    }
    if (cluster.active.size === 0) options.lifecycle.stepsDone(cluster);
  };

  return { pump };
}
