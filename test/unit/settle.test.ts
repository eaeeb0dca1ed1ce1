import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePipeline } from '../../shared/core/config/load-config';
import type { JobRunStore } from '../../shared/core/runs/job-run-store';
import type { RunInput } from '../../shared/core/runs/run-input';
import type { FileStateItem } from '../../shared/core/state/file-state-store';
import { MAX_SETTLE_ROUNDS, settleRun } from '../../shared/stages/orchestrate/settle';
import { currentGeneration, settleSecondsOf } from '../../shared/stages/resolve';
import type { ResolverDeps } from '../../shared/stages/resolve/resolver';

/* A settling run (RunInput.settle): after its wait it takes the batch's newest inputs, and waits again while they change. */

const pipeline = compilePipeline(
  {
    datasets: [
      {
        name: 'sales',
        keyPattern: 'sales/{store}_{date:YYYYMMDD}.csv',
        format: { kind: 'delimited', delimiter: ',' },
        columns: [{ name: 'amount', kind: 'decimal', scale: 2 }],
        dateField: 'date',
      },
    ],
    jobs: [
      {
        name: 'daily',
        batchKey: ['date'],
        freshness: { deadline: '18:00', timeZone: 'UTC' },
        inputs: [{ relation: 'sales', dataset: 'sales', match: ['date'] }],
        preconditions: [{ kind: 'minDistinct', input: 'sales', field: 'store', count: 2 }],
        stages: [{ name: 'sum', sql: 'sql/pos_daily_sales.v1.sql' }],
        output: { table: 'daily', partitionBy: ['date'], key: ['store_id'] },
      },
    ],
  },
  { baseDir: join(import.meta.dirname, '..', '..', 'examples', 'retail') },
);

const file = (store: string, version: string, state: FileStateItem['state'] = 'CONVERTED') =>
  ({
    key: `landing/sales/${store}_20261207.csv`,
    versionId: version,
    sequencer: version,
    dataset: 'sales',
    fields: { store, date: '2026-12-07' },
    state,
    size: 10,
    processedKey: `processed/sales/dt=2026-12-07/${store}_20261207.csv.parquet`,
    processedVersionId: `p${version}`,
    rows: { in: 1, out: 1, rejected: 0, junk: 0 },
  }) as unknown as FileStateItem;

function world(files: FileStateItem[], adopts = true) {
  const adopted: unknown[][] = [];
  const runs = {
    adoptInputs: async (...args: unknown[]) => {
      adopted.push(args);
      return adopts;
    },
  } as unknown as JobRunStore;
  const resolver = { pipeline, runs, files: { filesOf: async () => files } } as unknown as ResolverDeps;
  return { deps: { runs, resolver }, adopted };
}

const batch = { job: 'daily', values: { date: '2026-12-07' } };
async function runOn(files: FileStateItem[], round = 0): Promise<RunInput> {
  const generation = await currentGeneration(world(files).deps.resolver, batch);
  if (!generation.ready) throw new Error('not ready');
  return {
    job: 'daily',
    batchId: 'daily#date=2026-12-07',
    values: batch.values,
    executionName: 'daily-2026-12-07-x',
    fingerprint: generation.fingerprint,
    inputs: generation.inputs,
    engine: 'duckdb',
    stages: [{ name: 'sum' }],
    settle: { seconds: 10, round },
  };
}

describe('a settling run', () => {
  it('runs its inputs once they held still through a wait', async () => {
    const files = [file('a', '1'), file('b', '1')];
    const { deps, adopted } = world(files);
    const run = await runOn(files);
    const { settle, ...rest } = run;
    expect(settle).toBeDefined();
    expect(await settleRun(run, deps)).toEqual(rest);
    expect(adopted).toEqual([]);
  });

  it('takes newer inputs that landed meanwhile, names them on its claim, and waits again', async () => {
    const before = [file('a', '1'), file('b', '1')];
    const now = [file('a', '2'), file('b', '1'), file('c', '1')];
    const { deps, adopted } = world(now);
    const newest = await currentGeneration(deps.resolver, batch);
    const settled = await settleRun(await runOn(before), deps);
    expect(newest.ready).toBe(true);
    if (!newest.ready) return;
    expect(settled).toMatchObject({ fingerprint: newest.fingerprint, inputs: newest.inputs, settle: { seconds: 10, round: 1 } });
    expect(adopted).toEqual([['daily#date=2026-12-07', 'daily-2026-12-07-x', newest.fingerprint, newest.inputs]]);
  });

  it('waits again while a file of the batch is in flight, and runs what it has after the last wait', async () => {
    const before = [file('a', '1'), file('b', '1')];
    const { deps, adopted } = world([file('a', '2', 'RECEIVED'), file('a', '1'), file('b', '1')]);
    const run = await runOn(before);
    expect(await settleRun(run, deps)).toEqual({ ...run, settle: { seconds: 10, round: 1 } });
    const last = await settleRun({ ...run, settle: { seconds: 10, round: MAX_SETTLE_ROUNDS - 1 } }, deps);
    expect(last.settle).toBeUndefined();
    expect(last.fingerprint).toBe(run.fingerprint);
    expect(adopted).toEqual([]);
  });

  it('after its last wait runs the newest inputs without waiting more; a claim gone makes it do nothing', async () => {
    const before = [file('a', '1'), file('b', '1')];
    const now = [file('a', '2'), file('b', '1')];
    const last = await settleRun({ ...(await runOn(before)), settle: { seconds: 10, round: MAX_SETTLE_ROUNDS - 1 } }, world(now).deps);
    expect(last.settle).toBeUndefined();
    expect(last.fingerprint).not.toBe((await runOn(before)).fingerprint);
    const released = await settleRun(await runOn(before), world(now, false).deps);
    expect(released.released).toBe(true);
    expect(released.settle).toBeUndefined();
  });

  it('is not asked of a run without a settle window: it is returned as it is', async () => {
    const { deps } = world([]);
    const { settle: _, ...run } = await runOn([file('a', '1'), file('b', '1')]);
    expect(await settleRun(run, deps)).toBe(run);
  });
});

describe('the settle window of a batch', () => {
  const job = pipeline.jobsByName.get('daily')!;
  it('is the job’s settleSeconds (default 10), ending no later than a deadline ahead; a deadline past shortens nothing', () => {
    expect(job.settleSeconds).toBe(10);
    // the deadline is 2026-12-07 18:00 UTC
    expect(settleSecondsOf(job, batch, new Date('2026-12-07T12:00:00Z'))).toBe(10);
    expect(settleSecondsOf(job, batch, new Date('2026-12-07T17:59:57Z'))).toBe(3);
    expect(settleSecondsOf(job, batch, new Date('2026-12-08T09:00:00Z'))).toBe(10);
    expect(settleSecondsOf({ ...job, settleSeconds: 0 }, batch, new Date('2026-12-07T12:00:00Z'))).toBe(0);
  });
});
