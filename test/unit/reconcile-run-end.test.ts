import { DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { loadPipelineFile } from '../../shared/core/config/load-config';
import type { BatchItem, JobRunStore } from '../../shared/core/runs/job-run-store';
import type { FileStateStore } from '../../shared/core/state/file-state-store';
import { reconcile, type ReconcileDeps } from '../../shared/stages/reconcile/reconciler';
import { DAY, METERS_PIPELINE } from '../support/meters';

/*
 * A run whose execution SUCCEEDED but whose last step could not record it (MarkSucceeded past its
 * retries ends the execution SUCCEEDED all the same): the reconciler records it from the execution,
 * and for a job other jobs read, its partition first, as MarkSucceeded would have (plain fakes).
 */

const pipeline = loadPipelineFile(METERS_PIPELINE);
const NOW = new Date('2026-05-02T08:00:00.000Z');

/** A claim of `job` whose execution ran (MarkRunning recorded its ARN) and ended SUCCEEDED. */
function claimOf(job: string, values: Record<string, string>): BatchItem {
  const batchId = [job, ...Object.entries(values).map(([k, v]) => `${k}=${v}`)].join('#');
  const executionName = `${job}-${Object.values(values).join('-')}-abcdef012345`;
  return {
    pk: `BATCH#${batchId}`,
    sk: 'BATCH',
    job,
    batchId,
    values,
    status: 'RUNNING',
    waitingFor: [],
    activeRun: {
      executionName,
      fingerprint: 'abcdef012345',
      claimedAt: '2026-05-02T07:00:00.000Z',
      executionArn: `arn:aws:states:us-east-1:000000000000:execution:job-run:${executionName}`,
    },
    updatedAt: '2026-05-02T07:00:00.000Z',
  };
}

/** The reconciler's world: one due claim whose execution SUCCEEDED; every call is noted in order. */
function world(claim: BatchItem) {
  const calls: string[] = [];
  const recorded: unknown[][] = [];
  /** A fake whose every method is noted and answers from `answers` (undefined otherwise). */
  const fake = <T>(name: string, answers: Record<string, (...args: any[]) => unknown> = {}) =>
    new Proxy(
      {},
      {
        get:
          (_target, method: string) =>
          async (...args: unknown[]) => {
            calls.push(`${name}.${method}`);
            return answers[method]?.(...args);
          },
      },
    ) as T;
  const runs = fake<JobRunStore>('runs', {
    activeDue: () => [claim],
    restartsDue: () => [],
    getBatch: () => claim,
    claimRun: () => ({ kind: 'up-to-date' }),
    finishRun: (...args) => void recorded.push(['finishRun', ...args]),
  });
  const files = fake<FileStateStore>('files', {
    openSince: () => [],
    settledBetween: () => [],
    filesOf: () => [],
    recordTransition: (...args) => {
      recorded.push(['recordTransition', ...args]);
      return 'applied';
    },
  });
  const sfn = {
    send: async (command: unknown) => {
      if (!(command instanceof DescribeExecutionCommand)) throw new Error(`unexpected ${String(command)}`);
      calls.push('sfn.DescribeExecution');
      return { executionArn: command.input.executionArn, status: 'SUCCEEDED' };
    },
  } as unknown as SFNClient;
  const s3 = {
    send: async (command: unknown) => {
      if (!(command instanceof HeadObjectCommand)) throw new Error(`unexpected ${String(command)}`);
      calls.push(`s3.HeadObject ${command.input.Key}`);
      return { ContentLength: 2048, ETag: '"pe"', VersionId: 'pv1', Metadata: { 'landfall-rows': '3' } };
    },
  } as unknown as S3Client;
  const deps = {
    pipeline,
    runs,
    files,
    sfn,
    s3,
    sns: { send: async () => ({}) } as unknown as SNSClient,
    stateMachineArns: { duckdb: 'arn:aws:states:us-east-1:000000000000:stateMachine:job-run', emr: 'arn:aws:states:us-east-1:000000000000:stateMachine:emr' },
    alertsTopicArn: 'arn:aws:sns:us-east-1:000000000000:alerts',
    rawBucket: 'raw',
    lakeBucket: 'lake',
    lambda: {},
    functionNames: { validate: 'validate', convert: 'convert', track: 'track' },
  } as unknown as ReconcileDeps;
  return { deps, calls, recorded };
}

describe('the reconciler, for a succeeded execution that could not record its run', () => {
  it("records the partition of a job other jobs read, then the run, from the execution's status", async () => {
    const claim = claimOf('region_usage', { region: 'north', day: DAY });
    const { deps, calls, recorded } = world(claim);
    const report = await reconcile(deps, { now: NOW, claimGraceMs: 0 });
    expect(report.repairs).toContainEqual(
      expect.objectContaining({ kind: 'run-recorded', batchId: claim.batchId, executionName: claim.activeRun!.executionName, status: 'SUCCEEDED' }),
    );
    const key = `curated/region_usage/region=north/day=${DAY}/data.parquet`;
    const partitionAt = calls.indexOf(`s3.HeadObject ${key}`);
    expect(partitionAt).toBeGreaterThan(calls.indexOf('sfn.DescribeExecution'));
    expect(partitionAt).toBeLessThan(calls.indexOf('runs.finishRun'));
    expect(recorded.map(([what]) => what)).toEqual(['recordTransition', 'finishRun']);
    expect(recorded[0]!.slice(0, 4)).toMatchObject([
      'recordTransition',
      { bucket: 'lake', key, versionId: 'pv1' },
      'CONVERTED',
      { dataset: 'region_usage', fields: { region: 'north', day: DAY }, reason: `written by ${claim.activeRun!.executionName}` },
    ]);
    expect(recorded[1]).toEqual(['finishRun', claim.batchId, claim.activeRun!.executionName, 'SUCCEEDED', undefined, NOW]);
  });

  it('records only the run of a job no other job reads', async () => {
    const claim = claimOf('grid_summary', { day: DAY });
    const { deps, calls, recorded } = world(claim);
    await reconcile(deps, { now: NOW, claimGraceMs: 0 });
    expect(calls.filter((c) => c.startsWith('s3.'))).toEqual([]);
    expect(recorded.map(([what]) => what)).toEqual(['finishRun']);
  });
});
