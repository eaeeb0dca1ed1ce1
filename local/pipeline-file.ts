import { resolve } from 'node:path';
import { loadPipelineFile, type Pipeline } from '../shared/core/config/load-config';

/** The pipeline the CLI and the local stack use when none is named: the samples' example folder. */
export const DEFAULT_PIPELINE_FILE = resolve(import.meta.dirname, '..', 'examples', 'retail', 'pipeline.yaml');

/**
 * Validates the named configuration (or the default) and makes it the one the local stack's
 * functions load (LANDFALL_CONFIG_FILE, inherited by isolated handler processes).
 */
export function usePipelineFile(file: string | undefined): Pipeline {
  const absolute = resolve(file ?? process.env.LANDFALL_CONFIG_FILE ?? DEFAULT_PIPELINE_FILE);
  const pipeline = loadPipelineFile(absolute);
  process.env.LANDFALL_CONFIG_FILE = absolute;
  return pipeline;
}
