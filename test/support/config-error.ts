import { expect } from 'vitest';
import { loadPipelineFile } from '../../shared/core/config/load-config';
import { ConfigError } from '../../shared/core/errors';

/** The ConfigError loading the pipeline file throws (the test fails if it loads). */
export function configErrorOf(file: string): ConfigError {
  try {
    loadPipelineFile(file);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('the configuration was accepted');
}
