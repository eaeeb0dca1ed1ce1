/**
 * One chaos run (one seed), in its own process (the handlers' SDK clients are per-process, bound
 * to one local stack): land a POS sample through the real handlers while crashes are injected just
 * before and just after S3 writes, DynamoDB writes and StartExecution (probability p each), every
 * S3 event is delivered twice and bursts reversed, stream records are lost and executions aborted
 * mid-run, and a late wave of newer exports lands while the batches' runs are busy (so their ends
 * start the next generation); then switch the faults off and let the reconciler run until nothing
 * is left to repair.
 * Prints one JSON line: the figures and every invariant that does not hold (`problems`).
 *
 *   tsx test/chaos/seed.ts --seed 3 [--p 0.25] [--functions jobstep,resolve] [--operations StartExecution]
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { itemId, storeId, writePosSample } from '../../examples/retail/data/pos-sample';
import { compactDate } from '../../shared/core/time/dates';
import { PREFIX } from '../../shared/core/s3/layout';
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
  /** succeeded executions that could not start their batch's next generation (left for the reconciler) */
  nextLeft: number;
  seconds: number;
  problems: string[];
}

const PROVINCES = { ON: 5, QC: 4 };
const DATES = ['2026-11-23', '2026-11-24'];

/** Claims that have no execution of their name: "<batch> claimed by <name>, never started". */
async function unstartedClaims(stack: LocalStack): Promise<string[]> {
  const started = new Set(stack.stepFunctions.executions().map((e) => e.name));
  const { batches } = await stack.jobRuns.listAll();
  return batches
    .filter((b) => b.activeRun && !started.has(b.activeRun.executionName))
    .map((b) => `${b.batchId} claimed by ${b.activeRun!.executionName}, never started,`);
}

/** Succeeded executions whose StartNextGeneration gave up (its claim, if made, left for the reconciler). */
function nextGenerationsLeft(stack: LocalStack): number {
  const left = (output: string | undefined) => (JSON.parse(output ?? 'null') as { nextGeneration?: { outcome?: unknown } } | null)?.nextGeneration?.outcome;
  return stack.stepFunctions.executions().filter((e) => e.status === 'SUCCEEDED' && left(e.output) === 'left for the reconciler').length;
}

/**
 * A newer export of one store for each batch of the sample (its newest file and one more row), landed
 * once the batch's run is busy, or after `waitMs` if none starts: the resolver finds the batch busy,
 * and the run's end (StartNextGeneration) starts the generation with it. Returns the keys.
 */
async function landLateWave(stack: LocalStack, dir: string, waitMs = 15_000): Promise<string[]> {
  const running = (province: string, date: string) =>
    stack.stepFunctions.executions().some((e) => e.status === 'RUNNING' && e.name.startsWith(`pos_daily_sales-${province}-${date}-`));
  const batches = Object.keys(PROVINCES).flatMap((province) => DATES.map((date) => ({ province, date })));
  return Promise.all(
    batches.map(async ({ province, date }) => {
      const until = Date.now() + waitMs;
      while (!running(province, date) && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
      const store = storeId(province, 1);
      const newest = await readFile(join(dir, `pos/${province}/${store}_${compactDate(date)}_200000.tdf`), 'utf8');
      const key = `pos/${province}/${store}_${compactDate(date)}_230000.tdf`;
      const body = `${newest.trimEnd()}\n${[store, itemId(0), date, '4', '1.00'].join('\t')}\n`;
      await writeFile(join(dir, key), body);
      await stack.s3.send(new PutObjectCommand({ Bucket: stack.deployment.names.rawBucket, Key: `${PREFIX.landing}${key}`, Body: body }));
      return key;
    }),
  );
}

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

/** Where crashes are injected: only inside these functions, only around these operations (default: every write of every handler). */
export interface CrashScope {
  functions?: string[];
  operations?: string[];
}

export async function runChaosSeed(seed: number, p: number, scope: CrashScope = {}): Promise<ChaosFigures> {
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
    // the load's Wait takes 3 s: a run stays busy while the late wave is validated and converted
    fastWaits: 3000,
    chaos: {
      seed,
      crashProbability: p,
      ...(scope.functions ? { crashFunctions: scope.functions } : {}),
      ...(scope.operations ? { crashOperations: scope.operations } : {}),
      duplicateS3Events: true,
      reverseBursts: true,
      dropStreamRecordProbability: 0.2,
      abortExecutionProbability: 0.4,
    },
  });
  try {
    const keys = await landDirectory(stack.s3, stack.deployment.names.rawBucket, dir, { concurrency: 8 });
    keys.push(...(await landLateWave(stack, dir)));
    await stack.settled(1000, 600_000);
    stack.chaos.disable();
    const injected = stack.chaos.counts();
    const parked = stack.lambdas.failures.length;

    // The reconciler as its schedule runs it, with no grace periods: until a pass repairs nothing.
    const deps = reconcileDepsFromEnv();
    const repairs: Record<string, number> = {};
    const repairLines: string[] = [];
    const problems: string[] = [];
    const nextLeft = nextGenerationsLeft(stack);
    let passes = 0;
    for (; passes < 12; ) {
      const report = await reconcile(deps, { fileGraceMs: 0, claimGraceMs: 0 });
      passes += 1;
      await stack.settled(500, 600_000);
      for (const r of report.repairs) {
        repairs[r.kind] = (repairs[r.kind] ?? 0) + 1;
        repairLines.push(describeRepair(r));
      }
      // no succeeded execution leaves a claim unstarted past one reconciler pass (nor does anything else)
      if (passes === 1) problems.push(...(await unstartedClaims(stack)).map((c) => `${c} after one reconciler pass`));
      if (report.repairs.length === 0) break;
    }

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
    // no execution FAILED whose run SUCCEEDED (recorded on its run item or as its batch's last run)
    const succeededRuns = new Set([
      ...runs.filter((r) => r.status === 'SUCCEEDED').map((r) => r.executionName),
      ...batches.filter((b) => b.lastRun?.status === 'SUCCEEDED').map((b) => b.lastRun!.executionName),
    ]);
    for (const e of executions.filter((x) => x.status === 'FAILED' && succeededRuns.has(x.name)))
      problems.push(`execution ${e.name} FAILED (${e.error ?? 'no error'}) although its run SUCCEEDED`);
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
      nextLeft,
      seconds: Math.round((performance.now() - started) / 1000),
      problems,
    };
  } finally {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { seed: { type: 'string' }, p: { type: 'string' }, functions: { type: 'string' }, operations: { type: 'string' } } });
  const figures = await runChaosSeed(Number(values.seed ?? 1), Number(values.p ?? 0.25), {
    ...(values.functions ? { functions: values.functions.split(',') } : {}),
    ...(values.operations ? { operations: values.operations.split(',') } : {}),
  });
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  process.exit(0);
}
