import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstGeneration, POS_CSV_HEADER, posCsvLines, retailWithThreshold } from './support/engine-auto';
import { expectedPosDailySales } from './support/expected-pos';
import { writeFiles } from './support/pos-files';

/*
 * `engine: auto` (the POS job of examples/retail): the same batch forced onto each engine, through
 * `landfall run`, gives the same table (DuckDB in Lambda, Spark on the local EMR).
 */
const landfall = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/landfall.mjs', ...args], {
    cwd: join(import.meta.dirname, '..'),
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
    timeout: 400_000,
  });

describe('engine auto: DuckDB and Spark write the same table', () => {
  it('the same batch forced onto each engine gives the same rows, equal to an independent computation', { timeout: 900_000 }, async () => {
    const input = await mkdtemp(join(tmpdir(), 'landfall-auto-in-'));
    await writeFiles(input, firstGeneration());
    const tables: Record<string, string[]> = {};
    for (const [engine, threshold] of [
      ['duckdb', 1e15],
      ['emr', 0],
    ] as const) {
      const out = await mkdtemp(join(tmpdir(), `landfall-auto-${engine}-`));
      const result = landfall('run', '--input', input, '--out', out, '--config', await retailWithThreshold(threshold));
      expect(result.status, result.stderr).toBe(0);
      const runs = (await readFile(join(out, 'job-runs.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { job: string; status: string; engine: string; values: Record<string, string> });
      // one run, or two if ON01's earlier file was seen alone first: every one on the forced engine
      expect(runs.length).toBeGreaterThan(0);
      for (const r of runs) expect([r.job, r.values.province, r.status, r.engine]).toEqual(['pos_daily_sales', 'ON', 'SUCCEEDED', engine]);
      tables[engine] = (await readFile(join(out, 'curated', 'pos_daily_sales.csv'), 'utf8')).trim().split('\n');
    }
    expect(tables.emr).toEqual(tables.duckdb);
    expect(tables.duckdb![0]).toBe(POS_CSV_HEADER);
    expect(tables.duckdb!.slice(1)).toEqual(posCsvLines(await expectedPosDailySales(input, { provinces: ['ON'] })));
  });
});
