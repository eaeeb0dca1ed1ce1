import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import type { ChaosSettings } from '../local/chaos';
import { latestVersionsUnder } from '../shared/core/s3/landed-versions';
import { PREFIX } from '../shared/core/s3/layout';
import { downloadToFile } from '../shared/core/s3/object-io';
import { reconcile } from '../shared/stages/reconcile/reconciler';
import { reconcileDepsFromEnv } from '../shared/stages/reconcile/deps';
import { explainBatch } from '../shared/stages/resolve/resolver';
import { resolverDepsFromEnv } from '../shared/stages/resolve/deps';
import { useLocalStack } from './support/local-stack';

/*
 * A landed object is invisible until validate records it (issue 26, finding 4). On a layout that
 * gives a batch a bounded listing (test/fixtures/site-counts: `counts/<day>/<site>.csv`), the
 * resolver lists the day's objects before it claims the batch: while one has a newest version the
 * file-state table does not know (validate crashed before RECEIVED), the batch waits for it instead
 * of publishing the day from that site's older file.
 */
process.env.LANDFALL_CONFIG_FILE = join(import.meta.dirname, 'fixtures', 'site-counts', 'pipeline.yaml');
const stack = useLocalStack({ chaos: { seed: 26, enabled: false } });

const DAY = '2026-12-01';
const BATCH = { job: 'daily_counts', values: { day: DAY } };
const keyOf = (site: string) => `counts/${DAY}/${site}.csv`;
const countsFile = (rows: Array<[string, number]>) => `item,qty\n${rows.map(([item, qty]) => `${item},${qty}`).join('\n')}\n`;

async function land(files: Record<string, string>): Promise<void> {
  for (const [key, body] of Object.entries(files)) {
    await stack().s3.send(new PutObjectCommand({ Bucket: stack().deployment.names.rawBucket, Key: `${PREFIX.landing}${key}`, Body: body }));
  }
  await stack().settled(500);
}

/** validate dies before it records anything (RECEIVED included), on every attempt, while these files land. */
async function landWhileValidateCrashes(files: Record<string, string>): Promise<void> {
  const crash: Partial<ChaosSettings> = {
    crashProbability: 1,
    crashPoints: ['before'],
    crashFunctions: ['validate'],
    crashOperations: ['TransactWriteItems', 'PutItem', 'UpdateItem'],
  };
  stack().chaos.configure(crash);
  stack().chaos.enable();
  try {
    await land(files);
  } finally {
    stack().chaos.disable();
  }
}

const executions = () =>
  stack()
    .stepFunctions.executions()
    .filter((e) => e.name.startsWith(`daily_counts-${DAY}-`));

/** The day's published partition: site, item and quantity per row, sorted. */
async function published(): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'landfall-counts-'));
  const path = join(dir, 'data.parquet');
  await downloadToFile(stack().s3, stack().deployment.names.lakeBucket, `curated/daily_counts/day=${DAY}/data.parquet`, undefined, path);
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  const rows = (await conn.runAndReadAll('SELECT site, item, qty FROM read_parquet($1) ORDER BY site, item', [path])).getRowObjectsJson();
  conn.closeSync();
  return rows.map((r) => `${r.site} ${r.item} ${r.qty}`);
}

describe('an object validate has not recorded yet (a bounded listing)', () => {
  it('holds its batch instead of publishing the older file; once recorded, one run publishes the complete day', { timeout: 300_000 }, async () => {
    const first = { [keyOf('north')]: countsFile([['apples', 3]]), [keyOf('south')]: countsFile([['apples', 5]]), [keyOf('west')]: countsFile([['pears', 2]]) };
    await land(first);
    expect(executions().map((e) => e.status)).toEqual(['SUCCEEDED']);
    expect(await published()).toEqual(['north apples 3', 'south apples 5', 'west pears 2']);

    // north corrects its file, and validate crashes before recording it (Lambda's retries too):
    // the new version is in S3, and nowhere in the file-state table
    const corrected = { [keyOf('north')]: countsFile([['apples', 30]]) };
    await landWhileValidateCrashes(corrected);
    const unrecorded = (await stack().fileStates.listAll()).filter((f) => f.key === `${PREFIX.landing}${keyOf('north')}`);
    expect(unrecorded).toHaveLength(1); // only the first version
    // west's correction converts: its settling resolves the batch, which must not run on north's older file
    const west = { [keyOf('west')]: countsFile([['pears', 7]]) };
    await land(west);
    expect(executions()).toHaveLength(1);
    expect(await published()).toEqual(['north apples 3', 'south apples 5', 'west pears 2']);
    const waiting = await explainBatch(resolverDepsFromEnv(), BATCH);
    expect(waiting).toEqual([
      expect.stringMatching(/^counts: landing\/counts\/2026-12-01\/north\.csv \(version [^)]+\) landed at \S+Z is not yet recorded by validate/),
    ]);
    expect((await stack().jobRuns.getBatch(`daily_counts#day=${DAY}`))?.waitingFor).toEqual(waiting);

    // the reconciler re-drives the parked event: validate records north's file, its settling runs the day once
    const report = await reconcile(reconcileDepsFromEnv(), { fileGraceMs: 0 });
    await stack().settled(500);
    expect(report.repairs).toContainEqual(expect.objectContaining({ kind: 'redrive', stage: 'validate', key: `${PREFIX.landing}${keyOf('north')}` }));
    expect(executions().map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(await published()).toEqual(['north apples 30', 'south apples 5', 'west pears 7']);
    expect(await explainBatch(resolverDepsFromEnv(), BATCH)).toEqual(['an input newer than the last successful run']);
  });

  it('does not hold a batch for identical bytes re-landed (validate records no version for them)', { timeout: 120_000 }, async () => {
    const before = executions().length;
    // south's file again, byte for byte, with west's next correction: the day runs on west's
    await land({ [keyOf('south')]: countsFile([['apples', 5]]), [keyOf('west')]: countsFile([['pears', 8]]) });
    expect(executions()).toHaveLength(before + 1);
    expect(await published()).toEqual(['north apples 30', 'south apples 5', 'west pears 8']);
  });

  it('lists the newest version of each key page by page, and says when it stopped at its limit', { timeout: 60_000 }, async () => {
    const bucket = stack().deployment.names.rawBucket;
    const put = (key: string, body: string) => stack().s3.send(new PutObjectCommand({ Bucket: bucket, Key: `scratch/listing/${key}`, Body: body }));
    for (const key of ['a', 'b', 'c', 'd']) await put(key, key);
    await put('b', 'b2');
    const all = await latestVersionsUnder(stack().s3, bucket, 'scratch/listing/');
    expect(all.complete).toBe(true);
    expect(all.versions.map((v) => [v.key, v.size])).toEqual([
      ['scratch/listing/a', 1],
      ['scratch/listing/b', 2],
      ['scratch/listing/c', 1],
      ['scratch/listing/d', 1],
    ]);
    const cut = await latestVersionsUnder(stack().s3, bucket, 'scratch/listing/', 3);
    expect(cut.complete).toBe(false);
    expect(cut.versions.map((v) => v.key)).toEqual(['scratch/listing/a', 'scratch/listing/b']); // a, b (newest), b (older): 3 versions
  });
});
