import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { retailConfig } from '../examples/retail/config';
const pipelineConfig = retailConfig();
import { writePosSample } from '../examples/retail/data/pos-sample';
import { POS_CSV_HEADER, posCsvLines } from './support/engine-auto';
import { expectedPosDailySales } from './support/expected-pos';
import { itemMaster, masterKey, storeFile, storeKey, writeFiles } from './support/pos-files';

const landfall = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/landfall.mjs', ...args], {
    cwd: join(import.meta.dirname, '..'),
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
    timeout: 170_000,
  });

describe('the landfall CLI', () => {
  it('runs a directory through the pipeline and writes file states and Parquet tables', { timeout: 180_000 }, async () => {
    const input = await mkdtemp(join(tmpdir(), 'landfall-in-'));
    const out = await mkdtemp(join(tmpdir(), 'landfall-out-'));
    const provinces = { ON: 2, QC: 1, BC: 1 };
    const sample = await writePosSample(input, {
      seed: 9,
      startDate: '2026-11-23',
      days: 1,
      provinces,
      rowsPerFile: 10,
      filesPerStore: 1,
      items: 5,
      badFiles: true,
    });
    // a configuration with this sample's store counts, so that every province's batch runs
    const configPath = join(out, '..', `${out.split('/').pop()}-config.json`);
    await writeFile(configPath, JSON.stringify(retailConfig(provinces)));
    const result = landfall('run', '--input', input, '--out', out, '--config', configPath);
    expect(result.status, result.stderr).toBe(0);
    const states = (await readFile(join(out, 'file-states.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { key: string; state: string; history: unknown[] });
    expect(states).toHaveLength(sample.files.length);
    for (const expected of sample.files) {
      expect(states.find((s) => s.key === `landing/${expected.key}`)?.state, expected.key).toBe(expected.state);
    }
    const converted = sample.files.filter((f) => f.state === 'CONVERTED').length;
    const parquet = (await readdir(join(out, 'processed'), { recursive: true })).filter((f) => String(f).endsWith('.parquet'));
    expect(parquet).toHaveLength(converted);
    expect(result.stderr).toMatch(/landing: \d+ files put/);

    const runs = (await readFile(join(out, 'job-runs.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: string; values: { province: string } });
    expect(runs.map((r) => [r.values.province, r.status]).sort()).toEqual([
      ['BC', 'SUCCEEDED'],
      ['ON', 'SUCCEEDED'],
      ['QC', 'SUCCEEDED'],
    ]);
    // DuckDB jobs only: no EMR cluster was used (emr.test.ts checks the lines of a Spark run)
    expect(await readFile(join(out, 'emr-clusters.jsonl'), 'utf8')).toBe('');
    const csv = (await readFile(join(out, 'curated', 'pos_daily_sales.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe(POS_CSV_HEADER);
    const expected = posCsvLines(await expectedPosDailySales(input, { provinces: Object.keys(provinces) }));
    expect(csv.slice(1)).toEqual(expected);
  });

  it('runs a province-day full of poison to the end: exit 0, every file terminal with a reason, the other rows exact', { timeout: 180_000 }, async () => {
    const date = '2026-11-23';
    const input = await mkdtemp(join(tmpdir(), 'landfall-poison-'));
    const out = await mkdtemp(join(tmpdir(), 'landfall-poison-out-'));
    const counted = {
      ...Object.fromEntries(['ON03', 'ON04', 'ON05'].map((store) => [storeKey(store, date, '100000'), storeFile(store, date, 20)])),
      [masterKey(date)]: itemMaster(),
      // a 2.7 MB field and rows dated outside the file's day: three rejected rows, the file kept
      [storeKey('ON01', date, '100000')]: storeFile('ON01', date, 20, [
        `ON01\tI0001\t${date}\t4\t${'€'.repeat(900_000)}`,
        'ON01\tI0002\t0000-02-29\t4\t1.00',
        'ON01\tI0002\t9999-12-31\t4\t1.00',
      ]),
      // two valid amounts whose sum overflows DECIMAL(18,2)
      [storeKey('ON02', date, '100000')]: storeFile('ON02', date, 20, [
        `ON02\tI0003\t${date}\t4\t9999999999999999.99`,
        `ON02\tI0003\t${date}\t4\t9999999999999999.99`,
      ]),
    };
    const heldOut = { [storeKey('ON03', date, '200000')]: storeFile('ON03', date, 0), [storeKey('ON09', date, '200000')]: storeFile('ON09', date, 5) };
    await writeFiles(input, { ...counted, ...heldOut });
    const result = landfall('run', '--input', input, '--out', out);
    expect(result.status, result.stderr).toBe(0);
    const states = (await readFile(join(out, 'file-states.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { key: string; state: string; reason?: string; rows?: { rejected: number } });
    expect(states.map((s) => s.state).filter((s) => s === 'RECEIVED' || s === 'VALIDATED')).toEqual([]);
    expect(states.filter((s) => s.state !== 'CONVERTED').every((s) => s.reason)).toBe(true);
    const stateOf = (key: string) => states.find((s) => s.key === `landing/${key}`);
    expect(stateOf(storeKey('ON01', date, '100000'))).toMatchObject({ state: 'CONVERTED', rows: { rejected: 3 } });
    expect(stateOf(storeKey('ON03', date, '200000'))).toMatchObject({
      state: 'QUARANTINED',
      reason: expect.stringContaining('fewer than the 20 of the earlier file'),
    });
    expect(stateOf(storeKey('ON09', date, '200000'))).toMatchObject({ state: 'REJECTED', reason: expect.stringContaining('unknown store "ON09"') });
    const expectedDir = await mkdtemp(join(tmpdir(), 'landfall-poison-expected-'));
    await writeFiles(expectedDir, counted);
    const csv = (await readFile(join(out, 'curated', 'pos_daily_sales.csv'), 'utf8')).trim().split('\n');
    const expected = posCsvLines(await expectedPosDailySales(expectedDir, { provinces: ['ON'] }));
    expect(csv.slice(1)).toEqual(expected);
  });

  it('refuses a bad --config before starting anything, naming the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'landfall-cfg-'));
    const config = structuredClone(pipelineConfig) as unknown as { datasets: Array<{ columns: Array<{ kind: string }> }> };
    config.datasets[0]!.columns[1]!.kind = 'uuid';
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    const result = landfall('run', '--input', dir, '--out', join(dir, 'out'), '--config', join(dir, 'config.json'));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('datasets[0].columns[1].kind');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('demos a pipeline by its own sample module: sample.ts beside its configuration (ops/README.md, "Samples")', { timeout: 180_000 }, () => {
    const result = landfall('demo', '--config', join('test', 'fixtures', 'sampled', 'pipeline.yaml'), '--days', '1', '--rows', '4');
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain('sample: 2 files written to');
    expect(result.stdout).toMatch(/readings\/20260501\/part-0001\.csv\s+CONVERTED\s+4\s+4\s+0\s+0/);
    expect(result.stdout).toMatch(/notes\/readme\.txt\s+UNRECOGNISED/);
    expect(result.stdout).toContain('every sample file is in its expected state');
  });

  it('prints usage and fails on an unknown command', () => {
    const result = landfall('fly');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown command "fly"');
  });
});
