import { DEFAULT_SAMPLE, writePosSample, type ExpectedFile } from './data/pos-sample';
import { DEFAULT_CLICKSTREAM, writeClickstreamSample } from './data/clickstream-sample';

/*
 * This pipeline's sample module (the convention of ops/README.md, "Samples"): `landfall demo` and
 * `landfall generate` import it by path from the --config file's folder. It keeps the contract of
 * ops/sample-contract.ts structurally, without importing it: a pipeline folder stands alone.
 */

interface Knobs {
  seed?: number;
  days?: number;
  rows?: number;
}

/** --seed, --days and --rows when not given: the POS sample's own defaults. */
export const defaults = { seed: DEFAULT_SAMPLE.seed, days: DEFAULT_SAMPLE.days, rows: DEFAULT_SAMPLE.rowsPerFile };

export const description =
  'the "Yummy Foods" POS files (cumulative store files per province and day, the day\'s item master, junk lines, a few bad rows and bad files); ' +
  'the demo adds the e-commerce clickstream of the same days, which runs on local Spark through the local EMR (about a minute a day)';

/** `landfall generate`: the POS sample, with the state and row counts each file must reach. */
export async function generateSample(outDir: string, options: Knobs): Promise<{ expected: ExpectedFile[] }> {
  const pos = { ...DEFAULT_SAMPLE, seed: options.seed ?? defaults.seed, days: options.days ?? defaults.days, rowsPerFile: options.rows ?? defaults.rows };
  return { expected: (await writePosSample(outDir, pos)).files };
}

/** `landfall demo`: the POS sample and the clickstream (the heavy path: Spark on EMR) for the same days. */
export async function demoSample(outDir: string, options: Knobs): Promise<{ expected: ExpectedFile[] }> {
  const { expected } = await generateSample(outDir, options);
  const clicks = await writeClickstreamSample(outDir, {
    ...DEFAULT_CLICKSTREAM,
    seed: options.seed ?? defaults.seed,
    startDate: DEFAULT_SAMPLE.startDate,
    days: options.days ?? defaults.days,
  });
  return { expected: [...expected, ...clicks.files.map((key) => ({ key, state: 'CONVERTED' as const }))] };
}
