import { describe, expect, it } from 'vitest';
import { runSeeds, seedList } from './chaos/seeds';

/*
 * The chaos run (test/chaos/seed.ts) at p = 0.25 on a few seeds; `npm run chaos` runs ten or more.
 * LANDFALL_CHAOS_SEEDS picks others (e.g. "1-10").
 */
const seeds = seedList(process.env.LANDFALL_CHAOS_SEEDS ?? '1-2');

describe('chaos: crashes around every write, duplicated and reversed events, lost stream records, aborted executions', () => {
  it(`heals itself on seeds ${seeds.join(', ')} at p = 0.25`, { timeout: seeds.length * 240_000 }, async () => {
    const results = await runSeeds(seeds, 0.25);
    for (const r of results) {
      // the faults really happened…
      expect(r.injected.crashesBefore + r.injected.crashesAfter, `seed ${r.seed}`).toBeGreaterThan(10);
      expect(r.injected.s3EventsDuplicated, `seed ${r.seed}`).toBeGreaterThan(0);
      // …and after the reconciler nothing is stuck, duplicated or missing
      expect(r.problems, `seed ${r.seed}: ${r.repairLines.join('\n')}`).toEqual([]);
    }
  });
});
