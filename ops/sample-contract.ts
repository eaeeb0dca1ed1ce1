import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FileState } from '../shared/core/state/file-state';
import { LandfallError } from '../shared/core/errors';

/*
 * The sample convention (ops/README.md, "Samples"): a pipeline folder may hold a sample module,
 * sample.ts (or sample.mjs / sample.js) beside its pipeline.yaml, that writes example input for
 * `landfall demo` and `landfall generate`. The CLI imports it by path, computed from the --config
 * file's folder, never statically: a pipeline is data the tools load. A sample implements these
 * types structurally; it need not (and examples/ does not) import them.
 */

/** The knobs of `landfall demo` and `landfall generate` (--seed N, --days N, --rows N): whole numbers, each optional. */
export interface SampleOptions {
  /** the seed of the sample's random choices: the same seed writes the same bytes */
  seed?: number;
  /** how many days of data */
  days?: number;
  /** rows per file, as the sample counts them */
  rows?: number;
}

/** What one sample file must become once the pipeline has settled. */
export interface ExpectedFile {
  /** key relative to landing/ */
  key: string;
  state: FileState;
  rows?: { in: number; out: number; rejected: number; junk: number };
  /** a fragment of the recorded reason */
  reason?: string;
}

export interface SampleResult {
  /** each written file's expected state: `demo` checks them, `generate` writes them to DIR.expected-states.json */
  expected?: ExpectedFile[];
}

/** What a sample module exports. */
export interface SampleModule {
  /** the knobs' values when the command line does not give them (`landfall demo --help` shows them) */
  defaults?: SampleOptions;
  /** one or two sentences on what the sample holds, for `landfall demo --help` and `landfall generate --help` */
  description?: string;
  /** writes the sample under outDir, each file's path under it being its key under landing/ (`landfall generate`) */
  generateSample(outDir: string, options: SampleOptions): Promise<SampleResult>;
  /** what `landfall demo` lands when it is more than generateSample writes (say, a heavier path); default: generateSample */
  demoSample?(outDir: string, options: SampleOptions): Promise<SampleResult>;
}

/** The names a sample module may have in a pipeline folder, in the order they are looked for. */
export const SAMPLE_MODULE_NAMES = ['sample.ts', 'sample.mjs', 'sample.js'] as const;

/** A sample module that does not keep the convention (a configuration error: exit 2). */
/** A pipeline folder's sample module that does not keep the convention. */
export class SampleModuleError extends LandfallError {
  override readonly name = 'SampleModuleError';
  readonly code = 'SAMPLE_MODULE_INVALID';
}

/** The sample module of a pipeline folder, if it has one. */
export function findSampleModule(pipelineDir: string): string | undefined {
  return SAMPLE_MODULE_NAMES.map((name) => join(pipelineDir, name)).find((file) => existsSync(file));
}

/** Imports the sample module of a pipeline folder (undefined when it has none) and checks its shape. */
export async function loadSampleModule(pipelineDir: string): Promise<{ file: string; module: SampleModule } | undefined> {
  const file = findSampleModule(pipelineDir);
  if (!file) return undefined;
  const module = (await import(pathToFileURL(file).href)) as Partial<SampleModule>;
  const problems = [
    typeof module.generateSample !== 'function' && 'it exports no generateSample(outDir, options) function',
    module.demoSample !== undefined && typeof module.demoSample !== 'function' && 'its demoSample is not a function',
    module.defaults !== undefined && !validDefaults(module.defaults) && 'its defaults are not { seed?, days?, rows? } of whole numbers',
  ].filter((p): p is string => typeof p === 'string');
  if (problems.length > 0) throw new SampleModuleError(`${file} does not keep the sample convention (ops/README.md, "Samples"): ${problems.join('; ')}`);
  return { file, module: module as SampleModule };
}

function validDefaults(defaults: unknown): boolean {
  if (typeof defaults !== 'object' || defaults === null) return false;
  return Object.entries(defaults).every(([k, v]) => ['seed', 'days', 'rows'].includes(k) && Number.isInteger(v) && (v as number) >= 0);
}
