import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { retailConfig, retailProvinces } from '../examples/retail/config';
const withProvinces = retailConfig;
import { writePosSample } from '../examples/retail/data/pos-sample';
import { reconcileDepsFromEnv } from '../shared/stages/reconcile/deps';
import { reconcile } from '../shared/stages/reconcile/reconciler';
import { landDirectory } from '../ops/land';
import { useLocalStack } from './support/local-stack';

/*
 * 10 provinces of 20 stores: 200 store files and the day's item master land at once, 32 PUTs at a
 * time, while the reconciler runs too. Exactly one execution per batch must start.
 */
const PROVINCES = ['AB', 'BC', 'MB', 'NB', 'NL', 'NS', 'ON', 'PE', 'QC', 'SK'];
const DATE = '2026-10-10';
const config = withProvinces(Object.fromEntries(PROVINCES.map((p) => [p, 20])));
const configDir = await mkdtemp(join(tmpdir(), 'landfall-config-'));
process.env.LANDFALL_CONFIG_FILE = join(configDir, 'pipeline.json');
await writeFile(process.env.LANDFALL_CONFIG_FILE, JSON.stringify(config));

const stack = useLocalStack();

describe('concurrent landings', () => {
  it('start exactly one execution per batch: 201 files, 10 batches, 10 executions', { timeout: 600_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'landfall-many-'));
    await writePosSample(dir, {
      seed: 77,
      startDate: DATE,
      days: 1,
      provinces: retailProvinces(config),
      rowsPerFile: 5,
      filesPerStore: 1,
      items: 5,
      badFiles: false,
    });
    const deps = reconcileDepsFromEnv();
    let landed = false;
    const sweeps = (async () => {
      let n = 0;
      while (!landed) {
        await reconcile(deps, { fileGraceMs: 60_000 });
        n += 1;
      }
      return n;
    })();
    const keys = await landDirectory(stack().s3, stack().deployment.names.rawBucket, dir, { concurrency: 32 });
    await stack().settled(1000, 600_000);
    landed = true;
    expect(await sweeps).toBeGreaterThan(0);
    await stack().settled(500, 600_000);

    expect(keys).toHaveLength(201);
    const executions = stack().stepFunctions.executions();
    expect(executions).toHaveLength(10);
    expect(new Set(executions.map((e) => e.name.split('-')[1]))).toEqual(new Set(PROVINCES));
    expect(executions.every((e) => e.status === 'SUCCEEDED')).toBe(true);
    const { batches, runs } = await stack().jobRuns.listAll();
    expect(runs).toHaveLength(10);
    expect(batches.filter((b) => b.status === 'SUCCEEDED')).toHaveLength(10);
    expect(stack().lambdas.failures).toEqual([]);
  });
});
