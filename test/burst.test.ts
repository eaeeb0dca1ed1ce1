import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SAMPLE, writePosSample } from '../examples/retail/data/pos-sample';
import { landDirectory } from '../ops/land';
import { replayPrefix } from '../shared/core/s3/replay';
import { useLocalStack } from './support/local-stack';

/*
 * A burst starts one run (issue 26, finding 3): a forced replay of the POS sample re-puts every
 * store file and the item master at once; each batch that runs again runs once, on the whole burst
 * (its settle window: the run's first state waits, then takes the batch's newest inputs).
 * Waits take 4 s here (the settle window a few seconds in the template).
 */
const stack = useLocalStack({ fastWaits: 4000 });

const runsOf = async (job: string) => (await stack().jobRuns.listAll()).runs.filter((r) => r.job === job);

describe('a burst of landings', () => {
  it('starts exactly one execution per batch, on the burst’s newest inputs', { timeout: 600_000 }, async () => {
    const s = stack();
    const raw = s.deployment.names.rawBucket;
    const dir = await mkdtemp(join(tmpdir(), 'landfall-burst-'));
    await writePosSample(dir, { ...DEFAULT_SAMPLE, days: 1, badFiles: false, rowsPerFile: 20 });
    await landDirectory(s.s3, raw, dir);
    await s.settled(600);
    const before = await runsOf('pos_daily_sales');
    const batches = [...new Set(before.map((r) => r.batchId))];
    expect(batches.length).toBe(3);

    // every store file and the day's item master, re-put at once
    await Promise.all([replayPrefix(s.s3, raw, 'pos/', { force: true }), replayPrefix(s.s3, raw, 'master/', { force: true })]);
    await s.settled(600);
    const after = (await runsOf('pos_daily_sales')).filter((r) => !before.some((b) => b.executionName === r.executionName));

    const perBatch = Object.fromEntries(batches.map((b) => [b, after.filter((r) => r.batchId === b).length]));
    expect(perBatch).toEqual(Object.fromEntries(batches.map((b) => [b, 1])));
    expect(after.every((r) => r.status === 'SUCCEEDED')).toBe(true);
    // each run read the replayed versions of its batch, not the versions they replaced
    const landed = (await s.fileStates.listAll()).filter((f) => f.state === 'CONVERTED' && f.dataset === 'pos');
    const newest = new Map<string, string>();
    for (const f of landed) if (!newest.has(f.key) || newest.get(f.key)! < f.landedAt) newest.set(f.key, f.landedAt);
    for (const run of after) {
      const read = Object.values(run.inputs).flat();
      for (const file of read.filter((f) => f.key.startsWith('landing/pos/'))) {
        const version = landed.find((f) => f.key === file.key && f.versionId === file.versionId);
        expect(version?.landedAt, file.key).toBe(newest.get(file.key));
      }
    }
  });
});
