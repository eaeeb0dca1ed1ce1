/**
 * One chaos run (one seed), in its own process (the handlers' SDK clients are per-process, bound
 * to one local stack): land a POS sample through the real handlers while crashes are injected just
 * before and just after S3 writes, DynamoDB writes and StartExecution (probability p each), every
 * S3 event is delivered twice and bursts reversed, stream records are lost and executions aborted
 * mid-run; then switch the faults off and let the reconciler run until nothing is left to repair.
 * Prints one JSON line: the figures and every invariant that does not hold (`problems`).
 *
 *   tsx test/chaos/seed.ts --seed 3 [--p 0.25]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { writePosSample } from '../../examples/retail/data/pos-sample';
import { reconcileDepsFromEnv } from '../../shared/stages/reconcile/deps';
import { describeRepair, reconcile } from '../../shared/stages/reconcile/reconciler';
import { IN_FLIGHT_STATES } from '../../shared/core/state/file-state';
import { downloadToFile } from '../../shared/core/s3/object-io';
import { landDirectory } from '../../ops/land';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { expectedPosDailySales } from '../support/expected-pos';

export interface ChaosFigures {
  seed: number;
  p: number;
  files: number;
  injected: {
    crashesBefore: number;
    crashesAfter: number;
    s3EventsDuplicated: number;
    s3BurstsReversed: number;
    streamRecordsDropped: number;
    executionsAborted: number;
  };
  /** reconciler passes until quiet, and what they repaired by kind */
  passes: number;
  repairs: Record<string, number>;
  repairLines: string[];
  executions: number;
  /** handler invocations that exhausted their retries (parked in the failed-events queue) */
  parked: number;
  seconds: number;
  problems: string[];
}

const PROVINCES = { ON: 5, QC: 4 };
const DATES = ['2026-11-23', '2026-11-24'];

async function curated(stack: LocalStack, province: string, date: string): Promise<unknown[]> {
  const dir = await mkdtemp(join(tmpdir(), 'landfall-chaos-'));
  try {
    const path = join(dir, 'data.parquet');
    await downloadToFile(
      stack.s3,
      stack.deployment.names.lakeBucket,
      `curated/pos_daily_sales/province=${province}/date=${date}/data.parquet`,
      undefined,
      path,
    );
    const conn = await (await DuckDBInstance.create(':memory:')).connect();
    const rows = (
      await conn.runAndReadAll('SELECT * EXCLUDE (dt) FROM read_parquet($1) ORDER BY province, transaction_date, store_id, item_id', [path])
    ).getRowObjectsJson();
    conn.closeSync();
    return rows;
  } catch (err) {
    return [`no curated partition: ${(err as Error).message}`];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runChaosSeed(seed: number, p: number): Promise<ChaosFigures> {
  const started = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'landfall-chaos-in-'));
  await writePosSample(dir, {
    seed,
    startDate: DATES[0]!,
    days: DATES.length,
    provinces: PROVINCES,
    rowsPerFile: 30,
    filesPerStore: 2,
    items: 8,
    badFiles: true,
  });
  const stack = await startLocalStack({
    retryDelaysMs: [50, 100],
    chaos: { seed, crashProbability: p, duplicateS3Events: true, reverseBursts: true, dropStreamRecordProbability: 0.2, abortExecutionProbability: 0.4 },
  });
  try {
    const keys = await landDirectory(stack.s3, stack.deployment.names.rawBucket, dir, { concurrency: 8 });
    await stack.settled(1000, 600_000);
    stack.chaos.disable();
    const injected = stack.chaos.counts();
    const parked = stack.lambdas.failures.length;

    // The reconciler as its schedule runs it, with no grace periods: until a pass repairs nothing.
    const deps = reconcileDepsFromEnv();
    const repairs: Record<string, number> = {};
    const repairLines: string[] = [];
    let passes = 0;
    for (; passes < 12; ) {
      const report = await reconcile(deps, { fileGraceMs: 0, claimGraceMs: 0 });
      passes += 1;
      await stack.settled(500, 600_000);
      for (const r of report.repairs) {
        repairs[r.kind] = (repairs[r.kind] ?? 0) + 1;
        repairLines.push(describeRepair(r));
      }
      if (report.repairs.length === 0) break;
    }

    const problems: string[] = [];
    // every landed version is terminal (and every landed object has a state)
    const items = await stack.fileStates.listAll();
    for (const item of items.filter((i) => IN_FLIGHT_STATES.includes(i.state))) problems.push(`${item.key}@${item.versionId} still ${item.state}`);
    const tracked = new Set(items.map((i) => i.key));
    for (const key of keys) if (!tracked.has(`landing/${key}`)) problems.push(`landing/${key} has no file state`);
    // no batch running or claimed without a live execution; every batch with inputs succeeded
    const { batches, runs } = await stack.jobRuns.listAll();
    for (const b of batches) {
      if (b.activeRun) problems.push(`${b.batchId} still claimed by ${b.activeRun.executionName}`);
      // the sample's batches (BC has only the item master; later dates only their deadline record)
      const sampled = DATES.includes(b.values.date!) && Object.keys(PROVINCES).includes(b.values.province!);
      if (sampled && b.status !== 'SUCCEEDED') problems.push(`${b.batchId} is ${b.status}: ${b.waitingFor.join('; ') || b.lastRun?.error}`);
    }
    for (const province of Object.keys(PROVINCES)) {
      for (const date of DATES)
        if (!batches.some((b) => b.values.province === province && b.values.date === date)) problems.push(`no batch of ${province} ${date}`);
    }
    const executions = stack.stepFunctions.executions();
    for (const e of executions.filter((x) => x.status === 'RUNNING')) problems.push(`execution ${e.name} still RUNNING`);
    // exactly one successful execution per batch and input generation (a generation's name, less its -rN attempt)
    const succeeded = new Map<string, number>();
    for (const e of executions.filter((x) => x.status === 'SUCCEEDED')) {
      const generation = e.name.replace(/-r\d+$/, '');
      succeeded.set(generation, (succeeded.get(generation) ?? 0) + 1);
    }
    for (const [generation, n] of succeeded) if (n > 1) problems.push(`generation ${generation} succeeded ${n} times`);
    for (const run of runs.filter((r) => r.status === 'SUCCEEDED')) {
      if (!executions.some((e) => e.name === run.executionName && e.status === 'SUCCEEDED'))
        problems.push(`run ${run.executionName} recorded SUCCEEDED without a successful execution`);
    }
    // the curated tables equal the fault-free result (computed independently from the landed files)
    const expected = await expectedPosDailySales(dir);
    for (const province of Object.keys(PROVINCES)) {
      for (const date of DATES) {
        const want = expected.filter((r) => r.province === province && r.transaction_date === date);
        const got = await curated(stack, province, date);
        if (JSON.stringify(got) !== JSON.stringify(want))
          problems.push(`curated ${province} ${date} differs from the fault-free result (${got.length} rows, expected ${want.length})`);
      }
    }
    const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    return {
      seed,
      p,
      files: keys.length,
      injected: {
        crashesBefore: sum(injected.crashes.before),
        crashesAfter: sum(injected.crashes.after),
        s3EventsDuplicated: injected.s3EventsDuplicated,
        s3BurstsReversed: injected.s3BurstsReversed,
        streamRecordsDropped: injected.streamRecordsDropped,
        executionsAborted: injected.executionsAborted,
      },
      passes,
      repairs,
      repairLines,
      executions: executions.length,
      parked,
      seconds: Math.round((performance.now() - started) / 1000),
      problems,
    };
  } finally {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { seed: { type: 'string' }, p: { type: 'string' } } });
  const figures = await runChaosSeed(Number(values.seed ?? 1), Number(values.p ?? 0.25));
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  process.exit(0);
}
