import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { PREFIX } from '../shared/core/s3/layout';
import { reconcileDepsFromEnv } from '../shared/stages/reconcile/deps';
import { reconcile, type ReconcileOptions } from '../shared/stages/reconcile/reconciler';
import { resolverDepsFromEnv } from '../shared/stages/resolve/deps';
import { explainBatch, retryBatch } from '../shared/stages/resolve/resolver';
import { latestPerKey } from '../ops/reports/file-state-report';
import { expectedPosDailySales } from './support/expected-pos';
import { curatedRows, executionsOf } from './support/jobs';
import { useLocalStack } from './support/local-stack';
import type { ChaosSettings } from '../local/chaos';
import type { RunInput } from '../shared/core/runs/run-input';
import { itemMaster, masterKey, storeFile, storeKey, writeFiles } from './support/pos-files';

/*
 * Findings 1–6 of the reliability probe (issue 10), each on the local stack with the real handlers:
 * the pipeline heals itself (the reconciler), holds a batch back while any of its files is in
 * flight, isolates poison and never publishes from incomplete inputs.
 */
const stack = useLocalStack({ chaos: { seed: 10, enabled: false } });
const STORES = ['ON01', 'ON02', 'ON03', 'ON04', 'ON05'];
const batchOf = (date: string) => `pos_daily_sales#province=ON#date=${date}`;

async function land(files: Record<string, string>): Promise<void> {
  for (const [key, body] of Object.entries(files)) {
    await stack().s3.send(new PutObjectCommand({ Bucket: stack().deployment.names.rawBucket, Key: `${PREFIX.landing}${key}`, Body: body }));
  }
  await stack().settled(500);
}

/** One reconciler pass as the schedule would run it (a grace period of 0: everything in flight is due), then let its work settle. */
async function reconcileNow(options: ReconcileOptions = {}) {
  const report = await reconcile(reconcileDepsFromEnv(), { fileGraceMs: 0, ...options });
  await stack().settled(500);
  return report;
}

/** A complete province-day: five stores' files at `time` with `rows` rows each, and the item master. */
function provinceDay(date: string, rows = 20, time = '100000'): Record<string, string> {
  return { ...Object.fromEntries(STORES.map((s) => [storeKey(s, date, time), storeFile(s, date, rows)])), [masterKey(date)]: itemMaster() };
}

async function expectedRows(files: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), 'landfall-expected-'));
  await writeFiles(dir, files);
  return (await expectedPosDailySales(dir)).filter((r) => r.province === 'ON');
}

/** Lands files with these faults armed (every other switch off), and disarms them whatever happens. */
async function landWithChaos(settings: Partial<ChaosSettings>, files: Record<string, string>): Promise<void> {
  stack().chaos.configure({
    crashProbability: 0,
    crashPoints: ['before', 'after'],
    crashFunctions: undefined,
    crashOperations: undefined,
    duplicateS3Events: false,
    reverseBursts: false,
    dropStreamRecordProbability: 0,
    abortExecutionProbability: 0,
    ...settings,
  });
  stack().chaos.enable();
  try {
    await land(files);
  } finally {
    stack().chaos.disable();
  }
}

const stateOf = async (key: string) => latestPerKey(await stack().fileStates.listAll()).find((i) => i.key === `${PREFIX.landing}${key}`);

describe('unattended operation (issue 10)', () => {
  it('finding 1: a file still in validation holds its batch back, and the batch then runs once on the complete inputs', async () => {
    const date = '2026-09-01';
    const day = provinceDay(date);
    await land(day);
    expect(executionsOf(stack(), 'ON', date)).toHaveLength(1);
    // ON01's newer cumulative file: validate records RECEIVED, then dies before writing anything
    // (on every attempt): the file stays RECEIVED, as a file still being validated would
    const newer01 = { [storeKey('ON01', date, '200000')]: storeFile('ON01', date, 30) };
    await landWithChaos(
      { crashProbability: 1, crashPoints: ['before'], crashFunctions: ['validate'], crashOperations: ['PutObject', 'CompleteMultipartUpload'] },
      newer01,
    );
    expect((await stateOf(storeKey('ON01', date, '200000')))?.state).toBe('RECEIVED');
    // ON02's newer file converts: the batch must not run on ON01's older file meanwhile
    const newer02 = { [storeKey('ON02', date, '200000')]: storeFile('ON02', date, 30) };
    await land(newer02);
    expect(executionsOf(stack(), 'ON', date)).toHaveLength(1);
    const waiting = await explainBatch(resolverDepsFromEnv(), { job: 'pos_daily_sales', values: { province: 'ON', date } });
    expect(waiting.join('; ')).toMatch(/still being processed \(landing\/pos\/ON\/ON01_20260901_200000\.tdf\)/);

    const report = await reconcileNow();
    expect(report.repairs).toContainEqual(
      expect.objectContaining({ kind: 'redrive', stage: 'validate', key: `${PREFIX.landing}${storeKey('ON01', date, '200000')}` }),
    );
    const executions = executionsOf(stack(), 'ON', date);
    expect(executions).toHaveLength(2);
    expect(executions.every((e) => e.status === 'SUCCEEDED')).toBe(true);
    const run = await stack().jobRuns.getRun(batchOf(date), executions[1]!.name);
    expect(run!.inputs.pos!.map((f) => f.key.split('/').pop())).toEqual([
      'ON01_20260901_200000.tdf',
      'ON02_20260901_200000.tdf',
      'ON03_20260901_100000.tdf',
      'ON04_20260901_100000.tdf',
      'ON05_20260901_100000.tdf',
    ]);
    expect(await curatedRows(stack(), 'ON', date)).toEqual(await expectedRows({ ...day, ...newer01, ...newer02 }));
  });

  it('finding 2a: a claim whose resolver died before StartExecution does not block the batch when its inputs change', async () => {
    const date = '2026-09-02';
    const day = provinceDay(date);
    await land(day);
    const id = batchOf(date);
    // A resolver claimed a generation ten minutes ago and died before starting it.
    const stale = await stack().jobRuns.claimRun(
      'pos_daily_sales',
      id,
      { province: 'ON', date },
      { executionName: 'pos_daily_sales-ON-2026-09-02-deadbeef0000', fingerprint: 'deadbeef', inputs: {} },
      new Date(Date.now() - 10 * 60_000),
    );
    expect(stale).toEqual({ kind: 'claimed' });
    const newer = { [storeKey('ON03', date, '200000')]: storeFile('ON03', date, 25) };
    await land(newer);
    const executions = executionsOf(stack(), 'ON', date);
    expect(executions.map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(await stack().jobRuns.getRun(id, 'pos_daily_sales-ON-2026-09-02-deadbeef0000')).toMatchObject({ status: 'RELEASED' });
    expect(await stack().jobRuns.getBatch(id)).toMatchObject({ status: 'SUCCEEDED' });
    expect(await curatedRows(stack(), 'ON', date)).toEqual(await expectedRows({ ...day, ...newer }));

    // The presumed-dead resolver wakes up and starts its released generation (reading only ON01's
    // file): the execution must end at once without touching the batch or its partition.
    const lastRun = (await stack().jobRuns.getBatch(id))!.lastRun;
    const deps = resolverDepsFromEnv();
    const first = (await stack().jobRuns.getRun(id, executionsOf(stack(), 'ON', date)[0]!.name))!;
    const late = {
      job: 'pos_daily_sales',
      batchId: id,
      values: { province: 'ON', date },
      executionName: 'pos_daily_sales-ON-2026-09-02-deadbeef0000',
      fingerprint: 'deadbeef',
      inputs: { pos: first.inputs.pos!.slice(0, 1), item_master: first.inputs.item_master! },
      stages: [{ name: 'aggregate', sql: 'pos_daily_sales.v3.sql' }],
    };
    await deps.sfn.send(new StartExecutionCommand({ stateMachineArn: deps.stateMachineArns.duckdb, name: late.executionName, input: JSON.stringify(late) }));
    await stack().settled(500);
    expect(executionsOf(stack(), 'ON', date).map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(await stack().jobRuns.getBatch(id)).toMatchObject({ status: 'SUCCEEDED', lastRun });
    expect(await curatedRows(stack(), 'ON', date)).toEqual(await expectedRows({ ...day, ...newer }));
  });

  it('finding 2a: the reconciler releases an abandoned claim of an unchanged batch, and retry frees one too', async () => {
    const date = '2026-09-03';
    await land(provinceDay(date));
    const id = batchOf(date);
    await stack().jobRuns.claimRun(
      'pos_daily_sales',
      id,
      { province: 'ON', date },
      { executionName: 'pos_daily_sales-ON-2026-09-03-deadbeef0001', fingerprint: 'deadbeef1', inputs: {} },
      new Date(Date.now() - 10 * 60_000),
    );
    const report = await reconcileNow();
    expect(report.repairs).toContainEqual({ kind: 'claim-released', batchId: id, executionName: 'pos_daily_sales-ON-2026-09-03-deadbeef0001' });
    expect(await stack().jobRuns.getBatch(id)).toMatchObject({ status: 'SUCCEEDED' });
    expect((await stack().jobRuns.getBatch(id))!.activeRun).toBeUndefined();
    // `landfall retry` on a batch held by an abandoned claim frees it too (it used to refuse)
    await stack().jobRuns.claimRun(
      'pos_daily_sales',
      id,
      { province: 'ON', date },
      { executionName: 'pos_daily_sales-ON-2026-09-03-deadbeef0002', fingerprint: 'deadbeef2', inputs: {} },
      new Date(Date.now() - 10 * 60_000),
    );
    expect(await retryBatch(resolverDepsFromEnv(), { job: 'pos_daily_sales', values: { province: 'ON', date } })).toEqual({ kind: 'up-to-date', batchId: id });
    expect(await stack().jobRuns.getBatch(id)).toMatchObject({ status: 'SUCCEEDED' });
    expect((await stack().jobRuns.getBatch(id))!.activeRun).toBeUndefined();
  });

  it('finding 2b: an execution stopped mid-run is recorded, alerted and started once more; it never stays RUNNING', async () => {
    const date = '2026-09-04';
    const day = provinceDay(date);
    await landWithChaos({ abortExecutionProbability: 1 }, day);
    const [aborted] = executionsOf(stack(), 'ON', date);
    expect(aborted!.status).toBe('ABORTED');
    const id = batchOf(date);
    expect((await stack().jobRuns.getBatch(id))!.activeRun?.executionName).toBe(aborted!.name);
    // the reconciler looks at an active claim once it is due (its claim time + the grace period):
    // make this one due now instead of waiting five minutes
    await stack().jobRuns.deferDue(id, aborted!.name, new Date(0));
    const published = stack().sns.messages().length;
    const report = await reconcileNow();
    expect(report.repairs).toContainEqual(
      expect.objectContaining({
        kind: 'run-recorded',
        batchId: id,
        status: 'FAILED',
        executionStatus: 'ABORTED',
        error: expect.stringMatching(/^ExecutionAborted/),
      }),
    );
    expect(report.repairs).toContainEqual({ kind: 'run-restarted', batchId: id, executionName: `${aborted!.name}-r1`, after: aborted!.name });
    const alerts = stack()
      .sns.messages()
      .slice(published)
      .map((m) => m.subject ?? '');
    expect(alerts.some((s) => /pos_daily_sales ON 2026-09-04 ABORTED, started again/.test(s))).toBe(true);
    expect(executionsOf(stack(), 'ON', date).map((e) => e.status)).toEqual(['ABORTED', 'SUCCEEDED']);
    expect(await stack().jobRuns.getBatch(id)).toMatchObject({ status: 'SUCCEEDED' });
    expect(await curatedRows(stack(), 'ON', date)).toEqual(await expectedRows(day));
  });

  it('finding 3: a file whose Lambda retries ran out is re-driven from where it stopped, and FAILED with its error when it keeps failing', async () => {
    const date = '2026-09-05';
    const day = provinceDay(date);
    const crashConvert: Partial<ChaosSettings> = { crashProbability: 1, crashPoints: ['before'], crashFunctions: ['convert'] };
    await landWithChaos(crashConvert, day);
    expect((await stateOf(storeKey('ON01', date, '100000')))?.state).toBe('VALIDATED');
    expect(executionsOf(stack(), 'ON', date)).toEqual([]);
    // still crashing: each pass re-drives convert, until the limit makes the file FAILED with the error seen
    stack().chaos.enable();
    let last;
    try {
      for (let pass = 0; pass < 4; pass += 1) last = await reconcileNow();
    } finally {
      stack().chaos.disable();
    }
    expect(last!.repairs.filter((r) => r.kind === 'failed')).toHaveLength(6);
    const failed = await stateOf(storeKey('ON01', date, '100000'));
    expect(failed).toMatchObject({
      state: 'FAILED',
      reason: expect.stringMatching(/after 3 re-drives.*last error: landfall-local-convert: Runtime\.ExitError: .*injected crash before PutObject/),
    });

    // another day whose convert crashes only while it lands: one pass re-drives it and the batch runs
    const date2 = '2026-09-06';
    const day2 = provinceDay(date2);
    await landWithChaos(crashConvert, day2);
    const report = await reconcileNow();
    expect(report.repairs.filter((r) => r.kind === 'redrive' && r.stage === 'convert')).toHaveLength(6);
    expect(executionsOf(stack(), 'ON', date2).map((e) => e.status)).toEqual(['SUCCEEDED']);
    expect(await curatedRows(stack(), 'ON', date2)).toEqual(await expectedRows(day2));
  });

  it('finding 4: a corrected file for an old date whose stream record was lost still re-runs its batch', async () => {
    const date = '2025-01-15';
    const day = provinceDay(date);
    await land(day);
    expect(executionsOf(stack(), 'ON', date)).toHaveLength(1);
    await reconcileNow(); // moves the watermark past the first landing
    const corrected = { [storeKey('ON04', date, '230000')]: storeFile('ON04', date, 35) };
    await landWithChaos({ dropStreamRecordProbability: 1 }, corrected);
    expect(executionsOf(stack(), 'ON', date)).toHaveLength(1);
    const report = await reconcileNow();
    expect(report.repairs).toContainEqual(expect.objectContaining({ kind: 'batch-started', batchId: batchOf(date) }));
    expect(executionsOf(stack(), 'ON', date).map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(await curatedRows(stack(), 'ON', date)).toEqual(await expectedRows({ ...day, ...corrected }));
  });

  it('the edges, item 1: a run whose next generation cannot be started ends SUCCEEDED, and one reconciler pass starts that generation', async () => {
    const date = '2026-09-09';
    const day = provinceDay(date);
    const id = batchOf(date);
    // A resolver claims the complete day and is slow to start it (here: it crashes before every StartExecution)…
    const crashBeforeStart = (fn: string): Partial<ChaosSettings> => ({
      crashProbability: 1,
      crashPoints: ['before'],
      crashFunctions: [fn],
      crashOperations: ['StartExecution'],
    });
    await landWithChaos(crashBeforeStart('resolve'), day);
    const first = (await stack().jobRuns.getBatch(id))!.activeRun!;
    expect(executionsOf(stack(), 'ON', date)).toEqual([]);
    // …while ON03's newer file lands: the batch is busy, so its next generation waits for the run's end
    const newer = { [storeKey('ON03', date, '200000')]: storeFile('ON03', date, 25) };
    await landWithChaos(crashBeforeStart('resolve'), newer);
    expect((await stack().jobRuns.getBatch(id))!.activeRun).toEqual(first);

    // The first generation starts at last; at its end, jobstep cannot start the next one (it crashes
    // before every StartExecution, past the step's retries): the run still ends SUCCEEDED.
    const deps = resolverDepsFromEnv();
    const claimed = (await stack().jobRuns.getRun(id, first.executionName))!;
    const job = deps.pipeline.jobsByName.get('pos_daily_sales')!;
    const input: RunInput = {
      job: job.name,
      batchId: id,
      values: claimed.values,
      executionName: claimed.executionName,
      fingerprint: claimed.fingerprint,
      inputs: claimed.inputs,
      engine: claimed.engine!,
      stages: job.stages.map((s) => ({ name: s.name })),
      ...(job.load?.length ? { warehouse: true as const } : {}),
    };
    stack().chaos.configure(crashBeforeStart('jobstep'));
    stack().chaos.resetCounts();
    stack().chaos.enable();
    try {
      await deps.sfn.send(
        new StartExecutionCommand({ stateMachineArn: deps.stateMachineArns.duckdb, name: input.executionName, input: JSON.stringify(input) }),
      );
      await stack().settled(500);
    } finally {
      stack().chaos.disable();
    }
    expect(stack().chaos.counts().crashes).toMatchObject({ before: { StartExecution: 7 }, byFunction: { jobstep: 7 } }); // tried, then retried 6 times
    const [ended] = executionsOf(stack(), 'ON', date);
    expect(ended).toMatchObject({ name: first.executionName, status: 'SUCCEEDED' });
    expect(JSON.parse(ended!.output!).nextGeneration).toMatchObject({ outcome: 'left for the reconciler', error: { Error: 'Runtime.ExitError' } });
    expect(await stack().jobRuns.getRun(id, first.executionName)).toMatchObject({ status: 'SUCCEEDED' });
    // the next generation is claimed, not started: left for the reconciler
    const left = (await stack().jobRuns.getBatch(id))!.activeRun!;
    expect(left.executionName).not.toBe(first.executionName);
    expect(left.executionArn).toBeUndefined();

    // One pass (no grace period) starts it, and nothing is left claimed.
    const report = await reconcileNow({ claimGraceMs: 0 });
    expect(report.repairs).toContainEqual({ kind: 'claim-released', batchId: id, executionName: left.executionName });
    expect(report.repairs).toContainEqual({ kind: 'batch-started', batchId: id, executionName: left.executionName });
    expect(executionsOf(stack(), 'ON', date).map((e) => [e.name, e.status])).toEqual([
      [first.executionName, 'SUCCEEDED'],
      [left.executionName, 'SUCCEEDED'],
    ]);
    const batch = (await stack().jobRuns.getBatch(id))!;
    expect(batch).toMatchObject({ status: 'SUCCEEDED', lastRun: { executionName: left.executionName, status: 'SUCCEEDED' } });
    expect(batch.activeRun).toBeUndefined();
    expect(await curatedRows(stack(), 'ON', date)).toEqual(await expectedRows({ ...day, ...newer }));
  });

  it('findings 5 and 6: poison rows, a shrunken cumulative file and an unknown store end with reasons; the other rows are exact', async () => {
    const date = '2026-09-07';
    const day = provinceDay(date);
    const poison = {
      // a 2.7 MB field (900,000 × €) and rows dated outside the file's day: rejected rows, not a failed file
      [storeKey('ON01', date, '100000')]: storeFile('ON01', date, 20, [
        `ON01\tI0001\t${date}\t4\t${'€'.repeat(900_000)}`,
        `ON01\tI0002\t0000-02-29\t4\t1.00`,
        `ON01\tI0002\t9999-12-31\t4\t1.00`,
      ]),
      // two valid amounts whose sum overflows DECIMAL(18,2)
      [storeKey('ON02', date, '100000')]: storeFile('ON02', date, 20, [
        `ON02\tI0003\t${date}\t4\t9999999999999999.99`,
        `ON02\tI0003\t${date}\t4\t9999999999999999.99`,
      ]),
    };
    await land({ ...day, ...poison });
    expect(executionsOf(stack(), 'ON', date).map((e) => e.status)).toEqual(['SUCCEEDED']);
    const on01 = await stateOf(storeKey('ON01', date, '100000'));
    expect(on01).toMatchObject({ state: 'CONVERTED', rows: { rejected: 3 } });
    // a newer, header-only export of ON03 and a file of a store ON does not have
    const late = { [storeKey('ON03', date, '200000')]: storeFile('ON03', date, 0), [storeKey('ON09', date, '200000')]: storeFile('ON09', date, 5) };
    await land(late);
    expect(await stateOf(storeKey('ON03', date, '200000'))).toMatchObject({
      state: 'QUARANTINED',
      reason: expect.stringMatching(/0 rows, fewer than the 20 of the earlier file .*ON03_20260907_100000\.tdf.*the earlier file stays in use/),
    });
    expect(await stateOf(storeKey('ON09', date, '200000'))).toMatchObject({
      state: 'REJECTED',
      reason: expect.stringMatching(/unknown store "ON09" for province ON/),
    });
    expect(executionsOf(stack(), 'ON', date)).toHaveLength(1);
    const rows = await curatedRows(stack(), 'ON', date);
    expect(rows).toEqual(await expectedRows({ ...day, ...poison }));
    expect(Number(rows.find((r) => r.store_id === 'ON02' && r.item_id === 'I0003')?.sale_amount)).toBeGreaterThan(1.9e16);
    const items = latestPerKey(await stack().fileStates.listAll()).filter((i) => i.key.includes('20260907'));
    expect(items.every((i) => !['RECEIVED', 'VALIDATED'].includes(i.state))).toBe(true);
    expect(items.filter((i) => i.state !== 'CONVERTED').every((i) => i.reason)).toBe(true);
  });
});
