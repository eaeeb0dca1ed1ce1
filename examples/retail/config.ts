import { resolve } from 'node:path';
import { loadPipelineFile } from '../../shared/core/config/load-config';
import type { PipelineConfig } from '../../shared/core/config/types';

/** The samples' pipeline file (this folder's pipeline.yaml). */
export const RETAIL_PIPELINE_FILE = resolve(import.meta.dirname, 'pipeline.yaml');

/** The stores of each province as the sample data names them: ON01…ON05 for { ON: 5 }. */
export function storesOf(provinces: Record<string, number>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(provinces).map(([p, n]) => [p, Array.from({ length: n }, (_, i) => `${p}${String(i + 1).padStart(2, '0')}`)]));
}

/**
 * The samples' effective configuration (every file reference absolute), optionally for other
 * provinces and store counts (tests and benchmarks at scale): write it as JSON anywhere and name
 * it with --config / LANDFALL_CONFIG_FILE.
 */
export function retailConfig(provinces?: Record<string, number>): PipelineConfig {
  const config = structuredClone(loadPipelineFile(RETAIL_PIPELINE_FILE).config);
  if (!provinces) return config;
  const stores = storesOf(provinces);
  config.lookups = { ...config.lookups, stores };
  const pos = config.datasets.find((d) => d.name === 'pos')!;
  pos.keyFieldValues = { province: Object.keys(provinces) };
  pos.members = { field: 'store', per: 'province', values: stores };
  return config;
}

/** The provinces and store counts of the sample pipeline (from its `stores` lookup). */
export function retailProvinces(config: PipelineConfig = retailConfig()): Record<string, number> {
  const stores = config.lookups.stores as Record<string, string[]>;
  return Object.fromEntries(Object.entries(stores).map(([p, list]) => [p, list.length]));
}
