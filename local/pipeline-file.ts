import { resolve } from 'node:path';
import { loadPipelineFile, type Pipeline } from '../shared/core/config/load-config';

/**
 * The pipeline the CLI and the local stack use when none is named: the samples' example folder
 * (`npm run demo`, the README's first command). The one place that names it: help texts and
 * defaults elsewhere derive from this constant.
 */
export const DEFAULT_PIPELINE_FILE = resolve(import.meta.dirname, '..', 'examples', 'retail', 'pipeline.yaml');

/** The absolute path of the pipeline file a command uses: the one named, else LANDFALL_CONFIG_FILE, else the default. */
export function pipelineFilePath(file: string | undefined): string {
  return resolve(file ?? process.env.LANDFALL_CONFIG_FILE ?? DEFAULT_PIPELINE_FILE);
}

/**
 * Validates the named configuration (or the default) and makes it the one the local stack's
 * functions load (LANDFALL_CONFIG_FILE, inherited by isolated handler processes).
 */
export function usePipelineFile(file: string | undefined): Pipeline {
  const absolute = pipelineFilePath(file);
  const pipeline = loadPipelineFile(absolute);
  process.env.LANDFALL_CONFIG_FILE = absolute;
  return pipeline;
}
