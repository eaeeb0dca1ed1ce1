import { readFileSync } from 'node:fs';
import { compileKeyPattern, matchKey, type CompiledKeyPattern } from '../datasets/key-pattern';
import { parsePipelineConfig } from './parse-config';
import { pipelineConfig } from './pipeline';
import type { DatasetConfig, PipelineConfig } from './types';

export interface Pipeline {
  config: PipelineConfig;
  datasets: Array<{ config: DatasetConfig; pattern: CompiledKeyPattern }>;
}

export type KeyResolution =
  | { kind: 'matched'; dataset: DatasetConfig; fields: Record<string, string> }
  | { kind: 'rejected'; dataset: DatasetConfig; reason: string }
  | { kind: 'unrecognised'; reason: string };

export function compilePipeline(raw: unknown): Pipeline {
  const config = parsePipelineConfig(raw);
  return { config, datasets: config.datasets.map((d) => ({ config: d, pattern: compileKeyPattern(d.keyPattern) })) };
}

let cached: { file: string | undefined; pipeline: Pipeline } | undefined;

/** The bundled configuration, or the JSON file named by LANDFALL_CONFIG_FILE (`landfall run --config`). */
export function loadPipeline(env: NodeJS.ProcessEnv = process.env): Pipeline {
  const file = env.LANDFALL_CONFIG_FILE || undefined;
  if (cached && cached.file === file) return cached.pipeline;
  const raw: unknown = file ? JSON.parse(readFileSync(file, 'utf8')) : pipelineConfig;
  const pipeline = compilePipeline(raw);
  cached = { file, pipeline };
  return pipeline;
}

/** Which dataset a key under `landing/` belongs to, with the values its pattern captures. */
export function resolveLandingKey(pipeline: Pipeline, relativeKey: string): KeyResolution {
  for (const { config, pattern } of pipeline.datasets) {
    const match = matchKey(pattern, relativeKey);
    if (match === null) continue;
    if (!match.ok) return { kind: 'rejected', dataset: config, reason: match.reason };
    for (const [field, allowed] of Object.entries(config.keyFieldValues ?? {})) {
      const value = match.fields[field]!;
      if (!allowed.includes(value)) {
        return { kind: 'rejected', dataset: config, reason: `key field ${field}: "${value}" is not one of ${allowed.join(', ')}` };
      }
    }
    const members = config.members;
    if (members) {
      const group = match.fields[members.per]!;
      const known = members.values[group] ?? [];
      const value = match.fields[members.field]!;
      if (!known.includes(value)) {
        return { kind: 'rejected', dataset: config, reason: `unknown ${members.field} "${value}" for ${members.per} ${group} (known: ${known.join(', ') || 'none'})` };
      }
    }
    return { kind: 'matched', dataset: config, fields: match.fields };
  }
  return { kind: 'unrecognised', reason: `key matches no dataset (patterns: ${pipeline.datasets.map((d) => d.pattern.source).join(', ')})` };
}
