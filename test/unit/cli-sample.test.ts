import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SampleModuleError, findSampleModule, loadSampleModule, type SampleModule } from '../../ops/sample-contract';
import * as retailSample from '../../examples/retail/sample';
import * as fixtureSample from '../fixtures/sampled/sample';
import { DEFAULT_SAMPLE, writePosSample } from '../../examples/retail/data/pos-sample';
import { DEFAULT_CLICKSTREAM, writeClickstreamSample } from '../../examples/retail/data/clickstream-sample';
import { cli, keepConfigEnv } from '../support/run-cli';

/*
 * The sample convention (ops/README.md, "Samples"): a pipeline folder's sample.ts, imported by path
 * from the --config file's folder by `landfall demo` and `landfall generate`.
 */

// the samples keep the contract structurally, without importing it: checked here, by tsc
const contracts: SampleModule[] = [retailSample, fixtureSample];

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const SAMPLED = join(FIXTURES, 'sampled', 'pipeline.yaml');
const METERS = join(FIXTURES, 'meters', 'pipeline.yaml');
const RETAIL_DIR = join(import.meta.dirname, '..', '..', 'examples', 'retail');

const scratch: string[] = [];
const tempDir = async (name: string) => {
  const dir = await mkdtemp(join(tmpdir(), `landfall-${name}-`));
  scratch.push(dir);
  return dir;
};
afterAll(() => Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true }))));

keepConfigEnv({ beforeEach, afterEach });

/** Every file under dir, by its path under it, with its bytes. */
async function tree(dir: string): Promise<Record<string, string>> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  const entries = await Promise.all(
    files.map(async (e) => [join(e.parentPath, e.name).slice(dir.length + 1), (await readFile(join(e.parentPath, e.name))).toString('base64')] as const),
  );
  return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
}

describe('finding and loading a sample module', () => {
  it('finds the module beside a pipeline file, and none in a folder that has none', async () => {
    expect(contracts).toHaveLength(2);
    expect(findSampleModule(join(FIXTURES, 'sampled'))).toBe(join(FIXTURES, 'sampled', 'sample.ts'));
    expect(findSampleModule(join(FIXTURES, 'meters'))).toBeUndefined();
    expect(await loadSampleModule(join(FIXTURES, 'meters'))).toBeUndefined();
    const loaded = await loadSampleModule(join(FIXTURES, 'sampled'));
    expect(loaded?.module.defaults).toEqual({ seed: 1, days: 2, rows: 5 });
    expect(typeof loaded?.module.demoSample).toBe('function');
    expect((await loadSampleModule(RETAIL_DIR))?.file).toBe(join(RETAIL_DIR, 'sample.ts'));
  });

  it('refuses a module that does not keep the convention, saying what is wrong', async () => {
    const dir = await tempDir('bad-sample');
    await writeFile(join(dir, 'sample.mjs'), 'export const defaults = { seed: -1, colour: 3 };\nexport function sample() {}\n');
    const error = await loadSampleModule(dir).catch((e: Error) => e);
    expect(error).toBeInstanceOf(SampleModuleError);
    expect((error as Error).message).toContain('it exports no generateSample(outDir, options) function');
    expect((error as Error).message).toContain('its defaults are not { seed?, days?, rows? } of whole numbers');
  });
});

describe('landfall generate', () => {
  it("writes a pipeline's sample with its module, the knobs given over its defaults, and the expected states beside it", async () => {
    const out = join(await tempDir('gen'), 'sample');
    const result = await cli('generate', '--out', out, '--config', SAMPLED, '--days', '3', '--seed', '4');
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe(`3 files written under ${out}; expected states in ${out}.expected-states.json\n`);
    expect(Object.keys(await tree(out))).toEqual(['readings/20260501/part-0001.csv', 'readings/20260502/part-0001.csv', 'readings/20260503/part-0001.csv']);
    // rows: the module's default (5)
    expect((await readFile(join(out, 'readings/20260501/part-0001.csv'), 'utf8')).trim().split('\n')).toHaveLength(6);
    const expected = await fixtureSample.generateSample(await tempDir('gen-direct'), { seed: 4, days: 3, rows: 5 });
    expect(JSON.parse(await readFile(`${out}.expected-states.json`, 'utf8'))).toEqual(expected.expected);
  });

  it('of the default pipeline: exactly the POS sample it always wrote (files and expected states)', async () => {
    const out = join(await tempDir('gen-retail'), 'sample');
    const result = await cli('generate', '--out', out, '--days', '1', '--rows', '30', '--seed', '9');
    expect(result.status, result.stderr).toBe(0);
    const before = join(await tempDir('gen-retail-before'), 'sample');
    const sample = await writePosSample(before, { ...DEFAULT_SAMPLE, seed: 9, days: 1, rowsPerFile: 30 });
    expect(await tree(out)).toEqual(await tree(before));
    expect(await readFile(`${out}.expected-states.json`, 'utf8')).toBe(`${JSON.stringify(sample.files, null, 2)}\n`);
    expect(result.stdout).toBe(`${sample.files.length} files written under ${out}; expected states in ${out}.expected-states.json\n`);
  });

  it('of a pipeline without a sample module: exit 2, saying it has no sample generator', async () => {
    const out = join(await tempDir('gen-none'), 'sample');
    const result = await cli('generate', '--out', out, '--config', METERS);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('test/fixtures/meters/pipeline.yaml has no sample generator: no sample.ts beside it');
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a knob that is not a whole number, and a sample module that breaks the convention', async () => {
    expect(await cli('generate', '--out', await tempDir('gen-knob'), '--config', SAMPLED, '--rows', '2.5')).toMatchObject({
      status: 2,
      stderr: 'landfall: --rows must be a whole number, got 2.5\n',
    });
    const dir = await tempDir('gen-bad');
    await copyFile(SAMPLED, join(dir, 'pipeline.yaml'));
    await writeFile(join(dir, 'sample.js'), 'export const generateSample = 1;\n');
    const result = await cli('generate', '--out', join(dir, 'out'), '--config', join(dir, 'pipeline.yaml'));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${join(dir, 'sample.js')} does not keep the sample convention`);
  });
});

describe('landfall demo, before it starts anything', () => {
  it('of a pipeline with neither a sample module nor a sample/ directory: exit 2, naming what it looked for', async () => {
    const result = await cli('demo', '--config', METERS);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('no sample/ directory beside the configuration');
  });
});

describe('the help of demo and generate shows the sample of the pipeline at hand', () => {
  it('its description and the defaults of its knobs; or that there is none', async () => {
    const fixture = (await cli('demo', '--help', '--config', SAMPLED)).stdout.replace(/\s+/g, ' ');
    expect(fixture).toContain(`(test/fixtures/sampled/sample.ts): ${fixtureSample.description}.`);
    expect(fixture).toContain(
      "--seed N the seed of the sample's random choices: the same seed writes the same bytes (default: 1, from test/fixtures/sampled/sample.ts)",
    );
    const retail = (await cli('generate', '--help')).stdout.replace(/\s+/g, ' ');
    expect(retail).toContain(`(default: ${DEFAULT_SAMPLE.rowsPerFile}, from examples/retail/sample.ts)`);
    const none = (await cli('help', 'generate', '--config', METERS)).stdout.replace(/\s+/g, ' ');
    expect(none).toContain('test/fixtures/meters/pipeline.yaml has no sample module');
    expect(none).toContain('(default: unused: the pipeline has no sample module)');
  });
});

describe('the retail sample module', () => {
  it('lands in the demo what the demo always landed: the POS sample and the clickstream of the same days', async () => {
    const now = await tempDir('retail-demo');
    const { expected } = await retailSample.demoSample(now, retailSample.defaults);
    const before = await tempDir('retail-demo-before');
    const pos = await writePosSample(before, DEFAULT_SAMPLE);
    const clicks = await writeClickstreamSample(before, {
      ...DEFAULT_CLICKSTREAM,
      seed: DEFAULT_SAMPLE.seed,
      startDate: DEFAULT_SAMPLE.startDate,
      days: DEFAULT_SAMPLE.days,
    });
    expect(await tree(now)).toEqual(await tree(before));
    expect(expected).toEqual([...pos.files, ...clicks.files.map((key) => ({ key, state: 'CONVERTED' }))]);
  });
});
