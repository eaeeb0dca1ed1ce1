import { loadPipelineFile } from '../../shared/core/config/load-config';
import { ConfigError } from '../../shared/core/errors';
import { thrown } from './thrown';

/** The ConfigError loading the pipeline file throws (the test fails if it loads). */
export function configErrorOf(file: string): ConfigError {
  return thrown(ConfigError, () => loadPipelineFile(file));
}
