import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DAY, METERS_PIPELINE, expectedMeterTables, meterFiles, meterReadings, writeTree } from './support/meters';

const landfall = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [join(import.meta.dirname, '..', 'bin', 'landfall.mjs'), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
    timeout: 280_000,
  });

const lines = async (path: string) => (await readFile(path, 'utf8')).trim().split('\n');

/*
 * A pipeline the user owns, sharing nothing with the samples (test/fixtures/meters): its own
 * datasets, a lookup, SQL files, append-only parts completed by a manifest, and jobs reading jobs
 * two levels deep. It runs end to end through `landfall run --config`, and its outputs equal an
 * independent computation.
 */
describe('a pipeline of your own', () => {
  it('runs end to end through `landfall run --config`, each job once, the outputs exact', { timeout: 300_000 }, async () => {
    const input = await mkdtemp(join(tmpdir(), 'landfall-meters-in-'));
    const out = await mkdtemp(join(tmpdir(), 'landfall-meters-out-'));
    const readings = meterReadings();
    await writeTree(input, meterFiles(readings));
    // from another directory: the configuration's paths are relative to its own folder
    const result = landfall(tmpdir(), 'run', '--input', input, '--out', out, '--config', METERS_PIPELINE);
    expect(result.status, result.stderr).toBe(0);

    const states = (await lines(join(out, 'file-states.jsonl'))).map((l) => JSON.parse(l) as { key: string; state: string; rows?: { rejected: number } });
    const landed = states.filter((s) => s.key.startsWith('landing/'));
    expect(landed).toHaveLength(8);
    expect(
      landed.every((s) => s.state === 'CONVERTED'),
      JSON.stringify(landed.map((s) => [s.key, s.state])),
    ).toBe(true);
    // the bad row is rejected, its part still counts
    expect(landed.find((s) => s.key.endsWith('north/20260501/part-0002.csv'))!.rows!.rejected).toBe(1);
    // each job's partitions are tracked like files: 2 regions, 1 grid day (the summary is read by no job)
    expect(
      states
        .filter((s) => s.key.startsWith('curated/'))
        .map((s) => s.key)
        .sort(),
    ).toEqual([
      'curated/grid_daily/day=2026-05-01/data.parquet',
      'curated/region_usage/region=north/day=2026-05-01/data.parquet',
      'curated/region_usage/region=south/day=2026-05-01/data.parquet',
    ]);

    const runs = (await lines(join(out, 'job-runs.jsonl'))).map((l) => JSON.parse(l) as { job: string; status: string; values: Record<string, string> });
    expect(runs.map((r) => `${r.job} ${Object.values(r.values).join(' ')} ${r.status}`).sort()).toEqual([
      `grid_daily ${DAY} SUCCEEDED`,
      `grid_summary ${DAY} SUCCEEDED`,
      `region_usage north ${DAY} SUCCEEDED`,
      `region_usage south ${DAY} SUCCEEDED`,
    ]);

    const expected = expectedMeterTables(readings);
    expect(await lines(join(out, 'curated', 'region_usage.csv'))).toEqual(['region,meter_id,readings,kwh,cost,day', ...expected.region_usage]);
    expect(await lines(join(out, 'curated', 'grid_daily.csv'))).toEqual(['region,meters,kwh,cost,day', ...expected.grid_daily]);
    expect(await lines(join(out, 'curated', 'grid_summary.csv'))).toEqual(['day,regions,meters,kwh,cost', ...expected.grid_summary]);
  });

  it('prints its effective configuration, which `landfall config --config` accepts back unchanged from any directory', async () => {
    const first = landfall(join(import.meta.dirname, '..'), 'config', '--config', METERS_PIPELINE);
    expect(first.status, first.stderr).toBe(0);
    const effective = JSON.parse(first.stdout) as { jobs: Array<{ stages: Array<{ sql: string }> }> };
    expect(effective.jobs[0]!.stages[0]!.sql).toBe(join(import.meta.dirname, 'fixtures', 'meters', 'sql', 'region_usage.v1.sql'));
    const dir = await mkdtemp(join(tmpdir(), 'landfall-config-'));
    const file = join(dir, 'effective.json');
    await (await import('node:fs/promises')).writeFile(file, first.stdout);
    const again = landfall(tmpdir(), 'config', '--config', file);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toBe(first.stdout);
  });
});
