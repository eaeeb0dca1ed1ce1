import { describe, expect, it } from 'vitest';
import type { JobConfig } from '../../shared/core/config/types';
import type { Pipeline } from '../../shared/core/config/load-config';
import type { JobRunStore } from '../../shared/core/runs/job-run-store';
import type { RunInput } from '../../shared/core/runs/run-input';
import type { ResolverDeps } from '../../shared/stages/resolve/resolver';
import { BadStepRequestError, INFRASTRUCTURE_ERRORS, runJobStep, type JobStepDeps, type JobStepRequest } from '../../shared/stages/orchestrate/job-steps';
import { rejected } from '../support/thrown';

/* The bookkeeping steps of a job run (start, checkpoint, succeed, next-generation, fail), with a plain fake of the job-runs store. */

const run: RunInput = {
  job: 'pos_daily_sales',
  batchId: 'pos_daily_sales#province=ON#date=2026-11-23',
  values: { province: 'ON', date: '2026-11-23' },
  executionName: 'pos_daily_sales-ON-2026-11-23-abcdef012345',
  fingerprint: 'f',
  inputs: {},
  engine: 'duckdb',
  stages: [{ name: 'aggregate' }],
};

function deps(options: { holds?: boolean; readers?: string[]; recorded?: 'SUCCEEDED' } = {}) {
  const calls: unknown[][] = [];
  const runs = {
    getRun: async () => ({ ...run, status: options.recorded ?? 'RUNNING' }),
    // the resolver's first call: a next generation reaches it here
    getBatch: async (...args: unknown[]) => {
      calls.push(['getBatch', ...args]);
      throw new Error('resolving the batch');
    },
    markRunning: async (...args: unknown[]) => {
      calls.push(['markRunning', ...args]);
      return options.holds ?? true;
    },
    recordStage: async (...args: unknown[]) => {
      calls.push(['recordStage', ...args]);
    },
    finishRun: async (...args: unknown[]) => {
      calls.push(['finishRun', ...args]);
    },
  } as unknown as JobRunStore;
  const job = { name: 'pos_daily_sales', batchKey: ['province', 'date'] } as JobConfig;
  const pipeline = { jobsByName: new Map([[job.name, job]]), readersOf: new Map((options.readers ?? []).map((r) => [r, []])) } as unknown as Pipeline;
  const stepDeps: JobStepDeps = {
    runs,
    resolver: { pipeline, runs } as unknown as ResolverDeps,
    sns: {} as JobStepDeps['sns'],
    failureTopicArn: 'arn:aws:sns:us-east-1:000000000000:failures',
  };
  return { stepDeps, calls };
}

async function badRequest(request: unknown, stepDeps = deps().stepDeps): Promise<BadStepRequestError> {
  return rejected(BadStepRequestError, runJobStep(request as JobStepRequest, stepDeps));
}

describe("a job run's bookkeeping step", () => {
  it('refuses a request without a run, naming it a bad request (not a transient error)', async () => {
    for (const request of [
      { action: 'start' },
      { action: 'start', run: {} },
      { action: 'start', run: { ...run, batchId: '' } },
      { action: 'start', run: { ...run, executionName: undefined } },
    ]) {
      expect((await badRequest(request)).message).toBe('the request has no run');
    }
    expect((await badRequest({ action: 'start' })).name).toBe('BadStepRequestError');
  });

  it('refuses an unknown action', async () => {
    expect((await badRequest({ action: 'retry', run })).message).toBe('unknown action "retry"');
    expect((await badRequest({ run })).message).toBe('unknown action undefined');
  });

  it('starts a run that still holds its claim, returning the run unchanged', async () => {
    const { stepDeps, calls } = deps();
    expect(await runJobStep({ action: 'start', run, executionArn: 'arn:x' }, stepDeps)).toEqual(run);
    expect(calls).toEqual([['markRunning', run.batchId, run.executionName, 'arn:x']]);
  });

  it('marks a run whose claim was released, so that the state machine ends it', async () => {
    const { stepDeps } = deps({ holds: false });
    expect(await runJobStep({ action: 'start', run, executionArn: 'arn:x' }, stepDeps)).toEqual({ ...run, released: true });
  });

  it("records a stage's checkpoint and passes its output on", async () => {
    const { stepDeps, calls } = deps();
    const output = { rows: 12, key: 'curated/x' };
    expect(await runJobStep({ action: 'checkpoint', run, stage: 'aggregate', output }, stepDeps)).toBe(output);
    expect(calls).toEqual([['recordStage', run.batchId, run.executionName, 'aggregate', output]]);
  });

  it('records a failure as restartable only for an infrastructure error', async () => {
    for (const [error, restartable] of [
      ...INFRASTRUCTURE_ERRORS.map((e) => [e, true] as const),
      ['ConfigError', false] as const,
      ['States.TaskFailed', false] as const,
      ['runtime.exiterror', false] as const,
    ]) {
      const { stepDeps, calls } = deps();
      const taskError = { Error: error, Cause: 'it broke' };
      expect(await runJobStep({ action: 'fail', run, error: taskError }, stepDeps)).toEqual({ run, error: taskError });
      expect(calls).toHaveLength(1);
      const [method, batchId, executionName, status, recorded, , options] = calls[0]!;
      expect([method, batchId, executionName, status, recorded, options]).toEqual([
        'finishRun',
        run.batchId,
        run.executionName,
        'FAILED',
        { error, cause: 'it broke' },
        { restartable },
      ]);
    }
  });

  it("records a run's end and only that: the next generation is a step of its own", async () => {
    const { stepDeps, calls } = deps();
    expect(await runJobStep({ action: 'succeed', run }, stepDeps)).toEqual({ status: 'SUCCEEDED', recorded: 'now' });
    expect(calls).toEqual([['finishRun', run.batchId, run.executionName, 'SUCCEEDED']]);
  });

  it('writes nothing when the run was recorded SUCCEEDED already (a retried step cannot fail on a write)', async () => {
    const { stepDeps, calls } = deps({ recorded: 'SUCCEEDED', readers: ['pos_daily_sales'] });
    expect(await runJobStep({ action: 'succeed', run }, { ...stepDeps, s3: {} as JobStepDeps['s3'], lakeBucket: 'lake' })).toEqual({
      status: 'SUCCEEDED',
      recorded: 'before',
    });
    expect(calls).toEqual([]);
  });

  it("starts the batch's next generation through the resolver, and lets its errors through to the step's retries", async () => {
    const { stepDeps, calls } = deps();
    await expect(runJobStep({ action: 'next-generation', run }, stepDeps)).rejects.toThrow('resolving the batch');
    expect(calls).toEqual([['getBatch', run.batchId]]);
  });

  it('refuses to succeed a run read by other jobs without the lake bucket to record its partition, before recording anything', async () => {
    const { stepDeps, calls } = deps({ readers: ['pos_daily_sales'] });
    expect((await badRequest({ action: 'succeed', run }, stepDeps)).message).toBe(
      'job pos_daily_sales is read by other jobs: recording its partition needs the lake bucket',
    );
    expect(calls).toEqual([]);
  });
});
