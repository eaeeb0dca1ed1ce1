import { describe, expect, it } from 'vitest';
import { DescribeExecutionCommand, ExecutionDoesNotExist, type DescribeExecutionCommandOutput, type SFNClient } from '@aws-sdk/client-sfn';
import type { JobConfig } from '../../shared/core/config/types';
import { CLAIM_GRACE_MS, type BatchItem, type JobRunStore } from '../../shared/core/runs/job-run-store';
import { checkActiveRun, executionArnFor } from '../../shared/stages/resolve/active-runs';

/* The check of a batch's active claim against Step Functions, with plain fakes for both. */

const ARNS = {
  duckdb: 'arn:aws:states:us-east-1:000000000000:stateMachine:landfall-test-job-run',
  emr: 'arn:aws:states:us-east-1:000000000000:stateMachine:landfall-test-emr-job-run',
};
const NAME = 'pos_daily_sales-ON-2026-11-23-abcdef012345';
const NOW = new Date('2026-11-23T12:00:00Z');
const job = { name: 'pos_daily_sales', engine: 'duckdb' } as JobConfig;

/** Step Functions knowing these executions (by ARN); any other is ExecutionDoesNotExist. */
function fakeSfn(executions: Record<string, Partial<DescribeExecutionCommandOutput> | Error>) {
  const described: string[] = [];
  const sfn = {
    send: async (command: unknown) => {
      if (!(command instanceof DescribeExecutionCommand)) throw new Error(`unexpected ${String(command)}`);
      const arn = command.input.executionArn!;
      described.push(arn);
      const found = executions[arn];
      if (found instanceof Error) throw found;
      if (!found) throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${arn}'`, $metadata: {} });
      return { executionArn: arn, ...found };
    },
  } as unknown as SFNClient;
  return { sfn, described };
}

/** The job-runs store's writes, recorded; `releases` says whether a release applies. */
function fakeRuns(releases = true) {
  const calls: unknown[][] = [];
  const runs = {
    releaseClaim: async (...args: unknown[]) => {
      calls.push(['releaseClaim', ...args]);
      return releases;
    },
    markStarted: async (...args: unknown[]) => {
      calls.push(['markStarted', ...args]);
    },
    finishRun: async (...args: unknown[]) => {
      calls.push(['finishRun', ...args]);
    },
  } as unknown as JobRunStore;
  return { runs, calls };
}

function batch(claim: Partial<NonNullable<BatchItem['activeRun']>> = {}, over: Partial<BatchItem> = {}): BatchItem {
  return {
    pk: 'BATCH#b',
    sk: 'BATCH',
    job: job.name,
    batchId: 'b',
    values: { province: 'ON', date: '2026-11-23' },
    status: 'RUNNING',
    waitingFor: [],
    activeRun: { executionName: NAME, fingerprint: 'f', claimedAt: new Date(NOW.getTime() - CLAIM_GRACE_MS).toISOString(), engine: 'duckdb', ...claim },
    updatedAt: NOW.toISOString(),
    ...over,
  };
}

const arnOf = (engine: 'duckdb' | 'emr') => executionArnFor(ARNS[engine], NAME);

describe('the execution ARN of a claim', () => {
  it('is the state machine ARN with :execution: and the name', () => {
    expect(executionArnFor(ARNS.duckdb, NAME)).toBe(`arn:aws:states:us-east-1:000000000000:execution:landfall-test-job-run:${NAME}`);
  });
});

describe('checking an active claim', () => {
  it('leaves a claim younger than the grace period alone, without asking for it by name', async () => {
    const { sfn, described } = fakeSfn({});
    const { runs, calls } = fakeRuns();
    const young = batch({ claimedAt: new Date(NOW.getTime() - CLAIM_GRACE_MS + 1).toISOString() });
    expect(await checkActiveRun({ sfn, runs, stateMachineArns: ARNS }, job, young, NOW)).toEqual({ kind: 'young', executionName: NAME });
    expect(described).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('releases a claim whose execution was never started, once the grace period is over', async () => {
    const { sfn, described } = fakeSfn({});
    const { runs, calls } = fakeRuns();
    const check = await checkActiveRun(
      { sfn, runs, stateMachineArns: ARNS },
      job,
      batch({}, { lastRun: { executionName: 'earlier', fingerprint: 'e', status: 'SUCCEEDED', finishedAt: '2026-11-22T10:00:00Z' } }),
      NOW,
    );
    expect(check).toEqual({ kind: 'released', executionName: NAME });
    expect(described).toEqual([arnOf('duckdb')]);
    // the batch goes back to what its last run left
    expect(calls).toEqual([['releaseClaim', 'b', NAME, 'SUCCEEDED', NOW]]);
  });

  it('releases a first claim back to WAITING', async () => {
    const { sfn } = fakeSfn({});
    const { runs, calls } = fakeRuns();
    await checkActiveRun({ sfn, runs, stateMachineArns: ARNS }, job, batch(), NOW);
    expect(calls).toEqual([['releaseClaim', 'b', NAME, 'WAITING', NOW]]);
  });

  it('does nothing when the claim moved on before its release', async () => {
    const { sfn } = fakeSfn({});
    const { runs } = fakeRuns(false);
    expect(await checkActiveRun({ sfn, runs, stateMachineArns: ARNS }, job, batch(), NOW)).toEqual({ kind: 'young', executionName: NAME });
  });

  it("finds by name an execution its resolver started but did not record, on the claim's engine", async () => {
    const { sfn, described } = fakeSfn({ [arnOf('emr')]: { status: 'RUNNING' } });
    const { runs, calls } = fakeRuns();
    const check = await checkActiveRun({ sfn, runs, stateMachineArns: ARNS }, { ...job, engine: 'auto' }, batch({ engine: 'emr' }), NOW);
    expect(check).toEqual({ kind: 'live', executionName: NAME, executionArn: arnOf('emr') });
    expect(described).toEqual([arnOf('emr')]);
    expect(calls).toEqual([['markStarted', 'b', NAME, arnOf('emr')]]);
  });

  it("looks an auto job's claim without an engine up on the DuckDB state machine, an emr job's on the EMR one", async () => {
    const claim = batch();
    delete claim.activeRun!.engine;
    const auto = fakeSfn({});
    await checkActiveRun({ sfn: auto.sfn, runs: fakeRuns().runs, stateMachineArns: ARNS }, { ...job, engine: 'auto' }, claim, NOW);
    expect(auto.described).toEqual([arnOf('duckdb')]);
    const emr = fakeSfn({});
    await checkActiveRun({ sfn: emr.sfn, runs: fakeRuns().runs, stateMachineArns: ARNS }, { ...job, engine: 'emr' }, claim, NOW);
    expect(emr.described).toEqual([arnOf('emr')]);
  });

  it.each(['RUNNING', 'PENDING_REDRIVE'])("leaves a %s execution alone, whatever the claim's age", async (status) => {
    const arn = arnOf('duckdb');
    const { sfn } = fakeSfn({ [arn]: { status: status as DescribeExecutionCommandOutput['status'] } });
    const { runs, calls } = fakeRuns();
    const young = batch({ executionArn: arn, claimedAt: NOW.toISOString() });
    expect(await checkActiveRun({ sfn, runs, stateMachineArns: ARNS }, job, young, NOW)).toEqual({ kind: 'live', executionName: NAME, executionArn: arn });
    expect(calls).toEqual([]);
  });

  it('records a run whose execution succeeded without recording it', async () => {
    const arn = arnOf('duckdb');
    const { sfn } = fakeSfn({ [arn]: { status: 'SUCCEEDED' } });
    const { runs, calls } = fakeRuns();
    expect(await checkActiveRun({ sfn, runs, stateMachineArns: ARNS }, job, batch({ executionArn: arn }), NOW)).toEqual({
      kind: 'recorded',
      executionName: NAME,
      executionArn: arn,
      status: 'SUCCEEDED',
      executionStatus: 'SUCCEEDED',
    });
    expect(calls).toEqual([['finishRun', 'b', NAME, 'SUCCEEDED', undefined, NOW]]);
  });

  it.each([
    ['ABORTED', 'ExecutionAborted'],
    ['TIMED_OUT', 'ExecutionTimedOut'],
    ['FAILED', 'ExecutionFailed'],
  ])('records a run whose execution ended %s as FAILED with the error %s', async (status, error) => {
    const arn = arnOf('duckdb');
    const { sfn } = fakeSfn({ [arn]: { status: status as DescribeExecutionCommandOutput['status'] } });
    const { runs, calls } = fakeRuns();
    const check = await checkActiveRun({ sfn, runs, stateMachineArns: ARNS }, job, batch({ executionArn: arn }), NOW);
    const expected = { error, cause: `the execution ended ${status} without recording the run` };
    expect(check).toEqual({ kind: 'recorded', executionName: NAME, executionArn: arn, status: 'FAILED', executionStatus: status, error: expected });
    expect(calls).toEqual([['finishRun', 'b', NAME, 'FAILED', expected, NOW]]);
  });

  it('records a run whose execution an output check stopped as CHECK_FAILED', async () => {
    const arn = arnOf('duckdb');
    const { sfn } = fakeSfn({ [arn]: { status: 'FAILED', error: 'OutputCheckFailedError', cause: 'unique failed' } });
    const { runs, calls } = fakeRuns();
    const check = await checkActiveRun({ sfn, runs, stateMachineArns: ARNS }, job, batch({ executionArn: arn }), NOW);
    expect(check).toMatchObject({ kind: 'recorded', status: 'CHECK_FAILED' });
    expect(calls[0]).toEqual(['finishRun', 'b', NAME, 'CHECK_FAILED', { error: 'ExecutionFailed', cause: 'OutputCheckFailedError: unique failed' }, NOW]);
  });

  it("keeps the execution's own error and cause", async () => {
    const arn = arnOf('duckdb');
    const { sfn } = fakeSfn({ [arn]: { status: 'FAILED', error: 'States.TaskFailed', cause: 'the task crashed' } });
    const check = await checkActiveRun({ sfn, runs: fakeRuns().runs, stateMachineArns: ARNS }, job, batch({ executionArn: arn }), NOW);
    expect(check).toMatchObject({ error: { error: 'ExecutionFailed', cause: 'States.TaskFailed: the task crashed' } });
    const onlyCause = fakeSfn({ [arn]: { status: 'ABORTED', cause: 'stopped by an operator' } });
    expect(await checkActiveRun({ sfn: onlyCause.sfn, runs: fakeRuns().runs, stateMachineArns: ARNS }, job, batch({ executionArn: arn }), NOW)).toMatchObject({
      error: { error: 'ExecutionAborted', cause: 'stopped by an operator' },
    });
  });

  it('falls back to the lookup by name when the recorded execution is gone', async () => {
    const recorded = 'arn:aws:states:us-east-1:000000000000:execution:old-machine:x';
    const { sfn, described } = fakeSfn({});
    const { runs, calls } = fakeRuns();
    expect(await checkActiveRun({ sfn, runs, stateMachineArns: ARNS }, job, batch({ executionArn: recorded }), NOW)).toEqual({
      kind: 'released',
      executionName: NAME,
    });
    expect(described).toEqual([recorded, arnOf('duckdb')]);
    expect(calls.map((c) => c[0])).toEqual(['releaseClaim']);
  });

  it("takes an ExecutionDoesNotExist by its name too (another SDK copy's class)", async () => {
    const gone = Object.assign(new Error('Execution Does Not Exist'), { name: 'ExecutionDoesNotExist' });
    const { sfn } = fakeSfn({ [arnOf('duckdb')]: gone });
    expect(await checkActiveRun({ sfn, runs: fakeRuns().runs, stateMachineArns: ARNS }, job, batch(), NOW)).toEqual({ kind: 'released', executionName: NAME });
  });

  it('lets any other Step Functions error through, changing nothing', async () => {
    const arn = arnOf('duckdb');
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const { sfn } = fakeSfn({ [arn]: throttled });
    const { runs, calls } = fakeRuns();
    await expect(checkActiveRun({ sfn, runs, stateMachineArns: ARNS }, job, batch({ executionArn: arn }), NOW)).rejects.toBe(throttled);
    await expect(checkActiveRun({ sfn, runs, stateMachineArns: ARNS }, job, batch(), NOW)).rejects.toBe(throttled);
    expect(calls).toEqual([]);
  });
});
