import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { itemId, storeId, writePosSample } from '../examples/retail/data/pos-sample';
import { replayPrefix } from '../shared/core/s3/replay';
import { s3Client } from '../shared/core/aws/clients';
import { explainBatch, retryBatch } from '../shared/stages/resolve/resolver';
import { reconcile } from '../shared/stages/reconcile/reconciler';
import { reconcileDepsFromEnv } from '../shared/stages/reconcile/deps';
import { resolverDepsFromEnv } from '../shared/stages/resolve/deps';
import { expectedPosDailySales } from './support/expected-pos';
import { curatedRows, curatedVersions, executionsOf, landEach } from './support/jobs';
import { useLocalStack } from './support/local-stack';

const stack = useLocalStack();

/** The text of a store's newest cumulative file in a sample directory (ends with a newline). */
async function newestFileOf(dir: string, province: string, store: string): Promise<string> {
  const names = (await readdir(join(dir, 'pos', province))).filter((n) => n.startsWith(`${store}_`)).sort();
  const text = await readFile(join(dir, 'pos', province, names.at(-1)!), 'utf8');
  return text.endsWith('\n') ? text : `${text}\n`;
}
const compact = (d: string) => d.replaceAll('-', '');

/** One province's day: its five store files and the item master, in a directory. */
async function provinceDay(date: string, seed: number) {
  const dir = await mkdtemp(join(tmpdir(), 'landfall-jobs-'));
  await writePosSample(dir, { seed, startDate: date, days: 1, provinces: { ON: 5 }, rowsPerFile: 30, filesPerStore: 1, items: 6, badFiles: false });
  const stores = Array.from({ length: 5 }, (_, i) => `pos/ON/${storeId('ON', i)}_${compact(date)}_200000.tdf`);
  return { dir, stores, item: `master/${compact(date)}/Item.csv` };
}

describe('the dependency resolver and job runs on the local stack', () => {
  it.each([
    ['first', '2026-10-01', [2, 0, 4, 1, 3]],
    ['last', '2026-10-02', [4, 3, 2, 1, 0]],
  ])('starts exactly one execution after the last required file, with Item.csv %s', async (where, date, order) => {
    const { dir, stores, item } = await provinceDay(date, order[0]! + 20);
    const keys = order.map((i) => stores[i]!);
    if (where === 'first') keys.unshift(item);
    else keys.push(item);
    const last = keys.pop()!;
    await landEach(stack(), dir, keys);
    expect(executionsOf(stack(), 'ON', date)).toEqual([]);
    const batch = await stack().jobRuns.getBatch(`pos_daily_sales#province=ON#date=${date}`);
    expect(batch).toMatchObject({ status: 'WAITING' });
    const waiting = await explainBatch(resolverDepsFromEnv(), { job: 'pos_daily_sales', values: { province: 'ON', date } });
    expect(waiting.join('; ')).toMatch(where === 'first' ? /4 of 5 stores/ : /item_master for ON/);

    const [landedAt] = await landEach(stack(), dir, [last]);
    const executions = executionsOf(stack(), 'ON', date);
    expect(executions).toHaveLength(1);
    expect(executions[0]!.startDate.getTime()).toBeGreaterThanOrEqual(landedAt!.getTime());
    expect(executions[0]!.status).toBe('SUCCEEDED');
    expect(await stack().jobRuns.getBatch(`pos_daily_sales#province=ON#date=${date}`)).toMatchObject({ status: 'SUCCEEDED', waitingFor: [] });
    const run = await stack().jobRuns.getRun(`pos_daily_sales#province=ON#date=${date}`, executions[0]!.name);
    expect(run!.sizing).toEqual({ inputBytes: expect.any(Number), overThreshold: false });
    expect(run!.sizing!.inputBytes).toBeGreaterThan(0);
  });

  it('starts nothing while a store is missing, and says what the batch waits for', async () => {
    const date = '2026-10-03';
    const { dir, stores, item } = await provinceDay(date, 7);
    await landEach(stack(), dir, [item, ...stores.slice(0, 3)]);
    expect(executionsOf(stack(), 'ON', date)).toEqual([]);
    const id = `pos_daily_sales#province=ON#date=${date}`;
    const detail = ['3 of 5 stores of pos (have ON01, ON02, ON03)'];
    expect(await explainBatch(resolverDepsFromEnv(), { job: 'pos_daily_sales', values: { province: 'ON', date } })).toEqual(detail);
    // The stream records only the start of the wait (one write, not one per file); the reconciler refreshes it.
    const recorded = await stack().jobRuns.getBatch(id);
    expect(recorded).toMatchObject({ status: 'WAITING' });
    expect(recorded!.waitingFor).not.toEqual(detail);
    await reconcile(reconcileDepsFromEnv());
    expect(await stack().jobRuns.getBatch(id)).toMatchObject({ status: 'WAITING', waitingFor: detail });
  });

  it('writes curated rows equal to an independent computation, and keeps them on re-landing', async () => {
    const date = '2026-10-05';
    const dir = await mkdtemp(join(tmpdir(), 'landfall-jobs-'));
    await writePosSample(dir, {
      seed: 5,
      startDate: date,
      days: 1,
      provinces: { ON: 5, QC: 4, BC: 3 },
      rowsPerFile: 40,
      filesPerStore: 3,
      items: 10,
      badFiles: true,
    });
    const { landDirectory } = await import('../ops/land');
    await landDirectory(stack().s3, stack().deployment.names.rawBucket, dir);
    await stack().settled(500);
    const expected = await expectedPosDailySales(dir);
    for (const province of ['ON', 'QC', 'BC']) {
      expect(await curatedRows(stack(), province, date), province).toEqual(expected.filter((r) => r.province === province));
    }

    // Re-landing every file: identical bytes, no execution, no new curated version.
    const executions = stack().stepFunctions.executions().length;
    const versions = await curatedVersions(stack(), 'ON', date);
    const replayed = await replayPrefix(stack().s3, stack().deployment.names.rawBucket, '');
    expect(replayed).toBeGreaterThan(40);
    await stack().settled(500);
    expect(stack().stepFunctions.executions().length).toBe(executions);
    expect(await curatedVersions(stack(), 'ON', date)).toEqual(versions);

    // A newer cumulative file of one store (its earlier rows and two more) re-runs that province's batch only.
    const newer = `pos/QC/QC02_${compact(date)}_230000.tdf`;
    const rows = [`QC02\t${itemId(0)}\t${date}\t4\t100.00`, `QC02\t${itemId(9)}\t${date}\t6\t2.50`];
    await writeFile(join(dir, newer), `${await newestFileOf(dir, 'QC', 'QC02')}${rows.join('\n')}\n`);
    const before = { ON: executionsOf(stack(), 'ON', date).length, QC: executionsOf(stack(), 'QC', date).length, BC: executionsOf(stack(), 'BC', date).length };
    await landEach(stack(), dir, [newer]);
    expect(executionsOf(stack(), 'QC', date)).toHaveLength(before.QC + 1);
    expect(executionsOf(stack(), 'ON', date)).toHaveLength(before.ON);
    expect(executionsOf(stack(), 'BC', date)).toHaveLength(before.BC);
    const expectedAfter = await expectedPosDailySales(dir);
    expect(await curatedRows(stack(), 'QC', date)).toEqual(expectedAfter.filter((r) => r.province === 'QC'));
    const lastRun = (await stack().jobRuns.getBatch(`pos_daily_sales#province=QC#date=${date}`))!.lastRun!;
    expect((await stack().jobRuns.getRun(`pos_daily_sales#province=QC#date=${date}`, lastRun.executionName))!.inputs.pos!.map((f) => f.key)).toContain(
      `landing/${newer}`,
    );
  });

  it('leaves the previous partition intact when a transform fails mid-write, notifies, and a retry succeeds', async () => {
    const date = '2026-10-06';
    const { dir, stores, item } = await provinceDay(date, 9);
    await landEach(stack(), dir, [item, ...stores]);
    const good = await curatedRows(stack(), 'ON', date);
    const goodVersions = await curatedVersions(stack(), 'ON', date);
    expect(goodVersions).toHaveLength(1);

    // The lake refuses the curated write (the transform's own S3 client, as a failing PUT would).
    let failing = true;
    s3Client().middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Key?: string };
        if (failing && context.commandName === 'PutObjectCommand' && input.Key?.startsWith('curated/')) {
          throw Object.assign(new Error('connection reset while writing the partition'), { name: 'MidWriteFailure' });
        }
        return next(args);
      },
      { step: 'initialize', name: 'failCuratedWrites' },
    );
    const newer = `pos/ON/ON03_${compact(date)}_230000.tdf`;
    await writeFile(join(dir, newer), `${await readFile(join(dir, stores[2]!), 'utf8')}ON03\t${itemId(1)}\t${date}\t4\t55.55\n`);
    const notified = stack().sns.messages().length;
    await landEach(stack(), dir, [newer]);

    const batchId = `pos_daily_sales#province=ON#date=${date}`;
    const failed = await stack().jobRuns.getBatch(batchId);
    expect(failed).toMatchObject({ status: 'FAILED', lastRun: { status: 'FAILED', error: expect.stringContaining('MidWriteFailure') } });
    expect(executionsOf(stack(), 'ON', date).at(-1)).toMatchObject({ status: 'FAILED', error: 'MidWriteFailure' });
    expect(await curatedVersions(stack(), 'ON', date)).toEqual(goodVersions);
    expect(await curatedRows(stack(), 'ON', date)).toEqual(good);
    const messages = stack().sns.messages().slice(notified);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      topicArn: stack().env.FAILURE_TOPIC_ARN,
      subject: `landfall: pos_daily_sales ON ${date} FAILED in aggregate (attempt 1)`,
    });
    // job, batch, stage, attempt, error, and the failing Lambda's own words
    expect(JSON.parse(messages[0]!.message)).toMatchObject({
      kind: 'job-failed',
      job: 'pos_daily_sales',
      batch: { province: 'ON', date },
      stage: 'aggregate',
      attempt: 1,
      error: 'MidWriteFailure',
      message: 'connection reset while writing the partition',
    });

    failing = false;
    s3Client().middlewareStack.remove('failCuratedWrites');
    const outcome = await retryBatch(resolverDepsFromEnv(), { job: 'pos_daily_sales', values: { province: 'ON', date } });
    expect(outcome.kind).toBe('started');
    await stack().settled(400);
    expect(await stack().jobRuns.getBatch(batchId)).toMatchObject({ status: 'SUCCEEDED' });
    expect(await curatedRows(stack(), 'ON', date)).toEqual((await expectedPosDailySales(dir)).filter((r) => r.province === 'ON'));
    // the retried run read the newer ON03 file: its extra sale of 55.55 is in
    const sale = (rows: Record<string, unknown>[]) => Number(rows.find((r) => r.store_id === 'ON03' && r.item_id === itemId(1))?.sale_amount ?? 0);
    expect(sale(await curatedRows(stack(), 'ON', date)) - sale(good)).toBeCloseTo(55.55, 2);
  });
});
