import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { PREFIX } from '../shared/core/s3/layout';
import { explainBatch } from '../shared/stages/resolve/resolver';
import { resolverDepsFromEnv } from '../shared/stages/resolve/deps';
import { DAY, METERS_PIPELINE, manifestFile, manifestKey, meterReadings, partFile, partKey, tariffFile, tariffKey } from './support/meters';
import { useLocalStack } from './support/local-stack';

// the stack's functions (and this file's resolver) run the meters pipeline
process.env.LANDFALL_CONFIG_FILE = METERS_PIPELINE;
const stack = useLocalStack();

async function land(files: Record<string, string>) {
  for (const [key, body] of Object.entries(files)) {
    await stack().s3.send(new PutObjectCommand({ Bucket: stack().deployment.names.rawBucket, Key: `${PREFIX.landing}${key}`, Body: body }));
  }
  await stack().settled(400);
}

/** The succeeded runs per batch, e.g. { 'grid_daily#day=…': 1 }. */
async function runsPerBatch(): Promise<Record<string, number>> {
  const { runs } = await stack().jobRuns.listAll();
  const counts: Record<string, number> = {};
  for (const run of runs.filter((r) => r.status === 'SUCCEEDED')) counts[run.batchId] = (counts[run.batchId] ?? 0) + 1;
  return counts;
}

const waitingFor = (job: string, values: Record<string, string>) => explainBatch(resolverDepsFromEnv(), { job, values });

describe('jobs that read jobs, on the local stack', () => {
  const readings = meterReadings();

  it("waits for the manifest's missing part and the upstream partition, naming them; runs each job once when they land", { timeout: 240_000 }, async () => {
    await land({
      [tariffKey()]: tariffFile(),
      [manifestKey('north')]: manifestFile('north'),
      [partKey('north', '0001')]: partFile(readings, 'north', '0001'),
      [partKey('north', '0002')]: partFile(readings, 'north', '0002'),
      [partKey('north', '0003')]: partFile(readings, 'north', '0003'),
      [manifestKey('south')]: manifestFile('south'),
      [partKey('south', '0001')]: partFile(readings, 'south', '0001'),
    });
    expect(await runsPerBatch()).toEqual({ [`region_usage#region=north#day=${DAY}`]: 1 });
    expect(await waitingFor('region_usage', { region: 'south', day: DAY })).toEqual([
      `1 of 2 parts of readings listed in landing/${manifestKey('south')} (missing 0002)`,
    ]);
    // the downstream batch names the upstream partition it waits for
    expect(await waitingFor('grid_daily', { day: DAY })).toEqual([`region_usage south ${DAY}`]);
    expect(await waitingFor('grid_summary', { day: DAY })).toEqual([`grid_daily ${DAY}`]);

    await land({ [partKey('south', '0002')]: partFile(readings, 'south', '0002') });
    // event-driven: the upstream success resolved its downstream batches at once, each ran once
    expect(await runsPerBatch()).toEqual({
      [`region_usage#region=north#day=${DAY}`]: 1,
      [`region_usage#region=south#day=${DAY}`]: 1,
      [`grid_daily#day=${DAY}`]: 1,
      [`grid_summary#day=${DAY}`]: 1,
    });
  });

  it('re-runs the downstream batches once when an upstream partition changes, and not at all for an identical replay', { timeout: 240_000 }, async () => {
    const before = await runsPerBatch();
    // identical bytes: no new version is processed, nothing runs
    await land({ [partKey('south', '0002')]: partFile(readings, 'south', '0002') });
    expect(await runsPerBatch()).toEqual(before);
    // a corrected part: its region, the grid and the summary run once more; north does not
    await land({ [partKey('south', '0002')]: partFile(readings, 'south', '0002', [`SM777,${DAY}T23:00:00Z,1.500`]) });
    expect(await runsPerBatch()).toEqual({
      ...before,
      [`region_usage#region=south#day=${DAY}`]: 2,
      [`grid_daily#day=${DAY}`]: 2,
      [`grid_summary#day=${DAY}`]: 2,
    });
    // the new grid run read the new south partition
    const { runs } = await stack().jobRuns.listAll();
    const grid = runs.filter((r) => r.batchId === `grid_daily#day=${DAY}`).sort((a, b) => a.claimedAt.localeCompare(b.claimedAt));
    const southOf = (run: (typeof grid)[number]) => run.inputs.usage!.find((f) => f.key.includes('region=south'))!.versionId;
    expect(southOf(grid[1]!)).not.toBe(southOf(grid[0]!));
    expect(new Set(grid.map((r) => r.fingerprint)).size).toBe(2);
  });
});
